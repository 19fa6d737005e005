/**
 * Cheap features of what the model is given, for watching input drift on every request (a single
 * pass over the 784 values): the share of ink pixels and how far the ink's centre of mass sits from
 * the picture's centre. MNIST's training digits have 13% ink and a centre within a pixel of the
 * middle; pictures that stop looking like that are pictures the model was not trained on.
 */
import { MNIST_PIXELS, MNIST_SIDE } from '../mnist.ts';

export interface InputFeatures {
  /** Share of the values above 0.5. */
  inkFraction: number;
  /** Distance in pixels from the intensity-weighted centre to the picture's centre (0 for a blank input). */
  centreOffset: number;
}

const MIDDLE = (MNIST_SIDE - 1) / 2;

export function inputFeatures(input: Float32Array): InputFeatures {
  let ink = 0;
  let mass = 0;
  let sx = 0;
  let sy = 0;
  // Row by row: no division per pixel on a path every request takes.
  for (let y = 0, i = 0; y < MNIST_SIDE; y++) {
    let row = 0;
    for (let x = 0; x < MNIST_SIDE; x++, i++) {
      const v = input[i]!;
      if (v > 0.5) ink++;
      row += v;
      sx += v * x;
    }
    mass += row;
    sy += row * y;
  }
  return {
    inkFraction: ink / MNIST_PIXELS,
    centreOffset: mass > 0 ? Math.hypot(sx / mass - MIDDLE, sy / mass - MIDDLE) : 0,
  };
}
