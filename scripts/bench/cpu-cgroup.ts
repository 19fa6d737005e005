/**
 * A real CPU limit without Docker: a cgroup v1 `cpu` group with a CFS quota, the same mechanism
 * `docker run --cpus N` uses. Needs root and a writable /sys/fs/cgroup/cpu.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

export interface CpuGroup {
  path: string;
  add(pid: number): void;
  remove(): void;
}

export function createCpuGroup(name: string, cpus: number): CpuGroup {
  if (!existsSync(join(ROOT, 'cgroup.procs'))) {
    throw new Error(
      `no cgroup v1 cpu hierarchy at ${ROOT}: run the benchmark as root on cgroup v1, or use docker run --cpus`,
    );
  }
  const path = join(ROOT, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
  writeFileSync(join(path, 'cpu.cfs_quota_us'), String(Math.round(cpus * PERIOD_US)));
  return {
    path,
    add: (pid) => writeFileSync(join(path, 'cgroup.procs'), String(pid)),
    remove: () => {
      try {
        rmdirSync(path);
      } catch {
        // still has processes: left for the kernel to clean up once they exit
      }
    },
  };
}
