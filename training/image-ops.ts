/**
 * Image operations the robustness suite and training's redrawing share (the service's own, such
 * as dilation and area resampling, come from its public index). Pure functions of their input.
 */
import { dilate, greyImage, padded, type GreyImage } from '../service/src/index.ts';

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

/** Dark on light for light on dark, and back. */
export const inverted = (img: GreyImage) =>
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
