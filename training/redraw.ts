/**
 * Training-time redrawing: a training digit drawn again the ways real pictures differ from MNIST's
 * scans (a thinner or thicker pen, an out-of-focus camera, a small drawing scaled up), then
 * normalised exactly as the service normalises a client's picture, so that the model learns on
 * what it will be served. The ranges are those of real pens and cameras; the robustness suite
 * checks the result on its own redrawings, which training never sees. Pure: the randomness comes
 * in as an argument.
 */
import { erode, gaussianBlur, resizeBilinear } from './image-ops.ts';
import type { Random } from '../devkit/random.ts';
import { dilate, MNIST_SIDE, normaliseDigit, resizeArea, type GreyImage } from '../service/src/index.ts';

export interface RedrawRange {
  /** Chance of each of the three distortions, independently. */
  chance: number;
  /** Pen width change in MNIST pixels, a whole number (0 keeps the pen). */
  penPx: readonly [min: number, max: number];
  /** Blur, as a Gaussian's sigma in MNIST pixels (0 is sharp). */
  blurSigma: readonly [min: number, max: number];
  /** Size of the drawing (its box's side in MNIST pixels; MNIST's own is 20), scaled back up after. */
  drawingPx: readonly [min: number, max: number];
}

export const DEFAULT_REDRAW: RedrawRange = { chance: 0.5, penPx: [-1, 2], blurSigma: [0.3, 1.5], drawingPx: [8, 19] };

/** The digit is redrawn at twice MNIST's size: a pen change of one MNIST pixel is one pixel each side. */
const DRAWING_SCALE = 2;
/** MNIST's digits fill a 20-px box inside the 28-px field. */
const MNIST_DIGIT_BOX = 20;

const between = (random: Random, min: number, max: number) => min + random() * (max - min);
const wholeBetween = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/**
 * `digit` (28x28, 0..255, white on black) redrawn: each distortion happens by `range.chance`, in
 * the order a picture goes through them (pen, focus, resolution), then normalised as the service
 * does. The result is 28x28, 0..255. A digit that draws none of them is only normalised: drawing
 * it at twice its size and back would blur it, and the model must also learn MNIST's sharp strokes.
 */
export function redrawDigit(digit: GreyImage, random: Random, range: RedrawRange = DEFAULT_REDRAW): GreyImage {
  const pen = random() < range.chance ? wholeBetween(random, ...range.penPx) : 0;
  const sigma = random() < range.chance ? between(random, ...range.blurSigma) : 0;
  const drawing = random() < range.chance ? wholeBetween(random, ...range.drawingPx) : MNIST_DIGIT_BOX;
  if (pen === 0 && sigma === 0 && drawing >= MNIST_DIGIT_BOX) return normaliseDigit(digit).digit;
  const side = MNIST_SIDE * DRAWING_SCALE;
  let img = resizeBilinear(digit, side, side);
  if (pen !== 0) img = pen > 0 ? dilate(img, pen) : erode(img, -pen);
  if (sigma > 0) img = gaussianBlur(img, DRAWING_SCALE * sigma);
  const small = Math.max(1, Math.round((side * drawing) / MNIST_DIGIT_BOX));
  if (small < side) img = resizeBilinear(resizeArea(img, small, small), side, side);
  const normalised = normaliseDigit(img).digit;
  // A pen thinner than the digit's strokes may erase it: the digit as it was is the safe answer.
  return normalised.data.some((v) => v > 0) ? normalised : normaliseDigit(digit).digit;
}
