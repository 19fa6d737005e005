/**
 * The container metrics on a registry of their own, fed by a fake cgroup reader: each series
 * mirrors the reader's value at each scrape (counters set, never added up), exists only while the
 * reader reports it, carries the cgroup version, and one scrape reads the cgroup once.
 */
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { CgroupStats } from '../../src/metrics/cgroup.ts';
import { registerContainerMetrics } from '../../src/metrics/container.ts';
import { sample } from '../../../devkit/testing.ts';

const SERIES = {
  mnist_container_cpu_limit_cores: 'cpuLimitCores',
  mnist_container_memory_limit_bytes: 'memoryLimitBytes',
  mnist_container_cpu_periods_total: 'cpuPeriods',
  mnist_container_cpu_throttled_periods_total: 'cpuThrottledPeriods',
  mnist_container_cpu_throttled_seconds_total: 'cpuThrottledSeconds',
} as const;

function container(first: CgroupStats | null) {
  const registry = new Registry();
  const state = { stats: first, reads: 0 };
  registerContainerMetrics(registry, () => {
    state.reads++;
    return state.stats;
  });
  const scrape = async () => {
    const text = await registry.metrics();
    await turn(); // the next scrape is another turn of the event loop, as two requests are
    return text;
  };
  return { state, scrape };
}

describe('container metrics', () => {
  it("mirror the cgroup's values at every scrape, counters included, reading it once a scrape", async () => {
    const stats: CgroupStats = {
      version: 2,
      cpuLimitCores: 1.5,
      memoryLimitBytes: 512 * 2 ** 20,
      cpuPeriods: 100,
      cpuThrottledPeriods: 7,
      cpuThrottledSeconds: 0.25,
    };
    const { state, scrape } = container(stats);
    for (const round of [1, 2, 3]) {
      state.stats = { ...stats, cpuPeriods: 100 * round, cpuThrottledSeconds: 0.25 * round };
      const text = await scrape();
      assert.equal(state.reads, round, 'one read of the cgroup per scrape');
      for (const [name, field] of Object.entries(SERIES))
        assert.equal(sample(text, name, { cgroup: 'v2' }), state.stats[field], `${name} in round ${round}`);
    }
  });

  it('leave out what the cgroup does not report, and everything when there is no cgroup', async () => {
    const { state, scrape } = container({ version: 1, cpuLimitCores: 0.5 });
    let text = await scrape();
    assert.equal(sample(text, 'mnist_container_cpu_limit_cores', { cgroup: 'v1' }), 0.5);
    for (const name of Object.keys(SERIES).slice(1)) assert.equal(sample(text, name), undefined, name);
    state.stats = null;
    text = await scrape();
    for (const name of Object.keys(SERIES)) assert.equal(sample(text, name), undefined, name);
    state.stats = { version: 1, memoryLimitBytes: 2 ** 30 };
    text = await scrape();
    assert.equal(sample(text, 'mnist_container_cpu_limit_cores'), undefined, 'a limit that went away is gone');
    assert.equal(sample(text, 'mnist_container_memory_limit_bytes', { cgroup: 'v1' }), 2 ** 30);
  });
});
