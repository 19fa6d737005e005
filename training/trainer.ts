/** The training loop: seeded shuffles, augmented mini-batches, Adam with a per-epoch decay. */
import * as tf from '@tensorflow/tfjs';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE, MNIST_PIXELS, scaleToUnit } from '../service/src/index.ts';
import { augmentDigit, DEFAULT_AUGMENT, type AugmentRange } from './augment.ts';
import type { MnistSplit } from '../devkit/mnist/dataset.ts';
import { seededRandom, shuffledIndices } from '../devkit/random.ts';

export interface Recipe {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Learning rate multiplier applied after each epoch. */
  learningRateDecay: number;
  /** null trains on the images as they are. */
  augment: AugmentRange | null;
  /** The last epochs see the images as they are: the model settles on the real distribution. */
  cleanEpochs: number;
  seed: number;
  /** Train on the first `limit` images only (quick checks); null = all. */
  limit: number | null;
}

export const DEFAULT_RECIPE: Recipe = {
  epochs: 14,
  batchSize: 128,
  learningRate: 1e-3,
  learningRateDecay: 0.72,
  augment: DEFAULT_AUGMENT,
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

export function train(
  model: tf.LayersModel,
  data: MnistSplit,
  recipe: Recipe,
  onProgress: (p: BatchProgress) => void = () => {},
): TrainingResult {
  const random = seededRandom(recipe.seed);
  const count = Math.min(data.count, recipe.limit ?? data.count);
  const batches = Math.floor(count / recipe.batchSize);
  const optimizer = tf.train.adam(recipe.learningRate);
  const xsBuffer = new Float32Array(recipe.batchSize * MNIST_PIXELS);
  const labels = new Int32Array(recipe.batchSize);
  const epochLoss: number[] = [];
  const batchLoss: number[] = [];
  const started = performance.now();
  let learningRate = recipe.learningRate;
  let seen = 0;
  const totalSamples = recipe.epochs * batches * recipe.batchSize;

  for (let epoch = 1; epoch <= recipe.epochs; epoch++) {
    setLearningRate(optimizer, learningRate);
    const order = shuffledIndices(count, random);
    const augment = epoch <= recipe.epochs - recipe.cleanEpochs ? recipe.augment : null;
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < recipe.batchSize; i++) {
        const index = order[b * recipe.batchSize + i] as number;
        const src = data.images.subarray(index * MNIST_PIXELS, (index + 1) * MNIST_PIXELS);
        if (augment) augmentDigit(src, xsBuffer, i * MNIST_PIXELS, random, augment);
        else scaleToUnit(src, xsBuffer.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS));
        labels[i] = data.labels[index] as number;
      }
      const [loss, accuracy] = tf.tidy(() => {
        const xs = tf.tensor4d(xsBuffer, [recipe.batchSize, ...MNIST_INPUT_SHAPE]);
        const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), MNIST_CLASSES);
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
      if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at epoch ${epoch}, batch ${b + 1}`);
      lossSum += loss;
      batchLoss.push(loss);
      seen += recipe.batchSize;
      const elapsed = (performance.now() - started) / 1000;
      const samplesPerSecond = seen / elapsed;
      onProgress({
        epoch,
        batch: b + 1,
        batches,
        loss,
        accuracy,
        samplesPerSecond,
        secondsLeft: (totalSamples - seen) / samplesPerSecond,
        learningRate,
      });
    }
    epochLoss.push(lossSum / batches);
    learningRate *= recipe.learningRateDecay;
  }
  optimizer.dispose();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, samplesPerSecond: seen / seconds, epochLoss, batchLoss };
}
