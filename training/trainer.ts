/** The training loop: Adam with a per-epoch decay over batches prepared by `batches.ts`. */
import * as tf from '@tensorflow/tfjs';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE, MNIST_PIXELS } from '../service/src/index.ts';
import { DEFAULT_AUGMENT } from './augment.ts';
import type { BatchChunk, BatchRecipe } from './batches.ts';

export interface Recipe extends BatchRecipe {
  learningRate: number;
  /** Learning rate multiplier applied after each epoch. */
  learningRateDecay: number;
}

export const DEFAULT_RECIPE: Recipe = {
  epochs: 14,
  batchSize: 128,
  learningRate: 1e-3,
  learningRateDecay: 0.72,
  augment: DEFAULT_AUGMENT,
  redraw: null,
  cleanEpochs: 2,
  seed: 42,
  limit: null,
};

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  secondsLeft: number;
  learningRate: number;
}

export interface TrainingResult {
  seconds: number;
  samplesPerSecond: number;
  /** Mean loss of each epoch, in order. */
  epochLoss: number[];
  batchLoss: number[];
}

// tfjs's Adam reads its `learningRate` field on every step but exposes no setter for it.
function setLearningRate(optimizer: tf.Optimizer, value: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = value;
}

/**
 * Trains `model` on `chunks` (the recipe's batches, `batchesPerEpoch` to an epoch, made in this
 * thread or another) and reports each batch.
 */
export async function train(
  model: tf.LayersModel,
  chunks: Iterable<BatchChunk> | AsyncIterable<BatchChunk>,
  recipe: Recipe,
  batchesPerEpoch: number,
  onProgress: (p: BatchProgress) => void = () => {},
): Promise<TrainingResult> {
  const optimizer = tf.train.adam(recipe.learningRate);
  const epochLoss: number[] = [];
  const batchLoss: number[] = [];
  const started = performance.now();
  const totalSamples = recipe.epochs * batchesPerEpoch * recipe.batchSize;
  let seen = 0;
  let lossSum = 0;

  // A product epoch by epoch, as the recipe says (a power rounds differently in the last bits).
  const learningRateOf = (epoch: number) =>
    Array.from({ length: epoch - 1 }).reduce<number>((rate) => rate * recipe.learningRateDecay, recipe.learningRate);
  for await (const chunk of chunks) {
    const learningRate = learningRateOf(chunk.epoch);
    setLearningRate(optimizer, learningRate);
    for (let b = 0; b < chunk.batches; b++) {
      const samples = (n: number) => recipe.batchSize * n;
      const [loss, accuracy] = tf.tidy(() => {
        const xs = tf.tensor4d(chunk.inputs.subarray(samples(b) * MNIST_PIXELS, samples(b + 1) * MNIST_PIXELS), [
          recipe.batchSize,
          ...MNIST_INPUT_SHAPE,
        ]);
        const ys = tf.oneHot(tf.tensor1d(chunk.labels.subarray(samples(b), samples(b + 1)), 'int32'), MNIST_CLASSES);
        let correct: tf.Scalar | undefined;
        const lossTensor = optimizer.minimize(() => {
          const probs = model.apply(xs, { training: true }) as tf.Tensor2D;
          correct = tf.keep(tf.equal(probs.argMax(1), ys.argMax(1)).mean());
          return tf.metrics.categoricalCrossentropy(ys, probs).mean() as tf.Scalar;
        }, true) as tf.Scalar;
        const values = [lossTensor.dataSync()[0] as number, correct!.dataSync()[0] as number];
        correct!.dispose();
        return values;
      }) as [number, number];
      const batch = chunk.first + b + 1;
      if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at epoch ${chunk.epoch}, batch ${batch}`);
      lossSum += loss;
      batchLoss.push(loss);
      seen += recipe.batchSize;
      const samplesPerSecond = seen / ((performance.now() - started) / 1000);
      onProgress({
        epoch: chunk.epoch,
        batch,
        batches: batchesPerEpoch,
        loss,
        accuracy,
        samplesPerSecond,
        secondsLeft: (totalSamples - seen) / samplesPerSecond,
        learningRate,
      });
      if (batch === batchesPerEpoch) {
        epochLoss.push(lossSum / batchesPerEpoch);
        lossSum = 0;
      }
    }
  }
  optimizer.dispose();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, samplesPerSecond: seen / seconds, epochLoss, batchLoss };
}
