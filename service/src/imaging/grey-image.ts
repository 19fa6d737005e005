/** A single-channel image with intensities 0..255 (float so intermediate steps lose nothing). */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

export function greyImage(width: number, height: number, data = new Float32Array(width * height)): GreyImage {
  if (data.length !== width * height) throw new Error(`expected ${width * height} pixels, got ${data.length}`);
  return { width, height, data };
}

/** ITU-R BT.601 luma, the weights of MNIST-era greyscale conversion and of jimp's own greyscale. */
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * RGBA bytes to grey. Transparent areas are composited onto the background that contrasts with
 * the opaque strokes (white behind dark ink, black behind light ink), so a drawing app's
 * transparent canvas reads as paper whatever the ink colour.
 */
export function rgbaToGrey(rgba: Uint8Array, width: number, height: number): GreyImage {
  const n = width * height;
  if (rgba.length < n * 4) throw new Error(`expected ${n * 4} RGBA bytes, got ${rgba.length}`);
  const luma = new Float32Array(n);
  let opaqueLuma = 0;
  let opaqueWeight = 0;
  // Stryker disable next-line BooleanLiteral: speed only; compositing an opaque image changes nothing
  let translucent = false;
  for (let i = 0; i < n; i++) {
    const p = i * 4;
    const y = LUMA[0] * rgba[p]! + LUMA[1] * rgba[p + 1]! + LUMA[2] * rgba[p + 2]!;
    const alpha = rgba[p + 3]! / 255;
    luma[i] = y;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: speed only, as above
    if (alpha < 1) translucent = true;
    opaqueLuma += y * alpha;
    opaqueWeight += alpha;
  }
  // Stryker disable next-line ConditionalExpression: speed only, as above
  if (!translucent) return greyImage(width, height, luma);
  // Nothing opaque at all (0 / 0 is NaN, never above): white paper. Mid-grey ink, a tie, either way.
  // Stryker disable next-line EqualityOperator: the tie
  const background = opaqueLuma / opaqueWeight > 127.5 ? 0 : 255;
  const composited = luma.map((y, i) => {
    const alpha = rgba[i * 4 + 3]! / 255;
    return y * alpha + background * (1 - alpha);
  });
  return greyImage(width, height, composited);
}
