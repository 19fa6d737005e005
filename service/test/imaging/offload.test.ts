import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ImageError } from '../../src/imaging/header.ts';
import { createDecoder } from '../../src/imaging/offload.ts';
import decodeInWorker from '../../src/imaging/offload-worker.ts';
import { encodeRgba } from '../../../devkit/encode.ts';
import { imageToModelInput } from '../../src/imaging/to-model-input.ts';
import { digits, encodeDigit } from '../../../devkit/testing.ts';

/** A photo-sized JPEG of an MNIST digit: dark ink on light paper, `side` pixels square. */
export async function photoOfDigit(pixels: Uint8Array, side: number): Promise<Buffer> {
  const rgba = new Uint8Array(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = 240 - (pixels[Math.floor((y * 28) / side) * 28 + Math.floor((x * 28) / side)]! * 220) / 255;
      rgba.set([v, v, v, 255], (y * side + x) * 4);
    }
  }
  return encodeRgba(rgba, side, side, 'image/jpeg');
}

describe('the decoder', () => {
  const decoder = createDecoder({ maxPixels: 4096 * 4096, workerThreshold: 256 * 256, threads: 1 });
  after(() => decoder.close());

  it('decodes a large image in a worker thread to exactly what the inline path gives', async () => {
    const [d] = digits(1, 3);
    const photo = await photoOfDigit(d!.pixels, 900);
    const [viaWorker, inline] = await Promise.all([decoder.toModelInput(photo), imageToModelInput(photo, 4096 * 4096)]);
    assert.equal(viaWorker.sourcePixels, 900 * 900);
    assert.deepEqual(viaWorker.input, inline.input);
  });

  it("brings the worker's image errors back as the same ImageError", async () => {
    const photo = await photoOfDigit(digits(1)[0]!.pixels, 600);
    await assert.rejects(
      decoder.toModelInput(photo.subarray(0, 2000)),
      (e: ImageError) => e instanceof ImageError && e.code === 'undecodable_image',
    );
  });

  it("returns the worker's image errors as values and lets any other error through, a fault not the client's", async () => {
    const result = await decodeInWorker({ bytes: new Uint8Array(0), maxPixels: 100 });
    assert.deepEqual(result, { ok: false, code: 'empty_image', message: 'the image is empty (0 bytes)' });
    await assert.rejects(decodeInWorker({ bytes: undefined as unknown as Uint8Array, maxPixels: 100 }), TypeError);
  });

  it('keeps decoding small images while a large one is in the worker', async () => {
    const photo = await photoOfDigit(digits(1, 5)[0]!.pixels, 2000);
    const small = await Promise.all(digits(20, 50).map((d) => encodeDigit(d.pixels)));
    const finished: string[] = [];
    const big = decoder.toModelInput(photo).then(() => finished.push('large'));
    for (const png of small) {
      await decoder.toModelInput(png);
      finished.push('small');
    }
    await big;
    assert.equal(finished.indexOf('large'), finished.length - 1, `order: ${finished.join(',')}`);
  });
});
