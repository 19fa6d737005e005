/**
 * Valid pictures of a digit in every format and layout the service accepts, encoded by maintained
 * encoders (sharp for PNG, JPEG, GIF, TIFF and WebP; jimp for BMP), with the PNG layouts no encoder
 * offers (1, 2 and 4-bit greyscale) built chunk by chunk. For property tests: any variant, any size.
 */
import sharp from 'sharp';
import { encodeRgba } from './encode.ts';
import { rawPng } from './raw-png.ts';

export const VARIANTS = [
  'png-grey-1',
  'png-grey-2',
  'png-grey-4',
  'png-grey-8',
  'png-grey-16',
  'png-grey-alpha-8',
  'png-grey-alpha-16',
  'png-rgb-8',
  'png-rgb-16',
  'png-rgba-8',
  'png-rgba-16',
  'png-palette-1',
  'png-palette-2',
  'png-palette-4',
  'png-palette-8',
  'jpeg-baseline-grey',
  'jpeg-baseline-444',
  'jpeg-baseline-420',
  'jpeg-progressive-grey',
  'jpeg-progressive-444',
  'jpeg-progressive-420',
  'webp-lossy',
  'webp-lossless',
  'bmp',
  'gif',
  'tiff-none',
  'tiff-lzw',
  'tiff-deflate',
] as const;
export type Variant = (typeof VARIANTS)[number];

const MEDIA_TYPES: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  bmp: 'image/bmp',
  gif: 'image/gif',
  tiff: 'image/tiff',
};

/** The media type of a variant's file (`png-grey-8` -> `image/png`). */
export const mediaTypeOf = (variant: Variant): string => MEDIA_TYPES[variant.split('-')[0]!]!;

/** A plain drawing of `digit` filling a `side` x `side` picture: dark ink on white paper. */
export function plainDrawing(digit: ArrayLike<number>, side = 28): Drawing {
  return {
    width: side,
    height: side,
    digit,
    box: { x: 0, y: 0, side },
    paper: [255, 255, 255],
    ink: [0, 0, 0],
    interlaced: false,
    transparentPaper: false,
  };
}

/** One variant of each format the variants cover, the first listed: a picture per media type. */
export const ONE_PER_FORMAT: Variant[] = [
  ...new Map(VARIANTS.map((v) => [mediaTypeOf(v), v] as const).reverse()).values(),
].reverse();

export interface Drawing {
  width: number;
  height: number;
  /** 28x28 intensities of the digit, 0..255 (MNIST's encoding). */
  digit: ArrayLike<number>;
  /** The digit's box inside the picture. */
  box: { x: number; y: number; side: number };
  paper: [number, number, number];
  ink: [number, number, number];
  /** PNG only: interlaced (Adam7). */
  interlaced: boolean;
  /** Layouts with alpha: the paper transparent, as a canvas leaves it. */
  transparentPaper: boolean;
}

/**
 * The drawing as interleaved RGBA. Each pixel takes the most ink of the digit's pixels it covers,
 * so that a digit drawn a few pixels tall keeps its strokes.
 */
export function drawRgba(d: Drawing): Uint8Array {
  const rgba = new Uint8Array(d.width * d.height * 4);
  const source = (p: number) => Math.floor((p * 28) / d.box.side);
  for (let y = 0; y < d.height; y++) {
    const v0 = source(y - d.box.y);
    const v1 = Math.max(v0 + 1, source(y + 1 - d.box.y));
    for (let x = 0; x < d.width; x++) {
      const u0 = source(x - d.box.x);
      const u1 = Math.max(u0 + 1, source(x + 1 - d.box.x));
      let ink = 0;
      for (let v = Math.max(0, v0); v < Math.min(28, v1); v++)
        for (let u = Math.max(0, u0); u < Math.min(28, u1); u++) ink = Math.max(ink, d.digit[v * 28 + u] as number);
      const t = ink / 255;
      const at = (y * d.width + x) * 4;
      for (let c = 0; c < 3; c++) rgba[at + c] = Math.round(d.paper[c]! * (1 - t) + d.ink[c]! * t);
      rgba[at + 3] = d.transparentPaper ? Math.round(255 * t) : 255;
    }
  }
  return rgba;
}

const luma = (rgba: Uint8Array, i: number) =>
  Math.round(0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!);

/** Keeps `channels` of each RGBA pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
function channelsOf(rgba: Uint8Array, pixels: number, channels: 1 | 2 | 3 | 4): Buffer {
  const out = Buffer.alloc(pixels * channels);
  for (let i = 0; i < pixels; i++) {
    if (channels <= 2) out[i * channels] = luma(rgba, i);
    else for (let c = 0; c < 3; c++) out[i * channels + c] = rgba[i * 4 + c]!;
    if (channels === 2 || channels === 4) out[i * channels + channels - 1] = rgba[i * 4 + 3]!;
  }
  return out;
}

/** Greyscale at 1, 2 or 4 bits per pixel, rows packed MSB first, each after its filter byte. */
function lowBitGreyPng(rgba: Uint8Array, width: number, height: number, bits: 1 | 2 | 4): Buffer {
  const stride = Math.ceil((width * bits) / 8);
  const rows = new Uint8Array(height * (1 + stride));
  const levels = (1 << bits) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const level = Math.round((luma(rgba, y * width + x) / 255) * levels);
      const bit = x * bits;
      rows[y * (1 + stride) + 1 + (bit >> 3)]! |= level << (8 - bits - (bit & 7));
    }
  }
  return rawPng({ width, height, bitDepth: bits, colorType: 0, rows });
}

export async function encodeVariant(variant: Variant, d: Drawing): Promise<Buffer> {
  const rgba = drawRgba(d);
  const { width, height } = d;
  const input = (channels: 1 | 2 | 3 | 4) =>
    sharp(channelsOf(rgba, width * height, channels), { raw: { width, height, channels } });
  const [format, layout, depth] = variant.split('-') as [string, string?, string?];
  switch (format) {
    case 'png': {
      const bits = Number(variant.split('-').at(-1));
      const progressive = d.interlaced;
      if (layout === 'palette') {
        return input(3)
          .png({ palette: true, colours: 2 ** bits, progressive })
          .toBuffer();
      }
      if (bits < 8) return lowBitGreyPng(rgba, width, height, bits as 1 | 2 | 4);
      const channels = variant.startsWith('png-grey-alpha') ? 2 : layout === 'grey' ? 1 : layout === 'rgba' ? 4 : 3;
      const grey = channels <= 2;
      let image = input(channels);
      if (bits === 16) image = image.toColourspace(grey ? 'grey16' : 'rgb16');
      else if (grey) image = image.toColourspace('b-w');
      return image.png({ progressive }).toBuffer();
    }
    case 'jpeg': {
      const grey = depth === 'grey';
      return input(grey ? 1 : 3)
        .jpeg({
          progressive: layout === 'progressive',
          chromaSubsampling: depth === '444' ? '4:4:4' : '4:2:0',
          quality: 90,
        })
        .toBuffer();
    }
    case 'webp':
      return input(3)
        .webp(layout === 'lossless' ? { lossless: true } : { quality: 90 })
        .toBuffer();
    case 'gif':
      return input(3).gif().toBuffer();
    case 'tiff':
      return input(3)
        .tiff({ compression: layout as 'none' | 'lzw' | 'deflate' })
        .toBuffer();
    default:
      return encodeRgba(rgba, width, height, 'image/bmp');
  }
}
