import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { rawPng } from '../../../devkit/raw-png.ts';
import { ImageError } from '../../src/imaging/header.ts';
import { imageToModelInput } from '../../src/imaging/to-model-input.ts';
import { encodeDigit, digits } from '../../../devkit/testing.ts';

const LIMIT = 1024 * 1024;

/** The only acceptable outcomes: a model input, or an ImageError (which the API maps to 4xx). */
async function outcome(bytes: Uint8Array): Promise<'input' | string> {
  try {
    const { input } = await imageToModelInput(bytes, LIMIT);
    assert.equal(input.length, 784);
    assert.ok(
      input.every((v) => v >= 0 && v <= 1),
      'model input within 0..1',
    );
    return 'input';
  } catch (err) {
    if (err instanceof ImageError) return err.code;
    throw err;
  }
}

describe('fuzzing the image path', () => {
  it('turns random bytes into an ImageError, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 512 }), async (bytes) => {
        await outcome(bytes);
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('survives random PNG headers: any size, depth and colour type, with random data', async () => {
    const header = fc.record({
      width: fc.integer({ min: 0, max: 70000 }),
      height: fc.integer({ min: 0, max: 70000 }),
      bitDepth: fc.constantFrom(1, 2, 4, 8, 16, 3, 0),
      colorType: fc.constantFrom(0, 2, 3, 4, 6, 1, 7),
      rows: fc.uint8Array({ minLength: 0, maxLength: 256 }),
    });
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const result = await outcome(rawPng(h));
        if (h.width * h.height > LIMIT) assert.equal(result, 'image_too_large');
      }),
      { numRuns: 1500, seed: 7 },
    );
  });

  it('survives real images with random bytes flipped or cut', async () => {
    const pngs = await Promise.all(digits(5).map((d) => encodeDigit(d.pixels)));
    const jpegs = await Promise.all(digits(5).map((d) => encodeDigit(d.pixels, 'image/jpeg')));
    const others = await Promise.all(
      (['image/tiff', 'image/gif', 'image/bmp'] as const).flatMap((mime) =>
        digits(3).map((d) => encodeDigit(d.pixels, mime)),
      ),
    );
    const base = fc.constantFrom(...pngs, ...jpegs, ...others);
    await fc.assert(
      fc.asyncProperty(
        base,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        async (img, flips, cut) => {
          const bytes = Uint8Array.from(img);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          await outcome(bytes.subarray(0, Math.max(1, bytes.length - (cut % 64))));
        },
      ),
      { numRuns: 2000, seed: 3 },
    );
  });

  it('survives random TIFF directories: any tags, types, counts, offsets and chains', async () => {
    // The tags a decoder acts on, and any other.
    const tag = fc.oneof(
      fc.constantFrom(256, 257, 258, 259, 262, 273, 277, 278, 279, 322, 323, 324, 325, 330, 34665),
      fc.nat(65535),
    );
    const u32 = fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constant(0xffffffff), fc.nat());
    const entry = fc.record({ tag, type: fc.integer({ min: 0, max: 15 }), count: u32, value: u32 });
    const tiff = fc.record({
      little: fc.boolean(),
      // Always a 28x28 size, so that the header check passes and the decoder itself is reached.
      entries: fc
        .array(entry, { maxLength: 12 })
        .map((rest) => [
          { tag: 256, type: 3, count: 1, value: 28 },
          { tag: 257, type: 3, count: 1, value: 28 },
          ...rest,
        ]),
      /** 8: the directory itself (a chain that loops); 0: the end; anything else. */
      next: fc.oneof(fc.constant(8), fc.constant(0), u32),
      tail: fc.uint8Array({ maxLength: 256 }),
    });
    await fc.assert(
      fc.asyncProperty(tiff, async (t) => {
        const head = Buffer.alloc(8 + 2 + t.entries.length * 12 + 4);
        const w16 = (v: number, at: number) => (t.little ? head.writeUInt16LE(v, at) : head.writeUInt16BE(v, at));
        const w32 = (v: number, at: number) => (t.little ? head.writeUInt32LE(v, at) : head.writeUInt32BE(v, at));
        head.write(t.little ? 'II' : 'MM', 0, 'latin1');
        w16(42, 2);
        w32(8, 4);
        w16(t.entries.length, 8);
        t.entries.forEach((e, i) => {
          w16(e.tag, 10 + i * 12);
          w16(e.type, 12 + i * 12);
          w32(e.count, 14 + i * 12);
          w32(e.value, 18 + i * 12);
        });
        w32(t.next, 10 + t.entries.length * 12);
        await outcome(Buffer.concat([head, t.tail]));
      }),
      { numRuns: 1500, seed: 11 },
    );
  });
});
