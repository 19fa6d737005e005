/**
 * Generic raster operations on greyscale images, independent of MNIST: padding, grey dilation by a
 * running maximum (van Herk/Gil-Werman, O(n) whatever the radius) and area resampling. Pure
 * functions; normalise.ts builds the MNIST recipe from them, and training draws with them.
 */
import { greyImage, type GreyImage } from './grey-image.ts';

/** Row `y` of an image, shared with it. */
function row(img: GreyImage, y: number): Float32Array {
  return img.data.subarray(y * img.width, (y + 1) * img.width);
}

/** The image inside a zero border of `margin` pixels. */
export function padded(img: GreyImage, margin: number): GreyImage {
  const out = greyImage(img.width + 2 * margin, img.height + 2 * margin);
  // Stryker disable next-line EqualityOperator: the row past the last is empty and writes nothing
  for (let y = 0; y < img.height; y++) out.data.set(row(img, y), (y + margin) * out.width + margin);
  return out;
}

/**
 * Maximum over a sliding window of 2r+1 values (outside counts as 0), in O(n) whatever r is
 * (van Herk / Gil-Werman): a picture with an extreme aspect ratio asks for a huge radius, and a
 * naive window would cost n * r. The padded line is cut into blocks of 2r+1; each window spans
 * the end of one block (a suffix maximum) and the start of the next (a prefix maximum).
 */
export function runningMax(line: Float32Array, r: number): Float32Array {
  const n = line.length;
  const k = 2 * r + 1;
  const m = n + 2 * r;
  const at = (j: number) => (j >= r && j < r + n ? line[j - r]! : 0);
  const prefix = new Float32Array(m);
  // Stryker disable next-line EqualityOperator: prefix[m] is past the end: not written, not read
  for (let j = 0; j < m; j++) prefix[j] = j % k === 0 ? at(j) : Math.max(prefix[j - 1]!, at(j));
  // suffix[m] = 0 ends the last block. That block may be partial, and then no window reads it;
  // nor is suffix[0] needed: the first window is the first block, prefix[2r] holds its maximum.
  const suffix = new Float32Array(m + 1);
  // Stryker disable next-line ArithmeticOperator,EqualityOperator: neither the last partial block nor suffix[0] is read
  for (let j = m - 1; j >= 0; j--) {
    suffix[j] = j % k === k - 1 ? at(j) : Math.max(suffix[j + 1]!, at(j));
  }
  const out = new Float32Array(n);
  // Stryker disable next-line EqualityOperator: out[n] is past the end
  for (let i = 0; i < n; i++) out[i] = Math.max(suffix[i]!, prefix[i + 2 * r]!);
  return out;
}

/** Grey dilation with a (2r+1)-pixel square: a running maximum along rows, then along columns. */
export function dilate(img: GreyImage, radius: number): GreyImage {
  if (radius < 1) return img;
  return transposed(dilatedRows(transposed(dilatedRows(img, radius)), radius));
}

function dilatedRows(img: GreyImage, radius: number): GreyImage {
  const out = greyImage(img.width, img.height);
  // Stryker disable next-line EqualityOperator: the row past the last is empty and writes nothing
  for (let y = 0; y < img.height; y++) out.data.set(runningMax(row(img, y), radius), y * img.width);
  return out;
}

function transposed(img: GreyImage): GreyImage {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    // Stryker disable next-line EqualityOperator: one past the row reads the next and writes past the end
    for (let x = 0; x < w; x++) out[x * h + y] = data[y * w + x]!;
  }
  return greyImage(h, w, out);
}

/**
 * Area-averaging resample: each output pixel is the mean of the source area it covers, which
 * anti-aliases a large photo down to 20 px the way MNIST's scanner images were reduced.
 */
export function resizeArea(img: GreyImage, width: number, height: number): GreyImage {
  const out = new Float32Array(width * height);
  const sx = img.width / width;
  const sy = img.height / height;
  // Stryker disable next-line EqualityOperator: a row past the last writes past the end
  for (let oy = 0; oy < height; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    // Stryker disable next-line EqualityOperator: one past the row writes the next row's first, before it is written
    for (let ox = 0; ox < width; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      for (let y = Math.floor(y0); y < Math.min(Math.ceil(y1), img.height); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(Math.ceil(x1), img.width); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += img.data[y * img.width + x]! * wx * wy;
        }
      }
      out[oy * width + ox] = sum / (sx * sy);
    }
  }
  return greyImage(width, height, out);
}
