/**
 * The Koa application: middleware in the order a request meets it. It never listens; the
 * composition root (main.ts) and the tests decide where it runs.
 */
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { Logger } from 'pino';
import type { Batcher } from './engine/batcher.ts';
import type { ModelCard } from './engine/model-card.ts';
import type { Decoder } from './imaging/offload.ts';
import { createPayloadReader } from './http/payload.ts';
import { requestContext } from './http/request-context.ts';
import type { Telemetry } from './metrics/telemetry.ts';
import { registerDocs } from './routes/docs.ts';
import { openApiDocument } from './routes/openapi.ts';
import { PAGE, registerPage } from './routes/page.ts';
import { predictHandler } from './routes/predict.ts';
import { MNIST_INPUT_SHAPE } from './mnist.ts';
import { ApiError } from './http/errors.ts';

export interface Readiness {
  /** Model loaded and warmed. */
  ready: boolean;
  /** SIGTERM received: finishing in-flight work, taking no more from a load balancer. */
  draining: boolean;
}

export interface AppDeps {
  logger: Logger;
  telemetry: Telemetry;
  batcher: Pick<Batcher, 'predict'>;
  decoder: Pick<Decoder, 'toModelInput'>;
  card: ModelCard;
  backend: string;
  replica: string;
  readiness: Readiness;
  limits: { maxBodyBytes: number; maxImagePixels: number };
  trustProxy: boolean;
  /** Share of successful requests logged (refusals and failures always are). */
  accessLogSample: number;
  serviceVersion: string;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // Errors are answered and logged by requestContext; Koa's default printer would log them twice.
  app.silent = true;
  const model = { name: deps.card.name, version: deps.card.version, backend: deps.backend };
  const router = new Router();

  router.post(
    '/predict',
    predictHandler({
      readPayload: createPayloadReader(deps.limits.maxBodyBytes),
      batcher: deps.batcher,
      telemetry: deps.telemetry,
      decoder: deps.decoder,
      replica: deps.replica,
      model,
    }),
  );
  router.get('/healthz', (ctx: Context) => {
    ctx.body = { status: 'alive', replica: deps.replica };
  });
  router.get('/readyz', (ctx: Context) => {
    const { ready, draining } = deps.readiness;
    if (!ready || draining) {
      throw new ApiError(
        draining ? 'draining' : 'starting',
        draining ? 'shutting down' : 'model not loaded and warmed yet',
      );
    }
    ctx.body = { status: 'ready', replica: deps.replica };
  });
  router.get('/model', (ctx: Context) => {
    ctx.body = {
      ...deps.card,
      backend: deps.backend,
      input_contract: {
        forms: ['multipart/form-data field "file"', 'raw image/* body', 'application/json {"pixels": [784 numbers]}'],
        model_input: { shape: [...MNIST_INPUT_SHAPE], range: [0, 1], polarity: 'white digit on black' },
        max_body_bytes: deps.limits.maxBodyBytes,
        max_image_pixels: deps.limits.maxImagePixels,
      },
    };
  });
  router.get('/', (ctx: Context) => {
    // A browser gets the drawing page; an API client (curl sends */*) the JSON index.
    ctx.vary('Accept');
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = PAGE;
      return;
    }
    ctx.body = {
      service: 'mnist-cluster',
      replica: deps.replica,
      model: model,
      endpoints: {
        'GET / (Accept: text/html)': 'a page to draw a digit on and see what the model saw',
        'POST /predict': 'classify a digit (multipart field "file", image/* body, or JSON pixels; ?explain=1)',
        'GET /healthz': 'liveness',
        'GET /readyz': 'readiness (503 until the model is warm, and while draining)',
        'GET /model': 'model card',
        'GET /docs': 'Swagger UI',
        'GET /openapi.json': 'OpenAPI 3 document',
      },
    };
  });
  registerDocs(router, openApiDocument(deps.serviceVersion));
  registerPage(router);

  app.use(requestContext(deps));
  app.use(async (ctx, next) => {
    if (deps.readiness.draining) ctx.set('Connection', 'close');
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
