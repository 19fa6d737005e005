/**
 * The PNGs most clients send (8 bits a channel, not interlaced, grey or RGB, with or without alpha,
 * no palette, no tRNS) decoded in one pass: chunk CRCs checked and the image data inflated by
 * Node's own zlib, scanlines unfiltered in place, expanded to RGBA. The same pixels as pngjs, for a
 * fraction of its allocations (docs/benchmarks/2026-12-07-cpu-budget.md). Anything else, or
 * anything odd (a bad CRC, a chunk it does not know, data of the wrong length), returns undefined
 * and is left to pngjs, whose answers and errors stay what they were.
 */
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Channels by colour type: grey, RGB, grey and alpha, RGBA (3, the palette, is not taken). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
/** Chunks that change nothing in the pixels of such an image (pngjs ignores them too), by type. */
const IGNORED = /^[a-z]/;

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodeSimplePng(png: Buffer): RgbaImage | undefined {
  if (png.length < 8 + 25 || !png.subarray(0, 8).equals(SIGNATURE)) return undefined;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  let ended = false;
  for (let at = 8; at + 12 <= png.length && !ended;) {
    const length = png.readUInt32BE(at);
    const end = at + 12 + length;
    if (end > png.length) return undefined;
    const type = png.toString('latin1', at + 4, at + 8);
    if (crc32(png.subarray(at + 4, at + 8 + length)) !== png.readUInt32BE(end - 4)) return undefined;
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      if (at !== 8 || length !== 13) return undefined;
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      const [depth, colourType, compression, filter, interlace] = data.subarray(8, 13);
      channels = CHANNELS[colourType!] ?? 0;
      if (depth !== 8 || channels === 0 || compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    else if (type === 'tRNS' || !IGNORED.test(type)) return undefined;
    at = end;
  }
  if (!ended || channels === 0 || idat.length === 0 || width === 0 || height === 0) return undefined;
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { maxOutputLength: expected });
  } catch {
    return undefined;
  }
  if (raw.length !== expected) return undefined;
  const pixels = unfilter(raw, height, stride, channels);
  if (!pixels) return undefined;
  return { width, height, data: toRgba(pixels, width * height, channels) };
}

/** The scanlines without their filters (RFC 2083, 6.3); undefined for an unknown filter. */
function unfilter(raw: Buffer, height: number, stride: number, bpp: number): Uint8Array | undefined {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    // The row above (zeros above the first).
    const up = y > 0 ? row - stride : -1;
    const b = (x: number) => (up < 0 ? 0 : out[up + x]!);
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), row);
        break;
      case 1:
        for (let x = 0; x < stride; x++) out[row + x] = raw[src + x]! + (x >= bpp ? out[row + x - bpp]! : 0);
        break;
      case 2:
        for (let x = 0; x < stride; x++) out[row + x] = raw[src + x]! + b(x);
        break;
      case 3:
        for (let x = 0; x < stride; x++) {
          out[row + x] = raw[src + x]! + (((x >= bpp ? out[row + x - bpp]! : 0) + b(x)) >> 1);
        }
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? out[row + x - bpp]! : 0;
          const c = x >= bpp ? b(x - bpp) : 0;
          const p = a + b(x) - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b(x));
          const pc = Math.abs(p - c);
          out[row + x] = raw[src + x]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b(x) : c);
        }
        break;
      default:
        return undefined;
    }
  }
  return out;
}

function toRgba(pixels: Uint8Array, count: number, channels: number): Uint8Array {
  if (channels === 4) return pixels;
  const rgba = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) {
    const p = i * channels;
    const q = i * 4;
    if (channels >= 3) {
      rgba[q] = pixels[p]!;
      rgba[q + 1] = pixels[p + 1]!;
      rgba[q + 2] = pixels[p + 2]!;
    } else rgba[q] = rgba[q + 1] = rgba[q + 2] = pixels[p]!;
    rgba[q + 3] = channels === 2 ? pixels[p + 1]! : 255;
  }
  return rgba;
}
