/**
 * Alert delivery: alertmanager/alertmanager.yml passes amtool, its entrypoint adds the webhook from
 * ALERT_WEBHOOK_URL (and refuses a malformed one), and a real Alertmanager (Debian's) started
 * through that entrypoint posts a firing alert to a webhook while inhibiting what a downed replica
 * explains. Every alert rule links its runbook section and a generated dashboard.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { carries, startAlertReceiver, type AlertReceiver } from '../../devkit/alert-receiver.ts';
import { ALERTMANAGER, startAlertmanager, type MonitoringProcess } from '../../devkit/monitoring-process.ts';
import { installed, requireTool } from '../../devkit/testing.ts';
import { DASHBOARDS } from '../../grafana/src/dashboards.ts';

/** Runs the entrypoint as the container does, with its output in `dir` and `bin` as Alertmanager. */
function entrypoint(dir: string, env: Record<string, string>, bin = 'true', args: string[] = []) {
  return spawnSync('sh', ['alertmanager/entrypoint.sh', ...args], {
    env: {
      PATH: process.env.PATH,
      ALERTMANAGER_CONFIG: 'alertmanager/alertmanager.yml',
      ALERTMANAGER_RUN_DIR: dir,
      ALERTMANAGER_BIN: bin,
      ...env,
    },
    encoding: 'utf8',
  });
}

