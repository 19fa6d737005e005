/**
 * The loop: every interval, the service's state from the Docker API, the load from Prometheus, a
 * decision, and the scaling it asks for (unless dry-run). A decision is logged when its reason or
 * count changes, not every interval.
 */
import type { Logger } from 'pino';
import type { createAutoscalerMetrics } from './metrics.ts';
import { observeLoad, type LoadSource } from './load.ts';
import { decide, type Decision, type Policy } from './policy.ts';
import { inspectService, scaleService } from './swarm-service.ts';

export interface AutoscalerParts {
  policy: Policy;
  service: string;
  dockerApi: string;
  prometheus: LoadSource;
  dryRun: boolean;
  intervalS: number;
  metrics: ReturnType<typeof createAutoscalerMetrics>;
  logger: Logger;
}

export function startAutoscaler(parts: AutoscalerParts): { stop(): Promise<void> } {
  const { policy, service: name, dockerApi, metrics, logger } = parts;
  let last: Decision | undefined;

  async function tick(): Promise<void> {
    let service;
    try {
      service = await inspectService(dockerApi, name);
    } catch (error) {
      metrics.serviceUnreadable();
      logger.warn({ error: (error as Error).message }, 'the service could not be read; no decision');
      return;
    }
    const seen = await observeLoad(parts.prometheus);
    const decision = decide(policy, service, seen, Date.now());
    metrics.decided(decision, service.replicas, service.lastScaledAt);
    if (decision.reason !== last?.reason || decision.replicas !== last.replicas) {
      logger.info(
        {
          from: service.replicas,
          to: decision.replicas,
          reason: decision.reason,
          load_per_replica: decision.loadPerReplica,
          ...(seen.kind === 'unavailable' ? { prometheus: seen.error } : {}),
        },
        parts.dryRun && decision.replicas !== service.replicas ? 'decision (dry run)' : 'decision',
      );
    }
    last = decision;
    if (decision.replicas === service.replicas || parts.dryRun) return;
    try {
      await scaleService(dockerApi, name, service, decision.replicas);
    } catch (error) {
      metrics.scaleFailed();
      logger.warn(
        { error: (error as Error).message, to: decision.replicas },
        'scaling refused; the next decision reads the service again',
      );
    }
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const loop = () => {
    running = tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, parts.intervalS * 1000);
    });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
