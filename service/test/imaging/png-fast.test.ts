/**
 * The fast PNG path gives exactly pngjs's pixels for every PNG it takes (every colour type it
 * reads, every filter, any size), leaves to pngjs what it does not read (16 bits, interlaced,
 * transparency chunks), and never answers with other pixels than pngjs for a damaged file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 as crc } from 'node:zlib';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import { decodeSimplePng } from '../../src/imaging/png-fast.ts';

type ColourType = 0 | 2 | 4 | 6;
const image = fc
  .record({
    width: fc.integer({ min: 1, max: 40 }),
    height: fc.integer({ min: 1, max: 40 }),
    colourType: fc.constantFrom<ColourType>(0, 2, 4, 6),
    filterType: fc.constantFrom(-1, 0, 1, 2, 3, 4),
    seed: fc.integer(),
  })
  .map(({ width, height, colourType, filterType, seed }) => {
    const png = new PNG({ width, height });
    // Smooth runs as well as noise, so every filter meets both.
    let state = seed >>> 0;
    for (let i = 0; i < png.data.length; i++) {
      state = (state * 1664525 + 1013904223) >>> 0;
      png.data[i] = state % 3 === 0 ? state >>> 24 : (i * 7) & 0xff;
    }
    return PNG.sync.write(png, { colorType: colourType, inputColorType: 6, filterType });
  });

const pngjs = (bytes: Buffer) => {
  try {
    return PNG.sync.read(bytes);
  } catch {
    return undefined;
  }
};

describe('decodeSimplePng', () => {
  it("reads every 8-bit grey, grey-alpha, RGB and RGBA PNG to pngjs's pixels", () => {
    fc.assert(
      fc.property(image, (bytes) => {
        const fast = decodeSimplePng(bytes);
        const slow = PNG.sync.read(bytes);
        assert.ok(fast, 'taken by the fast path');
        assert.equal(fast.width, slow.width);
        assert.equal(fast.height, slow.height);
        assert.deepEqual(Buffer.from(fast.data), Buffer.from(slow.data));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves 16-bit, interlaced and transparency-keyed PNGs to pngjs', () => {
    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(200);
    assert.equal(decodeSimplePng(PNG.sync.write(png, { bitDepth: 16, colorType: 6 })), undefined);
    const plain = PNG.sync.write(png, { colorType: 2, inputColorType: 6 });
    assert.ok(decodeSimplePng(plain));
    // The interlace byte of IHDR set (its CRC fixed), and a tRNS chunk added.
    const interlaced = Buffer.from(plain);
    interlaced[8 + 8 + 12] = 1;
    interlaced.writeUInt32BE(crc(interlaced.subarray(12, 12 + 17)), 8 + 8 + 13);
    assert.equal(decodeSimplePng(interlaced), undefined);
    const trns = Buffer.concat([
      plain.subarray(0, 33),
      chunk('tRNS', Buffer.from([0, 0, 0, 0, 0, 0])),
      plain.subarray(33),
    ]);
    assert.equal(decodeSimplePng(trns), undefined);
  });

  it('never answers with other pixels than pngjs for a damaged file: pngjs decides', () => {
    fc.assert(
      fc.property(image, fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, xor) => {
        const damaged = Buffer.from(bytes);
        damaged[at % damaged.length]! ^= xor;
        const fast = decodeSimplePng(damaged);
        if (fast === undefined) return;
        const slow = pngjs(damaged);
        assert.ok(slow, 'pngjs refuses what the fast path read');
        assert.deepEqual(Buffer.from(fast.data), Buffer.from(slow.data));
      }),
      { numRuns: 300 },
    );
  });
});

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, tail]);
}
