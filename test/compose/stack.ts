/**
 * The compose stack as the tier-2 tests drive it: `docker compose` with the test's own Grafana
 * password and alert webhook, Prometheus's HTTP API, the replicas' host ports, and polling until a
 * condition holds.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startAlertReceiver, type AlertReceiver } from '../../devkit/alert-receiver.ts';

export { waitFor } from '../support/cluster.ts';

export const run = promisify(execFile);
export const PROMETHEUS = 'http://127.0.0.1:9090';
/** The load balancer's entry point, in front of every replica. */
export const LB = 'http://127.0.0.1:8080';
export const REPLICAS = [
  { name: 'mnist-1', api: 'http://127.0.0.1:8000' },
  { name: 'mnist-2', api: 'http://127.0.0.1:9000' },
] as const;
export const GRAFANA_IMAGE = /image: *(grafana\/grafana:\S+)/.exec(readFileSync('compose.yaml', 'utf8'))![1]!;

// The test's own Grafana admin password, so its API can be asked as admin where Grafana runs, and
// (set by startStack) its own webhook for Alertmanager's notifications.
const stackEnv: Record<string, string> = { GRAFANA_ADMIN_PASSWORD: `test-${process.pid}-${Date.now()}` };
let alertReceiver: AlertReceiver | undefined;

export const GRAFANA = 'http://127.0.0.1:3000';
/** Grafana's HTTP API as its admin, with the password this test gave it. */
export function grafana(path: string, init: RequestInit = {}): Promise<Response> {
  const auth = Buffer.from(`admin:${stackEnv.GRAFANA_ADMIN_PASSWORD}`).toString('base64');
  return fetch(`${GRAFANA}${path}`, {
    ...init,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', ...init.headers },
  });
}

export async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['compose', ...args], {
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...stackEnv },
  });
  return stdout;
}

/**
 * A webhook receiver on the Docker host, where Alertmanager reaches it as users' own would:
 * host.docker.internal, i.e. Docker's default bridge (docker0) address.
 */
async function startHostAlertReceiver(): Promise<AlertReceiver> {
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0']);
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout)?.[1];
  assert.ok(address, `no IPv4 address on docker0: ${stdout}`);
  const receiver = await startAlertReceiver(address);
  stackEnv.ALERT_WEBHOOK_URL = receiver.url.replace(address, 'host.docker.internal');
  return receiver;
}

export async function health(): Promise<Record<string, string>> {
  const out = await compose('ps', '--all', '--format', 'json');
  const rows = out.trim().startsWith('[')
    ? (JSON.parse(out) as object[])
    : out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as object);
  return Object.fromEntries(
    rows.map((r) => {
      const row = r as { Service: string; Health: string; State: string };
      return [row.Service, row.Health || row.State];
    }),
  );
}

export interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

export async function query(expr: string): Promise<PromResult[]> {
  const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: PromResult[] } };
  assert.equal(body.status, 'success', `query failed: ${expr}`);
  return body.data.result;
}

export const byReplica = (results: PromResult[]) =>
  Object.fromEntries(results.map((r) => [r.metric.replica, Number(r.value[1])]));

export async function predict(api: string, bytes: Buffer): Promise<{ digit: number; replica: string }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'digit.png');
  const res = await fetch(`${api}/predict`, { method: 'POST', body: form });
  assert.equal(res.status, 200);
  return (await res.json()) as { digit: number; replica: string };
}

/**
 * Builds the images and starts the stack (Grafana too where its image exists) with Alertmanager
 * posting to a receiver of the test's; says whether Grafana started, and gives the receiver.
 */
export async function startStack(): Promise<{ withGrafana: boolean; alerts: AlertReceiver }> {
  alertReceiver = await startHostAlertReceiver();
  const withGrafana = await run('docker', ['image', 'inspect', GRAFANA_IMAGE]).then(
    () => true,
    () => false,
  );
  await compose('--profile', 'load', 'build', '--quiet');
  await compose('up', '--detach', '--wait', '--wait-timeout', '180', ...SERVICES, ...(withGrafana ? ['grafana'] : []));
  return { withGrafana, alerts: alertReceiver };
}

/** Every service of the cluster but Grafana (whose image may be missing) and the load profile. */
export const SERVICES = ['mnist-1', 'mnist-2', 'lb', 'node-exporter', 'prometheus', 'alertmanager'];

/** Removes the stack with its volumes and checks nothing is left. */
export async function stopStack(): Promise<void> {
  await compose('down', '--volumes', '--remove-orphans', '--timeout', '20');
  await alertReceiver?.close();
  assert.equal((await compose('ps', '--all', '--quiet')).trim(), '', 'docker compose down left containers behind');
}
