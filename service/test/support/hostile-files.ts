/** Image files built to hurt a decoder: what a hostile client uploads. */

/**
 * A valid TIFF with a second page appended whose directory declares `width` x `height` pixels and
 * points at the first page's strips. The header (the first page) is tiny, so only a decoder that
 * looks past page one is hurt.
 */
export function tiffWithSecondPage(tiff: Buffer, width: number, height: number): Buffer {
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const put16 = (buf: Buffer, v: number, at: number) => (little ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at));
  const put32 = (buf: Buffer, v: number, at: number) => (little ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at));
  const firstIfd = u32(4);
  const count = u16(firstIfd);
  const entries = Buffer.from(tiff.subarray(firstIfd + 2, firstIfd + 2 + count * 12));
  for (let i = 0; i < count; i++) {
    const tag = little ? entries.readUInt16LE(i * 12) : entries.readUInt16BE(i * 12);
    const value = tag === 256 ? width : tag === 257 || tag === 278 ? height : undefined;
    if (value === undefined) continue;
    // Rewritten as one LONG held inline, whatever type the encoder chose.
    put16(entries, 4, i * 12 + 2);
    put32(entries, 1, i * 12 + 4);
    put32(entries, value, i * 12 + 8);
  }
  const secondIfd = tiff.length + (tiff.length % 2); // IFDs start on a word boundary
  const out = Buffer.alloc(secondIfd + 2 + count * 12 + 4);
  tiff.copy(out);
  put32(out, secondIfd, firstIfd + 2 + count * 12); // page one's "next directory" pointer
  put16(out, count, secondIfd);
  entries.copy(out, secondIfd + 2);
  return out; // the trailing 4 zero bytes end the directory chain
}

/** JPEG segments up to the start of scan: [marker, offset, length]. */
function segments(jpeg: Buffer): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 2; i + 4 <= jpeg.length && jpeg[i] === 0xff; i += 2 + jpeg.readUInt16BE(i + 2)) {
    out.push([jpeg[i + 1]!, i, jpeg.readUInt16BE(i + 2)]);
    if (jpeg[i + 1] === 0xda) break;
  }
  return out;
}

/** Start-of-frame markers: C0-CF except C4 (Huffman tables), C8 (reserved) and CC (arithmetic). */
const isFrameHeader = (marker: number) => marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);

/** A copy of a JPEG whose frame header declares `width` x `height`. */
export function jpegDeclaring(jpeg: Buffer, width: number, height: number): Buffer {
  const frame = segments(jpeg).find(([marker]) => isFrameHeader(marker));
  if (!frame) throw new Error('no frame header in this JPEG');
  const out = Buffer.from(jpeg);
  out.writeUInt16BE(height, frame[1] + 5);
  out.writeUInt16BE(width, frame[1] + 7);
  return out;
}

/**
 * A valid JPEG with a second frame header, declaring `width` x `height`, just before its scan: the
 * header check reads the first, a decoder may size its buffers from the second.
 */
export function jpegWithSecondFrame(jpeg: Buffer, width: number, height: number): Buffer {
  const big = jpegDeclaring(jpeg, width, height);
  const frame = segments(big).find(([marker]) => isFrameHeader(marker));
  const scan = segments(jpeg).find(([marker]) => marker === 0xda);
  if (!frame || !scan) throw new Error('no frame header or scan in this JPEG');
  const frameBytes = big.subarray(frame[1], frame[1] + 2 + frame[2]);
  return Buffer.concat([jpeg.subarray(0, scan[1]), frameBytes, jpeg.subarray(scan[1])]);
}
