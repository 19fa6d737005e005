/**
 * Header-checked image bytes (header.ts) to greyscale pixels: PNG through pngjs, TIFF through the
 * guarded first-page reader, everything else through jimp.
 */
import { Jimp } from 'jimp';
import { PNG } from 'pngjs';
import { rgbaToGrey, type GreyImage } from './grey-image.ts';
import { ImageError, type ImageHeader } from './header.ts';
import { decodeTiffFirstPage } from './tiff.ts';

/**
 * RGBA pixels of a header-checked image. PNG, the hot path, goes straight to pngjs (synchronous,
 * and far cheaper than jimp's generic reader for a small digit: docs/decisions/pngjs-for-png.md);
 * TIFF to its first page only; the other formats go to jimp.
 */
async function decodeRgba(
  bytes: Uint8Array,
  header: ImageHeader,
): Promise<{ width: number; height: number; data: Uint8Array }> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (header.mediaType === 'image/png') return PNG.sync.read(buffer);
  if (header.mediaType === 'image/tiff') return decodeTiffFirstPage(buffer, header);
  // jpeg-js sizes its buffers from the last frame header, not the first one the header check
  // read: a 28x28 JPEG with a second frame header declaring 8000x8000 stalled for 6 s and took
  // 1.2 GB. Its own resolution limit, set to what the header declared, refuses that at once.
  // jpeg-js takes the limit in megapixels and multiplies it back by 1e6 in floating point, which
  // can land just below an exact count (280x280): half a pixel of margin keeps every whole count
  // at or under the header's on the right side, and every larger one still over it.
  const jpeg = { maxResolutionInMP: (header.width * header.height + 0.5) / 1e6 };
  return (await Jimp.fromBuffer(buffer, { 'image/jpeg': jpeg })).bitmap;
}

/** Decodes a header-checked image into greyscale; throws ImageError('undecodable_image'). */
export async function decodeToGrey(bytes: Uint8Array, header: ImageHeader): Promise<GreyImage> {
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = await decodeRgba(bytes, header);
  } catch (err) {
    throw new ImageError(
      'undecodable_image',
      `the ${header.mediaType} image could not be decoded: ${(err as Error).message}`,
    );
  }
  const { width, height, data } = image;
  // The header and the decoder must agree, or the pixel cap checked above means nothing.
  if (width * height > header.width * header.height) {
    throw new ImageError(
      'undecodable_image',
      `the image decodes to ${width}x${height}, not the ${header.width}x${header.height} its header declares`,
    );
  }
  return rgbaToGrey(data, width, height);
}
