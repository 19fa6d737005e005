/**
 * Debian's Alertmanager and Prometheus as processes on loopback, for the tests of the project's
 * alerting files: Alertmanager started as its container starts it (alertmanager/entrypoint.sh,
 * with the webhook), Prometheus on a configuration the test writes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-port.ts';
import { installed } from './testing.ts';

export interface MonitoringProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  /** SIGKILL: a process lost, not one that leaves politely. */
  kill(): void;
}

/** The Alertmanager binary: the official image's name, or Debian's. */
export const ALERTMANAGER = ['alertmanager', 'prometheus-alertmanager'].find(installed);
export const PROMETHEUS = installed('prometheus') ? 'prometheus' : undefined;

/** Basic auth on every page (`--web.config.file`), and the Authorization header that passes it. */
export interface WebAuth {
  configFile: string;
  authorization: string;
}

async function untilReady(what: string, url: string, exited: () => boolean, auth?: WebAuth): Promise<void> {
  const headers = auth ? { authorization: auth.authorization } : undefined;
  for (let i = 0; i < 300; i++) {
    if (exited()) throw new Error(`${what} exited before it was ready`);
    const ready = await fetch(`${url}/-/ready`, { headers }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} was not ready in 30 s`);
}

function start(
  what: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  auth?: WebAuth,
) {
  const child = spawn(command, [...args, ...(auth ? [`--web.config.file=${auth.configFile}`] : [])], {
    env: { PATH: process.env.PATH, ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const ready = untilReady(what, url, () => child.exitCode !== null || child.signalCode !== null, auth);
  return ready.then(
    () => ({ url, kill: () => child.kill('SIGKILL') }),
    (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    },
  );
}

/**
 * An Alertmanager in `dir` with the project's alertmanager.yml through its entrypoint, posting to
 * `webhook`; `args` add to its flags (clustering: a listen address and peers).
 */
export async function startAlertmanager(
  dir: string,
  webhook: string,
  args: string[] = [],
  auth?: WebAuth,
): Promise<MonitoringProcess> {
  if (!ALERTMANAGER) throw new Error('no Alertmanager installed');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  return start(
    'Alertmanager',
    'sh',
    [
      'alertmanager/entrypoint.sh',
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.path=${join(dir, 'data')}`,
      ...args,
    ],
    {
      ALERTMANAGER_CONFIG: 'alertmanager/alertmanager.yml',
      ALERTMANAGER_RUN_DIR: dir,
      ALERTMANAGER_BIN: ALERTMANAGER,
      ALERT_WEBHOOK_URL: webhook,
    },
    port,
    auth,
  );
}

/** A Prometheus in `dir` on `config` (and the rule files it names, relative to `dir`), with `env`. */
export async function startPrometheus(
  dir: string,
  config: unknown,
  env: Record<string, string> = {},
  auth?: WebAuth,
): Promise<MonitoringProcess> {
  if (!PROMETHEUS) throw new Error('no Prometheus installed');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  return start(
    'Prometheus',
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=expand-external-labels',
    ],
    env,
    port,
    auth,
  );
}
