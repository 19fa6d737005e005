/**
 * Data-parallel training on more than one core: worker threads, each with a copy of the model,
 * compute the gradients of their shares of every batch while the training thread computes its own.
 * The trainer averages the shares' gradients in a fixed order and takes one optimizer step, so a
 * run repeats exactly for a given number of threads.
 */
import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';

export interface GradientJob {
  /** The model's trainable weights now, in `trainableVariables` order. */
  weights: Float32Array[];
  inputs: Float32Array;
  labels: Int32Array;
}

export interface GradientReply {
  loss: number;
  accuracy: number;
  grads: Float32Array[];
}

export interface GradientHelper {
  gradients(job: GradientJob): Promise<GradientReply>;
  close(): Promise<void>;
}

/**
 * The worker's next message; rejects if the worker fails or exits first. Each call adds its own
 * listeners and removes them once settled: a race against one long-lived failure promise would
 * keep every step's reply alive.
 */
function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    const onMessage = (message: T) => (settle(), resolve(message));
    const onError = (error: Error) => (settle(), reject(error));
    const onExit = (code: number) => (settle(), reject(new Error(`gradient worker exited with code ${code}`)));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

async function startHelper(topology: unknown, backend: string): Promise<GradientHelper> {
  const worker = new Worker(new URL('./gradient-worker.ts', import.meta.url), { workerData: { topology, backend } });
  // A worker that fails or exits between steps fails the next step, rather than ending the process
  // (an 'error' nobody listens to) or stalling the run (a reply from a worker that has gone).
  let gone: Error | undefined;
  worker
    .on('error', (error) => (gone ??= error))
    .on('exit', (code) => (gone ??= new Error(`gradient worker exited with code ${code}`)));
  await nextMessage(worker);
  return {
    async gradients({ weights, inputs, labels }) {
      if (gone) throw gone;
      // Copies of the share alone: the batch's arrays are views of a whole chunk.
      const job: GradientJob = { weights, inputs: inputs.slice(), labels: labels.slice() };
      const reply = nextMessage<GradientReply>(worker);
      worker.postMessage(job, [job.inputs.buffer as ArrayBuffer, job.labels.buffer as ArrayBuffer]);
      return reply;
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** `count` helpers, each with a copy of `model`'s architecture on the training thread's backend. */
export async function startGradientHelpers(model: tf.LayersModel, count: number): Promise<GradientHelper[]> {
  const topology = model.toJSON(null, false);
  return Promise.all(Array.from({ length: count }, () => startHelper(topology, tf.getBackend())));
}
