import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import { decodeToGrey } from '../../src/imaging/decode.ts';
import { ImageError, readHeader, SUPPORTED_MEDIA_TYPES } from '../../src/imaging/header.ts';
import { encodeGrey } from '../../../devkit/encode.ts';
import { pngBomb, rawPng } from '../../../devkit/raw-png.ts';

const LIMIT = 4096 * 4096;

describe('image decoding', () => {
  it('holds no libvips cache and runs one libvips thread, whatever the defaults were', async () => {
    sharp.cache(true);
    sharp.concurrency(4);
    // A fresh instance of the module (the query string), so that its set-up runs again here.
    await import('../../src/imaging/decode.ts?settings' as string);
    assert.equal(sharp.concurrency(), 1);
    const { memory, files, items } = sharp.cache();
    assert.deepEqual([memory.max, files.max, items.max], [0, 0, 0]);
  });

  it('refuses a small PNG that declares 20000x20000 pixels from its header alone', () => {
    const bomb = pngBomb();
    assert.ok(bomb.length < 200, 'bomb.length < 200');
    assert.throws(
      () => readHeader(bomb, LIMIT),
      (e: ImageError) => e.code === 'image_too_large' && /20000x20000/.test(e.message),
    );
  });

  it('says how large a refused picture is and what to send instead, in megapixels and sides', () => {
    const photo = rawPng({ width: 6000, height: 4000, bitDepth: 8, colorType: 0, rows: new Uint8Array(0) });
    assert.throws(
      () => readHeader(photo, LIMIT),
      (e: ImageError) =>
        e.message ===
        'the image is 6000x4000 pixels (24.0 megapixels), more than the 16.8 megapixels this service takes ' +
          '(16777216 pixels, a square of 4096 a side): scale it down and send it again; a digit needs no more ' +
          'than about 1000 pixels a side',
    );
  });

  it('identifies formats from bytes, refusing SVG, text, nothing and no pixels, saying which', () => {
    const refused = (bytes: Uint8Array, code: string, message: string) =>
      assert.throws(
        () => readHeader(bytes, LIMIT),
        (e: ImageError) => e.code === code && e.message === message,
      );
    refused(
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'),
      'unsupported_image_format',
      `svg images are not supported; send ${SUPPORTED_MEDIA_TYPES.join(', ')}`,
    );
    refused(
      Buffer.from('hello, I am a PNG'),
      'undecodable_image',
      'the bytes are not an image in a format this service knows',
    );
    refused(new Uint8Array(), 'empty_image', 'the image is empty (0 bytes)');
    for (const [width, height] of [
      [0, 5],
      [5, 0],
    ]) {
      const png = rawPng({ width: width!, height: height!, bitDepth: 8, colorType: 0, rows: new Uint8Array(0) });
      refused(png, 'undecodable_image', 'the image header declares no pixels');
    }
    assert.deepEqual(
      readHeader(rawPng({ width: 1, height: 1, bitDepth: 8, colorType: 0, rows: new Uint8Array(2) }), 1),
      {
        mediaType: 'image/png',
        width: 1,
        height: 1,
      },
    );
  });

  it('decodes 16-bit greyscale and palette PNGs to the right intensities', async () => {
    // 2x1, 16-bit grey: white, black.
    const sixteen = rawPng({
      width: 2,
      height: 1,
      bitDepth: 16,
      colorType: 0,
      rows: Uint8Array.from([0, 0xff, 0xff, 0, 0]),
    });
    const g16 = await decodeToGrey(sixteen, readHeader(sixteen, LIMIT));
    assert.deepEqual([...g16.data].map(Math.round), [255, 0]);
    // 2x1, palette: index 1 (red), index 0 (black).
    const palette = rawPng({
      width: 2,
      height: 1,
      bitDepth: 8,
      colorType: 3,
      palette: Uint8Array.from([0, 0, 0, 255, 0, 0]),
      rows: Uint8Array.from([0, 1, 0]),
    });
    const gp = await decodeToGrey(palette, readHeader(palette, LIMIT));
    assert.deepEqual([...gp.data].map(Math.round), [76, 0]);
  });

  for (const mime of ['image/png', 'image/jpeg', 'image/bmp', 'image/gif', 'image/tiff'] as const) {
    it(`round-trips a ${mime} image`, async () => {
      const pixels = Array.from({ length: 16 * 12 }, (_, i) => (i % 16 < 8 ? 0 : 255));
      const bytes = await encodeGrey(pixels, 16, 12, mime);
      const header = readHeader(bytes, LIMIT);
      assert.deepEqual(header, { mediaType: mime, width: 16, height: 12 });
      const grey = await decodeToGrey(bytes, header);
      assert.ok(grey.data[0]! < 30 && grey.data[15]! > 225, `${mime} decoded to ${grey.data[0]}, ${grey.data[15]}`);
    });
  }

  it('reports a truncated PNG as undecodable', async () => {
    const png = await encodeGrey(new Array(64 * 64).fill(128), 64, 64, 'image/png');
    const cut = png.subarray(0, 60);
    await assert.rejects(decodeToGrey(cut, readHeader(cut, LIMIT)), (e: ImageError) => e.code === 'undecodable_image');
  });

  // jpeg-js multiplies its megapixel limit back into pixels in floating point; a limit computed as
  // width * height / 1e6 lands just below the true count for about one size in eight.
  it('decodes JPEGs of the sizes whose pixel count does not survive a round trip through megapixels', async () => {
    for (const [width, height] of [
      [280, 280],
      [330, 165],
      [304, 436],
    ] as const) {
      const bytes = await encodeGrey(new Array(width * height).fill(200), width, height, 'image/jpeg');
      const grey = await decodeToGrey(bytes, readHeader(bytes, LIMIT));
      assert.deepEqual([grey.width, grey.height], [width, height]);
    }
  });

  it('decodes a JPEG of any size within the pixel cap', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 8, max: 700 }), fc.integer({ min: 8, max: 700 }), async (width, height) => {
        const bytes = await encodeGrey(new Array(width * height).fill(90), width, height, 'image/jpeg');
        const grey = await decodeToGrey(bytes, readHeader(bytes, LIMIT));
        assert.deepEqual([grey.width, grey.height], [width, height]);
      }),
      { numRuns: 60 },
    );
  });
});
