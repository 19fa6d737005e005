/**
 * HAProxy run with the project's haproxy/haproxy.cfg outside a container, in front of servers on
 * loopback, for the tests of the balancer's behaviour and of the metric names it exports.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './free-port.ts';
import { installed } from './testing.ts';

const CONFIG = fileURLToPath(new URL('../haproxy/haproxy.cfg', import.meta.url));
/** The repository's list of API keys, where the configuration's default is the container's path. */
export const API_KEYS_FILE = fileURLToPath(new URL('../haproxy/api-keys.sha256', import.meta.url));

export const haveHaproxy = (): boolean => installed('haproxy');

export interface Balancer {
  url: string;
  metricsUrl: string;
  stop(): Promise<void>;
}

/**
 * HAProxy with haproxy.cfg and a server file naming `servers` (name -> host:port), then the files
 * `moreConfig`, with `env` added to its environment (the limits, keys and binds of haproxy.cfg's
 * `presetenv` lines).
 */
export async function startBalancer(
  servers: Record<string, string>,
  env: Record<string, string> = {},
  moreConfig: string[] = [],
): Promise<Balancer> {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-lb-'));
  const file = join(dir, 'servers.cfg');
  const lines = Object.entries(servers).map(([name, address]) => `  server ${name} ${address}`);
  writeFileSync(file, `backend replicas\n${lines.join('\n')}\n`);
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const child = spawn('haproxy', ['-db', '-f', CONFIG, '-f', file, ...moreConfig.flatMap((f) => ['-f', f])], {
    env: {
      ...process.env,
      LB_BIND: `127.0.0.1:${port}`,
      LB_METRICS_BIND: `127.0.0.1:${metricsPort}`,
      LB_API_KEYS_FILE: API_KEYS_FILE,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const balancer: Balancer = {
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < 100; i++) {
    const up = await fetch(balancer.metricsUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return balancer;
    await new Promise((r) => setTimeout(r, 100));
  }
  await balancer.stop();
  throw new Error('HAProxy did not start');
}
