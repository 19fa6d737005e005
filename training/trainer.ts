/** The training loop: Adam with a per-epoch decay over batches prepared by `batches.ts`. */
import * as tf from '@tensorflow/tfjs';
import { MNIST_PIXELS } from '../service/src/index.ts';
import { DEFAULT_AUGMENT } from './augment.ts';
import type { BatchChunk, BatchRecipe } from './batches.ts';
import { startGradientHelpers } from './gradient-helpers.ts';
import { type ShareGradients, shareGradients, trainableVariables } from './share-gradients.ts';

export interface Recipe extends BatchRecipe {
  learningRate: number;
  /** Learning rate multiplier applied after each epoch. */
  learningRateDecay: number;
  /**
   * Threads that share every batch (data parallel, one per core): each computes the gradient of
   * an equal share, and batch normalisation normalises each share by its own statistics, so the
   * count is part of the recipe.
   */
  replicas: number;
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
  replicas: 1,
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
 * thread or another) and reports each batch. With `recipe.replicas` > 1, helper threads compute
 * the gradients of all shares but the first while this thread computes that one.
 */
export async function train(
  model: tf.LayersModel,
  chunks: Iterable<BatchChunk> | AsyncIterable<BatchChunk>,
  recipe: Recipe,
  batchesPerEpoch: number,
  onProgress: (p: BatchProgress) => void = () => {},
): Promise<TrainingResult> {
  const { replicas } = recipe;
  if (!Number.isInteger(replicas) || replicas < 1 || recipe.batchSize % replicas !== 0) {
    throw new Error(`replicas must be a whole number that divides the batch size, got ${replicas}`);
  }
  const optimizer = tf.train.adam(recipe.learningRate);
  const variables = trainableVariables(model);
  const helpers = await startGradientHelpers(model, replicas - 1);
  const epochLoss: number[] = [];
  const batchLoss: number[] = [];
  const started = performance.now();
  const totalSamples = recipe.epochs * batchesPerEpoch * recipe.batchSize;
  const share = recipe.batchSize / replicas;
  let seen = 0;
  let lossSum = 0;

  // A product epoch by epoch, as the recipe says (a power rounds differently in the last bits).
  const learningRateOf = (epoch: number) =>
    Array.from({ length: epoch - 1 }).reduce<number>((rate) => rate * recipe.learningRateDecay, recipe.learningRate);
  try {
    for await (const chunk of chunks) {
      const learningRate = learningRateOf(chunk.epoch);
      setLearningRate(optimizer, learningRate);
      for (let b = 0; b < chunk.batches; b++) {
        const [mine, ...theirs] = Array.from({ length: replicas }, (_, r) => {
          const first = (b * replicas + r) * share;
          return {
            inputs: chunk.inputs.subarray(first * MNIST_PIXELS, (first + share) * MNIST_PIXELS),
            labels: chunk.labels.subarray(first, first + share),
          };
        });
        const weights = helpers.length > 0 ? variables.map((v) => v.dataSync() as Float32Array) : [];
        const pending = helpers.map((helper, h) => helper.gradients({ weights, ...theirs[h]! }));
        let own: ShareGradients;
        try {
          own = shareGradients(model, variables, mine!.inputs, mine!.labels);
        } catch (error) {
          // Hear the helpers out first: closing them would reject their replies unheard.
          await Promise.allSettled(pending);
          throw error;
        }
        const others = await Promise.all(pending);
        tf.tidy(() => {
          // Summed in share order, so the step is the same on every run.
          const mean = variables.map((v, i) => {
            const sum = others.reduce((acc, o) => acc.add(tf.tensor(o.grads[i]!, v.shape)), own.grads[i]!);
            return { name: v.name, tensor: replicas > 1 ? sum.div(replicas) : sum };
          });
          optimizer.applyGradients(mean);
        });
        tf.dispose(own.grads);
        const loss = others.reduce((acc, o) => acc + o.loss, own.loss) / replicas;
        const accuracy = others.reduce((acc, o) => acc + o.accuracy, own.accuracy) / replicas;
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
  } finally {
    optimizer.dispose();
    await Promise.all(helpers.map((h) => h.close()));
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, samplesPerSecond: seen / seconds, epochLoss, batchLoss };
}
