/**
 * The inference pipeline without HTTP: engine, micro-batcher and image decoder, built from the
 * configuration. The replica serves it over Koa; the bench drives it bare, so that both measure
 * the same work.
 */
import type { Config } from './config.ts';
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
  const engine = await createEngine({ modelDir: config.MODEL_DIR, backend: config.BACKEND });
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
