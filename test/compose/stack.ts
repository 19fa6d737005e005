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
import { prometheusUrl } from '../../devkit/compose-prometheus.ts';
import { composeEnv, namedReplicas, serviceUrl } from '../../devkit/compose-topology.ts';
import { queryPrometheus, type Sample } from '../../devkit/prometheus-api.ts';
import { multipart } from '../../devkit/testing.ts';
import { basicAuthorization } from '../../devkit/basic-auth.ts';

export { waitFor } from '../support/cluster.ts';

export const run = promisify(execFile);
// The tier runs with Prometheus's host port moved by its setting, as a user whose 9090 is taken
// would; the scripts it runs (compare.sh) inherit the setting as theirs would.
process.env.PROMETHEUS_PORT ??= '19090';
// The rollout controller's steps, shorter than a user's: a rollout fits in a minute.
process.env.ROLLOUT_STEP_S ??= '10';
process.env.ROLLOUT_INTERVAL_S ??= '2';
process.env.ROLLOUT_MIN_REQUESTS ??= '50';
// A p95 over a few dozen requests on a busy 2-core machine: tens of milliseconds of noise.
process.env.ROLLOUT_LATENCY_SLACK_MS ??= '25';
// The monitoring's password (Prometheus, Alertmanager, the stats page), as a user's .env sets it.
process.env.MONITORING_PASSWORD ??= `monitoring-${process.pid}-${Date.now()}`;
// The test's own Grafana admin password, so its API can be asked as admin where Grafana runs, and
// (set by startStack) its own webhook for Alertmanager's notifications.
const stackEnv: Record<string, string> = { GRAFANA_ADMIN_PASSWORD: `test-${process.pid}-${Date.now()}` };
const env = composeEnv();
/** Prometheus's address (it answers 401 there without credentials), and the header that passes. */
export const PROMETHEUS = serviceUrl('prometheus', 9090, env);
export const MONITORING_AUTH = {
  authorization: basicAuthorization('admin', process.env.MONITORING_PASSWORD),
};
/** The load balancer's entry point, in front of every replica. */
export const LB = serviceUrl('lb', 8080, env);
/** The same entry point over HTTPS (its certificate covers localhost and 127.0.0.1). */
export const LB_HTTPS = serviceUrl('lb', 8443, env).replace('http://', 'https://');
/** The replicas compose.yaml names, with the host ports this run publishes them on. */
export const REPLICAS = namedReplicas(env);
export const [FIRST, SECOND] = REPLICAS.map((r) => r.name) as [string, string];
export const GRAFANA_IMAGE = /image: *(grafana\/grafana:\S+)/.exec(readFileSync('compose.yaml', 'utf8'))![1]!;

let alertReceiver: AlertReceiver | undefined;

export const GRAFANA = serviceUrl('grafana', 3000, env);
/** Grafana's HTTP API as its admin, with the password this test gave it. */
export function grafana(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${GRAFANA}${path}`, {
    ...init,
    headers: {
      authorization: basicAuthorization('admin', stackEnv.GRAFANA_ADMIN_PASSWORD!),
      'content-type': 'application/json',
      ...init.headers,
    },
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

export type PromResult = Sample;

/** Prometheus's address with the credentials in it (the password is this run's, above). */
const PROMETHEUS_WITH_CREDENTIALS = prometheusUrl(env);
export const query = (expr: string, time?: number): Promise<Sample[]> =>
  queryPrometheus(PROMETHEUS_WITH_CREDENTIALS, expr, time);

export const byReplica = (results: PromResult[]) =>
  Object.fromEntries(results.map((r) => [r.metric.replica, Number(r.value[1])]));

export async function predict(api: string, bytes: Buffer): Promise<{ digit: number; replica: string }> {
  const res = await fetch(`${api}/predict`, { method: 'POST', body: multipart(bytes) });
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
export const SERVICES = [
  ...REPLICAS.map((r) => r.name),
  'lb',
  'node-exporter',
  'prometheus',
  'alertmanager',
  'rollout',
];

/** Removes the stack with its volumes and checks nothing is left. */
export async function stopStack(): Promise<void> {
  await compose('down', '--volumes', '--remove-orphans', '--timeout', '20');
  await alertReceiver?.close();
  assert.equal((await compose('ps', '--all', '--quiet')).trim(), '', 'docker compose down left containers behind');
}
