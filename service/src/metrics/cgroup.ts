/**
 * The container's own resource limits and throttling, read from the cgroup filesystem (v1 and
 * v2). A value the kernel does not limit (v2 "max", v1 quota -1) is absent, never zero, so a
 * dashboard cannot mistake "no limit" for "no CPU".
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupStats {
  version: 1 | 2;
  cpuLimitCores?: number;
  cpuPeriods?: number;
  cpuThrottledPeriods?: number;
  cpuThrottledSeconds?: number;
  memoryLimitBytes?: number;
}

/** v1 reports "unlimited" memory as a page-aligned value near 2^63. */
const V1_UNLIMITED = 2 ** 60;

/** Lines of "<key> <whole number>" (cpu.stat, memory.stat); any other line is skipped. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const pair = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (pair) out.set(pair[1]!, Number(pair[2]));
  }
  return out;
}

/** Cores from a CFS quota and period: undefined for no limit (v1 -1, v2 "max") or anything unreadable. */
function cores(quota: number, period: number): number | undefined {
  const limit = quota / period;
  return Number.isFinite(limit) && limit > 0 ? limit : undefined;
}

/** v2 `cpu.max`: "<quota> <period>", or "max <period>". */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  return cores(Number(quota), Number(period));
}

/**
 * The cgroup path of this process for a v1 controller, or for the v2 unified hierarchy (its line
 * alone has no controllers). Lines are "<id>:<controllers>:<path>"; the path may hold colons.
 */
export function ownCgroupPath(procSelfCgroup: string, controller: string | null): string | undefined {
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, ...path] = line.split(':');
    if (path.length === 0) continue;
    if (controller === null ? controllers === '' : controllers!.split(',').includes(controller)) return path.join(':');
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch /* Stryker disable next-line BlockStatement: an empty catch returns undefined as well */ {
    return undefined;
  }
}

/** A key-value file (cpu.stat), empty when absent. */
function readKeyValues(file: string): Map<string, number> {
  // Stryker disable next-line StringLiteral: any text without "<key> <number>" lines parses to nothing
  return parseKeyValues(readOptional(file) ?? '');
}

/**
 * Finds the first directory holding `file`: the process's own cgroup below the mount (as on a
 * host), then the mount's root (as inside a container, where the own cgroup is mounted there).
 */
function locate(mount: string, ownPath: string | undefined, file: string): string | undefined {
  for (const dir of [ownPath ? join(mount, ownPath) : undefined, mount]) {
    if (dir && readOptional(join(dir, file)) !== undefined) return dir;
  }
  return undefined;
}

/**
 * Finds the cgroup directories under `root` (normally "/"; tests pass a fixture tree) once, and
 * returns a reader of their current values. The reader returns null when there is no cgroup
 * filesystem at all.
 */
export function cgroupReader(root = '/'): () => CgroupStats | null {
  // Stryker disable next-line StringLiteral: a text without colons names no cgroup either
  const procCgroup = readOptional(join(root, 'proc/self/cgroup')) ?? '';
  const fs = join(root, 'sys/fs/cgroup');

  const v2dir = locate(fs, ownCgroupPath(procCgroup, null), 'cgroup.controllers');
  if (v2dir) return () => readV2(v2dir);

  const cpuMount = ['cpu,cpuacct', 'cpu']
    .map((d) => join(fs, d))
    .find((d) => readOptional(join(d, 'cpu.cfs_period_us')) !== undefined);
  const memMount = join(fs, 'memory');
  if (!cpuMount && readOptional(join(memMount, 'memory.limit_in_bytes')) === undefined) return () => null;
  const cpuDir = cpuMount && locate(cpuMount, ownCgroupPath(procCgroup, 'cpu'), 'cpu.cfs_quota_us');
  const memDir = locate(memMount, ownCgroupPath(procCgroup, 'memory'), 'memory.limit_in_bytes');
  return () => readV1(cpuDir, memDir);
}

/** The limits under `root` as they are now. */
export function readCgroupStats(root?: string): CgroupStats | null {
  return cgroupReader(root)();
}

function readV2(dir: string): CgroupStats {
  const stats: CgroupStats = { version: 2 };
  const cpuMax = readOptional(join(dir, 'cpu.max'));
  if (cpuMax !== undefined) stats.cpuLimitCores = parseCpuMax(cpuMax);
  const cpuStat = readKeyValues(join(dir, 'cpu.stat'));
  if (cpuStat.has('nr_periods')) {
    stats.cpuPeriods = cpuStat.get('nr_periods');
    stats.cpuThrottledPeriods = cpuStat.get('nr_throttled');
    stats.cpuThrottledSeconds = (cpuStat.get('throttled_usec') ?? 0) / 1e6;
  }
  const memMax = readOptional(join(dir, 'memory.max'))?.trim();
  if (memMax && memMax !== 'max') stats.memoryLimitBytes = Number(memMax);
  return stats;
}

function readV1(cpuDir: string | undefined, memDir: string | undefined): CgroupStats {
  const stats: CgroupStats = { version: 1 };
  if (cpuDir) {
    const limit = cores(
      Number(readOptional(join(cpuDir, 'cpu.cfs_quota_us'))),
      Number(readOptional(join(cpuDir, 'cpu.cfs_period_us'))),
    );
    if (limit !== undefined) stats.cpuLimitCores = limit;
    const cpuStat = readKeyValues(join(cpuDir, 'cpu.stat'));
    if (cpuStat.has('nr_periods')) {
      stats.cpuPeriods = cpuStat.get('nr_periods');
      stats.cpuThrottledPeriods = cpuStat.get('nr_throttled');
      stats.cpuThrottledSeconds = (cpuStat.get('throttled_time') ?? 0) / 1e9;
    }
  }
  const memLimit = memDir ? Number(readOptional(join(memDir, 'memory.limit_in_bytes'))) : NaN;
  if (memLimit > 0 && memLimit < V1_UNLIMITED) stats.memoryLimitBytes = memLimit;
  return stats;
}
