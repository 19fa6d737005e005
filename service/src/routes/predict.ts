/** POST /predict: payload -> MNIST input -> batched inference -> answer. */
import type { Context } from 'koa';
import type { Batcher } from '../engine/batcher.ts';
import type { Payload } from '../http/payload.ts';
import type { RequestState } from '../http/request-context.ts';
import type { Decoder } from '../imaging/offload.ts';
import { pixelsToModelInput } from '../imaging/to-model-input.ts';
import type { Telemetry } from '../metrics/telemetry.ts';

export interface PredictDeps {
  readPayload: (ctx: Context) => Promise<Payload>;
  batcher: Pick<Batcher, 'predict'>;
  telemetry: Telemetry;
  decoder: Pick<Decoder, 'toModelInput'>;
  replica: string;
  model: { name: string; version: string; backend: string };
}

const ms = (seconds: number) => Number((seconds * 1000).toFixed(3));

export function predictHandler(deps: PredictDeps) {
  return async function predict(ctx: Context): Promise<void> {
    const started = performance.now();
    const payload = await deps.readPayload(ctx);
    const t0 = performance.now();
    const { input, sourcePixels } =
      payload.form === 'json' ? pixelsToModelInput(payload.pixels) : await deps.decoder.toModelInput(payload.bytes);
    const preprocessSeconds = (performance.now() - t0) / 1000;
    deps.telemetry.preprocessed(preprocessSeconds);
    // A client that disconnects while its input waits for a batch takes it out of the queue.
    const batched = await deps.batcher.predict(input, (ctx.state as RequestState).onClientGone);
    const { prediction } = batched;
    deps.telemetry.queueWaited(batched.queueSeconds);
    deps.telemetry.predicted(prediction.digit, prediction.confidence);
    ctx.body = {
      digit: prediction.digit,
      confidence: prediction.confidence,
      probabilities: prediction.probabilities,
      input_form: payload.form,
      preprocess_ms: ms(preprocessSeconds),
      queue_ms: ms(batched.queueSeconds),
      inference_ms: ms(batched.inferenceSeconds),
      batch_size: batched.batchSize,
      model: deps.model.name,
      model_version: deps.model.version,
      backend: deps.model.backend,
      replica: deps.replica,
    };
    deps.telemetry.predictionServed((performance.now() - started) / 1000, sourcePixels);
  };
}
