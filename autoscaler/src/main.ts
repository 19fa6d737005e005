/** The autoscaler's process: configuration, its metrics port, the loop, then signals. */
import pino from 'pino';
import { Registry } from 'prom-client';
import { configOrExit } from '../../service/src/config.ts';
import { onShutdownSignal } from '../../service/src/lifecycle.ts';
import { createMetricsServer } from '../../service/src/metrics/metrics-server.ts';
import { startAutoscaler } from './autoscaler.ts';
import { parseAutoscalerConfig, policyOf } from './config.ts';
import { createAutoscalerMetrics } from './metrics.ts';
import { prometheusSource } from './prometheus-query.ts';

const config = configOrExit(() => parseAutoscalerConfig());
const logger = pino({ base: { component: 'autoscaler' } });
const policy = policyOf(config);
const registry = new Registry();
const metrics = createAutoscalerMetrics(registry, policy, config.AUTOSCALE_DRY_RUN);
const server = createMetricsServer(registry).listen(config.AUTOSCALE_METRICS_PORT);

const autoscaler = startAutoscaler({
  policy,
  service: config.AUTOSCALE_SERVICE,
  dockerApi: config.AUTOSCALE_DOCKER_URL,
  prometheus: {
    ...prometheusSource(config.AUTOSCALE_PROMETHEUS_URL, config.AUTOSCALE_PROMETHEUS_PASSWORD_FILE),
    windowS: config.AUTOSCALE_WINDOW_S,
    peakS: config.AUTOSCALE_DOWN_COOLDOWN_S,
  },
  dryRun: config.AUTOSCALE_DRY_RUN,
  intervalS: config.AUTOSCALE_INTERVAL_S,
  metrics,
  logger,
});
logger.info({ policy, service: config.AUTOSCALE_SERVICE, dry_run: config.AUTOSCALE_DRY_RUN }, 'started');

onShutdownSignal(async (signal) => {
  logger.info({ signal }, 'stopping');
  await autoscaler.stop();
  server.close();
  process.exit(0);
});
