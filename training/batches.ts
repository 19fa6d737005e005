/**
 * The training batches of a recipe, epoch after epoch, in chunks: each epoch shuffled, each image
 * warped (and redrawn, if the recipe says so) afresh. One seeded stream draws everything in order,
 * so the batches are the same wherever they are made: in the training thread, or in a worker on
 * the other core while the training thread trains (`batchesInWorker`).
 */
import { on } from 'node:events';
import { Worker } from 'node:worker_threads';
import { greyImage, MNIST_PIXELS, MNIST_SIDE, scaleToUnit } from '../service/src/index.ts';
import { augmentDigit, type AugmentRange } from './augment.ts';
import { redrawDigit, type RedrawRange } from './redraw.ts';
import { loadMnist, type MnistSplit, type Split } from '../devkit/mnist/dataset.ts';
import { seededRandom, shuffledIndices } from '../devkit/random.ts';

/** What of a recipe decides the batches. */
export interface BatchRecipe {
  epochs: number;
  batchSize: number;
  /** null trains on the images as they are. */
  augment: AugmentRange | null;
  /** Each warped image also redrawn (pen, blur, resolution) and normalised as the service does; null = not. */
  redraw: RedrawRange | null;
  /** The last epochs see the images as they are. */
  cleanEpochs: number;
  seed: number;
  /** Train on the first `limit` images only; null = all. */
  limit: number | null;
}

/** Consecutive batches of one epoch: inputs (0..1) and labels, `batches` x batch size of each. */
export interface BatchChunk {
  epoch: number;
  /** Index in the epoch of the chunk's first batch. */
  first: number;
  batches: number;
  inputs: Float32Array;
  labels: Int32Array;
}

/** Batches per epoch (a last partial batch is dropped). */
export function batchesPerEpoch(data: { count: number }, recipe: BatchRecipe): number {
  return Math.floor(Math.min(data.count, recipe.limit ?? data.count) / recipe.batchSize);
}

const CHUNK_BATCHES = 20;

export function* preparedBatches(data: MnistSplit, recipe: BatchRecipe): Generator<BatchChunk> {
  const random = seededRandom(recipe.seed);
  const count = Math.min(data.count, recipe.limit ?? data.count);
  const batches = batchesPerEpoch(data, recipe);
  for (let epoch = 1; epoch <= recipe.epochs; epoch++) {
    const order = shuffledIndices(count, random);
    const warped = epoch <= recipe.epochs - recipe.cleanEpochs;
    for (let first = 0; first < batches; first += CHUNK_BATCHES) {
      const size = Math.min(CHUNK_BATCHES, batches - first) * recipe.batchSize;
      const inputs = new Float32Array(size * MNIST_PIXELS);
      const labels = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const index = order[first * recipe.batchSize + i]!;
        const src = data.images.subarray(index * MNIST_PIXELS, (index + 1) * MNIST_PIXELS);
        const out = inputs.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
        if (warped && recipe.augment) augmentDigit(src, out, 0, random, recipe.augment);
        else scaleToUnit(src, out);
        if (warped && recipe.redraw) {
          const drawn = greyImage(
            MNIST_SIDE,
            MNIST_SIDE,
            out.map((v) => v * 255),
          );
          scaleToUnit(redrawDigit(drawn, random, recipe.redraw).data, out);
        }
        labels[i] = data.labels[index]!;
      }
      yield { epoch, first, batches: size / recipe.batchSize, inputs, labels };
    }
  }
}

/** How many chunks the worker keeps ready ahead of the trainer. */
const AHEAD = 3;

/**
 * `preparedBatches` of the `split`, made by a worker thread on another core, a few chunks ahead of
 * the consumer (bounded memory); the worker ends with the iteration, however it ends.
 */
export async function* batchesInWorker(split: Split, recipe: BatchRecipe): AsyncGenerator<BatchChunk> {
  const worker = new Worker(new URL('./batch-worker.ts', import.meta.url), { workerData: { split, recipe } });
  const messages = on(worker, 'message');
  worker.postMessage(AHEAD);
  try {
    for await (const [chunk] of messages as AsyncIterable<[BatchChunk | null]>) {
      if (chunk === null) return;
      worker.postMessage(1);
      yield chunk;
    }
  } finally {
    await worker.terminate();
  }
}

/** The worker's side: makes chunks as the consumer asks for them (a count each time). */
export function serveBatches(
  port: { on(event: 'message', f: (n: number) => void): void; postMessage(m: unknown, t?: ArrayBuffer[]): void },
  split: Split,
  recipe: BatchRecipe,
): void {
  const chunks = preparedBatches(loadMnist(split), recipe);
  port.on('message', (wanted) => {
    for (let i = 0; i < wanted; i++) {
      const next = chunks.next();
      if (next.done) return port.postMessage(null);
      port.postMessage(next.value, [next.value.inputs.buffer as ArrayBuffer, next.value.labels.buffer as ArrayBuffer]);
    }
  });
}
