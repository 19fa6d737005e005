/**
 * Request payloads to model inputs: image bytes, or 784 pixel values, each normalised the MNIST
 * way (normalise.ts) so both forms reach the model alike.
 */
import { decodeToGrey } from './decode.ts';
import { ImageError, readHeader, type ImageHeader } from './header.ts';
import { greyImage } from './grey-image.ts';
import { MNIST_PIXELS, MNIST_SIDE, scaleToUnit } from '../mnist.ts';
import { normaliseDigit, type Box, type NormalisedDigit } from './normalise.ts';

export class PixelsError extends Error {
  // Stryker disable next-line StringLiteral: the name shows only in a stack trace, never to a client or in a metric
  override name = 'PixelsError';
}

/**
 * The normalised digit scaled to the model's range, refusing a blank picture: it has no digit to
 * classify, and answering one anyway would be a made-up digit.
 */
function inkedModelInput(pixels: Float32Array, source: string): Float32Array {
  if (!pixels.some((v) => v > 0))
    throw new ImageError(
      'blank_image',
      `no digit found: the ${source} has no ink that stands out from the paper (or only a speck)`,
    );
  return scaleToUnit(pixels);
}

export interface ModelInput {
  input: Float32Array;
  /** Pixels of the picture as received, for the time-per-pixel metric. */
  sourcePixels: number;
  /** Where in the picture the digit was found, in its pixels. */
  crop: Box | null;
}

/** The model input of a normalised digit; a blank one is refused. */
function toModelInput({ digit, crop }: NormalisedDigit, sourcePixels: number, source: string): ModelInput {
  return { input: inkedModelInput(digit.data, source), sourcePixels, crop };
}

/** `header` may be passed when the caller has already read and checked it. */
export async function imageToModelInput(
  bytes: Uint8Array,
  maxPixels: number,
  header: ImageHeader = readHeader(bytes, maxPixels),
): Promise<ModelInput> {
  const grey = await decodeToGrey(bytes, header);
  return toModelInput(normaliseDigit(grey), grey.width * grey.height, 'image');
}

/**
 * 784 numbers, row-major 28x28, either all within 0..1 or within 0..255 (a set whose largest
 * value is at most 1 is read as 0..1). The scale matters even though normalisation stretches the
 * ink: the paper's colour is told by its level on the 0..255 scale.
 */
export function pixelsToModelInput(values: unknown): ModelInput {
  if (!Array.isArray(values)) throw new PixelsError('"pixels" must be an array of 784 numbers');
  if (values.length !== MNIST_PIXELS) {
    throw new PixelsError(`"pixels" must hold ${MNIST_PIXELS} numbers (28x28), got ${values.length}`);
  }
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    // NaN and the infinities fail one of the comparisons.
    if (!(typeof v === 'number' && v >= 0 && v <= 255)) {
      throw new PixelsError(`"pixels"[${i}] must be a number from 0 to 255, got ${JSON.stringify(v)}`);
    }
    // Stryker disable next-line EqualityOperator: taking an equal value as the maximum changes nothing
    if (v > max) max = v;
  }
  const scale = max <= 1 ? 255 : 1;
  return greyPixelsToModelInput(Float32Array.from(values as number[], (v) => v * scale));
}

/** 784 intensities already on the 0..255 scale (checked by the caller), normalised the MNIST way. */
export function greyPixelsToModelInput(pixels: Float32Array<ArrayBuffer>): ModelInput {
  return toModelInput(normaliseDigit(greyImage(MNIST_SIDE, MNIST_SIDE, pixels)), MNIST_PIXELS, 'pixel array');
}
