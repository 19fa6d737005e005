import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decide, type Observation, type Policy, type ServiceState } from '../../autoscaler/src/policy.ts';

const POLICY: Policy = {
  min: 2,
  max: 8,
  step: 2,
  target: 8,
  tolerance: 0.2,
  upCooldownS: 30,
  downCooldownS: 120,
  maxSampleAgeS: 20,
};
const NOW = Date.parse('2026-12-07T12:00:00Z');
const longAgo: ServiceState['lastScaledAt'] = NOW - 3600_000;
/** Loads as Prometheus answers them, steady: the recent peak is the load now. */
const loads = (...perReplica: number[]): Extract<Observation, { kind: 'load' }> => ({
  kind: 'load',
  perReplica,
  recentPeak: perReplica,
  sampledAt: NOW - 2000,
});
const at = (replicas: number, lastScaledAt = longAgo): ServiceState => ({ replicas, lastScaledAt });

/** Answers in a row, one decision every 5 seconds, each applied as the service's new count. */
function replay(answers: Observation[], start: ServiceState, policy = POLICY) {
  let service = start;
  return answers.map((seen, i) => {
    const now = NOW + i * 5000;
    const decision = decide(policy, service, seen.kind === 'load' ? { ...seen, sampledAt: now - 1000 } : seen, now);
    if (decision.replicas !== service.replicas) service = { replicas: decision.replicas, lastScaledAt: now };
    return decision;
  });
}

