/**
 * The inference pipeline without HTTP: the model's versions (an engine and a micro-batcher each)
 * and the image decoder, built from the configuration. The replica serves it over Koa; the bench
 * drives it bare, so that both measure the same work.
 */
import { join } from 'node:path';
import { StartupError, type Config } from './config.ts';
import { BackendError, BACKENDS, selectBackend } from './engine/backend.ts';
import type { Batcher, BatcherOptions } from './engine/batcher.ts';
import type { Engine } from './engine/engine.ts';
import { readKnownDigits } from './engine/known-digits.ts';
import { versionOfDir } from './engine/model-card.ts';
import { ModelVersions } from './engine/model-versions.ts';
import { createDecoder, type Decoder } from './imaging/offload.ts';

export interface Pipeline {
  versions: ModelVersions;
  /** The default version's engine and batcher, as they are now. */
  readonly engine: Engine;
  readonly batcher: Batcher;
  decoder: Decoder;
  close(): Promise<void>;
}

export async function createPipeline(config: Config, onBatch?: BatcherOptions['onBatch']): Promise<Pipeline> {
  const backend = await selectBackend(config.BACKEND === 'auto' ? BACKENDS : [config.BACKEND]).catch((err: unknown) => {
    throw err instanceof BackendError ? new StartupError('BACKEND', config.BACKEND, err.message) : err;
  });
  const versions = new ModelVersions(
    {
      backend,
      batcher: {
        maxBatchSize: config.MAX_BATCH_SIZE,
        maxDelayMs: config.MAX_BATCH_DELAY_MS,
        maxQueue: config.MAX_QUEUE,
        ...(onBatch ? { onBatch } : {}),
      },
      knownDigits: readKnownDigits(),
      minAccuracy: config.MODEL_MIN_ACCURACY,
      maxVersions: config.MAX_MODEL_VERSIONS,
    },
    versionOfDir(config.MODEL_DIR),
  );
  await versions.load(versions.defaultVersion, config.MODEL_DIR).catch((err: Error) => {
    throw new StartupError('MODEL_DIR', config.MODEL_DIR, err.message);
  });
  for (const name of config.MODEL_VERSIONS.filter((v) => v !== versions.defaultVersion)) {
    await versions.load(name, join(config.MODEL_REPOSITORY, name)).catch((err: Error) => {
      throw new StartupError('MODEL_VERSIONS', config.MODEL_VERSIONS.join(','), `${name}: ${err.message}`);
    });
  }
  const decoder = createDecoder({
    maxPixels: config.MAX_IMAGE_PIXELS,
    workerThreshold: config.DECODE_WORKER_PIXELS,
    threads: config.DECODE_THREADS,
  });
  return {
    versions,
    get engine() {
      return versions.get().engine;
    },
    get batcher() {
      return versions.get().batcher;
    },
    decoder,
    async close() {
      await decoder.close();
      versions.dispose();
    },
  };
}
