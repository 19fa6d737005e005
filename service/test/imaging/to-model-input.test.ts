/**
 * Payloads to model inputs without a server: JSON pixel arrays on either scale and every way they
 * can be wrong, pictures and their pixel count, and the refusal of a blank input; the greyscale
 * conversion those rely on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { greyImage, rgbaToGrey } from '../../src/imaging/grey-image.ts';
import { ImageError } from '../../src/imaging/header.ts';
import { imageToModelInput, PixelsError, pixelsToModelInput } from '../../src/imaging/to-model-input.ts';
import { MNIST_PIXELS } from '../../src/mnist.ts';
import { encodeGrey } from '../../../devkit/encode.ts';
import { digits } from '../../../devkit/testing.ts';

const SAMPLE = digits(40, 0, 250);
const LIMIT = 4096 * 4096;
const refusedWith = (message: string | RegExp) => (e: unknown) =>
  e instanceof PixelsError && (typeof message === 'string' ? e.message === message : message.test(e.message));

describe('JSON pixels to model input', () => {
  it('reads 0..255 and 0..1 alike, on paper of any grey level', () => {
    // The ink is the paper's opposite: white on paper darker than mid-grey, black on lighter.
    fc.assert(
      fc.property(fc.constantFrom(...SAMPLE), fc.integer({ min: 0, max: 255 }), ({ pixels }, paper) => {
        const ink = paper < 127.5 ? 255 : 0;
        const levels = Array.from(pixels, (v) => paper + ((ink - paper) * v) / 255);
        const wide = pixelsToModelInput(levels);
        const unit = pixelsToModelInput(levels.map((v) => v / 255));
        const original = pixelsToModelInput(Array.from(pixels));
        assert.equal(wide.sourcePixels, MNIST_PIXELS);
        assert.ok(wide.input.every((v) => v >= 0 && v <= 1));
        for (const { input } of [unit, original]) {
          assert.ok(
            wide.input.every((v, i) => Math.abs(v - input[i]!) < 1e-5),
            'the same input on either scale, whatever the paper',
          );
        }
        assert.deepEqual(unit.crop, wide.crop);
      }),
      { numRuns: 60, seed: 784 },
    );
  });

  it('reads the scale from the largest value wherever it lies, not from the last', () => {
    // Paper of level 1 is near-black on 0..255, and white on 0..1.
    const { pixels } = SAMPLE[0]!;
    const original = pixelsToModelInput(Array.from(pixels));
    const dim = pixelsToModelInput(Array.from(pixels, (v) => 1 + (254 * v) / 255));
    assert.ok(original.input.every((v, i) => Math.abs(v - dim.input[i]!) < 1e-5));
  });

  it('gives a black-on-white digit the input of its white-on-black original', () => {
    for (const { pixels } of SAMPLE.slice(0, 10)) {
      const original = pixelsToModelInput(Array.from(pixels));
      const paper = pixelsToModelInput(Array.from(pixels, (v) => (255 - v) / 255));
      assert.ok(original.input.every((v, i) => Math.abs(v - paper.input[i]!) < 1e-5));
    }
  });

  it('accepts every value from 0 to 255; a single inked pixel is a speck, no digit', () => {
    const stroke = new Array<number>(MNIST_PIXELS).fill(0);
    for (const i of [400, 428, 456]) stroke[i] = 255;
    assert.ok(pixelsToModelInput(stroke).input.some((v) => v > 0));
    for (const i of [400, 428, 456]) stroke[i] = 0.5; // the largest value at most 1: read as 0..1
    assert.ok(pixelsToModelInput(stroke).input.some((v) => v > 0));
    const speck = new Array<number>(MNIST_PIXELS).fill(0);
    speck[400] = 255;
    assert.throws(
      () => pixelsToModelInput(speck),
      (e: ImageError) => e.code === 'blank_image',
    );
  });

  it('refuses anything but an array of 784 numbers from 0 to 255, saying what and where', () => {
    for (const values of [undefined, null, 'pixels', 784, { length: 784 }]) {
      assert.throws(() => pixelsToModelInput(values), refusedWith('"pixels" must be an array of 784 numbers'));
    }
    for (const length of [0, 783, 785]) {
      assert.throws(
        () => pixelsToModelInput(new Array(length).fill(0)),
        refusedWith(`"pixels" must hold 784 numbers (28x28), got ${length}`),
      );
    }
    for (const bad of [-1, -0.001, 255.001, 256, '7', null, true, [1], Infinity, NaN]) {
      const values: unknown[] = new Array(MNIST_PIXELS).fill(10);
      values[123] = bad;
      assert.throws(
        () => pixelsToModelInput(values),
        refusedWith(`"pixels"[123] must be a number from 0 to 255, got ${JSON.stringify(bad)}`),
        String(bad),
      );
    }
  });

  it('refuses a blank array, on either scale, as blank_image', () => {
    for (const fill of [0, 1, 255]) {
      assert.throws(
        () => pixelsToModelInput(new Array(MNIST_PIXELS).fill(fill)),
        (e: unknown) =>
          e instanceof ImageError &&
          e.code === 'blank_image' &&
          e.message === 'no digit found: the pixel array has no ink that stands out from the paper (or only a speck)',
      );
    }
  });
});

describe('pictures to model input', () => {
  it("counts the picture's own pixels, and refuses a blank picture as blank_image", async () => {
    const { pixels } = SAMPLE[0]!;
    const wide = new Array(56 * 40).fill(0).map((_, i) => pixels[(Math.floor(i / 56) % 28) * 28 + (i % 28)]!);
    const input = await imageToModelInput(await encodeGrey(wide, 56, 40, 'image/png'), LIMIT);
    assert.equal(input.sourcePixels, 56 * 40);
    assert.ok(input.crop);
    await assert.rejects(
      imageToModelInput(await encodeGrey(new Array(64).fill(255), 8, 8, 'image/png'), LIMIT),
      (e: unknown) =>
        e instanceof ImageError &&
        e.message === 'no digit found: the image has no ink that stands out from the paper (or only a speck)',
    );
  });
});

describe('RGBA to grey', () => {
  const pixel = (r: number, g: number, b: number, a = 255) => Uint8Array.of(r, g, b, a);

  it('weighs red, green and blue as BT.601 luma', () => {
    assert.deepEqual(
      Array.from(
        rgbaToGrey(Uint8Array.from([...pixel(255, 0, 0), ...pixel(0, 255, 0), ...pixel(0, 0, 255)]), 3, 1).data,
      ),
      [0.299 * 255, 0.587 * 255, 0.114 * 255].map(Math.fround),
    );
  });

  it('puts transparent areas on the paper that contrasts with the ink', () => {
    const ink = (v: number) => Uint8Array.from([...pixel(v, v, v), ...pixel(0, 0, 0, 0), ...pixel(v, v, v, 51)]);
    // Dark ink: the transparent pixel is white paper; the 20%-opaque one mostly paper.
    assert.deepEqual(Array.from(rgbaToGrey(ink(10), 3, 1).data), [10, 255, Math.fround(10 * 0.2 + 255 * 0.8)]);
    // Light ink: black paper.
    assert.deepEqual(Array.from(rgbaToGrey(ink(240), 3, 1).data), [240, 0, Math.fround(240 * 0.2)]);
    // Nothing opaque at all: white paper.
    assert.deepEqual(Array.from(rgbaToGrey(pixel(0, 0, 0, 0), 1, 1).data), [255]);
    // The ink's mean decides, however much of it there is: much dark ink, or a faint touch of light ink.
    const much = Uint8Array.from([
      ...Array.from({ length: 10 }, () => [...pixel(50, 50, 50)]).flat(),
      ...pixel(0, 0, 0, 0),
    ]);
    assert.equal(rgbaToGrey(much, 11, 1).data[10], 255);
    assert.equal(rgbaToGrey(Uint8Array.from([...pixel(200, 200, 200, 51), ...pixel(0, 0, 0, 0)]), 2, 1).data[1], 0);
    // Half-transparent ink everywhere, no pixel fully transparent: still on paper.
    const faint = Uint8Array.from([...pixel(0, 0, 0, 102), ...pixel(20, 20, 20, 255)]);
    assert.deepEqual(Array.from(rgbaToGrey(faint, 2, 1).data), [Math.fround(255 * 0.6), 20]);
  });

  it('needs four bytes a pixel, and a grey image its exact pixel count', () => {
    assert.throws(() => rgbaToGrey(new Uint8Array(4 * 6 - 1), 3, 2), { message: 'expected 24 RGBA bytes, got 23' });
    assert.equal(rgbaToGrey(new Uint8Array(24), 3, 2).data.length, 6);
    assert.throws(() => greyImage(3, 2, new Float32Array(5)), { message: 'expected 6 pixels, got 5' });
    assert.equal(greyImage(3, 2).data.length, 6);
  });
});
