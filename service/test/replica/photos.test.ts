/**
 * Pictures as phones and browsers make them: JPEGs whose pixels are stored sideways or mirrored
 * with an EXIF orientation saying how to show them, and WebP (what canvases and many phones write).
 * Encoded by sharp, sent over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { digits, mapConcurrent, multipart, startTestReplica, type Digit } from '../../../devkit/testing.ts';

const SIDE = 28;
const SCALE = 4;

/**
 * Where each stored pixel comes from in the upright picture, for EXIF orientations 1-8: the
 * stored image is what a camera writes, the tag says how to turn it upright.
 */
const STORED_FROM_UPRIGHT: Record<number, (x: number, y: number, n: number) => [number, number]> = {
  1: (x, y) => [x, y],
  2: (x, y, n) => [n - 1 - x, y],
  3: (x, y, n) => [n - 1 - x, n - 1 - y],
  4: (x, y, n) => [x, n - 1 - y],
  5: (x, y) => [y, x],
  6: (x, y, n) => [n - 1 - y, x],
  7: (x, y, n) => [n - 1 - y, n - 1 - x],
  8: (x, y, n) => [y, n - 1 - x],
};

/** The digit as dark ink on white paper, SCALE times larger, stored as `orientation` requires. */
function storedRgb(d: Digit, orientation: number): Buffer {
  const n = SIDE * SCALE;
  const from = STORED_FROM_UPRIGHT[orientation]!;
  const rgb = Buffer.alloc(n * n * 3);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const [ux, uy] = from(x, y, n);
      const ink = d.pixels[Math.floor(uy / SCALE) * SIDE + Math.floor(ux / SCALE)]!;
      rgb.fill(255 - ink, (y * n + x) * 3, (y * n + x) * 3 + 3);
    }
  }
  return rgb;
}

const raw = (rgb: Buffer) => sharp(rgb, { raw: { width: SIDE * SCALE, height: SIDE * SCALE, channels: 3 } });

describe('photos from phones and canvases', () => {
  let replica: Awaited<ReturnType<typeof startTestReplica>>;
  const sample = digits(24, 100, 37);

  before(async () => {
    replica = await startTestReplica();
  });
  after(async () => {
    await replica.stop();
  });

  async function accuracy(encode: (d: Digit) => Promise<Buffer>, type: string): Promise<number> {
    const right = await mapConcurrent(sample, 4, async (d) => {
      const res = await fetch(`${replica.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: new Uint8Array(await encode(d)),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { digit: number }).digit === d.label;
    });
    return right.filter(Boolean).length / sample.length;
  }

  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`reads a JPEG stored with EXIF orientation ${orientation} the right way up`, async () => {
      const tagged = (d: Digit) =>
        raw(storedRgb(d, orientation)).jpeg({ quality: 92 }).withMetadata({ orientation }).toBuffer();
      const score = await accuracy(tagged, 'image/jpeg');
      assert.ok(score >= 0.95, `orientation ${orientation}: ${score} right`);
    });
  }

  it('gets sideways pixels wrong without the tag, so the tag is what the service follows', async () => {
    const untagged = (d: Digit) => raw(storedRgb(d, 6)).jpeg({ quality: 92 }).toBuffer();
    const score = await accuracy(untagged, 'image/jpeg');
    assert.ok(score < 0.6, `untagged sideways digits: ${score} right`);
  });

  for (const [name, options] of [
    ['lossy', { quality: 90 }],
    ['lossless', { lossless: true }],
  ] as const) {
    it(`classifies ${name} WebP digits, raw and in a multipart form`, async () => {
      const webp = (d: Digit) => raw(storedRgb(d, 1)).webp(options).toBuffer();
      assert.ok((await accuracy(webp, 'image/webp')) >= 0.95);
      const [d] = sample;
      const form = multipart(await webp(d!), 'image/webp', 'file', 'canvas.webp');
      const res = await fetch(`${replica.url}/predict`, { method: 'POST', body: form });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { digit: number }).digit, d!.label);
    });
  }
});
