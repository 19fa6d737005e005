/** Encodes pixels as an image file (fixtures, tests, the load scripts). */
import { Jimp, JimpMime } from 'jimp';

export type EncodableMime = 'image/png' | 'image/jpeg' | 'image/bmp' | 'image/gif' | 'image/tiff';

export async function encodeRgba(
  rgba: Uint8Array,
  width: number,
  height: number,
  mime: EncodableMime,
): Promise<Buffer> {
  const image = new Jimp({ width, height });
  image.bitmap.data.set(rgba.subarray(0, width * height * 4));
  return image.getBuffer(mime as typeof JimpMime.png);
}

/** 0..255 intensities (clamped and rounded) as an opaque grey image. */
export function encodeGrey(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  mime: EncodableMime,
): Promise<Buffer> {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const v = Math.max(0, Math.min(255, Math.round(pixels[i] as number)));
    rgba.set([v, v, v, 255], i * 4);
  }
  return encodeRgba(rgba, width, height, mime);
}

export function encodeGreyPng(pixels: ArrayLike<number>, width: number, height: number): Promise<Buffer> {
  return encodeGrey(pixels, width, height, 'image/png');
}
