/**
 * The load the replicas report, read from Prometheus's HTTP API (plain fetch, the answer checked
 * against a schema): requests in flight per replica, averaged over a window, for each replica with
 * a current sample (a replica Prometheus cannot scrape has none, and is left out, not taken as
 * idle); the highest it was over a longer span; and the time of the newest sample, so that a
 * Prometheus that answers but no longer scrapes is seen as stale.
 */
import { z } from 'zod';
import type { Observation } from './policy.ts';

const vector = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});

const SERIES = 'mnist_inflight_requests{job="mnist"}';

/** The PromQL of the load per replica over `windowS`, only for replicas with a current sample. */
export const loadQuery = (windowS: number) => `avg_over_time(${SERIES}[${windowS}s]) and ${SERIES}`;
const PEAK_STEP_S = 2;
/** The highest that load was over the last `peakS` (a subquery, a point every PEAK_STEP_S), for the same replicas. */
export const recentPeakQuery = (windowS: number, peakS: number) =>
  `max_over_time((avg_over_time(${SERIES}[${windowS}s]))[${Math.max(peakS, windowS)}s:${PEAK_STEP_S}s]) and ${SERIES}`;
export const newestSampleQuery = `max(timestamp(${SERIES}))`;

export interface LoadSource {
  url: string;
  windowS: number;
  /** How far back the recent peak reaches (the down-cooldown). */
  peakS: number;
  /** Sent as the Authorization header when set. */
  authorization?: string;
  timeoutMs?: number;
}

async function instant(source: LoadSource, query: string) {
  const url = new URL('api/v1/query', source.url.endsWith('/') ? source.url : `${source.url}/`);
  url.searchParams.set('query', query);
  const response = await fetch(url, {
    headers: source.authorization ? { authorization: source.authorization } : {},
    signal: AbortSignal.timeout(source.timeoutMs ?? 3000),
  });
  if (!response.ok) throw new Error(`Prometheus answered ${response.status}`);
  return vector.parse(await response.json()).data.result.map((r) => Number(r.value[1]));
}

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
