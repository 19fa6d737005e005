/**
 * Builds a whole replica from a validated config: engine, batcher, metrics, app and both
 * listeners. main.ts runs it as a process; tests run it in-process on ephemeral ports.
 */
import { createServer, type Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { createApp, type Readiness } from './app.ts';
import type { Config } from './config.ts';
import { Batcher } from './engine/batcher.ts';
import { createEngine, type Engine } from './engine/engine.ts';
import { createDecoder } from './imaging/decoder.ts';
import { clientErrorHandler } from './http/client-error.ts';
import { closeGracefully, listen } from './lifecycle.ts';
import { readCgroupStats } from './metrics/cgroup.ts';
import { createMetrics } from './metrics/metrics.ts';
import { createMetricsServer } from './metrics/metrics-server.ts';
import { serviceVersion } from './version.ts';

export interface Replica {
  engine: Engine;
  batcher: Batcher;
  registry: Registry;
  readiness: Readiness;
  api: Server;
  metrics: Server;
  apiPort: number;
  metricsPort: number;
  logger: Logger;
  /** Fails readiness, drains in-flight requests (bounded), closes both listeners. */
  stop(): Promise<boolean>;
}

export async function startReplica(
  config: Config,
  logger: Logger = pino({ level: config.LOG_LEVEL }),
): Promise<Replica> {
  const readiness: Readiness = { ready: false, draining: false };
  const engine = await createEngine({ modelDir: config.MODEL_DIR, backend: config.BACKEND });
  const registry = new Registry();
  registry.setDefaultLabels({ replica: config.REPLICA });
  // The batcher and the metrics refer to each other; onBatch only runs once both exist.
  const batcher: Batcher = new Batcher(engine, {
    maxBatchSize: config.MAX_BATCH_SIZE,
    maxDelayMs: config.MAX_BATCH_DELAY_MS,
    maxQueue: config.MAX_QUEUE,
    onBatch: (size, seconds) => telemetry.inferred(seconds, size),
  });
  const telemetry = createMetrics({
    registry,
    clientIpLimit: config.CLIENT_IP_LABEL_LIMIT,
    model: { name: engine.card.name, version: engine.card.version, backend: engine.backend },
    build: { version: serviceVersion },
    readCgroup: () => readCgroupStats(),
    liveTensors: engine.liveTensors,
    queueDepth: () => batcher.depth,
  });
  const decoder = createDecoder({
    maxPixels: config.MAX_IMAGE_PIXELS,
    workerThreshold: config.DECODE_WORKER_PIXELS,
    threads: config.DECODE_THREADS,
  });
  const app = createApp({
    logger,
    telemetry,
    batcher,
    decoder,
    card: engine.card,
    backend: engine.backend,
    replica: config.REPLICA,
    readiness,
    limits: { maxBodyBytes: config.MAX_BODY_BYTES, maxImagePixels: config.MAX_IMAGE_PIXELS },
    trustProxy: config.TRUST_PROXY,
    serviceVersion,
  });

  // Without a short check interval, Node looks for requests past requestTimeout only every 30 s.
  const api = createServer({ connectionsCheckingInterval: 1000 }, app.callback());
  api.on(
    'clientError',
    clientErrorHandler((code) => {
      telemetry.rejected(code);
      logger.info({ error_code: code }, 'request refused by the HTTP parser');
    }),
  );
  // Deliberate timeouts: slow-loris uploads are cut off, idle keep-alive sockets do not pile up.
  api.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  api.headersTimeout = Math.min(10_000, config.REQUEST_TIMEOUT_MS);
  api.requestTimeout = config.REQUEST_TIMEOUT_MS;
  api.maxHeadersCount = 100;
  const metrics = createMetricsServer(registry);
  const [apiAddress, metricsAddress] = await Promise.all([
    listen(api, config.PORT, config.HOST),
    listen(metrics, config.METRICS_PORT, config.HOST),
  ]);
  readiness.ready = true;
  logger.info(
    {
      replica: config.REPLICA,
      port: apiAddress.port,
      metrics_port: metricsAddress.port,
      backend: engine.backend,
      model: engine.card.version,
    },
    'replica ready',
  );

  return {
    engine,
    batcher,
    registry,
    readiness,
    api,
    metrics,
    apiPort: apiAddress.port,
    metricsPort: metricsAddress.port,
    logger,
    async stop() {
      readiness.draining = true;
      const drained = await closeGracefully(api, config.SHUTDOWN_TIMEOUT_MS);
      await closeGracefully(metrics, 1000);
      await decoder.close();
      engine.dispose();
      return drained;
    },
  };
}
