/**
 * The load the replicas report, read from Prometheus's HTTP API (plain fetch, the answer checked
 * against a schema): requests in flight per replica, averaged over a window, for each replica with
 * a current sample (a replica Prometheus cannot scrape has none, and is left out, not taken as
 * idle); the highest it was over a longer span; and the time of the newest sample, so that a
 * Prometheus that answers but no longer scrapes is seen as stale.
 */
import type { Observation } from './policy.ts';
import { instantVector, type PrometheusSource } from './prometheus-query.ts';

const SERIES = 'mnist_inflight_requests{job="mnist"}';

/** The PromQL of the load per replica over `windowS`, only for replicas with a current sample. */
export const loadQuery = (windowS: number) => `avg_over_time(${SERIES}[${windowS}s]) and ${SERIES}`;
const PEAK_STEP_S = 2;
/** The highest that load was over the last `peakS` (a subquery, a point every PEAK_STEP_S), for the same replicas. */
export const recentPeakQuery = (windowS: number, peakS: number) =>
  `max_over_time((avg_over_time(${SERIES}[${windowS}s]))[${Math.max(peakS, windowS)}s:${PEAK_STEP_S}s]) and ${SERIES}`;
export const newestSampleQuery = `max(timestamp(${SERIES}))`;

export interface LoadSource extends PrometheusSource {
  windowS: number;
  /** How far back the recent peak reaches (the down-cooldown). */
  peakS: number;
}

const instant = async (source: LoadSource, query: string) => (await instantVector(source, query)).map((s) => s.value);

export async function observeLoad(source: LoadSource): Promise<Observation> {
  try {
    const [perReplica, recentPeak, newest] = await Promise.all([
      instant(source, loadQuery(source.windowS)),
      instant(source, recentPeakQuery(source.windowS, source.peakS)),
      instant(source, newestSampleQuery),
    ]);
    // No series at all: nothing to date it by; the policy holds on an empty answer.
    return { kind: 'load', perReplica, recentPeak, sampledAt: newest[0] === undefined ? Date.now() : newest[0] * 1000 };
  } catch (error) {
    return { kind: 'unavailable', error: error instanceof Error ? error.message : String(error) };
  }
}
