/**
 * The rollout's judgement, pure: the candidate's figures against the stable version's, measured
 * over the same window on the same traffic. The candidate fails at once when its error ratio, its
 * latency or its answers' confidence fall outside the bounds; it passes only with enough requests
 * on both sides to tell.
 *
 * A window of a few dozen requests is noisy: one doubtful answer among 36 moves a mean confidence
 * by more than a bound of 0.02. The error ratio and the mean confidence are therefore compared
 * with a margin of three standard errors of their difference on top of the bound, each standard
 * error at most sqrt(m(1 - m)/n) for a mean m of values within [0, 1] (the Bhatia-Davis bound;
 * exact for an error ratio). A clearly worse candidate still fails on its first window.
 */
export interface VersionFigures {
  /** Requests the version took in the window. */
  requests: number;
  /** Their share that failed (5xx). */
  errorRatio: number;
  /** 95th percentile of their latency, in seconds (NaN without requests). */
  p95Seconds: number;
  /** Mean probability of the digits it answered (NaN without answers). */
  meanConfidence: number;
}

export interface Bounds {
  /** Requests each side needs in a window before it is judged. */
  minRequests: number;
  /** How much higher the candidate's error ratio may be (absolute). */
  maxErrorRatioIncrease: number;
  /** How many times the stable p95 the candidate's may be... */
  maxLatencyRatio: number;
  /** ...plus this, in seconds (a few milliseconds is noise, not a regression). */
  latencySlackSeconds: number;
  /** How much lower the candidate's mean confidence may be (absolute). */
  maxConfidenceDrop: number;
}

export type Verdict = { kind: 'pass' | 'wait' | 'fail'; reason: string };

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Three standard errors of the difference of two means of values within [0, 1], at most. */
export function noiseMargin(a: { mean: number; n: number }, b: { mean: number; n: number }): number {
  const variance = ({ mean, n }: { mean: number; n: number }) => (n > 0 ? Math.max(0, mean * (1 - mean)) / n : 0);
  return 3 * Math.sqrt(variance(a) + variance(b));
}
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

export function judge(stable: VersionFigures, candidate: VersionFigures, bounds: Bounds): Verdict {
  if (candidate.requests < bounds.minRequests) {
    return {
      kind: 'wait',
      reason: `the candidate took ${Math.round(candidate.requests)} requests, fewer than ${bounds.minRequests}`,
    };
  }
  // A failing candidate is judged on its own errors as soon as it has enough requests.
  const stableKnown = stable.requests >= bounds.minRequests;
  const errorLimit =
    (stableKnown ? stable.errorRatio : 0) +
    bounds.maxErrorRatioIncrease +
    noiseMargin(
      { mean: candidate.errorRatio, n: candidate.requests },
      stableKnown ? { mean: stable.errorRatio, n: stable.requests } : { mean: 0, n: 0 },
    );
  if (candidate.errorRatio > errorLimit) {
    return {
      kind: 'fail',
      reason: `error ratio ${pct(candidate.errorRatio)} above ${pct(errorLimit)} (stable ${pct(stable.errorRatio)})`,
    };
  }
  if (!stableKnown) {
    return {
      kind: 'wait',
      reason: `stable took ${Math.round(stable.requests)} requests, fewer than ${bounds.minRequests}`,
    };
  }
  const latencyLimit = stable.p95Seconds * bounds.maxLatencyRatio + bounds.latencySlackSeconds;
  if (candidate.p95Seconds > latencyLimit) {
    return {
      kind: 'fail',
      reason: `p95 latency ${ms(candidate.p95Seconds)} above ${ms(latencyLimit)} (stable ${ms(stable.p95Seconds)})`,
    };
  }
  const confidenceLimit =
    stable.meanConfidence -
    bounds.maxConfidenceDrop -
    noiseMargin(
      { mean: candidate.meanConfidence, n: candidate.requests },
      { mean: stable.meanConfidence, n: stable.requests },
    );
  if (candidate.meanConfidence < confidenceLimit) {
    return {
      kind: 'fail',
      reason: `mean confidence ${candidate.meanConfidence.toFixed(4)} below ${confidenceLimit.toFixed(4)} (stable ${stable.meanConfidence.toFixed(4)})`,
    };
  }
  return {
    kind: 'pass',
    reason: `within bounds: errors ${pct(candidate.errorRatio)} vs ${pct(stable.errorRatio)}, p95 ${ms(candidate.p95Seconds)} vs ${ms(stable.p95Seconds)}, confidence ${candidate.meanConfidence.toFixed(4)} vs ${stable.meanConfidence.toFixed(4)}`,
  };
}