interface Rule {
  alert?: string;
  annotations?: Record<string, string>;
}
/** Every alert of every rule file (the hand-written ones and the SLOs' generated ones). */
const alertRules = readdirSync('prometheus/rules').flatMap((file) =>
  (parseYaml(readFileSync(`prometheus/rules/${file}`, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) =>
    g.rules.filter((r) => r.alert),
  ),
);

describe('alertmanager/', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmanager-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes amtool check-config as it is and with a webhook added by the entrypoint', (t) => {
    if (!requireTool(installed('amtool'), 'amtool', t)) return;
    assert.match(
      execFileSync('amtool', ['check-config', 'alertmanager/alertmanager.yml'], { encoding: 'utf8' }),
      /SUCCESS/,
    );
    const url = 'https://hooks.example.test/services/T000/B000?token=a&b=c';
    const run = entrypoint(dir, { ALERT_WEBHOOK_URL: url });
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /hooks\.example/, 'the URL (it may hold a token) is not printed');
    const written = join(dir, 'alertmanager.yml');
    assert.match(execFileSync('amtool', ['check-config', written], { encoding: 'utf8' }), /SUCCESS/);
    const config = parseYaml(readFileSync(written, 'utf8')) as {
      route: { receiver: string };
      receivers: { name: string; webhook_configs?: { url: string; send_resolved: boolean }[] }[];
    };
    const receiver = config.receivers.find((r) => r.name === config.route.receiver);
    assert.deepEqual(receiver?.webhook_configs, [{ url, send_resolved: true }]);
  });

  it('leaves the default receiver without a webhook when none is set', () => {
    const run = entrypoint(dir, {});
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /UI only/);
    assert.equal(
      readFileSync(join(dir, 'alertmanager.yml'), 'utf8'),
      readFileSync('alertmanager/alertmanager.yml', 'utf8'),
    );
  });

  it('refuses a webhook URL that is not http(s) or would break the YAML, exit 2, without printing it', () => {
    for (const url of [
      'ftp://x/secret',
      'hooks.example/secret',
      'http://x/"secret',
      'http://x/a b',
      'http://x/\\secret',
    ]) {
      const run = entrypoint(dir, { ALERT_WEBHOOK_URL: url });
      assert.equal(run.status, 2, url);
      assert.match(run.stderr, /ALERT_WEBHOOK_URL must/);
      assert.doesNotMatch(run.stderr + run.stdout, /secret/);
    }
  });

  it('every alert links its runbook section in docs/operations.md and a generated dashboard', () => {
    const headings = new Set(
      [...readFileSync('docs/operations.md', 'utf8').matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const uids = new Set(Object.values(DASHBOARDS).map((d) => d.uid));
    assert.ok(alertRules.length >= 9);
    for (const rule of alertRules) {
      const runbook = rule.annotations?.runbook_url ?? '';
      const [path, anchor] = runbook.split('#');
      assert.equal(path, 'docs/operations.md', `${rule.alert}: runbook_url ${runbook}`);
      assert.ok(headings.has(anchor!), `${rule.alert}: no section #${anchor} in docs/operations.md`);
      const uid = /\/d\/([\w-]+)/.exec(rule.annotations?.dashboard ?? '')?.[1];
      assert.ok(uid && uids.has(uid), `${rule.alert}: dashboard ${rule.annotations?.dashboard}`);
    }
  });

  it('inhibits only alerts that exist', () => {
    const names = new Set(alertRules.map((r) => r.alert!));
    const config = parseYaml(readFileSync('alertmanager/alertmanager.yml', 'utf8')) as {
      inhibit_rules: { source_matchers: string[]; target_matchers: string[] }[];
    };
    for (const rule of config.inhibit_rules) {
      for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
        const value = /alertname =~? "?([^"]+)"?/.exec(matcher)?.[1];
        for (const name of value?.split('|') ?? []) assert.ok(names.has(name), `inhibit rule names ${name}`);
      }
    }
  });

  describe('a real Alertmanager started by the entrypoint', () => {
    let receiver: AlertReceiver;
    let api = '';
    let alertmanager: MonitoringProcess | undefined;

    before(async () => {
      if (!ALERTMANAGER) return;
      receiver = await startAlertReceiver();
      alertmanager = await startAlertmanager(join(dir, 'running'), receiver.url, ['--cluster.listen-address=']);
      api = `${alertmanager.url}/api/v2`;
    });

    after(async () => {
      alertmanager?.kill();
      await receiver?.close();
    });

    /** Posts firing alerts with these labels, as Prometheus does; each its labels as summary. */
    const post = async (...labels: Record<string, string>[]) => {
      const res = await fetch(`${api}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          labels.map((l) => ({
            labels: l,
            annotations: { summary: JSON.stringify(l) },
            startsAt: new Date().toISOString(),
          })),
        ),
      });
      assert.equal(res.status, 200);
    };
    /** Alertmanager's state of the first alert carrying these labels. */
    const stateOf = async (labels: Record<string, string>) => {
      const alerts = (await (await fetch(`${api}/alerts`)).json()) as {
        labels: Record<string, string>;
        status: { state: string };
      }[];
      return alerts.find((a) => Object.entries(labels).every(([k, v]) => a.labels[k] === v))?.status.state;
    };

    it('posts a firing replica to the webhook and holds back what its being down explains', async (t) => {
      if (!requireTool(ALERTMANAGER !== undefined, 'Alertmanager', t)) return;
      const alert = (alertname: string, replica: string, severity: string) => ({
        labels: { alertname, replica, severity, job: 'mnist' },
        annotations: {
          summary: `${alertname} ${replica}`,
          runbook_url: `docs/operations.md#${alertname.toLowerCase()}`,
        },
        startsAt: new Date().toISOString(),
      });
      const res = await fetch(`${api}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          alert('MnistReplicaDown', 'mnist-2', 'critical'),
          alert('MnistHighLatencyP99', 'mnist-2', 'warning'),
          alert('MnistReplicaImbalance', 'mnist-1', 'info'),
          alert('MnistHighLatencyP99', 'mnist-1', 'warning'),
        ]),
      });
      assert.equal(res.status, 200);
      const down = await receiver.next(carries('firing', { alertname: 'MnistReplicaDown', replica: 'mnist-2' }), 30);
      assert.equal(down.receiver, 'default');
      assert.deepEqual(down.groupLabels, { alertname: 'MnistReplicaDown', replica: 'mnist-2' });
      assert.equal(down.alerts[0]!.annotations.runbook_url, 'docs/operations.md#mnistreplicadown');
      await receiver.next(carries('firing', { alertname: 'MnistHighLatencyP99', replica: 'mnist-1' }), 30);
      const states = (await (await fetch(`${api}/alerts`)).json()) as {
        labels: Record<string, string>;
        status: { state: string; inhibitedBy: string[] };
      }[];
      const state = (name: string, replica: string) =>
        states.find((a) => a.labels.alertname === name && a.labels.replica === replica)?.status;
      assert.equal(
        state('MnistHighLatencyP99', 'mnist-2')?.state,
        'suppressed',
        'the downed replica is not also "slow"',
      );
      assert.equal(state('MnistReplicaImbalance', 'mnist-1')?.state, 'suppressed', 'no imbalance while one is down');
      assert.equal(state('MnistHighLatencyP99', 'mnist-1')?.state, 'active', 'the other replica still alerts');
      const sent = receiver.notifications.flatMap((n) =>
        n.alerts.map((a) => `${a.labels.alertname} ${a.labels.replica}`),
      );
      assert.ok(
        !sent.includes('MnistHighLatencyP99 mnist-2') && !sent.includes('MnistReplicaImbalance mnist-1'),
        sent.join(),
      );
    });

    it('pages once for a lost Swarm node: its replicas are held back, a replica down on another node is not', async (t) => {
      if (!requireTool(ALERTMANAGER !== undefined, 'Alertmanager', t)) return;
      const critical = { severity: 'critical' };
      await post(
        { ...critical, alertname: 'SwarmNodeUnreachable', node: 'node-b', job: 'docker' },
        { ...critical, alertname: 'MnistReplicaDown', replica: 'mnist-7', node: 'node-b', job: 'mnist' },
        { ...critical, alertname: 'MnistReplicaDown', replica: 'mnist-8', node: 'node-c', job: 'mnist' },
      );
      const lost = await receiver.next(carries('firing', { alertname: 'SwarmNodeUnreachable', node: 'node-b' }), 30);
      assert.deepEqual(lost.groupLabels, { alertname: 'SwarmNodeUnreachable', node: 'node-b' });
      await receiver.next(carries('firing', { alertname: 'MnistReplicaDown', replica: 'mnist-8' }), 30);
      assert.equal(await stateOf({ replica: 'mnist-7' }), 'suppressed', 'on the lost node');
      assert.equal(await stateOf({ replica: 'mnist-8' }), 'active', 'on another node');
      assert.ok(!receiver.notifications.some(carries('firing', { replica: 'mnist-7' })));
    });

    it("pages for the entry point's availability budget alone: its ticket and the replicas' shedding are held back, a replica down is not", async (t) => {
      if (!requireTool(ALERTMANAGER !== undefined, 'Alertmanager', t)) return;
      const slo = { alertname: 'MnistAvailabilityBudgetBurn', sloth_id: 'mnist-entry-availability' };
      await post(
        { ...slo, severity: 'critical', sloth_severity: 'page' },
        { ...slo, severity: 'warning', sloth_severity: 'ticket' },
        { alertname: 'MnistSheddingLoad', replica: 'mnist-5', severity: 'warning', job: 'mnist' },
        { alertname: 'MnistReplicaDown', replica: 'mnist-6', severity: 'critical', job: 'mnist' },
      );
      const page = await receiver.next(carries('firing', { ...slo, sloth_severity: 'page' }), 30);
      assert.deepEqual(
        page.alerts.map((a) => a.labels.sloth_severity),
        ['page'],
      );
      await receiver.next(carries('firing', { alertname: 'MnistReplicaDown', replica: 'mnist-6' }), 30);
      assert.equal(await stateOf({ sloth_severity: 'ticket' }), 'suppressed', 'no ticket beside the page');
      assert.equal(await stateOf({ replica: 'mnist-5' }), 'suppressed', 'the shedding is a cause of the page');
      assert.ok(!receiver.notifications.some(carries('firing', { replica: 'mnist-5' })));
      assert.ok(!receiver.notifications.some(carries('firing', { sloth_severity: 'ticket' })));
    });
  });
});
