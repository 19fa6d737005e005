/** Image files built to hurt a decoder: what a hostile client uploads. */

/** Byte-order-aware readers and writers for a TIFF file. */
function tiffIo(tiff: Buffer) {
  const little = tiff.toString('latin1', 0, 2) === 'II';
  return {
    u16: (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at)),
    u32: (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at)),
    put16: (buf: Buffer, v: number, at: number) => (little ? buf.writeUInt16LE(v, at) : buf.writeUInt16BE(v, at)),
    put32: (buf: Buffer, v: number, at: number) => (little ? buf.writeUInt32LE(v, at) : buf.writeUInt32BE(v, at)),
  };
}

/** The first directory's entries with width, height and rows per strip rewritten. */
function tiffEntriesDeclaring(tiff: Buffer, width: number, height: number): { count: number; entries: Buffer } {
  const { u16, u32, put16, put32 } = tiffIo(tiff);
  const firstIfd = u32(4);
  const count = u16(firstIfd);
  const entries = Buffer.from(tiff.subarray(firstIfd + 2, firstIfd + 2 + count * 12));
  const tagAt = (i: number) => u16(firstIfd + 2 + i * 12);
  for (let i = 0; i < count; i++) {
    const tag = tagAt(i);
    const value = tag === 256 ? width : tag === 257 || tag === 278 ? height : undefined;
    if (value === undefined) continue;
    // Rewritten as one LONG held inline, whatever type the encoder chose.
    put16(entries, 4, i * 12 + 2);
    put32(entries, 1, i * 12 + 4);
    put32(entries, value, i * 12 + 8);
  }
  return { count, entries };
}

/**
 * A valid TIFF with a second page appended whose directory declares `width` x `height` pixels and
 * points at the first page's strips. The header (the first page) is tiny, so only a decoder that
 * looks past page one is hurt.
 */
export function tiffWithSecondPage(tiff: Buffer, width: number, height: number): Buffer {
  const { u16, u32, put16, put32 } = tiffIo(tiff);
  const firstIfd = u32(4);
  const { count, entries } = tiffEntriesDeclaring(tiff, width, height);
  const secondIfd = tiff.length + (tiff.length % 2); // IFDs start on a word boundary
  const out = Buffer.alloc(secondIfd + 2 + count * 12 + 4);
  tiff.copy(out);
  put32(out, secondIfd, firstIfd + 2 + u16(firstIfd) * 12); // page one's "next directory" pointer
  put16(out, count, secondIfd);
  entries.copy(out, secondIfd + 2);
  return out; // the trailing 4 zero bytes end the directory chain
}

/** A valid TIFF whose first directory names itself as the next: a chain that never ends. */
export function tiffLoopingToItself(tiff: Buffer): Buffer {
  const { u16, u32, put32 } = tiffIo(tiff);
  const firstIfd = u32(4);
  const out = Buffer.from(tiff);
  put32(out, firstIfd, firstIfd + 2 + u16(firstIfd) * 12);
  return out;
}

/** A copy of a TIFF whose first directory declares `width` x `height`. */
function tiffDeclaring(tiff: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(tiff);
  const { entries } = tiffEntriesDeclaring(tiff, width, height);
  entries.copy(out, tiffIo(tiff).u32(4) + 2);
  return out;
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

/** A copy of a PNG whose IHDR declares `width` x `height` (its CRC left as it was). */
function pngDeclaring(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  return out;
}

/** A copy of a BMP whose info header declares `width` x `height` (bottom-up rows). */
function bmpDeclaring(bmp: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(bmp);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  return out;
}

/** A copy of a GIF whose logical screen declares `width` x `height`. */
function gifDeclaring(gif: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(gif);
  out.writeUInt16LE(width, 6);
  out.writeUInt16LE(height, 8);
  return out;
}

/** A copy of a WebP (lossy VP8, lossless VP8L or extended VP8X) declaring `width` x `height`. */
function webpDeclaring(webp: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(webp);
  const chunk = out.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    out.writeUInt16LE(width & 0x3fff, 26);
    out.writeUInt16LE(height & 0x3fff, 28);
  } else if (chunk === 'VP8L') {
    const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14) | (out.readUInt32LE(21) & 0xf0000000);
    out.writeUInt32LE(bits >>> 0, 21);
  } else if (chunk === 'VP8X') {
    out.writeUIntLE(width - 1, 24, 3);
    out.writeUIntLE(height - 1, 27, 3);
  } else {
    throw new Error(`no WebP chunk this helper knows: ${chunk}`);
  }
  return out;
}

/** The largest side each format can declare in its header. */
export const MAX_DECLARABLE_SIDE: Record<string, number> = {
  'image/png': 2 ** 31 - 1,
  'image/jpeg': 65535,
  'image/webp': 16383,
  'image/bmp': 2 ** 31 - 1,
  'image/gif': 65535,
  'image/tiff': 2 ** 32 - 1,
};

/**
 * A copy of a valid image whose header declares `width` x `height`, the rest of the file as it was:
 * a header bomb when the size is large, an image that disagrees with its header when it is not.
 */
export function declaring(image: Buffer, mediaType: string, width: number, height: number): Buffer {
  switch (mediaType) {
    case 'image/png':
      return pngDeclaring(image, width, height);
    case 'image/jpeg':
      return jpegDeclaring(image, width, height);
    case 'image/webp':
      return webpDeclaring(image, width, height);
    case 'image/bmp':
      return bmpDeclaring(image, width, height);
    case 'image/gif':
      return gifDeclaring(image, width, height);
    case 'image/tiff':
      return tiffDeclaring(image, width, height);
    default:
      throw new Error(`no header rewriter for ${mediaType}`);
  }
}
