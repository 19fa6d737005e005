/**
 * `npm run bench:autoscale-signal`: which signal tells an autoscaler how far a replica is over its
 * capacity. One replica under a 1-CPU quota; its capacity measured first (closed loop, 32 in
 * flight); then open-loop load at shares of that capacity, a few seconds each, while its metrics
 * port is read every 100 ms. Per share: requests in flight and queue depth (means), the share of
 * CPU periods throttled, p99 latency and the share answered 429. Needs root (the CPU quota).
 */
import { parseCli } from '../../devkit/cli.ts';
import { createCpuGroup } from '../../devkit/cpu-cgroup.ts';
import { runLoad, type LoadPlan } from '../../devkit/loadgen/driver.ts';
import { mnistDigits } from '../../devkit/loadgen/payloads.ts';
import { sample } from '../../devkit/prometheus-text.ts';
import { spawnReplica } from '../../devkit/replica-process.ts';

const USAGE = `Usage: npm run bench:autoscale-signal [-- --seconds S --shares 0.25,0.5,...]

  --seconds S   seconds of load per share (default 6)
  --shares L    offered load as shares of the measured capacity (default 0.25,0.5,0.75,0.9,1.1,1.5,2,3)
  --help        this text
`;
const { seconds, shares } = parseCli(USAGE, {
  seconds: { type: 'string', default: '6' },
  shares: { type: 'string', default: '0.25,0.5,0.75,0.9,1.1,1.5,2,3' },
});

const digits = await mnistDigits(512);
const group = createCpuGroup('mnist-bench-signal', 1);
const replica = await spawnReplica({ REPLICA: 'signal' }, { onSpawn: (pid) => group.add(pid) });

const plan = (target: string, durationSeconds: number, rate: number | null, concurrency: number): LoadPlan => ({
  targets: [target],
  weights: [1],
  durationSeconds,
  requests: null,
  rateAt: rate === null ? null : () => rate,
  concurrency,
  mix: { multipart: 1, raw: 0, json: 0 },
  badShare: 0,
  seed: 7,
});

/** Means of the gauges over the run, and the throttled share of CPU periods from the counters. */
async function watched<T>(run: () => Promise<T>) {
  const read = async () => {
    const text = await (await fetch(replica.metricsUrl)).text();
    const value = (name: string) => sample(text, name, { replica: 'signal' }) ?? 0;
    return {
      inFlight: value('mnist_inflight_requests'),
      queued: value('mnist_inference_queue_depth'),
      periods: value('mnist_container_cpu_periods_total'),
      throttled: value('mnist_container_cpu_throttled_periods_total'),
    };
  };
  const first = await read();
  const samples: Awaited<ReturnType<typeof read>>[] = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      samples.push(await read());
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const result = await run();
  running = false;
  await sampler;
  const last = samples.at(-1) ?? first;
  const mean = (f: (s: (typeof samples)[number]) => number) => samples.reduce((a, s) => a + f(s), 0) / samples.length;
  return {
    result,
    inFlight: mean((s) => s.inFlight),
    queued: mean((s) => s.queued),
    throttledShare: (last.throttled - first.throttled) / Math.max(1, last.periods - first.periods),
  };
}

try {
  // Warm, then the capacity: the rate a full closed loop gets.
  await runLoad(plan(replica.url, 4, null, 32), digits);
  const capacity = (await runLoad(plan(replica.url, 5, null, 32), digits)).total.throughput_per_s;
  console.error(`capacity: ${capacity.toFixed(0)} req/s`);
  const rows = [];
  for (const share of shares.split(',').map(Number)) {
    const rate = share * capacity;
    const seen = await watched(() => runLoad(plan(replica.url, Number(seconds), rate, 1024), digits));
    const total = seen.result.total;
    rows.push({
      share,
      offered_per_s: Math.round(rate),
      served_per_s: Math.round((total.by_status['200'] ?? 0) / Number(seconds)),
      in_flight: Number(seen.inFlight.toFixed(1)),
      queue_depth: Number(seen.queued.toFixed(1)),
      throttled_share: Number(seen.throttledShare.toFixed(2)),
      p99_ms: total.latency_ms.p99,
      shed_429_share: Number(((total.by_status['429'] ?? 0) / Math.max(1, total.requests)).toFixed(3)),
    });
    console.error(JSON.stringify(rows.at(-1)));
  }
  console.log(JSON.stringify({ bench: 'autoscale-signal', capacity_per_s: Math.round(capacity), rows }));
} finally {
  await replica.stop();
  group.remove();
}
