/**
 * `npm run bench`: two replicas (micro-batching off and on), built as the image builds them, each
 * under its own real 1-CPU limit (a cgroup CFS quota, v1 or v2, what `docker run --cpus 1` sets) and
 * driven from outside it; under a third such quota, the in-process limit (decode + normalise +
 * infer per image at the best batch size, no HTTP), and under a fourth, the HTTP ceiling: the same
 * decoder, batcher, engine and multipart parser behind plain `node:http`.
 *
 * Requests are what users send: a multipart form with one 28x28 PNG (curl -F, Python's requests,
 * browsers) is the headline form; the same digit as a raw image/png body and as JSON pixels are
 * measured beside it. The machine's speed drifts by tens of percent within a minute, so figures
 * are only compared with figures measured beside them: the sweep alternates off and on at each
 * level, and the headline ratios come from two-second slices of every process and form,
 * interleaved, reported as medians with their min-max spread. Each slice also measures the limit
 * beside the load generator, to show how much a busy neighbour core slows this one, and the
 * batching replica once directly and once through HAProxy with the project's configuration (the
 * load balancer's cost in throughput and p50). The replicas
 * are warmed up first, until V8 has optimised their hot paths. Prints two tables; the last line is
 * one JSON object with the figures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { runLoad, type LoadPlan } from '../../devkit/loadgen/driver.ts';
import { INPUT_FORMS, mnistDigits, type InputForm } from '../../devkit/loadgen/payloads.ts';
import { scrape } from '../../devkit/prometheus-text.ts';
import { spawnReplica, type ReplicaProcess } from '../../devkit/replica-process.ts';
import { fail, parseCli } from '../../devkit/cli.ts';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import { createCpuGroup, type CpuGroup } from '../../devkit/cpu-cgroup.ts';
import { DEFAULT_MODEL_DIR, readModelCard } from '../../service/src/index.ts';
import { buildService, type ShippedBuild } from './shipped-build.ts';

const USAGE = `Usage: npm run bench [-- options]

Builds the service as its image runs it, starts replicas (batching on and off), the in-process
limit and the plain node:http ceiling, each under a CPU quota of its own, and measures them with
one 28x28 PNG per request: a sweep over concurrency levels with multipart forms, then interleaved
slices at c=32 of multipart, raw and JSON requests and of the replica through the load balancer,
each ratio with its min-max spread. Needs root, a cgroup hierarchy with a cpu controller (v1 or v2) and haproxy. The last line printed is one JSON object.

  --seconds N        length of each sweep step (default 8)
  --concurrency L    comma-separated sweep levels (default 1,8,32,128)
  --cpus N           CPU quota of each process, in cores (default 1)
  --slices N         interleaved slices per process at c=32 (default 8)
  --compare-node BIN also run the batching replica on another Node.js binary (say an older
                     release's), in turns with this one in every slice: other_node_over_this_node
  --compare-model DIR
                     also run the batching replica on another model (say service/models/v1), in
                     turns with the default one in every slice: other_model_over_default_model
  --help             this text
`;
const values = parseCli(USAGE, {
  seconds: { type: 'string', default: '8' },
  concurrency: { type: 'string', default: '1,8,32,128' },
  cpus: { type: 'string', default: '1' },
  slices: { type: 'string', default: '8' },
  'compare-node': { type: 'string', default: '' },
  'compare-model': { type: 'string', default: '' },
});
const compareNode = values['compare-node'];
const compareModel = values['compare-model'];
/** The batching replica again, changed in one way, measured in turns with it in every slice. */
interface Comparison {
  what: 'node' | 'model';
  env: Record<string, string>;
  node?: string;
}
const COMPARISONS: Comparison[] = [
  ...(compareNode ? [{ what: 'node' as const, env: {}, node: compareNode }] : []),
  ...(compareModel ? [{ what: 'model' as const, env: { MODEL_DIR: resolve(compareModel) } }] : []),
];
type Compared = Comparison['what'];
/** Both models by name and version, read before anything starts: a wrong directory fails at once. */
const modelName = async (dir: string) => {
  const card = await readModelCard(dir);
  return `${card.name}@${card.version}`;
};
const models = compareModel
  ? {
      this: await modelName(DEFAULT_MODEL_DIR),
      other: await modelName(resolve(compareModel)).catch((err: Error) =>
        fail(USAGE, `--compare-model must be a model directory: ${err.message}`),
      ),
    }
  : undefined;
const nodes = compareNode
  ? { this: process.version, other: execFileSync(compareNode, ['--version'], { encoding: 'utf8' }).trim() }
  : undefined;
