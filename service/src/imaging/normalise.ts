/**
 * Turns any greyscale digit picture into the model's input the way MNIST itself was made
 * (LeCun et al.): ink as white on black, cropped to the digit, scaled to fit a 20x20 box keeping
 * its aspect ratio, and placed in a 28x28 field so that its centre of mass sits at the centre.
 * Every step is a pure function of its input so it can be tested without a server.
 */
import { greyImage, type GreyImage } from './grey-image.ts';
import { dilate, padded, resizeArea } from './raster.ts';
import { MNIST_PIXELS, MNIST_SIDE } from '../mnist.ts';

/** Side of the box MNIST fitted each digit into. */
export const DIGIT_BOX = 20;
/** MNIST's centres of mass average (14.0, 14.0) in pixel-index coordinates. */
const CENTRE = 14;
/** MNIST strokes are about 2.5 px wide in the 20 px box; thinner input strokes are thickened. */
const TARGET_STROKE = 2.5;
/**
 * No digit without ink that stands out: the darkest ink must differ from the paper by at least
 * MIN_CONTRAST grey levels, and by CONTRAST_OVER_NOISE times the paper's own noise (the upper
 * quartile of the border's deviations from the paper, which a digit touching a quarter of the
 * border leaves alone). Noise alone never gets there: the extreme of Gaussian noise over even a
 * 24-megapixel photo is under 9 such deviations, clipped at black or white too, so paper with
 * nothing on it is refused as blank instead of answered with a made-up digit (docs/api.md).
 */
const MIN_CONTRAST = 10;
const CONTRAST_OVER_NOISE = 10;
/** Fewest pixels the ink must span one way: MNIST's smallest digits span 20 of 28, low-resolution ones 6. */
const MIN_INK_SIDE = 3;
/** Longest side at which strokes are measured and thickened (8x the final box). */
const WORKING_SIZE = 8 * DIGIT_BOX;

/** The image's outermost pixels, each once. */
function borderValues(img: GreyImage): Float64Array {
  const { width: w, height: h, data } = img;
  // A one-row image's top and bottom rows are the same row: counted twice, as any other border's.
  const values = new Float64Array(2 * w + 2 * Math.max(h - 2, 0));
  let n = 0;
  for (let x = 0; x < w; x++) {
    values[n++] = data[x]!;
    values[n++] = data[(h - 1) * w + x]!;
  }
  for (let y = 1; y < h - 1; y++) {
    values[n++] = data[y * w]!;
    values[n++] = data[y * w + w - 1]!;
  }
  return values;
}

/** The q-quantile (0 <= q < 1) of a non-empty list (sorted in place: callers pass their own copy). */
function quantile(values: Float64Array, q: number): number {
  values.sort();
  return values[Math.floor(q * values.length)]!;
}

/**
 * Makes the ink white on black and the background exactly 0: the border's median tells the
 * paper's colour (a dark digit on white paper is the common real-world case), the paper level
 * is subtracted and the ink stretched to 255, and what remains of the background's noise (JPEG
 * ringing, paper texture), measured on the border, is cut to 0. A clean image (MNIST, a drawing
 * app) has a noiseless border, so nothing of its faint anti-aliased edges is lost.
 */
export function toInkOnBlack(img: GreyImage): GreyImage {
  const border = borderValues(img);
  const paper = quantile(border.slice(), 0.5);
  const invert = paper > 127.5;
  const n = img.data.length;
  const ink = new Float32Array(n);
  let peak = 0;
  for (let i = 0; i < n; i++) {
    ink[i] = Math.max(invert ? paper - img.data[i]! : img.data[i]! - paper, 0);
    peak = Math.max(peak, ink[i]!);
  }
  for (let i = 0; i < border.length; i++) border[i] = Math.abs(border[i]! - paper);
  const noise = quantile(border, 0.75);
  if (peak < Math.max(MIN_CONTRAST, CONTRAST_OVER_NOISE * noise)) return greyImage(img.width, img.height);
  const scale = 255 / peak;
  // Stretched in place: `ink` is this function's own.
  for (let i = 0; i < n; i++) ink[i] = ink[i]! * scale;
  const stretched = greyImage(img.width, img.height, ink);
  // The 90th percentile ignores a digit that touches the border in a few places; a noiseless
  // border gives a floor of 0, which changes nothing.
  const floor = Math.min(2 * quantile(borderValues(stretched), 0.9), 128);
  const cut = new Float32Array(n);
  for (let i = 0; i < n; i++) cut[i] = Math.max(((ink[i]! - floor) * 255) / (255 - floor), 0);
  return greyImage(img.width, img.height, cut);
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The smallest box holding every non-zero pixel; null for an empty (all-background) image. */
export function boundingBox(img: GreyImage): Box | null {
  const { width: w, height: h, data } = img;
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[y * w + x]! <= 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

export function crop(img: GreyImage, box: Box): GreyImage {
  const out = new Float32Array(box.width * box.height);
  for (let y = 0; y < box.height; y++) {
    const start = (box.y + y) * img.width + box.x;
    out.set(img.data.subarray(start, start + box.width), y * box.width);
  }
  return greyImage(box.width, box.height, out);
}

/**
 * Mean stroke width in pixels, estimated as 2 * ink area / ink perimeter (exact for a long
 * band). Ink is what is above half intensity.
 */
export function strokeWidth(img: GreyImage): number {
  const { width: w, height: h, data } = img;
  const inked = (x: number, y: number) => x < w && y < h && data[y * w + x]! > 127.5;
  let area = 0;
  let perimeter = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!inked(x, y)) continue;
      area++;
      // Sides facing paper to the left are as many as those to the right (every run of ink has one
      // end each way), and likewise up and down: count right and below (paper beyond the edge), twice.
      // Stryker disable next-line ArithmeticOperator: looking left or up instead counts the same
      perimeter += 2 * (2 - +inked(x + 1, y) - +inked(x, y + 1));
    }
  }
  return perimeter === 0 ? 0 : (2 * area) / perimeter;
}

