/**
 * The inference pipeline without HTTP: engine, micro-batcher and image decoder, built from the
 * configuration. The replica serves it over Koa; the bench drives it bare, so that both measure
 * the same work.
 */
import { StartupError, type Config } from './config.ts';
import { BackendError } from './engine/backend.ts';
import { Batcher, type BatcherOptions } from './engine/batcher.ts';
import { createEngine, type Engine } from './engine/engine.ts';
import { createDecoder, type Decoder } from './imaging/offload.ts';

export interface Pipeline {
  engine: Engine;
  batcher: Batcher;
  decoder: Decoder;
  close(): Promise<void>;
}

export async function createPipeline(config: Config, onBatch?: BatcherOptions['onBatch']): Promise<Pipeline> {
  const engine = await createEngine({ modelDir: config.MODEL_DIR, backend: config.BACKEND }).catch((err: unknown) => {
    if (err instanceof BackendError) throw new StartupError('BACKEND', config.BACKEND, err.message);
    throw new StartupError('MODEL_DIR', config.MODEL_DIR, modelProblem(err));
  });
  const batcher = new Batcher(engine, {
    maxBatchSize: config.MAX_BATCH_SIZE,
    maxDelayMs: config.MAX_BATCH_DELAY_MS,
    maxQueue: config.MAX_QUEUE,
    ...(onBatch ? { onBatch } : {}),
  });
  const decoder = createDecoder({
    maxPixels: config.MAX_IMAGE_PIXELS,
    workerThreshold: config.DECODE_WORKER_PIXELS,
    threads: config.DECODE_THREADS,
  });
  return {
    engine,
    batcher,
    decoder,
    async close() {
      await decoder.close();
      engine.dispose();
    },
  };
}

/** Why a model directory could not be served, in a sentence. */
function modelProblem(err: unknown): string {
  const { code, path, message } = err as NodeJS.ErrnoException;
  if (code === 'ENOENT') {
    return `no model there: ${path} is missing (a model directory holds model.json, weights.bin and metadata.json, as service/models/v1 and v2 do)`;
  }
  return `not a model this service can serve: ${message}`;
}