const seconds = Number(values.seconds);
const levels = values.concurrency.split(',').map(Number);
const cpus = Number(values.cpus);
const slices = Number(values.slices);
const HEADLINE_CONCURRENCY = 32;
const SLICE_SECONDS = 2;
// Under a 1-CPU quota V8's compiler threads share the replica's CPU, and it takes about 40 s of
// load before they have optimised the hot paths (served req/s rises by half over that time).
const JIT_WARM_UP_SECONDS = 40;

type Batching = 'off' | 'on';
/** Requests (or, for the limit, images) per second in one slice; multipart unless named. */
type Slice = {
  limit_per_s: number;
  limit_beside_load_per_s: number;
  off_per_s: number;
  on_per_s: number;
  on_raw_per_s: number;
  on_json_per_s: number;
  ceiling_per_s: number;
  ceiling_raw_per_s: number;
  /** The batching replica with multipart, directly and through HAProxy, in turns. */
  lb_direct_per_s: number;
  lb_per_s: number;
  lb_direct_p50_ms: number;
  lb_p50_ms: number;
  /** With --compare-node / --compare-model: the batching replica as it is and changed, in turns. */
  compared?: Partial<Record<Compared, { this_per_s: number; other_per_s: number }>>;
};
type LimitFigure = { batch: number; perSecond: number };

interface Run {
  batching: Batching;
  concurrency: number;
  requests_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  mean_batch: number;
  non_200: number;
}

/** limit.ts as a child inside the CPU quota, read line by line. */
function limitProcess(group: CpuGroup, build: ShippedBuild, args: string[]) {
  const child = spawn(
    process.execPath,
    [
      ...build.nodeFlags,
      '--import',
      'tsx',
      'scripts/bench/limit.ts',
      '--service',
      build.entry,
      '--model',
      build.modelDir,
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  group.add(child.pid!);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async next(): Promise<string> {
      const line = await lines.next();
      if (line.done) throw new Error('the limit measurement exited early');
      return line.value;
    },
    /** One slice of `ms` (with --serve). */
    async slice(ms: number): Promise<LimitFigure> {
      child.stdin!.write(`${ms}\n`);
      return JSON.parse(await this.next()) as LimitFigure;
    },
    stop: () => child.kill(),
  };
}

/** Multipart is what users send (curl -F, Python's requests, browsers): the headline form. */
const ONLY: Record<InputForm, LoadPlan['mix']> = {
  multipart: { multipart: 1, raw: 0, json: 0 },
  raw: { multipart: 0, raw: 1, json: 0 },
  json: { multipart: 0, raw: 0, json: 1 },
};
const EVERY_FORM = { multipart: 1, raw: 1, json: 1 };

const loadPlan = (
  replica: Pick<ReplicaProcess, 'url'>,
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
});

async function batchTotals(metricsUrl: string): Promise<{ sum: number; count: number }> {
  const found = await scrape(metricsUrl, ['mnist_inference_batch_size_sum', 'mnist_inference_batch_size_count']);
  return { sum: found.mnist_inference_batch_size_sum ?? 0, count: found.mnist_inference_batch_size_count ?? 0 };
}

