/**
 * Image bytes to greyscale pixels. The format and dimensions are read from the header first
 * (image-size) so that a small file declaring a huge canvas is refused before a decoder allocates
 * for it; only then does jimp decode.
 */
import { imageSize } from 'image-size';
import { Jimp } from 'jimp';
import { PNG } from 'pngjs';
import { rgbaToGrey, type GreyImage } from './grey-image.ts';
import { decodeTiffFirstPage } from './tiff.ts';

/** Formats jimp decodes, by image-size's type name. */
const SUPPORTED: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  bmp: 'image/bmp',
  gif: 'image/gif',
  tiff: 'image/tiff',
};
export const SUPPORTED_MEDIA_TYPES = Object.values(SUPPORTED);

export type ImageErrorCode =
  'unsupported_image_format' | 'image_too_large' | 'undecodable_image' | 'empty_image' | 'blank_image';

export class ImageError extends Error {
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export interface ImageHeader {
  mediaType: string;
  width: number;
  height: number;
}

/** Identifies the format from the bytes themselves (never from a name or a claimed type). */
export function readHeader(bytes: Uint8Array, maxPixels: number): ImageHeader {
  if (bytes.length === 0) throw new ImageError('empty_image', 'the image is empty (0 bytes)');
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    throw new ImageError('undecodable_image', 'the bytes are not an image in a format this service knows');
  }
  const mediaType = SUPPORTED[size.type ?? ''];
  if (!mediaType) {
    throw new ImageError(
      'unsupported_image_format',
      `${size.type} images are not supported; send ${SUPPORTED_MEDIA_TYPES.join(', ')}`,
    );
  }
  const { width, height } = size;
  if (!(width > 0 && height > 0)) throw new ImageError('undecodable_image', 'the image header declares no pixels');
  if (width * height > maxPixels) {
    throw new ImageError(
      'image_too_large',
      `the image declares ${width}x${height} pixels, more than the limit of ${maxPixels} pixels`,
    );
  }
  return { mediaType, width, height };
}

/**
 * RGBA pixels of a header-checked image. PNG, the hot path, goes straight to pngjs (synchronous,
 * about 25x cheaper than jimp's generic reader for a small digit); TIFF to its first page only;
 * the other formats go to jimp.
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
