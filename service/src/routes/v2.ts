/**
 * The Open Inference Protocol's REST routes (v2: server and model metadata, health, inference),
 * beside /predict, for the clients of Triton, KServe and MLServer. The model is `mnist`, at every
 * version this replica serves. An inference's N rows enter its version's batcher as N inputs.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { ModelVersions } from '../engine/model-versions.ts';
import { ApiError } from '../http/errors.ts';
import type { RequestState } from '../http/request-context.ts';
import { askedVersion, VERSION_HEADER } from '../http/version-choice.ts';
import type { Decoder } from '../imaging/offload.ts';
import { greyPixelsToModelInput } from '../imaging/to-model-input.ts';
import { MNIST_CLASSES, MNIST_SIDE, scaleToUnit } from '../mnist.ts';
import { readInferRequest, TensorError } from '../oip/tensors.ts';
import type { Telemetry } from '../metrics/telemetry.ts';
import type { Readiness } from './probes.ts';

export const MODEL_NAME = 'mnist';

export interface V2Deps {
  versions: Pick<ModelVersions, 'get' | 'names'>;
  readiness: Readiness;
  serviceVersion: string;
  decoder: Pick<Decoder, 'toModelInput'>;
  readJson: (ctx: Context) => Promise<unknown>;
  maxRows: number;
  telemetry: Pick<Telemetry, 'inferRows' | 'predicted' | 'queueWaited' | 'inputSeen'>;
}

export function registerV2(router: Router, deps: V2Deps): void {
  /**
   * The model a path names (404 for any other) at the version its path names, else the one the
   * request asks for as /predict's are asked, else the default.
   */
  const model = (ctx: Context) => {
    const { name, version } = ctx.params as { name: string; version?: string };
    if (name !== MODEL_NAME)
      throw new ApiError('not_found', `unknown model "${name}"; this server serves "${MODEL_NAME}"`);
    return deps.versions.get(version ?? askedVersion(ctx));
  };
  const ready = () => deps.readiness.ready && !deps.readiness.draining;

  router.get('/v2', (ctx) => {
    ctx.body = { name: 'mnist-cluster', version: deps.serviceVersion, extensions: [] };
  });
  router.get('/v2/health/live', (ctx) => {
    ctx.body = { live: true };
  });
  router.get('/v2/health/ready', (ctx) => {
    if (!ready()) throw new ApiError(deps.readiness.draining ? 'draining' : 'starting', 'not ready');
    ctx.body = { ready: true };
  });
  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    router.get(base, (ctx) => {
      model(ctx);
      ctx.body = {
        name: MODEL_NAME,
        versions: deps.versions.names(),
        platform: 'tensorflowjs_layers',
        inputs: [{ name: 'input', datatype: 'UINT8', shape: [-1, MNIST_SIDE, MNIST_SIDE] }],
        outputs: [
          { name: 'probabilities', datatype: 'FP32', shape: [-1, MNIST_CLASSES] },
          { name: 'digit', datatype: 'INT32', shape: [-1] },
        ],
      };
    });
    router.get(`${base}/ready`, (ctx) => {
      model(ctx);
      ctx.body = { name: MODEL_NAME, ready: ready() };
    });
    router.post(`${base}/infer`, async (ctx) => {
      const served = model(ctx);
      const state = ctx.state as RequestState;
      state.version = served.name;
      ctx.set(VERSION_HEADER, served.name);
      if (!ready()) throw new ApiError(deps.readiness.draining ? 'draining' : 'starting', 'the model is not ready');
      let request;
      try {
        request = readInferRequest(await deps.readJson(ctx), deps.maxRows);
      } catch (err) {
        if (err instanceof TensorError) throw new ApiError('invalid_tensor', err.message);
        throw err;
      }
      const { rows } = request;
      const inputs: Float32Array[] =
        rows.kind === 'images'
          ? await Promise.all(rows.images.map(async (bytes) => (await deps.decoder.toModelInput(bytes)).input))
          : rows.rows.map((row) => (rows.normalise ? greyPixelsToModelInput(row).input : scaleToUnit(row)));
      deps.telemetry.inferRows(inputs.length);
      for (const input of inputs) deps.telemetry.inputSeen(input);
      const answers = await served.batcher.predictAll(inputs, state.onClientGone);
      for (const { prediction, queueSeconds } of answers) {
        deps.telemetry.queueWaited(queueSeconds);
        deps.telemetry.predicted(prediction.digit, prediction.confidence, served.name);
      }
      const outputs = request.outputs.map((name) =>
        name === 'digit'
          ? { name, datatype: 'INT32', shape: [answers.length], data: answers.map((a) => a.prediction.digit) }
          : {
              name,
              datatype: 'FP32',
              shape: [answers.length, MNIST_CLASSES],
              data: answers.flatMap((a) => a.prediction.probabilities),
            },
      );
      ctx.body = {
        model_name: MODEL_NAME,
        model_version: served.name,
        ...(request.id ? { id: request.id } : {}),
        outputs,
      };
    });
  }
}
