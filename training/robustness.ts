/**
 * The robustness suite: each official test digit redrawn the ways real handwriting differs from
 * MNIST (a small drawing scaled up, blur, thin and thick pens, a tilt, a digit off the centre of a
 * larger canvas, a canvas's anti-aliased strokes), sent through the service's own normalisation
 * as a client's picture would be. Pure functions: the randomness comes in as an argument.
 */
import { augmentDigit } from './augment.ts';
import { imageAt, type MnistSplit } from '../devkit/mnist/dataset.ts';
import { seededRandom, type Random } from '../devkit/random.ts';
import {
  dilate,
  greyImage,
  MNIST_PIXELS,
  MNIST_SIDE,
  normaliseDigit,
  padded,
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

/** Bilinear resampling (pixel centres aligned), the smooth upscaling of a browser or a scanner. */
export function resizeBilinear(img: GreyImage, width: number, height: number): GreyImage {
  const out = new Float32Array(width * height);
  const sx = img.width / width;
  const sy = img.height / height;
  const at = (x: number, y: number) =>
    img.data[Math.min(img.height - 1, Math.max(0, y)) * img.width + Math.min(img.width - 1, Math.max(0, x))]!;
  for (let oy = 0; oy < height; oy++) {
    const y = (oy + 0.5) * sy - 0.5;
    const y0 = Math.floor(y);
    const fy = y - y0;
    for (let ox = 0; ox < width; ox++) {
      const x = (ox + 0.5) * sx - 0.5;
      const x0 = Math.floor(x);
      const fx = x - x0;
      out[oy * width + ox] =
        (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
        (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
    }
  }
  return greyImage(width, height, out);
}

/** Gaussian blur, separable, edges clamped. */
export function gaussianBlur(img: GreyImage, sigma: number): GreyImage {
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma ** 2)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const pass = (src: Float32Array, step: number, length: number, lines: number, lineStep: number) => {
    const out = new Float32Array(src.length);
    for (let line = 0; line < lines; line++) {
      for (let i = 0; i < length; i++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) {
          const j = Math.min(length - 1, Math.max(0, i + k));
          sum += src[line * lineStep + j * step]! * kernel[k + radius]!;
        }
        out[line * lineStep + i * step] = sum / total;
      }
    }
    return out;
  };
  const rows = pass(img.data, 1, img.width, img.height, img.width);
  return greyImage(img.width, img.height, pass(rows, img.width, img.height, img.width, 1));
}

const inverted = (img: GreyImage) =>
  greyImage(
    img.width,
    img.height,
    img.data.map((v) => 255 - v),
  );

/** Grey erosion with a (2r+1)-pixel square: outside the picture is background. */
export function erode(img: GreyImage, radius: number): GreyImage {
  // Erosion is the dilation of the inverse; the margin keeps the background around the picture.
  const grown = inverted(dilate(inverted(padded(img, radius)), radius));
  const out = new Float32Array(img.width * img.height);
  for (let y = 0; y < img.height; y++) {
    const start = (y + radius) * grown.width + radius;
    out.set(grown.data.subarray(start, start + img.width), y * img.width);
  }
  return greyImage(img.width, img.height, out);
}

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
