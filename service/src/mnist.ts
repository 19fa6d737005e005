/**
 * The one definition of what the model consumes, shared by training, evaluation and the service
 * so the three cannot drift apart: a 28x28 single-channel image, white digit on black,
 * intensities scaled to 0..1, row-major.
 */
export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
export const MNIST_CLASSES = 10;
/** Shape of one model input in NHWC order without the batch axis. */
export const MNIST_INPUT_SHAPE = [MNIST_SIDE, MNIST_SIDE, 1] as const;
/** The same, as the model card and GET /model state it. */
export const MNIST_INPUT_CONTRACT = {
  shape: [...MNIST_INPUT_SHAPE],
  range: [0, 1],
  polarity: 'white digit on black',
} as const;

/** Scales 0..255 intensities (MNIST's own encoding, bytes or floats) to the model's 0..1 range. */
export function scaleToUnit(values: ArrayLike<number>, out = new Float32Array(values.length)): Float32Array {
  for (let i = 0; i < values.length; i++) out[i] = (values[i] as number) / 255;
  return out;
}
