/**
 * `npm run bench:budget`: where a replica's CPU goes, per request. The service built as its image
 * runs it, started with V8's sampling profiler (`--cpu-prof`) under a 1-CPU quota on the default
 * settings, is warmed up, then loaded with the seed's request form (a multipart form with one
 * 28x28 PNG) at c=32. Over the measured window: the CPU each of its threads used (/proc, the
 * kernel's account), the requests served, the batch sizes formed, and the main thread's profile
 * samples, charged to stages (cpu-stages.ts). The main thread's CPU is split in the profile's
 * proportions; the other threads (V8's collector helpers, libuv's pool, workers) are listed by
 * name; the rows sum to the process's CPU per request (the profiler's own thread left out). Prints
 * a table; the last line is one JSON object.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../../devkit/cli.ts';
import { runLoad } from '../../devkit/loadgen/driver.ts';
import { mnistDigits } from '../../devkit/loadgen/payloads.ts';
import { spawnReplica } from '../../devkit/replica-process.ts';
import { STAGES, STAGE_NAMES, stageTimes, type CpuProfile } from './cpu-stages.ts';
import { batchTotals, HEADLINE_CONCURRENCY, JIT_WARM_UP_SECONDS, loadPlan } from './measure.ts';
import { quota } from './processes.ts';
import { buildService, buildServiceAt } from './shipped-build.ts';

const USAGE = `Usage: npm run bench:budget [-- options]

Profiles one replica (the image's build, default settings, a 1-CPU quota) under multipart load at
c=32 and prints its CPU per request by stage. Needs root and a cgroup hierarchy with a cpu controller.

  --seconds N   length of the measured window (default 20)
  --cpus N      CPU quota of the replica, in cores (default 1)
  --top N       also list the N functions with the most CPU of their own (default 0)
  --build REF   profile the service as built from git revision REF instead of this tree
  --help        this text
`;
const values = parseCli(USAGE, {
  seconds: { type: 'string', default: '20' },
  cpus: { type: 'string', default: '1' },
  top: { type: 'string', default: '0' },
  build: { type: 'string', default: '' },
});
const seconds = Number(values.seconds);
/** The thread V8's sampling profiler records on (its name, as Linux truncates it). */
const PROFILER_THREAD = 'v8:ProfEvntProc';
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU microseconds of each live thread of `pid`, by thread id, with its name. */
function threadCpu(pid: number): Map<string, { name: string; us: number }> {
  const out = new Map<string, { name: string; us: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { name, us: (Number(fields[11]) + Number(fields[12])) * TICK_US });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const build = values.build ? buildServiceAt(values.build) : buildService();
const digits = await mnistDigits(512);
const group = quota('budget', Number(values.cpus));
const profileDir = mkdtempSync(join(tmpdir(), 'mnist-budget-'));
try {
  const replica = await spawnReplica(
    // The defaults, logging included (spawnReplica's own default is warn).
    { ...build.env, REPLICA: 'bench-budget', LOG_LEVEL: 'info' },
    {
      command: [
        ...build.nodeFlags,
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        '--cpu-prof-interval=250',
        build.command.at(-1)!,
      ],
      onSpawn: (pid) => group.add(pid),
    },
  );
  const pid = replica.child.pid!;
  console.error(`warming the replica up for ${JIT_WARM_UP_SECONDS} s`);
  await runLoad(loadPlan(replica, HEADLINE_CONCURRENCY, JIT_WARM_UP_SECONDS), digits);
  const batchesBefore = await batchTotals(replica.metricsUrl);
  const threadsBefore = threadCpu(pid);
  const from = nowUs();
  const load = (await runLoad(loadPlan(replica, HEADLINE_CONCURRENCY, seconds), digits)).total;
  const to = nowUs();
  const threadsAfter = threadCpu(pid);
  const batchesAfter = await batchTotals(replica.metricsUrl);
  await replica.stop();
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the replica wrote no CPU profile');
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;

  // The kernel's account of each thread over the window; the main thread's id is the process's.
  // The profiler's own thread is the measurement's cost, not the replica's: left out.
  const used = new Map<string, number>();
  let mainUs = 0;
  let profilerUs = 0;
  for (const [tid, after] of threadsAfter) {
    const us = after.us - (threadsBefore.get(tid)?.us ?? 0);
    if (tid === String(pid)) mainUs = us;
    else if (after.name === PROFILER_THREAD) profilerUs += us;
    else used.set(after.name, (used.get(after.name) ?? 0) + us);
  }
  const requests = load.ok;
  const perRequest = (us: number) => Number((us / requests).toFixed(1));
  const { byStage, total: sampledUs, frames } = stageTimes(profile, from, to);
  const rows: { stage: string; us_per_request: number }[] = STAGES.map((stage) => ({
    stage: STAGE_NAMES[stage],
    us_per_request: perRequest((mainUs * byStage[stage]) / sampledUs),
  }));
  for (const [name, us] of [...used].sort((a, b) => b[1] - a[1])) {
    rows.push({ stage: `thread ${name}`, us_per_request: perRequest(us) });
  }
  const processUs = mainUs + [...used.values()].reduce((a, b) => a + b, 0);
  const summed = rows.reduce((a, r) => a + r.us_per_request, 0);
  const result = {
    build: values.build || 'this tree',
    requests,
    failed: load.requests - load.ok,
    requests_per_s: Math.round(load.throughput_per_s),
    p99_ms: load.latency_ms.p99,
    mean_batch: Number(
      ((batchesAfter.sum - batchesBefore.sum) / (batchesAfter.count - batchesBefore.count)).toFixed(2),
    ),
    cpu_us_per_request: perRequest(processUs),
    rows_sum_us_per_request: Number(summed.toFixed(1)),
    main_thread_us_per_request: perRequest(mainUs),
    profiler_thread_us_per_request: perRequest(profilerUs),
    // How much of the window's main-thread time the profile's samples cover (throttled time, when
    // the quota stops the process, falls into the sample before it, so this may exceed 1).
    profile_coverage: Number((sampledUs / mainUs).toFixed(2)),
    rows,
  };
  const width = Math.max(...rows.map((r) => r.stage.length));
  console.log(
    `CPU per request at c=${HEADLINE_CONCURRENCY}, multipart, ${values.cpus} CPU: ${result.cpu_us_per_request} us`,
  );
  for (const row of rows) {
    const share = ((100 * row.us_per_request) / result.cpu_us_per_request).toFixed(1);
    console.log(`  ${row.stage.padEnd(width)}  ${String(row.us_per_request).padStart(7)} us  ${share.padStart(5)}%`);
  }
  console.log(
    `${requests} requests at ${result.requests_per_s} req/s, mean batch ${result.mean_batch}, p99 ${result.p99_ms} ms; ` +
      `the profiler's own thread, left out: ${result.profiler_thread_us_per_request} us per request`,
  );
  const top = [...frames].sort((a, b) => b[1].us - a[1].us).slice(0, Number(values.top));
  for (const [name, { us, stage }] of top) {
    console.log(
      `  ${perRequest((mainUs * us) / sampledUs)
        .toFixed(1)
        .padStart(7)} us  ${stage.padEnd(9)}  ${name}`,
    );
  }
  console.log(JSON.stringify(result));
} finally {
  group.remove();
  rmSync(profileDir, { recursive: true, force: true });
}
