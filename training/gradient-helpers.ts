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

async function startHelper(topology: unknown, backend: string): Promise<GradientHelper> {
  const worker = new Worker(new URL('./gradient-worker.ts', import.meta.url), { workerData: { topology, backend } });
  // One set of listeners for the worker's life, and one step at most waiting on them: no step's reply
  // outlives its step. A worker that fails or exits fails the waiting step and every later one,
  // rather than ending the process (an 'error' nobody hears) or leaving a step waiting forever.
  let waiting: { resolve: (message: unknown) => void; reject: (error: Error) => void } | undefined;
  let gone: Error | undefined;
  const taken = () => {
    const step = waiting;
    waiting = undefined;
    return step;
  };
  const fail = (error: Error) => {
    gone ??= error;
    taken()?.reject(gone);
  };
  worker
    .on('message', (message: unknown) => taken()?.resolve(message))
    .on('error', fail)
    .on('exit', (code) => fail(new Error(`gradient worker exited with code ${code}`)));
  const next = <T>() =>
    new Promise<T>((resolve, reject) => (waiting = { resolve: resolve as (message: unknown) => void, reject }));
  await next();
  return {
    async gradients({ weights, inputs, labels }) {
      if (gone) throw gone;
      // Copies of the share alone: the batch's arrays are views of a whole chunk.
      const job: GradientJob = { weights, inputs: inputs.slice(), labels: labels.slice() };
      const reply = next<GradientReply>();
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
