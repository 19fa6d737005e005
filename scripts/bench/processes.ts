/** The processes the bench measures, each in a CPU quota of its own: the limit, replicas, HAProxy. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../devkit/free-port.ts';
import { createInterface } from 'node:readline';
import { createCpuGroup, type CpuGroup } from '../../devkit/cpu-cgroup.ts';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import type { ShippedBuild } from './shipped-build.ts';

export type LimitFigure = { batch: number; perSecond: number };

/** limit.ts as a child inside the CPU quota, read line by line. */
export function limitProcess(group: CpuGroup, build: ShippedBuild, args: string[]) {
  const child = spawn(
    process.execPath,
    [
      ...build.nodeFlags,
      '--import',
      'tsx',
      'scripts/bench/limit.ts',
      '--service',
      build.entry,
      '--model',
      build.modelDir,
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  group.add(child.pid!);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async next(): Promise<string> {
      const line = await lines.next();
      if (line.done) throw new Error('the limit measurement exited early');
      return line.value;
    },
    /** One slice of `ms` (with --serve). */
    async slice(ms: number): Promise<LimitFigure> {
      child.stdin!.write(`${ms}\n`);
      return JSON.parse(await this.next()) as LimitFigure;
    },
    stop: () => child.kill(),
  };
}

/** A cgroup with a CPU quota of `cpus` cores, named for this run and `what`. */
export const quota = (what: string, cpus: number): CpuGroup =>
  createCpuGroup(`mnist-bench-${process.pid}-${what}`, cpus);

/**
 * HAProxy with the project's configuration in front of one replica, outside the quotas (as in
 * compose, where it has no CPU limit), once it answers /readyz; also on HTTPS, with a self-signed
 * certificate made as compose's lb-certificate job makes it (`https`: its URL and certificate).
 */
export async function balancerFor(
  name: string,
  url: string,
): Promise<Balancer & { https: { url: string; ca: string } }> {
  if (!haveHaproxy())
    throw new Error('the bench measures the load balancer: install haproxy (apt-get install haproxy)');
  const certs = mkdtempSync(join(tmpdir(), 'mnist-bench-tls-'));
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/tls/entry-certificate.ts', '--out', certs]);
  const port = await freePort();
  const lb = await startBalancer(
    { [name]: url.replace('http://', '') },
    { LB_TLS_CERT: join(certs, 'entry.pem'), LB_TLS_BIND: `127.0.0.1:${port}`, LB_TLS_PUBLIC_PORT: String(port) },
  );
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${lb.url}/readyz`).catch(() => undefined);
    if (res?.ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const https = { url: `https://localhost:${port}`, ca: readFileSync(join(certs, 'entry-ca.pem'), 'utf8') };
  return {
    ...lb,
    https,
    stop: async () => {
      await lb.stop();
      rmSync(certs, { recursive: true, force: true });
    },
  };
}