export function centreOfMass(img: GreyImage): { x: number; y: number } {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x]!;
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  return mass === 0 ? { x: (img.width - 1) / 2, y: (img.height - 1) / 2 } : { x: mx / mass, y: my / mass };
}

/**
 * Pastes the digit into a 28x28 field, shifted by whole pixels so its centre of mass lands on
 * MNIST's centre, but never so far that part of it leaves the field.
 */
export function placeByCentreOfMass(digit: GreyImage): GreyImage {
  const com = centreOfMass(digit);
  const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
  const left = clamp(Math.round(CENTRE - com.x), 0, MNIST_SIDE - digit.width);
  const top = clamp(Math.round(CENTRE - com.y), 0, MNIST_SIDE - digit.height);
  const out = new Float32Array(MNIST_PIXELS);
  for (let y = 0; y < digit.height; y++) {
    for (let x = 0; x < digit.width; x++) out[(top + y) * MNIST_SIDE + left + x] = digit.data[y * digit.width + x]!;
  }
  return greyImage(MNIST_SIDE, MNIST_SIDE, out);
}

/** The normalised digit, and where it was found in the picture (null when there is no ink). */
export interface NormalisedDigit {
  digit: GreyImage;
  crop: Box | null;
}

/**
 * The whole pipeline. Returns 784 intensities 0..255 (an empty picture gives all zeros; the
 * caller decides whether that is an error) and the crop box it took them from.
 */
export function normaliseDigit(img: GreyImage): NormalisedDigit {
  const ink = toInkOnBlack(img);
  const box = boundingBox(ink);
  // A speck (a pixel or two of dust, one odd value in a pixel array) is no digit.
  if (!box || Math.max(box.width, box.height) < MIN_INK_SIDE)
    return { digit: greyImage(MNIST_SIDE, MNIST_SIDE), crop: null };
  // A large crop is first reduced to a working size, so that thickening below costs the same
  // whatever the picture's size or aspect ratio.
  let digit = stretched(fitWithin(crop(ink, box), WORKING_SIZE));
  // A thin pen on a large canvas would shrink to a faint hairline: thicken it so that after the
  // final scaling it is as wide as MNIST's strokes (the box grows by the same margin). Strokes
  // already that wide, as in any digit of 20 px or less but one drawn in single dots, need none.
  const scale = DIGIT_BOX / Math.max(digit.width, digit.height);
  const radius = Math.floor((TARGET_STROKE / scale - strokeWidth(digit)) / 2);
  if (radius >= 1) digit = dilate(padded(digit, radius), radius);
  return { digit: placeByCentreOfMass(stretched(fitWithin(digit, DIGIT_BOX, true))), crop: box };
}

/** Area-resamples so the longer side is `side` (aspect ratio kept); smaller ones grow only if asked. */
function fitWithin(img: GreyImage, side: number, grow = false): GreyImage {
  const scale = side / Math.max(img.width, img.height);
  // Stryker disable next-line EqualityOperator: at scale 1 the resample is the identity
  if (scale >= 1 && !grow) return img;
  const width = Math.max(1, Math.round(img.width * scale));
  const height = Math.max(1, Math.round(img.height * scale));
  return resizeArea(img, width, height);
}

/** Scales intensities so the brightest pixel is 255 (resampling greys out thin ink); `img` has ink. */
function stretched(img: GreyImage): GreyImage {
  const { data } = img;
  let peak = 0;
  for (let i = 0; i < data.length; i++) peak = Math.max(peak, data[i]!);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i]! * 255) / peak;
  return greyImage(img.width, img.height, out);
}
