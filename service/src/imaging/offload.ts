/**
 * Image bytes to model input, on or off the event loop: a small picture (a digit from a canvas,
 * decoded in a fraction of a millisecond) is handled inline, where a thread hop would cost more
 * than the work; a large one (a phone photo, tens of milliseconds) goes to a worker thread so
 * other requests keep flowing.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { ImageError, readHeader, type ImageErrorCode } from './header.ts';
import type { WorkerResult } from './offload-worker.ts';
import { imageToModelInput, type ModelInput } from './to-model-input.ts';

export interface Decoder {
  toModelInput(bytes: Uint8Array): Promise<ModelInput>;
  close(): Promise<void>;
}

export interface DecoderOptions {
  maxPixels: number;
  /** Images with more pixels than this (from their header) are decoded in a worker thread. */
  workerThreshold: number;
  threads: number;
}

export function createDecoder(options: DecoderOptions): Decoder {
  // The worker module sits beside this one: .ts under tsx, .js once compiled.
  const pool = new Piscina({
    filename: fileURLToPath(new URL(`./offload-worker${extname(import.meta.url)}`, import.meta.url)),
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: Infinity,
  });
  return {
    async toModelInput(bytes) {
      const header = readHeader(bytes, options.maxPixels);
      // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: speed only; both paths give the same input (offload.test)
      if (header.width * header.height <= options.workerThreshold) {
        return imageToModelInput(bytes, options.maxPixels, header);
      }
      const result = (await pool.run({ bytes, maxPixels: options.maxPixels })) as WorkerResult;
      if (!result.ok) throw new ImageError(result.code as ImageErrorCode, result.message);
      return result.value;
    },
    // Stryker disable next-line ArrowFunction: piscina's threads never hold the process open; closing only frees them sooner
    close: () => pool.destroy(),
  };
}