/** Closed-loop load at one concurrency, after a warm-up; the figures of the measured part. */
async function measure(replica: ReplicaProcess, batching: Batching, concurrency: number): Promise<Run> {
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

const round3 = (x: number) => Number(x.toFixed(3));

/** Measures each item, starting from the `turn`-th (modulo the count), and returns them by name. */
async function inTurn<K extends string, V>(turn: number, items: readonly K[], measure: (item: K) => Promise<V>) {
  const out = {} as Record<K, V>;
  for (let i = 0; i < items.length; i++) {
    const item = items[(turn + i) % items.length]!;
    out[item] = await measure(item);
  }
  return out;
}
/** A pause between slices, for the previous slice's stragglers and collections to finish. */
const settle = () => new Promise((r) => setTimeout(r, 500));

const build = buildService();
const digits = await mnistDigits(512);
// One quota each, as each container has its own: the tail of one process's work (a collection
// after its slice) must not eat into the next slice of another.
const groups = {
  off: createCpuGroup(`mnist-bench-${process.pid}-off`, cpus),
  on: createCpuGroup(`mnist-bench-${process.pid}-on`, cpus),
  limit: createCpuGroup(`mnist-bench-${process.pid}-limit`, cpus),
  ceiling: createCpuGroup(`mnist-bench-${process.pid}-ceiling`, cpus),
};
const comparedGroups = Object.fromEntries(
  COMPARISONS.map(({ what }) => [what, createCpuGroup(`mnist-bench-${process.pid}-${what}`, cpus)]),
);
const runs: Run[] = [];
const interleaved: Slice[] = [];
const replicas: ReplicaProcess[] = [];
let balancer: Balancer | undefined;
let best: LimitFigure;
try {
  best = JSON.parse(await limitProcess(groups.limit, build, ['--batches', '1,8,16,32,64']).next()) as LimitFigure;
  console.error(`in-process limit: ${best.perSecond.toFixed(0)} images/s at best batch ${best.batch}`);
  // Each server in its own quota, with the image's environment: the replicas, then the ceiling.
  const start = (group: CpuGroup, env: Record<string, string>, command = build.command, node?: string) =>
    spawnReplica({ ...build.env, ...env }, { command, node, onSpawn: (pid) => group.add(pid) }).then((replica) => {
      replicas.push(replica);
      return replica;
    });
  const replicaEnv = (batching: Batching, size: number) => ({
    MAX_BATCH_SIZE: String(size),
    REPLICA: `bench-${batching}`,
    LOG_LEVEL: 'info',
  });
  const pair = { off: await start(groups.off, replicaEnv('off', 1)), on: await start(groups.on, replicaEnv('on', 32)) };
  const others: [Compared, ReplicaProcess][] = [];
  for (const { what, env, node } of COMPARISONS) {
    others.push([
      what,
      await start(
        comparedGroups[what]!,
        { ...replicaEnv('on', 32), ...env, REPLICA: `bench-other-${what}` },
        build.command,
        node,
      ),
    ]);
  }
  console.error(`warming the replicas up for ${JIT_WARM_UP_SECONDS} s`);
  await Promise.all(
    [pair.off, pair.on, ...others.map(([, r]) => r)].map((r) =>
      runLoad(loadPlan(r, HEADLINE_CONCURRENCY, JIT_WARM_UP_SECONDS, EVERY_FORM), digits),
    ),
  );
  const ceiling = await start(groups.ceiling, {}, [
    ...build.nodeFlags,
    '--import',
    'tsx',
    'scripts/bench/http-ceiling.ts',
    '--service',
    build.entry,
  ]);
  console.error(`warming the HTTP ceiling up for ${JIT_WARM_UP_SECONDS} s`);
  const ceilingForms = { multipart: 1, raw: 1, json: 0 };
  await runLoad(loadPlan(ceiling, HEADLINE_CONCURRENCY, JIT_WARM_UP_SECONDS, ceilingForms), digits);
  // The load balancer's cost: HAProxy with the project's configuration in front of the batching
  // replica, outside the quotas (as in compose, where it has no CPU limit), on the generator's core.
  if (!haveHaproxy())
    throw new Error('the bench measures the load balancer: install haproxy (apt-get install haproxy)');
  const lb = (balancer = await startBalancer({ 'bench-on': pair.on.url.replace('http://', '') }));
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${lb.url}/readyz`).catch(() => undefined);
    if (res?.ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const concurrency of levels) {
    for (const batching of ['off', 'on'] as const) {
      const run = await measure(pair[batching], batching, concurrency);
      runs.push(run);
      console.error(`batching ${batching}, c=${concurrency}: ${run.requests_per_s} req/s, p50 ${run.p50_ms} ms`);
    }
  }

  const limit = limitProcess(groups.limit, build, ['--serve', '--batches', String(best.batch)]);
  // The load generator's own work, answered by a server that does nothing, in this process: on a
  // VM whose cores contend on the host, a busy neighbour core slows the limit's core, and a served
  // replica always has its load generator beside it. An upper bound of that effect, as this
  // stand-in's work adds to the generator's.
  const sink = createServer((req, res) => req.resume().on('end', () => res.end('{}')));
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkTarget = { url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}` };
  try {
    await limit.next(); // warmed up
    for (const [replica, mix] of [
      [pair.off, ONLY.multipart],
      [pair.on, EVERY_FORM],
      [ceiling, ceilingForms],
      // The compared replicas too, or the first of their turns would meet them colder than pair.on.
      ...others.map(([, other]) => [other, ONLY.multipart] as const),
    ] as const) {
      await runLoad(loadPlan(replica, HEADLINE_CONCURRENCY, 2, mix), digits);
    }
    const slice = async (target: { url: string }, form: InputForm = 'multipart') => {
      await settle();
      const { total } = await runLoad(loadPlan(target, HEADLINE_CONCURRENCY, SLICE_SECONDS, ONLY[form]), digits);
      // A server that failed fast or answered nonsense would look fast: all 200, the model's accuracy.
      if (total.ok !== total.requests || (total.accuracy ?? 0) < 0.9) {
        throw new Error(`${target.url}: ${JSON.stringify(total.by_status)}, accuracy ${total.accuracy}`);
      }
      return total;
    };
    const rate = async (target: { url: string }, form: InputForm = 'multipart') =>
      Math.round((await slice(target, form)).throughput_per_s);
    for (let s = 0; s < slices; s++) {
      const off_per_s = await rate(pair.off);
      // The forms take turns at going first: the first slice after a process's idle pause is the
      // slowest, and a fixed order would charge that to one form.
      const on = await inTurn(s, INPUT_FORMS, (form) => rate(pair.on, form));
      const ceil = await inTurn(s, ['multipart', 'raw'] as const, (form) => rate(ceiling, form));
      const [on_per_s, on_raw_per_s, on_json_per_s] = [on.multipart, on.raw, on.json];
      const [ceiling_per_s, ceiling_raw_per_s] = [ceil.multipart, ceil.raw];
      const via = await inTurn(s, ['direct', 'lb'] as const, (way) => slice(way === 'lb' ? lb : pair.on));
      const compared: Slice['compared'] = {};
      for (const [what, other] of others) {
        const turns = await inTurn(s, ['this', 'other'] as const, (n) => rate(n === 'this' ? pair.on : other));
        compared[what] = { this_per_s: turns.this, other_per_s: turns.other };
      }
      await settle();
      const limit_per_s = Math.round((await limit.slice(SLICE_SECONDS * 1000)).perSecond);
      await settle();
      const beside = runLoad(loadPlan(sinkTarget, HEADLINE_CONCURRENCY, SLICE_SECONDS + 0.5, ONLY.raw), digits);
      await new Promise((r) => setTimeout(r, 250));
      const limit_beside_load_per_s = Math.round((await limit.slice(SLICE_SECONDS * 1000)).perSecond);
      await beside;
      interleaved.push({
        limit_per_s,
        limit_beside_load_per_s,
        off_per_s,
        on_per_s,
        on_raw_per_s,
        on_json_per_s,
        ceiling_per_s,
        ceiling_raw_per_s,
        lb_direct_per_s: Math.round(via.direct.throughput_per_s),
        lb_per_s: Math.round(via.lb.throughput_per_s),
        lb_direct_p50_ms: via.direct.latency_ms.p50,
        lb_p50_ms: via.lb.latency_ms.p50,
        ...(others.length > 0 ? { compared } : {}),
      });
    }
  } finally {
    limit.stop();
    sink.close();
  }
} finally {
  await balancer?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  for (const group of [...Object.values(groups), ...Object.values(comparedGroups)]) group.remove();
}

