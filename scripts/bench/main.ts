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
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runLoad } from '../../devkit/loadgen/driver.ts';
import { INPUT_FORMS, mnistDigits, type InputForm } from '../../devkit/loadgen/payloads.ts';
import { spawnReplica, type ReplicaProcess } from '../../devkit/replica-process.ts';
import type { Balancer } from '../../devkit/haproxy.ts';
import type { CpuGroup } from '../../devkit/cpu-cgroup.ts';
import { builds, COMPARISONS, cpus, levels, models, nodes, seconds, slices, type Compared } from './options.ts';
import {
  EVERY_FORM,
  HEADLINE_CONCURRENCY,
  inTurn,
  JIT_WARM_UP_SECONDS,
  loadPlan,
  measure,
  ONLY,
  settle,
  slice,
  SLICE_SECONDS,
  type Batching,
  type Run,
} from './measure.ts';
import { balancerFor, limitProcess, quota, type LimitFigure } from './processes.ts';
import { report, type Slice } from './report.ts';
import { buildService } from './shipped-build.ts';

const build = buildService();
const digits = await mnistDigits(512);
// One quota each, as each container has its own: the tail of one process's work (a collection
// after its slice) must not eat into the next slice of another.
const groups = {
  off: quota('off', cpus),
  on: quota('on', cpus),
  limit: quota('limit', cpus),
  ceiling: quota('ceiling', cpus),
};
const comparedGroups = Object.fromEntries(COMPARISONS.map(({ what }) => [what, quota(what, cpus)]));
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
  for (const { what, env, node, command } of COMPARISONS) {
    others.push([
      what,
      await start(
        comparedGroups[what]!,
        { ...replicaEnv('on', 32), ...env, REPLICA: `bench-other-${what}` },
        command ?? build.command,
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
  // The load balancer's cost: HAProxy in front of the batching replica, on the generator's core.
  const lb = (balancer = await balancerFor('bench-on', pair.on.url));
  for (const concurrency of levels) {
    for (const batching of ['off', 'on'] as const) {
      const run = await measure(pair[batching], batching, concurrency, seconds, digits);
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
    const rate = async (target: { url: string }, form: InputForm = 'multipart') =>
      Math.round((await slice(target, digits, form)).throughput_per_s);
    for (let s = 0; s < slices; s++) {
      const off_per_s = await rate(pair.off);
      // The forms take turns at going first: the first slice after a process's idle pause is the
      // slowest, and a fixed order would charge that to one form.
      const on = await inTurn(s, INPUT_FORMS, (form) => rate(pair.on, form));
      const ceil = await inTurn(s, ['multipart', 'raw'] as const, (form) => rate(ceiling, form));
      const [on_per_s, on_raw_per_s, on_json_per_s] = [on.multipart, on.raw, on.json];
      const [ceiling_per_s, ceiling_raw_per_s] = [ceil.multipart, ceil.raw];
      const ways = { direct: pair.on, lb, https: lb.https };
      const via = await inTurn(s, ['direct', 'lb', 'https'] as const, (way) => slice(ways[way], digits));
      const compared: Slice['compared'] = {};
      for (const [what, other] of others) {
        const turns = await inTurn(s, ['this', 'other'] as const, (n) => slice(n === 'this' ? pair.on : other, digits));
        compared[what] = {
          this_per_s: Math.round(turns.this.throughput_per_s),
          other_per_s: Math.round(turns.other.throughput_per_s),
          this_p99_ms: turns.this.latency_ms.p99,
          other_p99_ms: turns.other.latency_ms.p99,
        };
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
        lb_https_per_s: Math.round(via.https.throughput_per_s),
        lb_https_p50_ms: via.https.latency_ms.p50,
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
report({ cpus, limitBestBatch: best!.batch, runs, interleaved, comparisons: COMPARISONS, nodes, models, builds });