describe('the autoscaling decision', () => {
  it('scales up on a rising load, a step at a time, one up-cooldown apart', () => {
    const rising = [loads(4, 5), loads(9, 10), loads(20, 22), loads(30, 29), ...Array(6).fill(loads(30, 31, 2, 1))];
    const counts = replay(rising, at(2)).map((d) => d.replicas);
    assert.deepEqual(counts, [2, 2, 4, 4, 4, 4, 4, 4, 6, 6]);
  });

  it('scales down on a falling load only after the down cooldown, and never below the minimum', () => {
    const falling = Array(40).fill(loads(1, 1, 1, 1, 1, 1));
    const decisions = replay(falling, at(6, NOW - 10_000));
    const changes = decisions.flatMap((d, i) => (i > 0 && d.replicas !== decisions[i - 1]!.replicas ? [i] : []));
    // 120 s after the last scaling (10 s before the replay): step 22; the next one 24 steps later.
    assert.equal(decisions[0]!.reason, 'hold_down_cooldown');
    assert.deepEqual(changes, [22]);
    assert.equal(decisions.at(-1)!.replicas, 4);
    assert.deepEqual(
      replay(Array(80).fill(loads(0, 0, 0)), at(3)).map((d) => d.replicas),
      [2, ...Array(79).fill(2)],
    );
  });

  it('removes no replica in a lull of a noisy load: the recent peak still needs them', () => {
    const lull = { ...loads(1, 1, 1, 1, 1, 1), recentPeak: [7, 8, 9, 7, 8, 9] };
    assert.equal(decide(POLICY, at(6), lull, NOW).reason, 'hold_recent_peak');
    // A peak that needs 4 of the 6: down to 4, not to the 2 the lull alone would give.
    const lower = { ...loads(1, 1, 1, 1, 1, 1), recentPeak: [5, 5, 5, 5, 5, 5] };
    assert.deepEqual(decide(POLICY, at(6), lower, NOW).replicas, 4);
    // No peak known: none removed.
    assert.equal(decide(POLICY, at(6), { ...lull, recentPeak: [] }, NOW).replicas, 6);
  });

  it('holds on a load that wavers around the target (hysteresis)', () => {
    const noisy = Array.from({ length: 60 }, (_, i) => loads(...Array(4).fill(8 + (i % 3) - 1 + (i % 2) * 0.5)));
    assert.ok(replay(noisy, at(4)).every((d) => d.replicas === 4 && d.reason === 'hold_in_tolerance'));
  });

  it('holds when Prometheus does not answer, answers nothing, or answers an old sample', () => {
    const service = at(6);
    assert.equal(
      decide(POLICY, service, { kind: 'unavailable', error: 'ECONNREFUSED' }, NOW).reason,
      'hold_prometheus_unavailable',
    );
    assert.equal(decide(POLICY, service, loads(), NOW).reason, 'hold_no_series');
    assert.equal(decide(POLICY, service, loads(Number.NaN), NOW).reason, 'hold_no_series');
    const stale = { ...loads(0, 0, 0, 0, 0, 0), sampledAt: NOW - 60_000 };
    assert.deepEqual(decide(POLICY, service, stale, NOW), {
      replicas: 6,
      reason: 'hold_stale_sample',
      loadPerReplica: undefined,
    });
  });

  it('never scales down with replicas missing from the answer, but still scales up', () => {
    assert.equal(decide(POLICY, at(6), loads(0, 0, 0), NOW).reason, 'hold_missing_series');
    assert.deepEqual(decide(POLICY, at(4), loads(20, 20), NOW).replicas, 6);
  });

  it('brings a count set outside the bounds back in, a step at a time', () => {
    assert.deepEqual(decide(POLICY, at(12), loads(8), NOW), {
      replicas: 10,
      reason: 'into_bounds',
      loadPerReplica: undefined,
    });
    assert.equal(decide(POLICY, at(1), loads(), NOW).replicas, 2);
  });

  it('says why it does not add a replica at the maximum', () => {
    assert.equal(decide(POLICY, at(8), loads(...Array(8).fill(40)), NOW).reason, 'hold_at_max');
  });

  it('never leaves [min, max], never moves more than the step, never scales inside a cooldown', () => {
    const policy = fc
      .record({
        min: fc.integer({ min: 1, max: 5 }),
        span: fc.integer({ min: 0, max: 10 }),
        step: fc.integer({ min: 1, max: 4 }),
        target: fc.double({ min: 0.5, max: 64, noNaN: true }),
        tolerance: fc.double({ min: 0, max: 0.5, noNaN: true }),
        upCooldownS: fc.integer({ min: 0, max: 300 }),
        downCooldownS: fc.integer({ min: 0, max: 900 }),
        maxSampleAgeS: fc.integer({ min: 1, max: 60 }),
      })
      .map(({ span, ...p }): Policy => ({ ...p, max: p.min + span }));
    const observation = fc.oneof(
      fc.record({
        kind: fc.constant('load' as const),
        perReplica: fc.array(fc.oneof(fc.double({ min: 0, max: 500, noNaN: true }), fc.constant(Number.NaN)), {
          maxLength: 16,
        }),
        recentPeak: fc.array(fc.oneof(fc.double({ min: 0, max: 500, noNaN: true }), fc.constant(Number.NaN)), {
          maxLength: 16,
        }),
        sampledAt: fc.integer({ min: NOW - 120_000, max: NOW }),
      }),
      fc.constant({ kind: 'unavailable' as const, error: 'timeout' }),
    );
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 0, max: 16 }),
        fc.option(fc.integer({ min: 0, max: 1200_000 }), { nil: undefined }),
        observation,
        (p, replicas, ago, seen) => {
          const service = { replicas, lastScaledAt: ago === undefined ? undefined : NOW - ago };
          const { replicas: next } = decide(p, service, seen, NOW);
          const since = ago === undefined ? Infinity : ago / 1000;
          assert.ok(Math.abs(next - replicas) <= p.step, 'the step');
          const outside = (n: number) => Math.max(0, p.min - n, n - p.max);
          if (outside(replicas) === 0) assert.equal(outside(next), 0, 'the bounds');
          else assert.ok(outside(next) <= outside(replicas), 'back toward the bounds');
          if (next > replicas) assert.ok(since >= p.upCooldownS, 'the up cooldown');
          if (next < replicas) assert.ok(since >= p.downCooldownS, 'the down cooldown');
          if (next < replicas && seen.kind === 'load')
            assert.ok(
              seen.perReplica.filter(Number.isFinite).length >= replicas || replicas > p.max,
              'no scaling down on missing series',
            );
          if (seen.kind === 'unavailable' && replicas >= p.min && replicas <= p.max) assert.equal(next, replicas);
          if (next < replicas && seen.kind === 'load' && outside(replicas) === 0) {
            const peaks = seen.recentPeak.filter(Number.isFinite);
            assert.ok(peaks.length > 0, 'no scaling down without the recent peak');
            const needed = Math.ceil((replicas * peaks.reduce((a, b) => a + b, 0)) / peaks.length / p.target);
            assert.ok(next >= Math.min(needed, replicas), 'never below what the recent peak needs');
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
