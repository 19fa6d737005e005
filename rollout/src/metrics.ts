/** The rollout controller's Prometheus metrics: the share in effect, every step and judgement, and the figures it judged. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { VersionFigures } from './judge.ts';
import type { StepRecord } from './rollout.ts';

export interface RolloutMetrics {
  share(percent: number, candidate: string | undefined): void;
  step(decision: StepRecord['decision']): void;
  judged(kind: 'pass' | 'wait' | 'fail'): void;
  observed(stable: string, candidate: string, stableFigures: VersionFigures, candidateFigures: VersionFigures): void;
  failure(): void;
}

export function createRolloutMetrics(registry: Registry): RolloutMetrics {
  const registers = [registry];
  const share = new Gauge({
    name: 'mnist_rollout_share_percent',
    help: "Share of the requests naming no version that the entry point sends to the canary version, as read back from the balancer's canary map.",
    registers,
  });
  const canary = new Gauge({
    name: 'mnist_rollout_canary_info',
    help: 'The canary version being rolled out (none: no series); always 1.',
    labelNames: ['version'],
    registers,
  });
  const steps = new Counter({
    name: 'mnist_rollout_steps_total',
    help: 'Rollout steps by decision: started, advanced, promoted, rolled_back.',
    labelNames: ['decision'],
    registers,
  });
  const judgements = new Counter({
    name: 'mnist_rollout_judgements_total',
    help: 'Windows judged, by verdict: pass, wait (too few requests), fail.',
    labelNames: ['verdict'],
    registers,
  });
  const figures = new Gauge({
    name: 'mnist_rollout_observed',
    help: 'The figures of the last window judged, by role (stable, canary) and measure (requests, error_ratio, p95_seconds, mean_confidence).',
    labelNames: ['role', 'version', 'measure'],
    registers,
  });
  const failures = new Counter({
    name: 'mnist_rollout_failures_total',
    help: 'Windows that could not be judged (Prometheus or a balancer did not answer); the step was held.',
    registers,
  });
  for (const decision of ['started', 'advanced', 'promoted', 'rolled_back']) steps.inc({ decision }, 0);
  for (const verdict of ['pass', 'wait', 'fail']) judgements.inc({ verdict }, 0);
  share.set(0);
  const set = (role: string, version: string, f: VersionFigures) => {
    figures.set({ role, version, measure: 'requests' }, f.requests);
    figures.set({ role, version, measure: 'error_ratio' }, f.errorRatio);
    figures.set({ role, version, measure: 'p95_seconds' }, f.p95Seconds);
    figures.set({ role, version, measure: 'mean_confidence' }, f.meanConfidence);
  };
  return {
    share(percent, version) {
      share.set(percent);
      canary.reset();
      if (version) canary.set({ version }, 1);
    },
    step: (decision) => steps.inc({ decision }),
    judged: (verdict) => judgements.inc({ verdict }),
    observed(stable, candidate, s, c) {
      // Only the versions of the rollout under way: label values stay as few as the versions.
      figures.reset();
      set('stable', stable, s);
      set('canary', candidate, c);
    },
    failure: () => failures.inc(),
  };
}
