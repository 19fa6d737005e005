/**
 * What the autoscaler exports: the count it wants and the one the service has, the load per
 * replica against its target and bounds, every decision by reason, and when it last scaled.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { REASONS, type Decision, type Policy } from './policy.ts';

export function createAutoscalerMetrics(registry: Registry, policy: Policy, dryRun: boolean) {
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const desired = gauge('mnist_autoscaler_desired_replicas', 'Replicas the last decision wanted.');
  const current = gauge('mnist_autoscaler_current_replicas', 'Replicas the service was set to at the last decision.');
  const load = gauge(
    'mnist_autoscaler_load_per_replica',
    'Requests in flight per replica at the last decision (averaged over the window), when Prometheus answered.',
  );
  const settings = gauge('mnist_autoscaler_policy', 'The policy: target load per replica, min and max replicas.', [
    'setting',
  ]);
  const lastScaled = gauge(
    'mnist_autoscaler_last_scale_timestamp_seconds',
    'When the service was last changed, by this autoscaler or anyone (its UpdatedAt).',
  );
  const dry = gauge('mnist_autoscaler_dry_run', '1 when it decides without scaling.');
  const decisions = new Counter({
    name: 'mnist_autoscaler_decisions_total',
    help: 'Decisions by reason: scale_up, scale_down, into_bounds, or why it held.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'mnist_autoscaler_scale_failures_total',
    help: 'Scalings the Docker API refused or did not answer (another autoscaler scaled first, or the API is down).',
    registers: [registry],
  });
  const errors = new Counter({
    name: 'mnist_autoscaler_service_errors_total',
    help: 'Decisions skipped because the service could not be read from the Docker API.',
    registers: [registry],
  });
  for (const reason of REASONS) decisions.labels(reason).inc(0);
  settings.labels('target').set(policy.target);
  settings.labels('min').set(policy.min);
  settings.labels('max').set(policy.max);
  dry.set(dryRun ? 1 : 0);
  failures.inc(0);
  errors.inc(0);

  return {
    decided(decision: Decision, currentReplicas: number, lastScaledAt: number | undefined) {
      decisions.labels(decision.reason).inc();
      desired.set(decision.replicas);
      current.set(currentReplicas);
      if (decision.loadPerReplica === undefined) load.reset();
      else load.set(decision.loadPerReplica);
      if (lastScaledAt !== undefined) lastScaled.set(lastScaledAt / 1000);
    },
    scaleFailed: () => failures.inc(),
    serviceUnreadable: () => errors.inc(),
  };
}
