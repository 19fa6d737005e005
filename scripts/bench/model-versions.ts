/**
 * `npm run bench:versions`: what each model version a replica loads costs it. A replica process
 * (this tree, under tsx, on wasm) is started with 1 to 4 versions (v2; v2 and v1; then copies of
 * them under other names from a temporary repository), `--runs` times each: the time from spawn to
 * /readyz (load, warm-up and the known-digit check of every version) and the resident memory once
 * ready. Prints a table of medians and the cost of each version over the one before, then one
 * JSON line.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail, parseCli } from '../../devkit/cli.ts';
import { freePorts } from '../../devkit/free-port.ts';
import { SHIPPED_MODELS_DIR } from '../../service/src/index.ts';

const USAGE = `Usage: npm run bench:versions [-- --runs N]

Starts replica processes serving 1 to 4 model versions and reports, per count, the median
start-up time (spawn to /readyz) and resident memory once ready.

  --runs N   processes per count (default 3)
  --help     this text
`;
const { runs: runsArg } = parseCli(USAGE, { runs: { type: 'string', default: '3' } });
const runs = Number(runsArg);
if (!Number.isInteger(runs) || runs < 1) fail(USAGE, `--runs must be a positive integer, not ${runsArg}`);

const repository = mkdtempSync(join(tmpdir(), 'versions-bench-'));
for (const [name, from] of [
  ['v1', 'v1'],
  ['v2', 'v2'],
  ['v1b', 'v1'],
  ['v2b', 'v2'],
]) {
  cpSync(join(SHIPPED_MODELS_DIR, from!), join(repository, name!), { recursive: true });
}
const SETS = [['v2'], ['v2', 'v1'], ['v2', 'v1', 'v2b'], ['v2', 'v1', 'v2b', 'v1b']];

async function startOnce(versions: string[]): Promise<{ seconds: number; rssMb: number }> {
  const [port, metricsPort] = await freePorts(2);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'service/src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      BACKEND: 'wasm',
      LOG_LEVEL: 'warn',
      MODEL_REPOSITORY: repository,
      MODEL_DIR: join(repository, 'v2'),
      MODEL_VERSIONS: versions.join(','),
    },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null) throw new Error(`the replica exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
    return { seconds, rssMb: rssKb / 1024 };
  } finally {
    child.kill('SIGKILL');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: { versions: number; start_s: number; rss_mb: number }[] = [];
try {
  for (let run = 0; run < runs; run++) {
    // Interleaved, so that a busy moment of the machine does not fall on one count only.
    for (const set of SETS) {
      const { seconds, rssMb } = await startOnce(set);
      rows.push({ versions: set.length, start_s: seconds, rss_mb: rssMb });
    }
  }
} finally {
  rmSync(repository, { recursive: true, force: true });
}
const byCount = SETS.map((set) => {
  const mine = rows.filter((r) => r.versions === set.length);
  return {
    versions: set.join('+'),
    start_s: Number(median(mine.map((r) => r.start_s)).toFixed(2)),
    rss_mb: Number(median(mine.map((r) => r.rss_mb)).toFixed(1)),
  };
});
console.log('versions          start-up (s)   RSS ready (MB)   + per version');
byCount.forEach((r, i) => {
  const prev = byCount[i - 1];
  const extra = prev ? `+${(r.start_s - prev.start_s).toFixed(2)} s, +${(r.rss_mb - prev.rss_mb).toFixed(1)} MB` : '';
  console.log(`${r.versions.padEnd(18)}${String(r.start_s).padEnd(15)}${String(r.rss_mb).padEnd(17)}${extra}`);
});
console.log(JSON.stringify({ bench: 'versions', runs, results: byCount }));
