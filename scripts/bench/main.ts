/**
 * `npm run bench`: one replica under a real 1-CPU limit (cgroup v1 CFS quota), driven from outside
 * the limit at concurrency 1, 8, 32 and 128, with micro-batching off and on; and, in the same run,
 * the in-process limit (decode + normalise + infer per image at the best batch size) under the
 * same quota.
 * Prints a table; the last line is one JSON object with the figures.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { runLoad } from '../load/driver.ts';
import { mnistDigits } from '../load/payloads.ts';
import { sample } from '../lib/prometheus-text.ts';
import { spawnReplica } from '../lib/replica-process.ts';
import { createCpuGroup, type CpuGroup } from './cpu-cgroup.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '1,8,32,128' },
    cpus: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const levels = values.concurrency.split(',').map(Number);
const cpus = Number(values.cpus);

/** Runs limit.ts as a child inside the CPU quota and returns its best figure. */
async function inProcessLimit(group: CpuGroup): Promise<{ batch: number; perSecond: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/limit.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  group.add(child.pid!);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`limit measurement exited with ${String(code)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as { batch: number; perSecond: number };
}

async function batchTotals(metricsUrl: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(metricsUrl)).text();
  return {
    sum: sample(text, 'mnist_inference_batch_size_sum') ?? 0,
    count: sample(text, 'mnist_inference_batch_size_count') ?? 0,
  };
}

const digits = await mnistDigits(512);
const group = createCpuGroup(`mnist-bench-${process.pid}`, cpus);
const runs: {
  batching: string;
  concurrency: number;
  requests_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  mean_batch: number;
  non_200: number;
}[] = [];
let limit: { batch: number; perSecond: number };
try {
  limit = await inProcessLimit(group);
  console.error(`in-process limit: ${limit.perSecond.toFixed(0)} images/s at batch ${limit.batch}`);
  for (const [batching, batchSize] of [
    ['off', 1],
    ['on', 32],
  ] as const) {
    const replica = await spawnReplica(
      { MAX_BATCH_SIZE: String(batchSize), REPLICA: `bench-${batchSize}`, LOG_LEVEL: 'info' },
      { onSpawn: (pid) => group.add(pid) },
    );
    try {
      for (const concurrency of levels) {
        const plan = {
          targets: [replica.url],
          weights: [1],
          requests: null,
          rateAt: null,
          concurrency,
          mix: { multipart: 0, raw: 1, json: 0 },
          badShare: 0,
          seed: 1,
        };
        await runLoad({ ...plan, durationSeconds: 2 }, digits); // warm-up
        const before = await batchTotals(replica.metricsUrl);
        const summary = await runLoad({ ...plan, durationSeconds: seconds }, digits);
        const after = await batchTotals(replica.metricsUrl);
        const t = summary.total;
        runs.push({
          batching,
          concurrency,
          requests_per_s: Math.round(t.throughput_per_s),
          p50_ms: t.latency_ms.p50,
          p95_ms: t.latency_ms.p95,
          p99_ms: t.latency_ms.p99,
          mean_batch: Number(((after.sum - before.sum) / Math.max(1, after.count - before.count)).toFixed(2)),
          non_200: t.requests - t.ok,
        });
        console.error(
          `batching ${batching}, c=${concurrency}: ${Math.round(t.throughput_per_s)} req/s, p50 ${t.latency_ms.p50} ms`,
        );
      }
    } finally {
      await replica.stop();
    }
  }
} finally {
  group.remove();
}

const find = (batching: string, c: number) => runs.find((r) => r.batching === batching && r.concurrency === c);
console.log('batching  concurrency   req/s   p50 ms   p95 ms   p99 ms  mean batch  non-200');
for (const r of runs) {
  console.log(
    `${r.batching.padEnd(8)}  ${String(r.concurrency).padStart(11)}  ${String(r.requests_per_s).padStart(6)}  ${r.p50_ms.toFixed(2).padStart(7)}  ${r.p95_ms.toFixed(2).padStart(7)}  ${r.p99_ms.toFixed(2).padStart(7)}  ${r.mean_batch.toFixed(2).padStart(10)}  ${String(r.non_200).padStart(7)}`,
  );
}
const on32 = find('on', 32);
const off32 = find('off', 32);
console.log(
  JSON.stringify({
    cpus,
    limit_per_s: Math.round(limit.perSecond),
    limit_best_batch: limit.batch,
    runs,
    served_per_s: on32?.requests_per_s ?? null,
    served_per_s_over_limit_per_s: on32 ? Number((on32.requests_per_s / limit.perSecond).toFixed(3)) : null,
    batching_speedup_c32: on32 && off32 ? Number((on32.requests_per_s / off32.requests_per_s).toFixed(2)) : null,
    p50_delta_c1_ms:
      find('on', 1) && find('off', 1) ? Number((find('on', 1)!.p50_ms - find('off', 1)!.p50_ms).toFixed(3)) : null,
  }),
);
