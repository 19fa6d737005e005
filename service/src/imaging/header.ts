/**
 * What an image is, from its first bytes (image-size): the format and the declared dimensions,
 * so that a small file declaring a huge canvas is refused before any decoder allocates for it.
 */
import { imageSize } from 'image-size';

/** The raster formats the service decodes, by image-size's type name. SVG is not one of them. */
const SUPPORTED: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
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
    // Stryker disable next-line StringLiteral: the name shows only in a stack trace, never to a client or in a metric
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
  // Stryker disable next-line StringLiteral: any key SUPPORTED lacks does the same
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
      `the image is ${width}x${height} pixels (${megapixels(width * height)} megapixels), more than the ` +
        `${megapixels(maxPixels)} megapixels this service takes (${maxPixels} pixels, a square of ` +
        `${Math.floor(Math.sqrt(maxPixels))} a side): scale it down and send it again; ` +
        'a digit needs no more than about 1000 pixels a side',
    );
  }
  return { mediaType, width, height };
}

const megapixels = (pixels: number) => (pixels / 1e6).toFixed(1);
