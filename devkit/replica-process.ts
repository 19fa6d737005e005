/**
 * One replica as its own process on free loopback ports (service/src/main.ts through tsx, or the
 * `command` given: the benchmark runs the compiled build), for what must not share the caller's
 * CPU or event loop: the benchmark under a CPU quota, the hostile-input suite that watches the
 * service's own memory and event-loop lag, the SIGTERM test.
 */
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePorts } from './free-port.ts';

export interface ReplicaProcess {
  child: ChildProcess;
  url: string;
  metricsUrl: string;
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
}

/** The service's process entry, found from this file rather than from the working directory. */
const MAIN = fileURLToPath(new URL('../service/src/main.ts', import.meta.url));

export async function spawnReplica(
  env: Record<string, string> = {},
  options: { onSpawn?: (pid: number) => void; command?: string[]; node?: string } = {},
): Promise<ReplicaProcess> {
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const child = spawn(options.node ?? process.execPath, options.command ?? ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  options.onSpawn?.(child.pid!);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const replica: ReplicaProcess = {
    child,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`replica exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`${replica.url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return replica;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('replica not ready after 30 s');
}
