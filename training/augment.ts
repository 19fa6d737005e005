/**
 * Training-time augmentation: a small random affine warp (rotation, scale, shift) of a 28x28
 * digit, the distortions handwriting really has. Pure: the randomness comes in as an argument.
 */
import { MNIST_SIDE } from '../service/src/index.ts';
import type { Random } from '../devkit/random.ts';

export interface AugmentRange {
  maxRotationDeg: number;
  maxScale: number; // 0.1 = scale within 0.9..1.1
  maxShiftPx: number;
}

export const DEFAULT_AUGMENT: AugmentRange = { maxRotationDeg: 12, maxScale: 0.1, maxShiftPx: 2.5 };

const uniform = (random: Random, half: number) => (random() * 2 - 1) * half;

/**
 * Writes the warped digit, scaled to 0..1, into `out` at `offset`. Each output pixel samples the
 * source through the inverse transform with bilinear interpolation; outside is background (0).
 */
export function augmentDigit(
  src: Uint8Array,
  out: Float32Array,
  offset: number,
  random: Random,
  range: AugmentRange = DEFAULT_AUGMENT,
): void {
  const angle = (uniform(random, range.maxRotationDeg) * Math.PI) / 180;
  const scale = 1 + uniform(random, range.maxScale);
  const shiftX = uniform(random, range.maxShiftPx);
  const shiftY = uniform(random, range.maxShiftPx);
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const c = (MNIST_SIDE - 1) / 2;
  const n = MNIST_SIDE;
  // A one-pixel background border lets bilinear sampling read neighbours without bounds checks.
  const w = n + 2;
  const padded = new Float32Array(w * w);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) padded[(y + 1) * w + x + 1] = (src[y * n + x] as number) / 255;
  for (let y = 0; y < n; y++) {
    const dy = y - c - shiftY;
    for (let x = 0; x < n; x++) {
      const dx = x - c - shiftX;
      const sx = cos * dx + sin * dy + c;
      const sy = -sin * dx + cos * dy + c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      let v = 0;
      if (x0 >= -1 && y0 >= -1 && x0 < n && y0 < n) {
        const fx = sx - x0;
        const fy = sy - y0;
        const i = (y0 + 1) * w + x0 + 1;
        v =
          ((padded[i] as number) * (1 - fx) + (padded[i + 1] as number) * fx) * (1 - fy) +
          ((padded[i + w] as number) * (1 - fx) + (padded[i + w + 1] as number) * fx) * fy;
      }
      out[offset + y * n + x] = v;
    }
  }
}
