/**
 * The rollout's judgement, pure: the candidate's figures against the stable version's, measured
 * over the same window on the same traffic. The candidate fails at once when its error ratio, its
 * latency or its answers' confidence fall outside the bounds; it passes only with enough requests
 * on both sides to tell.
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
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

export function judge(stable: VersionFigures, candidate: VersionFigures, bounds: Bounds): Verdict {
  if (candidate.requests < bounds.minRequests) {
    return {
      kind: 'wait',
      reason: `the candidate took ${Math.round(candidate.requests)} requests, fewer than ${bounds.minRequests}`,
    };
  }
  // A failing candidate is judged on its own errors as soon as it has enough requests.
  const errorLimit = (stable.requests >= bounds.minRequests ? stable.errorRatio : 0) + bounds.maxErrorRatioIncrease;
  if (candidate.errorRatio > errorLimit) {
    return {
      kind: 'fail',
      reason: `error ratio ${pct(candidate.errorRatio)} above ${pct(errorLimit)} (stable ${pct(stable.errorRatio)})`,
    };
  }
  if (stable.requests < bounds.minRequests) {
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
  const confidenceLimit = stable.meanConfidence - bounds.maxConfidenceDrop;
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
