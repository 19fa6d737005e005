/** Worker thread entry of `batchesInWorker`: prepares training batches on another core. */
import { parentPort, workerData } from 'node:worker_threads';
import { serveBatches, type BatchRecipe } from './batches.ts';
import type { Split } from '../devkit/mnist/dataset.ts';

const { split, recipe } = workerData as { split: Split; recipe: BatchRecipe };
serveBatches(parentPort!, split, recipe);
