/**
 * `npm run bench:healthchecks`: the CPU one health check costs each service of the running compose
 * cluster, in its own container's cgroup (where it counts against a CPU limit). Each service's own
 * health-check command runs `--checks` times through `docker exec`; the container's CPU counter
 * (cgroup v1 cpuacct.usage or v2 cpu.stat) before and after, less what the container used in as long
 * a pause without checks, over the number of checks. Docker runs a check the same way (an exec in
 * the container), so the exec itself counts too; it is measured alone (`true`) and the probe's own
 * share is the difference. Prints a table and, last, one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fail, parseCli } from '../../devkit/cli.ts';

const USAGE = `Usage: npm run bench:healthchecks [-- --checks N]

Measures the CPU of one health check of each running service of the compose cluster
(docker compose up first), in its container's cgroup. Needs read access to /sys/fs/cgroup.

  --checks N   health checks per service (default 20)
  --help       this text
`;

const { checks: checksArg } = parseCli(USAGE, { checks: { type: 'string', default: '20' } });
const checks = Number(checksArg);
if (!Number.isInteger(checks) || checks < 1) fail(USAGE, `--checks must be a positive integer, not ${checksArg}`);

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

/** The container's CPU time so far, in seconds, from its cgroup (v1 cpuacct or v2 cpu.stat). */
function cpuSeconds(id: string): number {
  const v1 = [
    `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
    `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
  ];
  for (const path of v1) if (existsSync(path)) return Number(readFileSync(path, 'utf8')) / 1e9;
  for (const path of [
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${id}/cpu.stat`,
  ]) {
    if (existsSync(path)) return Number(/usage_usec (\d+)/.exec(readFileSync(path, 'utf8'))![1]) / 1e6;
  }
  throw new Error(`no cgroup CPU counter found for container ${id.slice(0, 12)}`);
}

/** CPU seconds the container spends per run of `command` through docker exec, idle use subtracted. */
function perRun(id: string, command: string[]): number {
  const before = cpuSeconds(id);
  const started = Date.now();
  for (let i = 0; i < checks; i++) sh('docker', ['exec', id, ...command]);
  const spent = cpuSeconds(id) - before;
  // What the container does anyway (scrapes, evaluation) over as long a time.
  const idleBefore = cpuSeconds(id);
  execFileSync('sleep', [String((Date.now() - started) / 1000)]);
  return (spent - (cpuSeconds(id) - idleBefore)) / checks;
}

const ms = (seconds: number) => Number((seconds * 1000).toFixed(1));
const rows: { service: string; check: string; check_ms: number; exec_ms: number; probe_ms: number }[] = [];
for (const service of sh('docker', ['compose', 'ps', '--services', '--status', 'running'])
  .split('\n')
  .filter(Boolean)) {
  const id = sh('docker', ['compose', 'ps', '-q', service]);
  const test = JSON.parse(sh('docker', ['inspect', '-f', '{{json .Config.Healthcheck.Test}}', id])) as string[] | null;
  if (!test || test[0] === 'NONE') continue;
  const command = test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test[1]!] : test.slice(1);
  const check = perRun(id, command);
  const exec = perRun(id, ['true']);
  rows.push({ service, check: command.join(' '), check_ms: ms(check), exec_ms: ms(exec), probe_ms: ms(check - exec) });
}
console.log('service         check ms  exec ms  probe ms  command');
for (const r of rows) {
  const cells = [r.check_ms, r.exec_ms, r.probe_ms].map((v) => String(v).padStart(8));
  console.log(`${r.service.padEnd(14)} ${cells.join(' ')}  ${r.check}`);
}
console.log(JSON.stringify({ checks, services: rows }));
