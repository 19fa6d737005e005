/**
 * The monitoring pair as swarm/stack.yaml runs it, on loopback: two Prometheus with the external
 * labels and alert relabelling of swarm/prometheus.yml, each sending to three Alertmanagers that
 * form a cluster (the project's alertmanager.yml through its entrypoint), one webhook behind them.
 * An alert both Prometheus fire is one alert and one notification; a peer killed while it fires
 * changes nothing; a silence set on one peer holds on the others. Debian's Prometheus and
 * Alertmanager; skipped without them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { carries, startAlertReceiver, type AlertReceiver, type Notification } from '../../devkit/alert-receiver.ts';
import { freePort } from '../../devkit/free-port.ts';
import {
  ALERTMANAGER,
  PROMETHEUS,
  startAlertmanager,
  startPrometheus,
  type MonitoringProcess,
} from '../../devkit/monitoring-process.ts';
import { requireTool } from '../../devkit/testing.ts';
import { waitFor } from '../support/cluster.ts';

interface PrometheusConfig {
  global: { external_labels: Record<string, string> };
  alerting: { alert_relabel_configs?: unknown[] };
}
const swarmConfig = parseYaml(readFileSync('swarm/prometheus.yml', 'utf8')) as PrometheusConfig;
const composeConfig = parseYaml(readFileSync('prometheus/prometheus.yml', 'utf8')) as PrometheusConfig;

const ALERT = 'PairTestAlert';
/** The alerts the test turns on and off, one group each (the group_by of alertmanager.yml has replica). */
const firing = new Map<string, number>([
  ['mnist-a', 1],
  ['mnist-b', 0],
  ['mnist-silenced', 1],
]);

