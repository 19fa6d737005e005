/**
 * The composition root: builds a whole replica from a validated config (the pipeline, metrics,
 * the app and both listeners) and gives back what stops it. main.ts runs it as a process; tests
 * run it in-process on ephemeral ports.
 */
import { createServer, type Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { createApp, type Readiness } from './app.ts';
import { StartupError, type Config } from './config.ts';
import { modelAdmin } from './admin/model-admin.ts';
import type { Batcher } from './engine/batcher.ts';
import type { Engine } from './engine/engine.ts';
import type { ModelVersions } from './engine/model-versions.ts';
import { clientErrorHandler } from './http/client-error.ts';
import { closeGracefully, listen } from './lifecycle.ts';
import { cgroupReader } from './metrics/cgroup.ts';
import { createMetrics } from './metrics/metrics.ts';
import { createMetricsServer } from './metrics/metrics-server.ts';
import { createPayloadLog } from './metrics/payload-log.ts';
import { createPipeline } from './pipeline.ts';
import { serviceVersion } from './version.ts';

export interface Replica {
  versions: ModelVersions;
  /** The default version's engine and batcher, as they are now. */
  readonly engine: Engine;
  readonly batcher: Batcher;
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

function openPayloadLog(config: Config, onOutcome: (outcome: 'written' | 'dropped') => void) {
  try {
    return createPayloadLog({
      dir: config.PAYLOAD_LOG_DIR,
      sample: config.PAYLOAD_LOG_SAMPLE,
      maxFileBytes: config.PAYLOAD_LOG_MAX_BYTES,
      keptFiles: config.PAYLOAD_LOG_FILES,
      onOutcome,
    });
  } catch (err) {
    throw new StartupError('PAYLOAD_LOG_DIR', config.PAYLOAD_LOG_DIR, (err as Error).message);
  }
}

export async function startReplica(
  config: Config,
  /** Names the replica on every line (main.ts gives it `base: { replica }`, as the default does). */
  logger: Logger = pino({ level: config.LOG_LEVEL, base: { replica: config.REPLICA } }),
): Promise<Replica> {
  const readiness: Readiness = { ready: false, draining: false };
  const registry = new Registry();
  registry.setDefaultLabels({ replica: config.REPLICA });
  // Telemetry describes the engine, so it is made after the pipeline; the batcher reports its
  // first batch only once requests arrive, by which time telemetry exists.
  const pipeline = await createPipeline(config, (size, seconds) => telemetry.inferred(seconds, size));
  const { versions, decoder, close } = pipeline;
  const { backend, liveTensors } = pipeline.engine;
  const telemetry = createMetrics({
    registry,
    clientIpLimit: config.CLIENT_IP_LABEL_LIMIT,
    backend,
    versions: () =>
      versions
        .list()
        .map(({ name, engine }) => ({ version: name, model: engine.card.name, build: engine.card.version })),
    build: { version: serviceVersion },
    readCgroup: cgroupReader(),
    liveTensors,
    queueDepth: () => versions.depth,
  });
  const payloadLog = config.PAYLOAD_LOG_DIR ? openPayloadLog(config, telemetry.payloadLogged) : undefined;
  const app = createApp({
    payloadLog,
    logger,
    telemetry,
    versions,
    decoder,
    backend,
    replica: config.REPLICA,
    readiness,
    limits: {
      maxBodyBytes: config.MAX_BODY_BYTES,
      maxImagePixels: config.MAX_IMAGE_PIXELS,
      maxInferRows: config.MAX_INFER_ROWS,
    },
    trustProxy: config.TRUST_PROXY,
    accessLogSample: config.ACCESS_LOG_SAMPLE,
    serviceVersion,
  });

  // Without a short check interval, Node looks for requests past requestTimeout only every 30 s.
  const api = createServer({ connectionsCheckingInterval: 1000 }, app.callback());
  api.on(
    'clientError',
    clientErrorHandler((code) => {
      telemetry.rejected(code, 'unknown');
      logger.info({ error_code: code }, 'request refused by the HTTP parser');
    }),
  );
  // Deliberate timeouts: slow-loris uploads are cut off, idle keep-alive sockets do not pile up.
  api.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  api.headersTimeout = Math.min(10_000, config.REQUEST_TIMEOUT_MS);
  api.requestTimeout = config.REQUEST_TIMEOUT_MS;
  api.maxHeadersCount = 100;
  // A bounded number of open connections: beyond it Node closes a new one at once. Docker's
  // userland proxy in front of a published port holds two descriptors per connection and stops for
  // good when it runs out; with this bound a flood of connections cannot take it there.
  api.maxConnections = config.MAX_CONNECTIONS;
  api.on('drop', () => telemetry.connectionDropped());
  const metrics = createMetricsServer(
    registry,
    modelAdmin({ versions, repository: config.MODEL_REPOSITORY, logger, onLoad: telemetry.modelLoaded }),
  );
  const [apiAddress, metricsAddress] = await Promise.all([
    listen(api, config.PORT, config.HOST, 'PORT'),
    listen(metrics, config.METRICS_PORT, config.HOST, 'METRICS_PORT'),
  ]);
  readiness.ready = true;
  // Where a person opens it: any-address binds are reached as localhost.
  const at = (port: number) => `http://${['0.0.0.0', '::'].includes(config.HOST) ? 'localhost' : config.HOST}:${port}`;
  logger.info(
    {
      port: apiAddress.port,
      metrics_port: metricsAddress.port,
      backend,
      default_version: versions.defaultVersion,
      versions: versions.names(),
      page: `${at(apiAddress.port)}/`,
      api_docs: `${at(apiAddress.port)}/docs`,
      metrics: `${at(metricsAddress.port)}/metrics`,
    },
    'replica ready',
  );

  return {
    versions,
    get engine() {
      return pipeline.engine;
    },
    get batcher() {
      return pipeline.batcher;
    },
    registry,
    readiness,
    api,
    metrics,
    apiPort: apiAddress.port,
    metricsPort: metricsAddress.port,
    logger,
    async stop() {
      readiness.draining = true;
      // Still listening and answering: new requests keep coming until the balancer's checks see
      // /readyz fail; refusing them at once would fail those that land meanwhile.
      await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY_MS));
      const drained = await closeGracefully(api, config.SHUTDOWN_TIMEOUT_MS);
      await closeGracefully(metrics, 1000);
      await close();
      await payloadLog?.close();
      return drained;
    },
  };
}
