/**
 * The robustness suite's redrawings do what their names say, on any test digit: smaller drawings
 * lose detail in order, thin and thick pens change the stroke width, a canvas's strokes are hard
 * with anti-aliased edges, and an off-centre digit normalises to exactly its centred self; every
 * picture still holds a digit, and a seed draws the same picture again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { digits, mnistTest } from '../../devkit/testing.ts';
import { seededRandom } from '../../devkit/random.ts';
import { greyImage, type GreyImage, normaliseDigit, strokeWidth } from '../../service/src/index.ts';
import { resizeBilinear } from '../../training/image-ops.ts';
import { ROBUSTNESS_VARIANTS, robustnessInputs, robustnessPicture } from '../../training/robustness.ts';

const SAMPLE = digits(30, 7, 331);
const digit = fc.constantFrom(...SAMPLE);
const asImage = (pixels: Uint8Array) => greyImage(28, 28, Float32Array.from(pixels));
/** Sum of absolute differences between horizontal and vertical neighbours: detail, on the 0..255 scale. */
const detail = ({ width: w, height: h, data }: GreyImage) => {
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x + 1 < w) sum += Math.abs(data[y * w + x + 1]! - data[y * w + x]!);
      if (y + 1 < h) sum += Math.abs(data[(y + 1) * w + x]! - data[y * w + x]!);
    }
  }
  return sum;
};
const inkOf = (img: GreyImage) => img.data.reduce((a, b) => a + b, 0);

describe('the robustness suite', () => {
  it('draws every variant of any digit as a picture that still holds a digit, the same for a seed', () => {
    fc.assert(
      fc.property(digit, fc.constantFrom(...ROBUSTNESS_VARIANTS), fc.nat(), ({ pixels }, variant, seed) => {
        const picture = robustnessPicture(variant, pixels, seededRandom(seed));
        assert.deepEqual(robustnessPicture(variant, pixels, seededRandom(seed)), picture);
        assert.ok(
          picture.data.every((v) => v >= 0 && v <= 255.001),
          'intensities within 0..255',
        );
        const { digit: normalised, crop } = normaliseDigit(picture);
        assert.ok(crop, 'the normalisation finds the digit');
        assert.ok(normalised.data.some((v) => v > 200));
      }),
      { numRuns: 60, seed: 18 },
    );
  });

  it('loses more detail the smaller the drawing, and blurs', () => {
    for (const { pixels } of SAMPLE) {
      const [eight, twelve, sixteen, blur] = (['low-res-8', 'low-res-12', 'low-res-16', 'blur'] as const).map((v) =>
        detail(robustnessPicture(v, pixels, seededRandom(1))),
      );
      const original = detail(asImage(pixels));
      assert.ok(eight! < twelve! && twelve! < sixteen! && sixteen! < original, `${eight} ${twelve} ${sixteen}`);
      assert.ok(blur! < original);
    }
  });

  it('draws with a thinner and a thicker pen than the original', () => {
    for (const { pixels } of SAMPLE) {
      const same = resizeBilinear(asImage(pixels), 112, 112);
      const thin = robustnessPicture('thin', pixels, seededRandom(1));
      const thick = robustnessPicture('thick', pixels, seededRandom(1));
      assert.equal(thin.width, 112);
      assert.ok(strokeWidth(thin) < strokeWidth(same) - 2, `thin ${strokeWidth(thin)} vs ${strokeWidth(same)}`);
      assert.ok(strokeWidth(thick) > strokeWidth(same) + 3, `thick ${strokeWidth(thick)} vs ${strokeWidth(same)}`);
    }
  });

  it('tilts a digit without losing its ink', () => {
    for (const { pixels } of SAMPLE) {
      const rotated = robustnessPicture('rotated', pixels, seededRandom(5));
      const original = asImage(pixels);
      assert.notDeepEqual(rotated.data, original.data);
      assert.ok(Math.abs(inkOf(rotated) / inkOf(original) - 1) < 0.1);
    }
  });

  it('places a digit anywhere on a larger canvas: it normalises to exactly its centred self', () => {
    fc.assert(
      fc.property(digit, fc.nat(), ({ pixels }, seed) => {
        const picture = robustnessPicture('off-centre', pixels, seededRandom(seed));
        assert.equal(picture.width, 56);
        assert.deepEqual(normaliseDigit(picture).digit, normaliseDigit(asImage(pixels)).digit);
      }),
      { numRuns: 30, seed: 56 },
    );
  });

  it("draws a canvas's strokes: dark ink on white paper, hard but for anti-aliased edges", () => {
    for (const { pixels } of SAMPLE) {
      const picture = robustnessPicture('anti-aliased', pixels, seededRandom(1));
      assert.equal(picture.width, 280);
      assert.ok(picture.data[0]! > 254.9, 'white paper');
      const ink = picture.data.filter((v) => v < 0.1).length;
      const edge = picture.data.filter((v) => v >= 0.1 && v <= 254.9).length;
      assert.ok(ink > 0 && edge > 0 && edge < ink, `${edge} edge pixels for ${ink} of ink`);
    }
  });

  it('gives the model inputs of the first N test digits, the same in every run', () => {
    const test = mnistTest();
    const inputs = robustnessInputs('rotated', test, 3);
    assert.equal(inputs.length, 3 * 784);
    assert.ok(inputs.every((v) => v >= 0 && v <= 1.0001));
    assert.deepEqual(robustnessInputs('rotated', test, 3), inputs);
    assert.notDeepEqual(robustnessInputs('rotated', test, 3).subarray(0, 784), inputs.subarray(784, 1568));
  });
});
