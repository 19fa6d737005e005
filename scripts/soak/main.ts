/**
 * Entry point of scripts/soak.sh: steady load on one replica for a long time, its resident memory,
 * heap, live tensors and p99 sampled every interval, and a verdict on whether memory grows.
 */
import { parseArgs } from 'node:util';
import { runLoad } from '../../devkit/loadgen/driver.ts';
import { parseDuration, UsageError } from '../load/options.ts';
import { mnistDigits } from '../../devkit/loadgen/payloads.ts';
import { scrape } from '../../devkit/prometheus-text.ts';
import { spawnReplica, type ReplicaProcess } from '../../devkit/replica-process.ts';
import { memoryTrend } from './trend.ts';

const USAGE = `Usage: scripts/soak.sh [options]

Steady load on one replica; every interval prints requests, p99, resident memory, heap and live
tensors, then judges whether memory stays flat after the warm-up. Exit 1 when it grows.

  --duration D     how long, e.g. 600, 90s or 10m (default 10m)
  --interval D     one sample per interval (default 60s)
  --rate R         requests per second, open loop (default 200)
  --bad SHARE      share of deliberately bad requests (default 0.05: error paths must not leak either)
  --target URL     soak a running replica (with --metrics); default: start one on free ports
  --metrics URL    that replica's /metrics
  --json           print the summary as one JSON line last
  --help           this text
`;

interface Sample {
  minute: number;
  requests: number;
  ok: number;
  p99_ms: number;
  rss_mib: number;
  heap_mib: number;
  tensors: number;
}

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10m' },
      interval: { type: 'string', default: '60s' },
      rate: { type: 'string', default: '200' },
      bad: { type: 'string', default: '0.05' },
      target: { type: 'string' },
      metrics: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help' as const;
  const duration = parseDuration('duration', values.duration);
  const interval = parseDuration('interval', values.interval);
  const rate = Number(values.rate);
  const bad = Number(values.bad);
  if (!(rate > 0)) throw new UsageError(`--rate must be a positive number, got "${values.rate}"`);
  if (!(bad >= 0 && bad <= 1)) throw new UsageError(`--bad must be from 0 to 1, got "${values.bad}"`);
  if (interval > duration) throw new UsageError('--interval must not be longer than --duration');
  if (Boolean(values.target) !== Boolean(values.metrics)) throw new UsageError('--target and --metrics go together');
  return { ...values, duration, interval, rate, bad };
}

async function vitals(metricsUrl: string): Promise<{ rss: number; heap: number; tensors: number }> {
  const found = await scrape(metricsUrl, [
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
    'mnist_tfjs_tensors',
  ]);
  return {
    rss: found.process_resident_memory_bytes ?? 0,
    heap: found.nodejs_heap_size_used_bytes ?? 0,
    tensors: found.mnist_tfjs_tensors ?? 0,
  };
}

const MiB = 1024 * 1024;
const round = (v: number, digits = 1) => Number(v.toFixed(digits));

async function main(): Promise<number> {
  let opts: Exclude<ReturnType<typeof options>, 'help'>;
  try {
    const parsed = options();
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    opts = parsed;
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof TypeError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  let own: ReplicaProcess | undefined;
  if (!opts.target) own = await spawnReplica({ REPLICA: 'soak' });
  const target = opts.target ?? own!.url;
  const metricsUrl = opts.metrics ?? own!.metricsUrl;
  try {
    const digits = await mnistDigits(500);
    const intervals = Math.max(1, Math.round(opts.duration / opts.interval));
    const samples: Sample[] = [];
    console.error(`soak: ${target} at ${opts.rate} req/s for ${opts.duration} s, a sample every ${opts.interval} s`);
    console.error('minute  requests      ok   p99 ms   rss MiB  heap MiB  tensors');
    for (let i = 0; i < intervals; i++) {
      const summary = await runLoad(
        {
          targets: [target],
          weights: [1],
          durationSeconds: opts.interval,
          requests: null,
          rateAt: () => opts.rate,
          concurrency: 256,
          mix: { multipart: 1, raw: 1, json: 1 },
          badShare: opts.bad,
          seed: i + 1,
        },
        digits,
      );
      const v = await vitals(metricsUrl);
      const s: Sample = {
        minute: round(((i + 1) * opts.interval) / 60, 2),
        requests: summary.total.requests,
        ok: summary.total.ok,
        p99_ms: summary.total.latency_ms.p99,
        rss_mib: round(v.rss / MiB),
        heap_mib: round(v.heap / MiB),
        tensors: v.tensors,
      };
      samples.push(s);
      console.error(
        `${s.minute.toFixed(2).padStart(6)}  ${String(s.requests).padStart(8)}  ${String(s.ok).padStart(6)}  ${s.p99_ms.toFixed(1).padStart(7)}  ${s.rss_mib.toFixed(1).padStart(8)}  ${s.heap_mib.toFixed(1).padStart(8)}  ${String(s.tensors).padStart(7)}`,
      );
    }
    const rss = memoryTrend(samples.map((s) => [s.minute, s.rss_mib]));
    const heap = memoryTrend(samples.map((s) => [s.minute, s.heap_mib]));
    const settled = samples.slice(rss.warmup);
    const tensorsFlat = settled.every((s) => s.tensors === settled[0]!.tensors);
    const flat = rss.flat && tensorsFlat;
    console.error(
      `rss after warm-up: ${rss.slopePerMinute >= 0 ? '+' : ''}${rss.slopePerMinute} MiB/min (drift ${rss.drift} MiB, noise ${rss.noise} MiB): ${rss.flat ? 'flat' : 'GROWING'}; live tensors ${tensorsFlat ? 'constant' : 'CHANGING'}`,
    );
    if (opts.json) {
      console.log(
        JSON.stringify({
          target,
          rate: opts.rate,
          seconds: opts.duration,
          interval_s: opts.interval,
          samples,
          rss,
          heap,
          tensors_constant: tensorsFlat,
          flat,
        }),
      );
    }
    return flat ? 0 : 1;
  } finally {
    await own?.stop();
  }
}

process.exitCode = await main();
