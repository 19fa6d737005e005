/**
 * Runs in a worker thread (piscina): the whole picture-to-model-input work for a large image, so
 * its tens of milliseconds of decoding and normalising never stall the event loop. Errors come
 * back as values, because custom error classes do not survive the trip between threads.
 */
import { ImageError } from './header.ts';
import { imageToModelInput, type ModelInput } from './to-model-input.ts';

export type WorkerResult = { ok: true; value: ModelInput } | { ok: false; code: string; message: string };

export default async function decode(task: { bytes: Uint8Array; maxPixels: number }): Promise<WorkerResult> {
  try {
    return { ok: true, value: await imageToModelInput(task.bytes, task.maxPixels) };
  } catch (err) {
    if (err instanceof ImageError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
