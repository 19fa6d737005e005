/** Encodes 0..255 greyscale pixels as an image file (fixtures, tests, the load scripts). */
import { Jimp, JimpMime } from 'jimp';

export type EncodableMime = 'image/png' | 'image/jpeg' | 'image/bmp' | 'image/gif' | 'image/tiff';

export async function encodeGrey(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  mime: EncodableMime,
): Promise<Buffer> {
  const image = new Jimp({ width, height });
  const data = image.bitmap.data;
  for (let i = 0; i < width * height; i++) {
    const v = Math.max(0, Math.min(255, Math.round(pixels[i] as number)));
    data[i * 4] = v;
    data[i * 4 + 1] = v;
    data[i * 4 + 2] = v;
    data[i * 4 + 3] = 255;
  }
  return image.getBuffer(mime as typeof JimpMime.png);
}

export function encodeGreyPng(pixels: ArrayLike<number>, width: number, height: number): Promise<Buffer> {
  return encodeGrey(pixels, width, height, 'image/png');
}
