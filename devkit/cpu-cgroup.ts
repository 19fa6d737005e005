/**
 * A real CPU limit without Docker: a cgroup with a CFS quota, the same mechanism `docker run
 * --cpus N` uses. On cgroup v1, a group in the `cpu` hierarchy (cpu.cfs_quota_us); on cgroup v2
 * (most machines today), a group under the unified hierarchy's root with `cpu.max`, the root's
 * `cpu` controller enabled for its children. Needs root.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PERIOD_US = 100_000;

export interface CpuGroup {
  path: string;
  version: 1 | 2;
  add(pid: number): void;
  remove(): void;
}

/** Where cgroups live: the v1 `cpu` hierarchy or the v2 unified one, under `fsRoot`. */
export function cpuHierarchy(fsRoot = '/sys/fs/cgroup'): { version: 1 | 2; root: string } {
  if (existsSync(join(fsRoot, 'cgroup.controllers'))) return { version: 2, root: fsRoot };
  if (existsSync(join(fsRoot, 'cpu', 'cgroup.procs'))) return { version: 1, root: join(fsRoot, 'cpu') };
  throw new Error(
    `no cgroup hierarchy with a cpu controller under ${fsRoot} (neither v2's cgroup.controllers nor v1's cpu/): ` +
      'run as root on Linux, or use docker run --cpus',
  );
}

export function createCpuGroup(name: string, cpus: number, fsRoot = '/sys/fs/cgroup'): CpuGroup {
  const { version, root } = cpuHierarchy(fsRoot);
  const quota = Math.round(cpus * PERIOD_US);
  const path = join(root, name);
  if (version === 2) {
    const available = readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/);
    if (!available.includes('cpu')) {
      throw new Error(
        `the cgroup v2 hierarchy at ${root} has no cpu controller (cgroup.controllers: ${available.join(' ')})`,
      );
    }
    const enabled = readFileSync(join(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    if (!enabled.includes('cpu')) writeFileSync(join(root, 'cgroup.subtree_control'), '+cpu');
  }
  mkdirSync(path, { recursive: true });
  if (version === 2) {
    writeFileSync(join(path, 'cpu.max'), `${quota} ${PERIOD_US}`);
  } else {
    writeFileSync(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(path, 'cpu.cfs_quota_us'), String(quota));
  }
  return {
    path,
    version,
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
