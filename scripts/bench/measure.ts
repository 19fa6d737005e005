/** How the bench loads a server and reads what it did: plans, slices, turns and the sweep's runs. */
import { runLoad, type LoadPlan } from '../../devkit/loadgen/driver.ts';
import type { EncodedDigit, InputForm } from '../../devkit/loadgen/payloads.ts';
import { scrape } from '../../devkit/prometheus-text.ts';
import type { ReplicaProcess } from '../../devkit/replica-process.ts';

export const HEADLINE_CONCURRENCY = 32;
export const SLICE_SECONDS = 2;
// Under a 1-CPU quota V8's compiler threads share the replica's CPU, and it takes about 40 s of
// load before they have optimised the hot paths (served req/s rises by half over that time).
export const JIT_WARM_UP_SECONDS = 40;

export type Batching = 'off' | 'on';

export interface Run {
  batching: Batching;
  concurrency: number;
  requests_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  mean_batch: number;
  non_200: number;
}

/** Multipart is what users send (curl -F, Python's requests, browsers): the headline form. */
export const ONLY: Record<InputForm, LoadPlan['mix']> = {
  multipart: { multipart: 1, raw: 0, json: 0 },
  raw: { multipart: 0, raw: 1, json: 0 },
  json: { multipart: 0, raw: 0, json: 1 },
};
export const EVERY_FORM = { multipart: 1, raw: 1, json: 1 };

export const loadPlan = (
  replica: Pick<ReplicaProcess, 'url'> & { ca?: string },
  concurrency: number,
  durationSeconds: number,
  mix: LoadPlan['mix'] = ONLY.multipart,
): LoadPlan => ({
  targets: [replica.url],
  weights: [1],
  durationSeconds,
  requests: null,
  rateAt: null,
  concurrency,
  mix,
  badShare: 0,
  seed: 1,
  ...(replica.ca ? { ca: replica.ca } : {}),
});

/** The replica's running totals of inputs per model run (its batch-size histogram). */
export async function batchTotals(metricsUrl: string): Promise<{ sum: number; count: number }> {
  const found = await scrape(metricsUrl, ['mnist_inference_batch_size_sum', 'mnist_inference_batch_size_count']);
  return { sum: found.mnist_inference_batch_size_sum ?? 0, count: found.mnist_inference_batch_size_count ?? 0 };
}

/** Closed-loop load at one concurrency, after a warm-up; the figures of the measured part. */
export async function measure(
  replica: ReplicaProcess,
  batching: Batching,
  concurrency: number,
  seconds: number,
  digits: EncodedDigit[],
): Promise<Run> {
  await runLoad(loadPlan(replica, concurrency, 2), digits);
  const before = await batchTotals(replica.metricsUrl);
  const t = (await runLoad(loadPlan(replica, concurrency, seconds), digits)).total;
  const after = await batchTotals(replica.metricsUrl);
  return {
    batching,
    concurrency,
    requests_per_s: Math.round(t.throughput_per_s),
    p50_ms: t.latency_ms.p50,
    p95_ms: t.latency_ms.p95,
    p99_ms: t.latency_ms.p99,
    mean_batch: Number(((after.sum - before.sum) / Math.max(1, after.count - before.count)).toFixed(2)),
    non_200: t.requests - t.ok,
  };
}

/** Measures each item, starting from the `turn`-th (modulo the count), and returns them by name. */
export async function inTurn<K extends string, V>(turn: number, items: readonly K[], measure: (item: K) => Promise<V>) {
  const out = {} as Record<K, V>;
  for (let i = 0; i < items.length; i++) {
    const item = items[(turn + i) % items.length]!;
    out[item] = await measure(item);
  }
  return out;
}
/** A pause between slices, for the previous slice's stragglers and collections to finish. */
export const settle = () => new Promise((r) => setTimeout(r, 500));

/**
 * One slice of closed-loop load at the headline concurrency. A server that failed fast or answered
 * nonsense would look fast: every answer must be a 200 at the model's accuracy.
 */
export async function slice(
  target: { url: string; ca?: string },
  digits: EncodedDigit[],
  form: InputForm = 'multipart',
) {
  await settle();
  const { total } = await runLoad(loadPlan(target, HEADLINE_CONCURRENCY, SLICE_SECONDS, ONLY[form]), digits);
  if (total.ok !== total.requests || (total.accuracy ?? 0) < 0.9) {
    throw new Error(`${target.url}: ${JSON.stringify(total.by_status)}, accuracy ${total.accuracy}`);
  }
  return total;
}
