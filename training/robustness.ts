/**
 * The robustness suite: each official test digit redrawn the ways real handwriting differs from
 * MNIST (a small drawing scaled up, blur, thin and thick pens, a tilt, a digit off the centre of a
 * larger canvas, a canvas's anti-aliased strokes), sent through the service's own normalisation
 * as a client's picture would be. Pure functions: the randomness comes in as an argument.
 */
import { augmentDigit } from './augment.ts';
import { imageAt, type MnistSplit } from '../devkit/mnist/dataset.ts';
import { seededRandom, type Random } from '../devkit/random.ts';
import { erode, gaussianBlur, inverted, resizeBilinear } from './image-ops.ts';
import {
  dilate,
  greyImage,
  MNIST_PIXELS,
  MNIST_SIDE,
  normaliseDigit,
  resizeArea,
  scaleToUnit,
  type GreyImage,
} from '../service/src/index.ts';

export const ROBUSTNESS_VARIANTS = [
  'low-res-8',
  'low-res-12',
  'low-res-16',
  'blur',
  'thin',
  'thick',
  'rotated',
  'off-centre',
  'anti-aliased',
] as const;
export type RobustnessVariant = (typeof ROBUSTNESS_VARIANTS)[number];

/** The accuracy each variant must reach; the smallest drawing loses the most detail. */
export const ROBUSTNESS_TARGETS: Record<RobustnessVariant, number> = {
  'low-res-8': 0.9,
  'low-res-12': 0.97,
  'low-res-16': 0.97,
  blur: 0.97,
  thin: 0.97,
  thick: 0.97,
  rotated: 0.97,
  'off-centre': 0.97,
  'anti-aliased': 0.97,
};

/** MNIST fitted each digit into 20 px; low-res-N reduces that box to N px. */
const MNIST_DIGIT_BOX = 20;
/** Thin and thick pens are drawn at 4x, as a phone photo or a tablet gives a digit. */
const PEN_SCALE = 4;
/** A drawing pad's canvas is 10x MNIST's field (280 px). */
const CANVAS_SCALE = 10;

/**
 * The picture a client might send of an official test digit (28x28, 0..255, white on black),
 * redrawn as `variant` says. Its size and paper vary: the service's normalisation handles both.
 */
export function robustnessPicture(variant: RobustnessVariant, pixels: Uint8Array, random: Random): GreyImage {
  const digit = greyImage(MNIST_SIDE, MNIST_SIDE, Float32Array.from(pixels));
  const up = (factor: number) => resizeBilinear(digit, MNIST_SIDE * factor, MNIST_SIDE * factor);
  switch (variant) {
    case 'low-res-8':
    case 'low-res-12':
    case 'low-res-16': {
      const side = Math.round((MNIST_SIDE * Number(variant.slice('low-res-'.length))) / MNIST_DIGIT_BOX);
      return resizeBilinear(resizeArea(digit, side, side), MNIST_SIDE, MNIST_SIDE);
    }
    case 'blur':
      return gaussianBlur(digit, 1);
    case 'thin':
      return erode(up(PEN_SCALE), 2);
    case 'thick':
      return dilate(up(PEN_SCALE), 4);
    case 'rotated': {
      const out = new Float32Array(MNIST_PIXELS);
      augmentDigit(pixels, out, 0, random, { maxRotationDeg: 15, maxScale: 0, maxShiftPx: 0 });
      return greyImage(
        MNIST_SIDE,
        MNIST_SIDE,
        out.map((v) => v * 255),
      );
    }
    case 'off-centre': {
      // Anywhere on a canvas twice the field's size.
      const canvas = greyImage(2 * MNIST_SIDE, 2 * MNIST_SIDE);
      const [left, top] = [Math.floor(random() * (MNIST_SIDE + 1)), Math.floor(random() * (MNIST_SIDE + 1))];
      for (let y = 0; y < MNIST_SIDE; y++) {
        canvas.data.set(digit.data.subarray(y * MNIST_SIDE, (y + 1) * MNIST_SIDE), (top + y) * canvas.width + left);
      }
      return canvas;
    }
    case 'anti-aliased': {
      // A pen's hard-edged ink, its edges anti-aliased over about a pixel, dark on white paper.
      const pen = up(CANVAS_SCALE);
      const hard = greyImage(
        pen.width,
        pen.height,
        pen.data.map((v) => (v >= 128 ? 255 : 0)),
      );
      return inverted(gaussianBlur(hard, 0.7));
    }
  }
}

/**
 * Model inputs (0..1) of the first `count` digits of `data` redrawn as `variant` and normalised as
 * the service normalises a picture; each variant has its own seed, so every run draws the same.
 */
export function robustnessInputs(variant: RobustnessVariant, data: MnistSplit, count: number): Float32Array {
  const random = seededRandom(ROBUSTNESS_VARIANTS.indexOf(variant) + 1);
  const out = new Float32Array(count * MNIST_PIXELS);
  for (let i = 0; i < count; i++) {
    const { digit } = normaliseDigit(robustnessPicture(variant, imageAt(data, i), random));
    scaleToUnit(digit.data, out.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS));
  }
  return out;
}
