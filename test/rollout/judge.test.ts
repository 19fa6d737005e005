/** The rollout's judgement: a candidate like stable passes, one outside any bound fails, too few requests waits. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { judge, noiseMargin, type Bounds, type VersionFigures } from '../../rollout/src/judge.ts';

const bounds: Bounds = {
  minRequests: 100,
  maxErrorRatioIncrease: 0.01,
  maxLatencyRatio: 1.5,
  latencySlackSeconds: 0.005,
  maxConfidenceDrop: 0.02,
};
const figures = fc.record({
  requests: fc.integer({ min: 100, max: 1e7 }),
  errorRatio: fc.double({ min: 0, max: 0.5, noNaN: true }),
  p95Seconds: fc.double({ min: 0.0005, max: 5, noNaN: true }),
  meanConfidence: fc.double({ min: 0.1, max: 1, noNaN: true }),
});

it('passes a candidate whose figures equal stable', () => {
  fc.assert(fc.property(figures, (f) => assert.equal(judge(f, { ...f }, bounds).kind, 'pass')));
});

it('fails a candidate outside any one bound over many requests, naming the measure', () => {
  // With a million requests a side the noise margin is under 0.0025.
  const many = figures.map((f) => ({ ...f, requests: f.requests + 1e6 }));
  fc.assert(
    fc.property(many, fc.constantFrom('errors', 'latency', 'confidence'), (stable, which) => {
      const worse: VersionFigures = { ...stable };
      if (which === 'errors') worse.errorRatio = stable.errorRatio + 0.0126;
      if (which === 'latency') worse.p95Seconds = stable.p95Seconds * 1.5 + 0.0051;
      if (which === 'confidence') worse.meanConfidence = stable.meanConfidence - 0.0226;
      const verdict = judge(stable, worse, bounds);
      assert.equal(verdict.kind, 'fail');
      assert.match(verdict.reason, { errors: /error ratio/, latency: /p95/, confidence: /confidence/ }[which]);
    }),
  );
});

it('does not fail a candidate on the noise of a small window, but does a clearly worse one', () => {
  // Measured on the compose cluster: v2 (0.994 over a thousand answers) looked 0.035 less
  // confident than v1 over its first 36.
  const stable = { requests: 683, errorRatio: 0, p95Seconds: 0.047, meanConfidence: 0.9936 };
  const noisy = { requests: 36, errorRatio: 0, p95Seconds: 0.066, meanConfidence: 0.9587 };
  assert.equal(judge(stable, noisy, { ...bounds, minRequests: 30, latencySlackSeconds: 0.02 }).kind, 'pass');
  const flat = { ...noisy, meanConfidence: 0.53 };
  assert.equal(judge(stable, flat, { ...bounds, minRequests: 30, latencySlackSeconds: 0.02 }).kind, 'fail');
  assert.ok(noiseMargin({ mean: 0.5, n: 1e6 }, { mean: 0.5, n: 1e6 }) < 0.0025);
});

it('waits for enough requests, but fails a candidate on its own errors before stable has them', () => {
  const good = { requests: 1000, errorRatio: 0, p95Seconds: 0.01, meanConfidence: 0.99 };
  assert.equal(judge(good, { ...good, requests: 99 }, bounds).kind, 'wait');
  assert.equal(judge({ ...good, requests: 5 }, good, bounds).kind, 'wait');
  assert.equal(judge({ ...good, requests: 5 }, { ...good, errorRatio: 0.2 }, bounds).kind, 'fail');
});