const find = (batching: Batching, c: number) => runs.find((r) => r.batching === batching && r.concurrency === c);
console.log('batching  concurrency   req/s   p50 ms   p95 ms   p99 ms  mean batch  non-200');
for (const r of runs) {
  console.log(
    `${r.batching.padEnd(8)}  ${String(r.concurrency).padStart(11)}  ${String(r.requests_per_s).padStart(6)}  ${r.p50_ms.toFixed(2).padStart(7)}  ${r.p95_ms.toFixed(2).padStart(7)}  ${r.p99_ms.toFixed(2).padStart(7)}  ${r.mean_batch.toFixed(2).padStart(10)}  ${String(r.non_200).padStart(7)}`,
  );
}
// Medians of the per-slice ratios: a slice that a burst of the machine's noise hits alone (one
// of its parts) moves a median less than it moves a ratio of sums.
function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
}
const medianOf = (pick: (p: Slice) => number) => median(interleaved.map(pick));
/** The headline ratios, each a per-slice ratio reported as its median and its min-max spread. */
const RATIOS: [name: string, header: string, pick: (p: Slice) => number][] = [
  ['served_per_s_over_limit_per_s', 'on/limit', (p) => p.on_per_s / p.limit_per_s],
  ['ceiling_over_limit', 'ceiling/limit', (p) => p.ceiling_per_s / p.limit_per_s],
  ['served_over_ceiling', 'on/ceiling', (p) => p.on_per_s / p.ceiling_per_s],
  ['served_raw_over_ceiling_raw', 'raw on/ceiling', (p) => p.on_raw_per_s / p.ceiling_raw_per_s],
  ['multipart_over_raw', 'mp/raw', (p) => p.on_per_s / p.on_raw_per_s],
  ['json_over_raw', 'json/raw', (p) => p.on_json_per_s / p.on_raw_per_s],
  ['batching_speedup_c32', 'on/off', (p) => p.on_per_s / p.off_per_s],
  ['limit_beside_load_over_limit', 'beside/limit', (p) => p.limit_beside_load_per_s / p.limit_per_s],
  ['lb_over_direct', 'lb/direct', (p) => p.lb_per_s / p.lb_direct_per_s],
  ['lb_p50_over_direct_p50', 'lb p50/direct', (p) => p.lb_p50_ms / p.lb_direct_p50_ms],
  ...COMPARISONS.map(
    ({ what }) =>
      [
        what === 'node' ? 'other_node_over_this_node' : 'other_model_over_default_model',
        `${what} other/this`,
        (p: Slice) => p.compared![what]!.other_per_s / p.compared![what]!.this_per_s,
      ] satisfies [string, string, (p: Slice) => number],
  ),
];
const RATES: [header: string, pick: (p: Slice) => number][] = [
  ['limit/s', (p) => p.limit_per_s],
  ['beside load', (p) => p.limit_beside_load_per_s],
  ['off', (p) => p.off_per_s],
  ['on', (p) => p.on_per_s],
  ['on raw', (p) => p.on_raw_per_s],
  ['on json', (p) => p.on_json_per_s],
  ['ceiling', (p) => p.ceiling_per_s],
  ['ceiling raw', (p) => p.ceiling_raw_per_s],
  ['direct', (p) => p.lb_direct_per_s],
  ['via lb', (p) => p.lb_per_s],
  ['p50 direct', (p) => p.lb_direct_p50_ms],
  ['p50 lb', (p) => p.lb_p50_ms],
];
const spread = (pick: (p: Slice) => number) => {
  const values = interleaved.map(pick);
  return [Math.min(...values), Math.max(...values)] as const;
};
// Per-slice rates, then per-slice ratios; below them each ratio's median and spread.
const cell = (header: string, v: number | null) =>
  (v === null ? '' : Number.isInteger(v) ? String(v) : v.toFixed(3)).padStart(header.length);
