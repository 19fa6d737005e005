/**
 * `npm run bench`: one replica under a real 1-CPU limit (cgroup v1 CFS quota), driven from outside
 * the limit at concurrency 1, 8, 32 and 128, with micro-batching off and on; and, in the same run,
 * the in-process limit (decode + normalise + infer per image at the best batch size, one core).
 * Prints a table; the last line is one JSON object with the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createEngine } from '../../service/src/engine/engine.ts';
import { DEFAULT_MODEL_DIR } from '../../service/src/engine/model-card.ts';
import { imageToModelInput } from '../../service/src/imaging/model-input.ts';
import { runLoad } from '../load/driver.ts';
import { mnistDigits, type Digit } from '../load/payloads.ts';
import { freePort } from '../lib/free-port.ts';
import { createCpuGroup } from './cpu-cgroup.ts';

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

/** Decode + normalise + infer per image, in this process (one core), at the best batch size. */
async function inProcessLimit(digits: Digit[]) {
  const engine = await createEngine({ modelDir: DEFAULT_MODEL_DIR, backend: 'auto' });
  let best = { batch: 1, perSecond: 0 };
  for (const batch of [1, 8, 16, 32, 64]) {
    for (let round = 0; round < 2; round++) {
      const t0 = performance.now();
      for (let i = 0; i + batch <= digits.length; i += batch) {
        const inputs = [];
        for (const d of digits.slice(i, i + batch)) inputs.push((await imageToModelInput(d.png, 1e8)).input);
        engine.predict(inputs);
      }
      const perSecond = (Math.floor(digits.length / batch) * batch) / ((performance.now() - t0) / 1000);
      if (round === 1 && perSecond > best.perSecond) best = { batch, perSecond };
    }
  }
  engine.dispose();
  return best;
}

interface Replica {
  child: ChildProcess;
  url: string;
  metricsUrl: string;
}

async function startLimitedReplica(batchSize: number, group: ReturnType<typeof createCpuGroup>): Promise<Replica> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--import', 'tsx', 'service/src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      MAX_BATCH_SIZE: String(batchSize),
      REPLICA: `bench-${batchSize}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  group.add(child.pid!);
  const replica = { child, url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`replica exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`${replica.url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return replica;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('replica not ready after 30 s');
}

async function batchTotals(metricsUrl: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: value('mnist_inference_batch_size_sum'), count: value('mnist_inference_batch_size_count') };
}

const digits = await mnistDigits(512);
const limit = await inProcessLimit(digits);
console.error(`in-process limit: ${limit.perSecond.toFixed(0)} images/s at batch ${limit.batch}`);

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
try {
  for (const [batching, batchSize] of [
    ['off', 1],
    ['on', 32],
  ] as const) {
    const replica = await startLimitedReplica(batchSize, group);
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
      replica.child.kill('SIGTERM');
      await new Promise((r) => replica.child.once('exit', r));
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
