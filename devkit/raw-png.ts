/**
 * A PNG built chunk by chunk, for what encoders do not offer: 16-bit and palette images, and a
 * tiny file whose header declares a huge canvas (a decompression bomb).
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

export function rawPng(opts: {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  rows: Uint8Array;
  palette?: Uint8Array;
}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(opts.width, 0);
  ihdr.writeUInt32BE(opts.height, 4);
  ihdr.writeUInt8(opts.bitDepth, 8);
  ihdr.writeUInt8(opts.colorType, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(opts.palette ? [chunk('PLTE', opts.palette)] : []),
    chunk('IDAT', deflateSync(opts.rows)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** About 100 bytes declaring 20000x20000 grey pixels. */
export function pngBomb(): Buffer {
  return rawPng({ width: 20000, height: 20000, bitDepth: 8, colorType: 0, rows: new Uint8Array(100) });
}

/**
 * The same picture in exactly `length` bytes: a tEXt comment chunk after IHDR makes up the
 * difference (a PNG's header is 8 bytes and its IHDR chunk 25, so the comment goes at 33).
 */
export function paddedPng(png: Buffer, length: number): Buffer {
  const overhead = 12 + 'Comment\0'.length;
  const fill = length - png.length - overhead;
  if (fill < 0) throw new Error(`a PNG of ${png.length} bytes cannot be padded to ${length}`);
  const text = chunk('tEXt', Buffer.concat([Buffer.from('Comment\0', 'latin1'), Buffer.alloc(fill, 'x')]));
  return Buffer.concat([png.subarray(0, 33), text, png.subarray(33)]);
}
