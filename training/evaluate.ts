/** Accuracy, per-class accuracy and the confusion matrix of a model on an MNIST split. */
import * as tf from '@tensorflow/tfjs';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE, MNIST_PIXELS, scaleToUnit } from '../service/src/index.ts';
import type { MnistSplit } from '../devkit/mnist/dataset.ts';

export interface Evaluation {
  images: number;
  accuracy: number;
  perClassAccuracy: number[];
  /** confusion[truth][predicted] */
  confusion: number[][];
  /** The most frequent mistakes, largest first. */
  topConfusions: { truth: number; predicted: number; count: number }[];
}

export function evaluate(model: tf.LayersModel, data: MnistSplit, batchSize = 500): Evaluation {
  const inputsAt = (start: number, n: number) =>
    scaleToUnit(data.images.subarray(start * MNIST_PIXELS, (start + n) * MNIST_PIXELS));
  return evaluateInputs(model, data.labels, inputsAt, batchSize);
}

/** The same figures for any inputs: `inputsAt(start, n)` gives inputs start..start+n-1, scaled 0..1. */
export function evaluateInputs(
  model: tf.LayersModel,
  labels: ArrayLike<number>,
  inputsAt: (start: number, n: number) => Float32Array,
  batchSize = 500,
): Evaluation {
  const confusion = Array.from({ length: MNIST_CLASSES }, () => new Array<number>(MNIST_CLASSES).fill(0));
  for (let start = 0; start < labels.length; start += batchSize) {
    const n = Math.min(batchSize, labels.length - start);
    const input = inputsAt(start, n);
    const predicted = tf.tidy(() =>
      (model.predict(tf.tensor4d(input, [n, ...MNIST_INPUT_SHAPE])) as tf.Tensor).argMax(1).dataSync(),
    );
    for (let i = 0; i < n; i++) (confusion[labels[start + i] as number] as number[])[predicted[i] as number]! += 1;
  }
  const correct = confusion.reduce((sum, row, d) => sum + (row[d] as number), 0);
  const perClassAccuracy = confusion.map((row, d) => (row[d] as number) / row.reduce((a, b) => a + b, 0));
  const topConfusions = confusion
    .flatMap((row, truth) => row.map((count, predicted) => ({ truth, predicted, count })))
    .filter((c) => c.truth !== c.predicted && c.count > 0)
    .sort((a, b) => b.count - a.count)
    .slice(0, 5);
  return { images: labels.length, accuracy: correct / labels.length, perClassAccuracy, confusion, topConfusions };
}

export interface InferenceCost {
  msPerImageBatch1: number;
  imagesPerSecondBatch32: number;
}

/** Times single-image and batch-32 inference after a warm-up; the inputs are real test images. */
export function measureInferenceCost(model: tf.LayersModel, data: MnistSplit, rounds = 300): InferenceCost {
  const batch = (start: number, n: number) =>
    tf.tensor4d(scaleToUnit(data.images.subarray(start * MNIST_PIXELS, (start + n) * MNIST_PIXELS)), [
      n,
      ...MNIST_INPUT_SHAPE,
    ]);
  const time = (n: number, reps: number) =>
    msPerImage(
      model,
      Array.from({ length: reps }, (_, r) => batch((r * n) % (data.count - n), n)),
    );
  const msPerImageBatch1 = time(1, rounds);
  const msPerImageBatch32 = time(32, Math.max(10, Math.floor(rounds / 10)));
  return { msPerImageBatch1, imagesPerSecondBatch32: 1000 / msPerImageBatch32 };
}

/** Inference time per image over `batches` (then disposed), after a warm-up run of the first. */
export function msPerImage(model: tf.LayersModel, batches: tf.Tensor[]): number {
  tf.tidy(() => (model.predict(batches[0]!) as tf.Tensor).dataSync());
  const started = performance.now();
  for (const x of batches) tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  const ms = performance.now() - started;
  const images = batches.reduce((n, x) => n + x.shape[0]!, 0);
  tf.dispose(batches);
  return ms / images;
}