interface AlertmanagerAlert {
  labels: Record<string, string>;
  status: { state: string };
}
const alertsOf = async (am: MonitoringProcess): Promise<AlertmanagerAlert[]> =>
  ((await (await fetch(`${am.url}/api/v2/alerts`)).json()) as AlertmanagerAlert[]).filter(
    (a) => a.labels.alertname === ALERT,
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two Prometheus and a cluster of three Alertmanagers', { timeout: 5 * 60_000 }, () => {
  let dir = '';
  let receiver: AlertReceiver;
  let target: Server;
  const alertmanagers: MonitoringProcess[] = [];
  const prometheus: MonitoringProcess[] = [];

  /** The notifications for one replica's group (alertname and replica), in order. */
  const notified = (replica: string): Notification[] =>
    receiver.notifications.filter((n) => n.groupLabels.alertname === ALERT && n.groupLabels.replica === replica);

  before(async () => {
    if (!ALERTMANAGER || !PROMETHEUS) return;
    dir = mkdtempSync(join(tmpdir(), 'monitoring-pair-'));
    receiver = await startAlertReceiver();
    // The test series: one per group, 1 while its alert should fire.
    target = createServer((_, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end([...firing].map(([replica, value]) => `pair_test_trigger{replica="${replica}"} ${value}\n`).join(''));
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const targetPort = (target.address() as { port: number }).port;

    const gossip = await Promise.all([0, 1, 2].map(() => freePort()));
    for (const [i, port] of gossip.entries()) {
      const peers = gossip.filter((p) => p !== port).map((p) => `--cluster.peer=127.0.0.1:${p}`);
      alertmanagers.push(
        await startAlertmanager(join(dir, `am-${i}`), receiver.url, [
          `--cluster.listen-address=127.0.0.1:${port}`,
          ...peers,
        ]),
      );
    }
    await waitFor('three members in every Alertmanager', 30, async () => {
      const members = await Promise.all(
        alertmanagers.map(async (am) => {
          const status = (await (await fetch(`${am.url}/api/v2/status`)).json()) as { cluster: { peers: unknown[] } };
          return status.cluster.peers.length;
        }),
      );
      return members.every((m) => m === 3) ? true : undefined;
    });

    // A silence set on one peer, before anything fires.
    const silence = await fetch(`${alertmanagers[0]!.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'replica', value: 'mnist-silenced', isRegex: false, isEqual: true }],
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        createdBy: 'test',
        comment: 'held by every peer',
      }),
    });
    assert.equal(silence.status, 200);

    writeFileSync(
      join(dir, 'pair-test-rules.yml'),
      stringify({
        groups: [
          {
            name: 'pair-test',
            rules: [{ alert: ALERT, expr: 'pair_test_trigger == 1', labels: { severity: 'warning' } }],
          },
        ],
      }),
    );
    for (const name of ['prometheus-a', 'prometheus-b']) {
      // The pair's labels and alert relabelling as the stack runs them; targets, Alertmanagers and
      // the rule are the test's (faster intervals, so that it fires within seconds).
      const config = {
        global: { ...swarmConfig.global, scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'pair-test-rules.yml')],
        alerting: {
          ...swarmConfig.alerting,
          alertmanagers: [{ static_configs: [{ targets: alertmanagers.map((am) => am.url.replace('http://', '')) }] }],
        },
        scrape_configs: [{ job_name: 'pair-test', static_configs: [{ targets: [`127.0.0.1:${targetPort}`] }] }],
      };
      prometheus.push(await startPrometheus(join(dir, name), config, { PROMETHEUS_REPLICA: name }));
    }
  });

  after(async () => {
    for (const process of [...prometheus, ...alertmanagers]) process.kill();
    await receiver?.close();
    target?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('drops the label that tells the pair apart from every alert, in compose as on the Swarm', () => {
    for (const config of [swarmConfig, composeConfig]) {
      assert.equal(config.global.external_labels.prometheus_replica, '${PROMETHEUS_REPLICA}');
      assert.deepEqual(config.alerting.alert_relabel_configs, [{ action: 'labeldrop', regex: 'prometheus_replica' }]);
    }
  });

  it('notifies once for an alert both Prometheus send to every peer, and holds a silence set on one peer on the others', async (t) => {
    if (!requireTool(ALERTMANAGER !== undefined && PROMETHEUS !== undefined, 'Prometheus and Alertmanager', t)) return;
    const first = await receiver.next(carries('firing', { alertname: ALERT, replica: 'mnist-a' }), 60);
    // Each Prometheus has sent it to each Alertmanager: every peer holds it, as one alert.
    for (const am of alertmanagers) {
      await waitFor('the alert from both Prometheus at every peer', 30, async () =>
        (await alertsOf(am)).some((a) => a.labels.replica === 'mnist-a') ? true : undefined,
      );
      const held = (await alertsOf(am)).filter((a) => a.labels.replica === 'mnist-a');
      assert.equal(held.length, 1, `${am.url}: ${JSON.stringify(held.map((a) => a.labels))}`);
      assert.equal(held[0]!.labels.prometheus_replica, undefined);
      // The silence, set on the first peer only, holds here too.
      const silenced = (await alertsOf(am)).find((a) => a.labels.replica === 'mnist-silenced');
      assert.equal(silenced?.status.state, 'suppressed', am.url);
    }
    assert.equal(first.alerts.length, 1, JSON.stringify(first.alerts.map((a) => a.labels)));
    assert.equal(first.alerts[0]!.labels.prometheus_replica, undefined);
  });

  it('still notifies exactly once per group with one peer killed while the alert fires', async (t) => {
    if (!requireTool(ALERTMANAGER !== undefined && PROMETHEUS !== undefined, 'Prometheus and Alertmanager', t)) return;
    // A peer that dies within the gossip interval (200 ms) of delivering a notification takes its
    // log entry with it, and the next peer in line sends it again after its wait: Alertmanager's
    // at-least-once edge (docs/operations.md). Killed once the entry has spread, as a peer is.
    await sleep(5000);
    alertmanagers[0]!.kill();
    const killed = Date.now();
    // A new group while the peer is gone, and the first one resolved.
    firing.set('mnist-b', 1);
    await receiver.next(carries('firing', { alertname: ALERT, replica: 'mnist-b' }), 60);
    firing.set('mnist-a', 0);
    await receiver.next(carries('resolved', { alertname: ALERT, replica: 'mnist-a' }), 90);
    // Long enough for the last peer in line (two peer timeouts of 15 s) to have sent a copy.
    await sleep(35_000);
    const statuses = (replica: string) => notified(replica).map((n) => `${n.status}:${n.alerts.length}`);
    // When each arrived, in seconds from the kill: a copy says which peer's wait it followed.
    const timeline = JSON.stringify(
      receiver.notifications.map((n) => [n.groupLabels.replica, n.status, (n.receivedAt - killed) / 1000]),
    );
    assert.deepEqual(statuses('mnist-a'), ['firing:1', 'resolved:1'], timeline);
    assert.deepEqual(statuses('mnist-b'), ['firing:1'], timeline);
    assert.deepEqual(statuses('mnist-silenced'), [], timeline);
  });
});
