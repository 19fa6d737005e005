/**
 * The Koa application: middleware in the order a request meets it, then the routes, each in its
 * own module under routes/. It never listens; the composition root (replica.ts) and the tests
 * decide where it runs.
 */
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { ModelVersions } from './engine/model-versions.ts';
import { createPayloadReader } from './http/payload.ts';
import { requestContext } from './http/request-context.ts';
import type { Decoder } from './imaging/offload.ts';
import type { PayloadLog } from './metrics/payload-log.ts';
import type { Telemetry } from './metrics/telemetry.ts';
import { registerDocs } from './routes/docs.ts';
import { registerModel } from './routes/model.ts';
import { endpointIndex, openApiDocument } from './routes/openapi.ts';
import { registerPage } from './routes/page.ts';
import { predictHandler } from './routes/predict.ts';
import { registerProbes, type Readiness } from './routes/probes.ts';
import { registerV2 } from './routes/v2.ts';

export type { Readiness } from './routes/probes.ts';

export interface AppDeps {
  logger: Logger;
  telemetry: Telemetry;
  versions: Pick<ModelVersions, 'get' | 'names' | 'defaultVersion'>;
  decoder: Pick<Decoder, 'toModelInput'>;
  backend: string;
  replica: string;
  readiness: Readiness;
  limits: { maxBodyBytes: number; maxImagePixels: number; maxInferRows: number };
  trustProxy: boolean;
  /** Share of successful requests logged (refusals and failures always are). */
  accessLogSample: number;
  serviceVersion: string;
  /** The sampled log of what the model saw, when PAYLOAD_LOG_DIR is set. */
  payloadLog?: Pick<PayloadLog, 'offer'> | undefined;
}

export function createApp(deps: AppDeps): Koa {
  const { replica, versions, backend } = deps;
  const router = new Router();
  const { readPayload, readJson } = createPayloadReader(deps.limits.maxBodyBytes);
  router.post('/predict', predictHandler({ ...deps, readPayload }));
  registerV2(router, { ...deps, readJson, maxRows: deps.limits.maxInferRows });
  registerProbes(router, deps);
  registerModel(router, deps);
  const document = openApiDocument(deps.serviceVersion);
  registerDocs(router, document);
  const endpoints = endpointIndex(document);
  registerPage(router, () => {
    const { name, engine } = versions.get();
    return {
      service: 'mnist-cluster',
      replica,
      model: { name: engine.card.name, version: name, versions: versions.names(), backend },
      endpoints,
    };
  });

  const app = new Koa();
  // Errors are answered and logged by requestContext; Koa's default printer would log them twice.
  app.silent = true;
  app.use(requestContext(deps));
  app.use(async (ctx, next) => {
    if (deps.readiness.draining) ctx.set('Connection', 'close');
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
