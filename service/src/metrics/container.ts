/**
 * The container's limits and throttling as metrics. Each series exists only while the cgroup
 * reports a value for it; the counters mirror the kernel's own cumulative counters, so each scrape
 * sets them to the kernel's value. The cgroup is read once per scrape, not once per metric.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CgroupStats } from './cgroup.ts';

type Field = (s: CgroupStats) => number | undefined;

export function registerContainerMetrics(registry: Registry, readCgroup: () => CgroupStats | null): void {
  // prom-client runs every collect() of one scrape in the same turn of the event loop.
  let cached: { stats: CgroupStats | null } | undefined;
  const read = (): CgroupStats | null => {
    if (!cached) {
      cached = { stats: readCgroup() };
      setImmediate(() => (cached = undefined));
    }
    return cached.stats;
  };
  const value = (pick: Field): { labels: { cgroup: string }; value: number } | undefined => {
    const stats = read();
    const v = stats ? pick(stats) : undefined;
    return stats && v !== undefined ? { labels: { cgroup: `v${stats.version}` }, value: v } : undefined;
  };
  const options = (name: string, help: string) => ({ name, help, registers: [registry], labelNames: ['cgroup'] });
  const gauge = (name: string, help: string, pick: Field) =>
    new Gauge({
      ...options(name, help),
      collect() {
        this.reset();
        const v = value(pick);
        if (v) this.set(v.labels, v.value);
      },
    });
  const counter = (name: string, help: string, pick: Field) =>
    new Counter({
      ...options(name, help),
      collect() {
        this.reset();
        const v = value(pick);
        if (v) this.inc(v.labels, v.value);
      },
    });
  gauge(
    'mnist_container_cpu_limit_cores',
    'CPU limit of this container in cores (quota / period).',
    (s) => s.cpuLimitCores,
  );
  gauge('mnist_container_memory_limit_bytes', 'Memory limit of this container.', (s) => s.memoryLimitBytes);
  counter('mnist_container_cpu_periods_total', 'CFS enforcement periods elapsed.', (s) => s.cpuPeriods);
  counter(
    'mnist_container_cpu_throttled_periods_total',
    'CFS periods in which the container was throttled.',
    (s) => s.cpuThrottledPeriods,
  );
  counter(
    'mnist_container_cpu_throttled_seconds_total',
    'Time the container was throttled by its CPU limit.',
    (s) => s.cpuThrottledSeconds,
  );
}
