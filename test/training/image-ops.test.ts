/**
 * Bilinear resampling, Gaussian blur and erosion keep what they must: a constant stays constant,
 * the same size is the identity, blur keeps the ink, erosion only takes ink away.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { digits } from '../../devkit/testing.ts';
import { greyImage, type GreyImage, padded } from '../../service/src/index.ts';
import { erode, gaussianBlur, resizeBilinear } from '../../training/image-ops.ts';

const asImage = (pixels: Uint8Array) => greyImage(28, 28, Float32Array.from(pixels));
const inkOf = (img: GreyImage) => img.data.reduce((a, b) => a + b, 0);

describe('the image operations the robustness suite and training draw with', () => {
  const picture = fc
    .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))
    .chain(([w, h]) =>
      fc
        .float32Array({ minLength: w * h, maxLength: w * h, min: 0, max: 255, noNaN: true })
        .map((data) => greyImage(w, h, data)),
    );

  it('resamples bilinearly: a constant stays constant, the same size changes nothing', () => {
    fc.assert(
      fc.property(picture, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), (img, w, h) => {
        assert.deepEqual(resizeBilinear(img, img.width, img.height), img);
        const flat = greyImage(img.width, img.height, new Float32Array(img.width * img.height).fill(img.data[0]!));
        assert.ok(resizeBilinear(flat, w, h).data.every((v) => Math.abs(v - img.data[0]!) < 1e-3));
      }),
      { numRuns: 100, seed: 3 },
    );
  });

  it('blurs keeping the ink of a digit away from the edges, and a constant constant', () => {
    for (const { pixels } of digits(5, 7, 331)) {
      const img = padded(asImage(pixels), 3);
      assert.ok(Math.abs(inkOf(gaussianBlur(img, 1)) / inkOf(img) - 1) < 1e-5);
    }
    const flat = greyImage(5, 4, new Float32Array(20).fill(90));
    assert.ok(gaussianBlur(flat, 1.5).data.every((v) => Math.abs(v - 90) < 1e-3));
  });

  it('erodes to at most the original, with the background all around the picture', () => {
    fc.assert(
      fc.property(picture, fc.integer({ min: 1, max: 3 }), (img, r) => {
        const eroded = erode(img, r);
        assert.ok(eroded.data.every((v, i) => v <= img.data[i]! + 1e-3));
        // Every pixel within r of the edge sees the background.
        assert.equal(eroded.data[0], 0);
      }),
      { numRuns: 100, seed: 4 },
    );
    const block = greyImage(7, 7, new Float32Array(49).fill(255));
    assert.deepEqual(
      Array.from(erode(block, 1).data),
      Array.from({ length: 49 }, (_, i) => (i % 7 > 0 && i % 7 < 6 && i > 6 && i < 42 ? 255 : 0)),
    );
  });
});
