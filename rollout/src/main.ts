/** The rollout controller's process: configuration, its port (metrics and the rollout API), then signals. */
import pino from 'pino';
import { Registry } from 'prom-client';
import { prometheusSource } from '../../autoscaler/src/prometheus-query.ts';
import { configOrExit } from '../../service/src/config.ts';
import { onShutdownSignal } from '../../service/src/lifecycle.ts';
import { createMetricsServer } from '../../service/src/metrics/metrics-server.ts';
import { rolloutApi } from './api.ts';
import { boundsOf, parseRolloutConfig } from './config.ts';
import { createRolloutMetrics } from './metrics.ts';
import { Rollout } from './rollout.ts';

const config = configOrExit(() => parseRolloutConfig());
const logger = pino({ base: { component: 'rollout' } });
const registry = new Registry();
const rollout = new Rollout({
  balancers: config.ROLLOUT_BALANCERS.map((address) => ({ address, map: config.ROLLOUT_CANARY_MAP })),
  prometheus: prometheusSource(config.ROLLOUT_PROMETHEUS_URL, config.ROLLOUT_PROMETHEUS_PASSWORD_FILE),
  steps: config.ROLLOUT_STEPS,
  stepSeconds: config.ROLLOUT_STEP_S,
  intervalSeconds: config.ROLLOUT_INTERVAL_S,
  bounds: boundsOf(config),
  sticky: config.ROLLOUT_STICKY,
  metrics: createRolloutMetrics(registry),
  logger,
});
const server = createMetricsServer(registry, rolloutApi(rollout)).listen(config.ROLLOUT_PORT);
logger.info({ steps: config.ROLLOUT_STEPS, step_s: config.ROLLOUT_STEP_S, bounds: boundsOf(config) }, 'started');

onShutdownSignal(async (signal) => {
  logger.info({ signal }, 'stopping');
  rollout.stop();
  server.close();
  process.exit(0);
});