const headers = [...RATES.map(([header]) => header), ...RATIOS.map(([, header]) => header)];
console.log(`\nc=${HEADLINE_CONCURRENCY}, multipart unless named`);
console.log(`slice   ${headers.join('  ')}`);
interleaved.forEach((p, i) =>
  console.log(
    `${String(i + 1).padStart(6)}  ${[...RATES.map(([h, pick]) => cell(h, pick(p))), ...RATIOS.map(([, h, pick]) => cell(h, pick(p)))].join('  ')}`,
  ),
);
const summaryRow = (label: string, of: (pick: (p: Slice) => number) => number) =>
  console.log(
    `${label.padEnd(6)}  ${[...RATES.map(([h]) => cell(h, null)), ...RATIOS.map(([, h, pick]) => cell(h, of(pick)))].join('  ')}`,
  );
summaryRow('median', medianOf);
summaryRow('min', (pick) => spread(pick)[0]);
summaryRow('max', (pick) => spread(pick)[1]);
const on1 = find('on', 1);
const off1 = find('off', 1);
console.log(
  JSON.stringify({
    cpus,
    limit_best_batch: best!.batch,
    runs,
    interleaved,
    limit_per_s: Math.round(medianOf((p) => p.limit_per_s)),
    served_per_s: Math.round(medianOf((p) => p.on_per_s)),
    served_raw_per_s: Math.round(medianOf((p) => p.on_raw_per_s)),
    served_json_per_s: Math.round(medianOf((p) => p.on_json_per_s)),
    limit_beside_load_per_s: Math.round(medianOf((p) => p.limit_beside_load_per_s)),
    ceiling_per_s: Math.round(medianOf((p) => p.ceiling_per_s)),
    ceiling_raw_per_s: Math.round(medianOf((p) => p.ceiling_raw_per_s)),
    lb_per_s: Math.round(medianOf((p) => p.lb_per_s)),
    lb_p50_ms: round3(medianOf((p) => p.lb_p50_ms)),
    lb_direct_p50_ms: round3(medianOf((p) => p.lb_direct_p50_ms)),
    ...Object.fromEntries(RATIOS.map(([name, , pick]) => [name, round3(medianOf(pick))])),
    ranges: Object.fromEntries(RATIOS.map(([name, , pick]) => [name, spread(pick).map(round3)])),
    p50_delta_c1_ms: on1 && off1 ? round3(on1.p50_ms - off1.p50_ms) : null,
    ...(nodes ? { nodes } : {}),
    ...(models ? { models } : {}),
  }),
);
