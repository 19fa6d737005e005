/**
 * The autoscaler's decision: from the load the replicas report and the service's own record of its
 * last scaling, the replica count it should have now. Pure, so every rule below is tested against
 * recorded answers and by a property test (test/autoscaler/policy.test.ts).
 *
 * The count follows the load as Kubernetes' HPA does: `ceil(total load / target per replica)`, held
 * while the load per replica is within a tolerance of the target (hysteresis), moved at most `step`
 * replicas at a time, kept within [min, max], and not moved again before a cooldown since the last
 * scaling (longer down than up: adding capacity late costs requests, removing it late costs only
 * CPU), and never removes more than the highest load of the last down-cooldown allows (a lull in a
 * noisy load is not a fall). It never scales on data it cannot trust: no answer, an old sample, or fewer replicas
 * reporting than run (then it may still add, never remove).
 */

export interface Policy {
  min: number;
  max: number;
  /** Most replicas added or removed in one decision. */
  step: number;
  /** The load per replica aimed at: requests in flight, averaged over the sampling window. */
  target: number;
  /** No change while load per replica is within target x (1 ± tolerance). */
  tolerance: number;
  upCooldownS: number;
  downCooldownS: number;
  /** A sample older than this is stale: hold. */
  maxSampleAgeS: number;
}

/**
 * What Prometheus answered: the load of each replica that reports, the highest it was over the
 * last down-cooldown (a decision to remove replicas must hold for all of it), and when it was
 * sampled.
 */
export type Observation =
  | { kind: 'load'; perReplica: number[]; recentPeak: number[]; sampledAt: number }
  | { kind: 'unavailable'; error: string };

export interface ServiceState {
  /** The replica count the service is set to now. */
  replicas: number;
  /** When it was last scaled (by anyone), in ms since the epoch; undefined when never. */
  lastScaledAt: number | undefined;
}

export const REASONS = [
  'scale_up',
  'scale_down',
  'into_bounds',
  'hold_in_tolerance',
  'hold_no_change',
  'hold_recent_peak',
  'hold_at_max',
  'hold_at_min',
  'hold_up_cooldown',
  'hold_down_cooldown',
  'hold_prometheus_unavailable',
  'hold_stale_sample',
  'hold_no_series',
  'hold_missing_series',
] as const;
export type Reason = (typeof REASONS)[number];

export interface Decision {
  replicas: number;
  reason: Reason;
  /** Load per replica now (over the replicas reporting), when known. */
  loadPerReplica?: number;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
const usable = (loads: number[]) => loads.filter((load) => Number.isFinite(load) && load >= 0);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

export function decide(policy: Policy, service: ServiceState, seen: Observation, now: number): Decision {
  const current = service.replicas;
  const hold = (reason: Reason, loadPerReplica?: number): Decision => ({ replicas: current, reason, loadPerReplica });
  const since = service.lastScaledAt === undefined ? Infinity : (now - service.lastScaledAt) / 1000;
  const move = (replicas: number, reason: Reason, loadPerReplica?: number): Decision => {
    if (replicas > current && since < policy.upCooldownS) return hold('hold_up_cooldown', loadPerReplica);
    if (replicas < current && since < policy.downCooldownS) return hold('hold_down_cooldown', loadPerReplica);
    return { replicas, reason, loadPerReplica };
  };
  const stepFrom = (wanted: number) => clamp(wanted, current - policy.step, current + policy.step);

  // Someone set a count outside the bounds (or changed them): back in, a step at a time.
  if (current < policy.min || current > policy.max) {
    return move(stepFrom(clamp(current, policy.min, policy.max)), 'into_bounds');
  }

  if (seen.kind === 'unavailable') return hold('hold_prometheus_unavailable');
  if ((now - seen.sampledAt) / 1000 > policy.maxSampleAgeS) return hold('hold_stale_sample');
  const loads = usable(seen.perReplica);
  if (loads.length === 0) return hold('hold_no_series');

  const perReplica = mean(loads);
  const ratio = perReplica / policy.target;
  if (Math.abs(ratio - 1) <= policy.tolerance) return hold('hold_in_tolerance', perReplica);

  // The replicas that report stand for every one that runs: one starting (or lost) is not taken as
  // idle, and a count smaller than the one running is never decided without all of them. Fewer
  // replicas only for as few as the highest load of the last down-cooldown needs (unknown: none
  // fewer), so that a lull in a noisy load removes none.
  const peaks = usable(seen.recentPeak);
  const peakRatio = peaks.length === 0 ? Infinity : mean(peaks) / policy.target;
  const wanted = Math.ceil(current * (ratio > 1 ? ratio : Math.min(1, Math.max(ratio, peakRatio))));
  const desired = clamp(stepFrom(wanted), policy.min, policy.max);
  if (desired === current) {
    if (wanted > policy.max) return hold('hold_at_max', perReplica);
    if (wanted < policy.min) return hold('hold_at_min', perReplica);
    return hold(Math.ceil(current * ratio) < current ? 'hold_recent_peak' : 'hold_no_change', perReplica);
  }
  if (desired < current && loads.length < current) return hold('hold_missing_series', perReplica);
  return move(desired, desired > current ? 'scale_up' : 'scale_down', perReplica);
}
