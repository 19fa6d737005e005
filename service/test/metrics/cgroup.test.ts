import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cpuHierarchy, createCpuGroup } from '../../../devkit/cpu-cgroup.ts';
import {
  ownCgroupPath,
  parseCpuMax,
  parseKeyValues,
  readCgroupStats,
  type CgroupStats,
} from '../../src/metrics/cgroup.ts';

/** Writes a fake root (proc/self/cgroup plus cgroup files) and returns its path. */
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('cgroup readers', () => {
  it('parse cpu.max and /proc/self/cgroup lines', () => {
    assert.equal(parseCpuMax('100000 100000\n'), 1);
    assert.equal(parseCpuMax('150000 100000'), 1.5);
    assert.equal(parseCpuMax('max 100000'), undefined);
    for (const text of ['', '\n', '100000', '0 100000', '-5 100000', 'abc 100000', '100000 0', '100000 x'])
      assert.equal(parseCpuMax(text), undefined, JSON.stringify(text));
    assert.equal(parseCpuMax('  50000   100000  '), 0.5);
    assert.equal(ownCgroupPath('garbage\n3:cpu', 'cpu'), undefined, 'lines without a path are skipped');
    assert.equal(ownCgroupPath('4:cpuset:/a\n5:cpuacct,cpu:/b', 'cpu'), '/b', 'a controller is matched whole');
    assert.equal(ownCgroupPath('1:name=systemd:/c\n0::/d', null), '/d');
    assert.equal(ownCgroupPath('1:cpu:/a', null), undefined, 'no unified line');
    assert.equal(ownCgroupPath('1:name=systemd:/c\n0::/pod:a/x:y', null), '/pod:a/x:y', 'a path may hold colons');
    assert.equal(ownCgroupPath('4:cpu:/k8s:pod', 'cpu'), '/k8s:pod');
    const proc = '12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n0::/system.slice/x.service\n';
    assert.equal(ownCgroupPath(proc, 'cpu'), '/docker/abc');
    assert.equal(ownCgroupPath(proc, 'memory'), '/docker/abc');
    assert.equal(ownCgroupPath(proc, null), '/system.slice/x.service');
  });

  it('parse key-value files (cpu.stat) whatever their spacing, keeping only whole-number values', () => {
    const text =
      'nr_periods 120\n  nr_throttled\t\t7  \nthrottled_usec   250000\nname text\nlonely\n\n-1 5\nneg -3\nfrac 1.5\nthree tokens 5\n';
    assert.deepEqual(
      [...parseKeyValues(text)],
      [
        ['nr_periods', 120],
        ['nr_throttled', 7],
        ['throttled_usec', 250000],
        ['-1', 5],
      ],
    );
    assert.equal(parseKeyValues('').size, 0);
  });

  it('read a cgroup v2 container with a 1-CPU, 512 MiB limit', () => {
    const root = fixture({
      'proc/self/cgroup': '0::/\n',
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory\n',
      'sys/fs/cgroup/cpu.max': '100000 100000\n',
      'sys/fs/cgroup/cpu.stat': 'usage_usec 5000\nnr_periods 40\nnr_throttled 7\nthrottled_usec 350000\n',
      'sys/fs/cgroup/memory.max': '536870912\n',
    });
    assert.deepEqual(readCgroupStats(root), {
      version: 2,
      cpuLimitCores: 1,
      cpuPeriods: 40,
      cpuThrottledPeriods: 7,
      cpuThrottledSeconds: 0.35,
      memoryLimitBytes: 536870912,
    } satisfies CgroupStats);
  });

  it('leave unlimited v2 values absent, not zero', () => {
    const root = fixture({
      'proc/self/cgroup': '0::/\n',
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory\n',
      'sys/fs/cgroup/cpu.max': 'max 100000\n',
      'sys/fs/cgroup/memory.max': 'max\n',
    });
    assert.deepEqual(readCgroupStats(root), { version: 2, cpuLimitCores: undefined });
  });

  it('read the v2 root cgroup, which has no cpu.max, memory.max or CFS counters, as nothing limited', () => {
    const root = fixture({
      'proc/self/cgroup': '0::/\n',
      'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n',
      'sys/fs/cgroup/cpu.stat': 'usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n',
    });
    assert.deepEqual(readCgroupStats(root), { version: 2 });
  });

  it('read a cgroup v1 container (own cgroup mounted at the root) with 0.5 CPU', () => {
    const root = fixture({
      'proc/self/cgroup': '4:cpu,cpuacct:/docker/0123\n9:memory:/docker/0123\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 2500000000\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    });
    assert.deepEqual(readCgroupStats(root), {
      version: 1,
      cpuLimitCores: 0.5,
      cpuPeriods: 10,
      cpuThrottledPeriods: 4,
      cpuThrottledSeconds: 2.5,
    });
  });

  it("read the process's own cgroup below the mount, as on a host, before the mount's root", () => {
    const v2 = fixture({
      'proc/self/cgroup': '0::/system.slice/app.service\n',
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory\n',
      'sys/fs/cgroup/cpu.max': 'max 100000\n',
      'sys/fs/cgroup/system.slice/app.service/cgroup.controllers': 'cpu memory\n',
      'sys/fs/cgroup/system.slice/app.service/cpu.max': '200000 100000\n',
      'sys/fs/cgroup/system.slice/app.service/cpu.stat': 'nr_periods 3\n',
      'sys/fs/cgroup/system.slice/app.service/memory.max': '1048576\n',
    });
    assert.deepEqual(readCgroupStats(v2), {
      version: 2,
      cpuLimitCores: 2,
      cpuPeriods: 3,
      cpuThrottledPeriods: undefined,
      cpuThrottledSeconds: 0,
      memoryLimitBytes: 1048576,
    });
    const v1 = fixture({
      'proc/self/cgroup': '3:cpu:/user/1\n5:memory:/user/1\n',
      'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu/user/1/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/cpu/user/1/cpu.cfs_quota_us': '25000\n',
      'sys/fs/cgroup/cpu/user/1/cpu.stat': 'nr_periods 9\nnr_throttled 1\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/user/1/memory.limit_in_bytes': '268435456\n',
    });
    assert.deepEqual(readCgroupStats(v1), {
      version: 1,
      cpuLimitCores: 0.25,
      cpuPeriods: 9,
      cpuThrottledPeriods: 1,
      cpuThrottledSeconds: 0,
      memoryLimitBytes: 268435456,
    });
  });

  it('leave unlimited v1 values absent, and read memory without a CPU controller', () => {
    const unlimited = fixture({
      'proc/self/cgroup': '4:cpu,cpuacct:/\n9:memory:/\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': String(2 ** 60) + '\n',
    });
    assert.deepEqual(readCgroupStats(unlimited), { version: 1 });
    const memoryOnly = fixture({
      'proc/self/cgroup': '9:memory:/\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': String(2 ** 60 - 4096) + '\n',
    });
    assert.deepEqual(readCgroupStats(memoryOnly), { version: 1, memoryLimitBytes: 2 ** 60 - 4096 });
  });

  it('read a v1 CPU controller without a memory controller, and leave empty or garbled files absent', () => {
    const cpuOnly = fixture({
      'proc/self/cgroup': '4:cpu,cpuacct:/\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '150000\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    assert.deepEqual(readCgroupStats(cpuOnly), { version: 1, cpuLimitCores: 1.5 });
    for (const garbled of ['', '\n', 'max\n', '-1\n']) {
      const root = fixture({
        'proc/self/cgroup': '4:cpu,cpuacct:/\n9:memory:/\n',
        'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': garbled,
        'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
        'sys/fs/cgroup/memory/memory.limit_in_bytes': garbled,
      });
      assert.deepEqual(readCgroupStats(root), { version: 1 }, JSON.stringify(garbled));
    }
  });

  it('return null without any cgroup filesystem', () => {
    assert.equal(readCgroupStats(fixture({ 'proc/self/cgroup': '' })), null);
  });

  it("read this machine's real cgroup, and a real CPU quota given to a child process", async (t) => {
    const real = readCgroupStats();
    assert.ok(real && (real.version === 1 || real.version === 2), 'this machine has a cgroup filesystem');
    if (process.getuid?.() !== 0) {
      assert.ok(!process.env.CI, 'CI runs as root and must test a real quota');
      t.skip('needs root');
      return;
    }
    // cgroup v1 or v2, whichever this machine has (the bench's own helper).
    const group = createCpuGroup(`mnist-test-${process.pid}`, 0.5);
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), '../support/print-cgroup.ts')],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      group.add(child.pid!);
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c));
      child.stdin.end('go\n');
      await new Promise((resolve) => child.on('exit', resolve));
      const stats = JSON.parse(out) as CgroupStats;
      assert.equal(stats.version, group.version);
      assert.equal(stats.cpuLimitCores, 0.5);
      assert.equal(typeof stats.cpuThrottledSeconds, 'number');
    } finally {
      group.remove();
    }
  });

  it('give a process a CPU quota on cgroup v2 as on v1 (the bench and the test above), on fake hierarchies', () => {
    const v2 = fixture({ 'cgroup.controllers': 'cpuset cpu io memory pids', 'cgroup.subtree_control': 'memory' });
    assert.equal(cpuHierarchy(v2).version, 2);
    const group = createCpuGroup('bench', 1.5, v2);
    assert.equal(group.version, 2);
    assert.equal(readFileSync(join(v2, 'bench', 'cpu.max'), 'utf8'), '150000 100000');
    assert.equal(readFileSync(join(v2, 'cgroup.subtree_control'), 'utf8'), '+cpu', 'cpu enabled for the children');
    const noCpu = fixture({ 'cgroup.controllers': 'memory pids', 'cgroup.subtree_control': '' });
    assert.throws(() => createCpuGroup('bench', 1, noCpu), /no cpu controller/);
    const v1 = fixture({ 'cpu/cgroup.procs': '' });
    const old = createCpuGroup('bench', 0.5, v1);
    assert.equal(old.version, 1);
    assert.equal(readFileSync(join(v1, 'cpu', 'bench', 'cpu.cfs_quota_us'), 'utf8'), '50000');
    assert.equal(readFileSync(join(v1, 'cpu', 'bench', 'cpu.cfs_period_us'), 'utf8'), '100000');
    assert.throws(() => cpuHierarchy(fixture({ 'proc/self/cgroup': '' })), /no cgroup hierarchy with a cpu controller/);
  });
});
