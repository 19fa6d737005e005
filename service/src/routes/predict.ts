/** POST /predict: payload -> MNIST input -> batched inference -> answer. */
import type { Context } from 'koa';
import type { ModelVersions } from '../engine/model-versions.ts';
import type { Payload } from '../http/payload.ts';
import { ApiError } from '../http/errors.ts';
import type { RequestState } from '../http/request-context.ts';
import { askedVersion, VERSION_HEADER } from '../http/version-choice.ts';
import type { Decoder } from '../imaging/offload.ts';
import { pixelsToModelInput } from '../imaging/to-model-input.ts';
import type { PayloadLog } from '../metrics/payload-log.ts';
import type { Telemetry } from '../metrics/telemetry.ts';

export interface PredictDeps {
  readPayload: (ctx: Context) => Promise<Payload>;
  versions: Pick<ModelVersions, 'get'>;
  telemetry: Telemetry;
  decoder: Pick<Decoder, 'toModelInput'>;
  replica: string;
  backend: string;
  payloadLog?: Pick<PayloadLog, 'offer'> | undefined;
}

const ms = (seconds: number) => Number((seconds * 1000).toFixed(3));

/** `?explain=1`: the answer also carries what the model saw (the normalised 28x28 input). */
function wantsExplanation(ctx: Context): boolean {
  // Most requests carry no query string: skip parsing one for them.
  // Stryker disable next-line ConditionalExpression: speed only; without a query string explain is undefined
  if (!ctx.querystring) return false;
  const value = ctx.query.explain;
  if (value === undefined || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new ApiError('invalid_parameter', `explain must be 1, true, 0 or false, got ${JSON.stringify(value)}`);
}

export function predictHandler(deps: PredictDeps) {
  return async function predict(ctx: Context): Promise<void> {
    const started = performance.now();
    const explain = wantsExplanation(ctx);
    const served = deps.versions.get(askedVersion(ctx));
    const state = ctx.state as RequestState;
    state.version = served.name;
    ctx.set(VERSION_HEADER, served.name);
    const payload = await deps.readPayload(ctx);
    const t0 = performance.now();
    const { input, sourcePixels, crop } =
      payload.form === 'json' ? pixelsToModelInput(payload.pixels) : await deps.decoder.toModelInput(payload.bytes);
    const preprocessSeconds = (performance.now() - t0) / 1000;
    deps.telemetry.preprocessed(preprocessSeconds);
    deps.telemetry.inputSeen(input);
    // A client that disconnects while its input waits for a batch takes it out of the queue.
    const batched = await served.batcher.predict(input, state.onClientGone);
    const { prediction } = batched;
    deps.telemetry.queueWaited(batched.queueSeconds);
    deps.telemetry.predicted(prediction.digit, prediction.confidence, served.name);
    ctx.body = {
      digit: prediction.digit,
      confidence: prediction.confidence,
      probabilities: prediction.probabilities,
      input_form: payload.form,
      preprocess_ms: ms(preprocessSeconds),
      queue_ms: ms(batched.queueSeconds),
      inference_ms: ms(batched.inferenceSeconds),
      batch_size: batched.batchSize,
      model: served.engine.card.name,
      model_version: served.name,
      backend: deps.backend,
      replica: deps.replica,
      ...(explain ? { explain: { model_input: Array.from(input, (v) => Math.round(v * 1000) / 1000), crop } } : {}),
    };
    deps.payloadLog?.offer(() => ({
      requestId: state.requestId,
      version: served.name,
      input,
      digit: prediction.digit,
      probabilities: prediction.probabilities,
      timings: {
        preprocess_ms: ms(preprocessSeconds),
        queue_ms: ms(batched.queueSeconds),
        inference_ms: ms(batched.inferenceSeconds),
      },
    }));
    deps.telemetry.predictionServed((performance.now() - started) / 1000, sourcePixels);
  };
}
