/**
 * Header-checked image bytes (header.ts) to greyscale pixels, each format by the decoder that
 * measured best for it (docs/decisions/image-decoders.md): small PNGs of the common kinds through
 * png-fast.ts, the other small ones through pngjs, TIFF through
 * the guarded first-page reader, BMP through jimp, everything else through sharp (libvips).
 */
import bmp from '@jimp/js-bmp';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { rgbaToGrey, type GreyImage } from './grey-image.ts';
import { ImageError, type ImageHeader } from './header.ts';
import { decodeSimplePng } from './png-fast.ts';
import { decodeTiffFirstPage } from './tiff.ts';

// Every upload is different: libvips's operation cache would only hold on to memory. One thread:
// a replica has one CPU, and the decoding of a large picture already runs off the event loop.
sharp.cache(false);
sharp.concurrency(1);

/** Above this many pixels a PNG decodes faster through libvips than through pngjs. */
// Stryker disable next-line ArithmeticOperator: speed only; both decoders give the same pixels (limits.test)
const PNGJS_MAX_PIXELS = 512 * 512;

type Rgba = { width: number; height: number; data: Uint8Array };

/** jimp's BMP decoder alone (bmp-ts, pixels returned as RGBA), without the rest of jimp. */
const BMP = bmp();

/**
 * RGBA pixels of a header-checked image, upright. A small PNG, the hot path, is decoded here and
 * now (synchronous, and far cheaper than any decoder with a thread hop for a 28x28 digit).
 */
async function decodeRgba(bytes: Uint8Array, header: ImageHeader): Promise<Rgba> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixels = header.width * header.height;
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,StringLiteral: speed only, as above
  if (header.mediaType === 'image/png' && pixels <= PNGJS_MAX_PIXELS) {
    return decodeSimplePng(buffer) ?? PNG.sync.read(buffer);
  }
  // Stryker disable next-line ConditionalExpression,StringLiteral: libvips reads the same TIFFs to the same pixels; the guarded reader bounds what a crafted one costs
  if (header.mediaType === 'image/tiff') return decodeTiffFirstPage(buffer, header);
  if (header.mediaType === 'image/bmp') return BMP.decode(buffer);
  // libvips's own pixel limit is set to what the header declared, so that a file whose later
  // headers claim a larger canvas is refused, not decoded (libjpeg itself refuses a second frame).
  // autoOrient() applies the EXIF orientation: a phone's sideways photo of a 7 is no 7 otherwise.
  // Stryker disable next-line ObjectLiteral: defence in depth: libvips reads the header header.ts read, and refuses a second frame itself
  const { data, info } = await sharp(buffer, { limitInputPixels: pixels, failOn: 'error' })
    .autoOrient()
    .toColourspace('srgb')
    .ensureAlpha()
    .raw() // 8 bits a channel (sharp's default), whatever the file's depth
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** Decodes a header-checked image into greyscale; throws ImageError('undecodable_image'). */
export async function decodeToGrey(bytes: Uint8Array, header: ImageHeader): Promise<GreyImage> {
  let image: Rgba;
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
