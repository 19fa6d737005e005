/**
 * The pixel cap and the decoder's agreement with the header, in every accepted format and layout:
 * exactly at the cap and one pixel past it, a header declaring a huge canvas over a tiny file, and
 * a header that declares less than the file decodes to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeToGrey } from '../../src/imaging/decode.ts';
import { ImageError, readHeader } from '../../src/imaging/header.ts';
import { encodeVariant, mediaTypeOf, VARIANTS, type Variant } from '../../../devkit/image-variants.ts';
import { digits } from '../../../devkit/testing.ts';
import { declaring, MAX_DECLARABLE_SIDE } from '../support/hostile-files.ts';

const LIMIT = 4096 * 4096;
const DIGIT = digits(1, 7)[0]!.pixels;

function picture(variant: Variant, width: number, height: number): Promise<Buffer> {
  const side = Math.min(width, height);
  return encodeVariant(variant, {
    width,
    height,
    digit: DIGIT,
    box: { x: 0, y: 0, side },
    paper: [255, 255, 255],
    ink: [0, 0, 0],
    interlaced: false,
    transparentPaper: false,
  });
}

const isCode = (code: string) => (e: unknown) => e instanceof ImageError && e.code === code;
const sides = fc.tuple(fc.constantFrom(...VARIANTS), fc.integer({ min: 8, max: 80 }), fc.integer({ min: 8, max: 80 }));

describe('the pixel cap', () => {
  it('accepts an image of exactly the cap and refuses one pixel more, in every format and layout', async () => {
    await fc.assert(
      fc.asyncProperty(sides, async ([variant, width, height]) => {
        const bytes = await picture(variant, width, height);
        const header = readHeader(bytes, width * height);
        assert.deepEqual(header, { mediaType: mediaTypeOf(variant), width, height });
        assert.throws(() => readHeader(bytes, width * height - 1), isCode('image_too_large'));
      }),
      { numRuns: 150, seed: 20261204 },
    );
  });

  for (const variant of VARIANTS) {
    it(`refuses a ${variant} file whose header declares a canvas past the cap, from the header alone`, async () => {
      const mediaType = mediaTypeOf(variant);
      const small = await picture(variant, 28, 28);
      const side = Math.min(MAX_DECLARABLE_SIDE[mediaType]!, 60_000);
      const bomb = declaring(small, mediaType, side, side);
      assert.equal(bomb.length, small.length, 'the bomb is as small as the picture it came from');
      assert.throws(
        () => readHeader(bomb, LIMIT),
        (e) => isCode('image_too_large')(e) && (e as Error).message.includes(`${side}x${side}`),
      );
      // Each side alone within the cap, their product one row past it: the cap is on the product.
      const height = Math.floor(LIMIT / side) + 1;
      assert.throws(() => readHeader(declaring(small, mediaType, side, height), LIMIT), isCode('image_too_large'));
      assert.doesNotThrow(() => readHeader(declaring(small, mediaType, side, height - 1), LIMIT));
    });
  }
});

describe("the decoder's agreement with the header", () => {
  it('refuses an image that decodes to more pixels than its header declared, in every format and layout', async () => {
    await fc.assert(
      fc.asyncProperty(sides, async ([variant, width, height]) => {
        const bytes = await picture(variant, width, height);
        const honest = readHeader(bytes, LIMIT);
        const grey = await decodeToGrey(bytes, honest);
        assert.deepEqual([grey.width, grey.height], [width, height]);
        const lying = { ...honest, width: Math.ceil(width / 2), height };
        // The refusal names the size the header declared (libvips says only that its limit is exceeded).
        await assert.rejects(decodeToGrey(bytes, lying), (e) => {
          const message = (e as Error).message;
          const named = message.endsWith('exceeds pixel limit') || message.includes(`not the ${lying.width}x${height}`);
          return isCode('undecodable_image')(e) && named;
        });
      }),
      { numRuns: 100, seed: 20261205 },
    );
  });
});

describe('the two PNG decoders', () => {
  it('give the same pixels in every PNG layout (to two levels), so that which one reads a PNG is a matter of speed', async () => {
    const layouts = VARIANTS.filter((variant) => mediaTypeOf(variant) === 'image/png');
    const colour = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...layouts),
        fc.record({ width: fc.integer({ min: 8, max: 80 }), height: fc.integer({ min: 8, max: 80 }) }),
        fc.record({ paper: colour, ink: colour, interlaced: fc.boolean(), transparentPaper: fc.boolean() }),
        async (variant, { width, height }, look) => {
          const side = Math.min(width, height);
          const bytes = await encodeVariant(variant, {
            width,
            height,
            digit: DIGIT,
            box: { x: 0, y: 0, side },
            ...look,
          });
          const header = readHeader(bytes, LIMIT);
          // A header declaring more than 512x512 pixels sends the same bytes through libvips.
          const viaLibvips = await decodeToGrey(bytes, { ...header, width: 1024, height: 1024 });
          const viaPngjs = await decodeToGrey(bytes, header);
          assert.deepEqual([viaPngjs.width, viaPngjs.height], [viaLibvips.width, viaLibvips.height]);
          // 16-bit samples (colour and alpha) are rounded to 8 bits differently: two levels at most.
          const apart = viaPngjs.data.reduce((most, v, i) => Math.max(most, Math.abs(v - viaLibvips.data[i]!)), 0);
          assert.ok(apart <= 2, `${apart} levels apart`);
        },
      ),
      { numRuns: 150, seed: 20261204 },
    );
  });
});
