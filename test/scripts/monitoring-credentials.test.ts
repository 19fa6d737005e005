/**
 * The monitoring's credentials (scripts/monitoring/credentials.ts), and the programs that read
 * them as compose.yaml runs them: a password generated once and kept, MONITORING_PASSWORD taking
 * its place, a bad one refused with nothing changed; Debian's Alertmanager and Prometheus on the
 * written web.yml (401 without or with a wrong password, 200 with it), Prometheus scraping and
 * alerting Alertmanager with prometheus/prometheus.yml's basic_auth, and HAProxy's stats page on
 * the written userlist while /metrics stays open.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { parse as parseYaml } from 'yaml';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import {
  ALERTMANAGER,
  PROMETHEUS,
  startAlertmanager,
  startPrometheus,
  type MonitoringProcess,
  type WebAuth,
} from '../../devkit/monitoring-process.ts';
import { queryPrometheus } from '../../devkit/prometheus-api.ts';
import { waitFor } from '../support/cluster.ts';
import { basicAuthorization } from '../../devkit/basic-auth.ts';

const SCRIPT = 'scripts/monitoring/credentials.ts';
const credentials = (out: string, env: Record<string, string> = {}) => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--out', out], {
    encoding: 'utf8',
    env: { ...process.env, MONITORING_PASSWORD: '', ...env },
  });
  return { status: run.status, out: run.stdout + run.stderr };
};
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
const basic = basicAuthorization;

interface BasicAuth {
  username: string;
  password_file: string;
}
const composeConfig = parseYaml(readFileSync('prometheus/prometheus.yml', 'utf8')) as {
  alerting: { alertmanagers: { basic_auth: BasicAuth }[] };
  scrape_configs: { job_name: string; basic_auth?: BasicAuth }[];
};

describe('the monitoring credentials', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'mnist-credentials-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a password once and keeps it; MONITORING_PASSWORD replaces it; a bad one changes nothing', () => {
    const first = credentials(dir);
    assert.equal(first.status, 0, first.out);
    const generated = read(dir, 'password');
    assert.match(generated, /^[A-Za-z0-9_-]{24}$/);
    assert.ok(first.out.includes(generated), 'printed on the first start');
    for (const file of ['password', 'web.yml', 'haproxy-userlist.cfg', 'authorization']) {
      assert.equal(statSync(join(dir, file)).mode & 0o777, 0o444, file);
    }
    const hash = (parseYaml(read(dir, 'web.yml')) as { basic_auth_users: Record<string, string> }).basic_auth_users
      .admin!;
    assert.ok(bcrypt.compareSync(generated, hash));
    assert.equal(read(dir, 'haproxy-userlist.cfg'), `userlist monitoring\n  user admin password ${hash}\n`);
    assert.equal(read(dir, 'authorization'), basic('admin', generated));

    const again = credentials(dir);
    assert.equal(again.status, 0, again.out);
    assert.equal(read(dir, 'password'), generated);
    assert.ok(!again.out.includes(generated), 'not printed again');

    const chosen = 'chosen-password-123';
    assert.equal(credentials(dir, { MONITORING_PASSWORD: chosen }).status, 0);
    assert.equal(read(dir, 'password'), chosen);
    const web = parseYaml(read(dir, 'web.yml')) as { basic_auth_users: Record<string, string> };
    assert.ok(bcrypt.compareSync(chosen, web.basic_auth_users.admin!));

    const files = ['password', 'web.yml', 'haproxy-userlist.cfg', 'authorization'].map((f) => read(dir, f));
    for (const bad of ['short', 'with a space in it', 'x'.repeat(73), 'line\nbreak-password']) {
      const refused = credentials(dir, { MONITORING_PASSWORD: bad });
      assert.equal(refused.status, 2, refused.out);
      assert.match(refused.out, /MONITORING_PASSWORD must be/);
    }
    assert.deepEqual(
      ['password', 'web.yml', 'haproxy-userlist.cfg', 'authorization'].map((f) => read(dir, f)),
      files,
    );
  });
});

const tools = Boolean(PROMETHEUS && ALERTMANAGER) && haveHaproxy();
describe('Prometheus, Alertmanager and the stats page behind them', { skip: !tools && !process.env.CI }, () => {
  let dir = '';
  let auth: WebAuth;
  let password = '';
  let alertmanager: MonitoringProcess;
  let prometheus: MonitoringProcess;
  const balancers: Balancer[] = [];
  before(async () => {
    assert.ok(tools, 'Prometheus, Alertmanager and HAProxy are missing in CI (scripts/ci/install-test-tools.sh)');
    dir = mkdtempSync(join(tmpdir(), 'mnist-locked-'));
    assert.equal(credentials(join(dir, 'credentials')).status, 0);
    password = read(join(dir, 'credentials'), 'password');
    auth = {
      configFile: join(dir, 'credentials', 'web.yml'),
      authorization: read(join(dir, 'credentials'), 'authorization'),
    };
    alertmanager = await startAlertmanager(join(dir, 'am'), 'http://127.0.0.1:9/unused', [], auth);
    // compose's basic_auth blocks as they are, the volume's path mapped to where this test wrote it.
    const withFile = (block?: BasicAuth) =>
      block && { ...block, password_file: block.password_file.replace(/^\/credentials\//, `${dir}/credentials/`) };
    const scrape = composeConfig.scrape_configs.find((job) => job.job_name === 'alertmanager')!;
    writeFileSync(
      join(dir, 'rules.yml'),
      // Once Alertmanager is scraped: an alert sent before Prometheus knew it would wait a minute to be resent.
      'groups:\n  - name: reached\n    rules:\n      - alert: CredentialsTestAlert\n        expr: up{job="alertmanager"} == 1\n',
    );
    prometheus = await startPrometheus(
      join(dir, 'prometheus'),
      {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yml')],
        alerting: {
          alertmanagers: [
            {
              static_configs: [{ targets: [alertmanager.url.replace('http://', '')] }],
              basic_auth: withFile(composeConfig.alerting.alertmanagers[0]?.basic_auth),
            },
          ],
        },
        scrape_configs: [
          {
            job_name: 'alertmanager',
            basic_auth: withFile(scrape.basic_auth),
            static_configs: [{ targets: [alertmanager.url.replace('http://', '')] }],
          },
        ],
      },
      {},
      auth,
    );
  });
  after(async () => {
    alertmanager?.kill();
    prometheus?.kill();
    await Promise.all(balancers.map((b) => b.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (url: string, authorization?: string) =>
    (await fetch(url, { headers: authorization ? { authorization } : {} })).status;

  it('answers 401 without the password or with a wrong one, 200 with it', async () => {
    for (const url of [`${prometheus.url}/api/v1/query?query=up`, `${alertmanager.url}/api/v2/status`]) {
      assert.equal(await status(url), 401, url);
      assert.equal(await status(url, basic('admin', 'not-the-password')), 401, url);
      assert.equal(await status(url, basic('someone', password)), 401, url);
      assert.equal(await status(url, auth.authorization), 200, url);
    }
  });

  it("scrapes and alerts Alertmanager with compose's basic_auth", async () => {
    const base = prometheus.url.replace('http://', `http://admin:${password}@`);
    await waitFor('Alertmanager scraped', 30, async () =>
      (await queryPrometheus(base, 'up{job="alertmanager"}'))[0]?.value[1] === '1' ? true : undefined,
    );
    await waitFor('the alert in Alertmanager', 30, async () => {
      const res = await fetch(`${alertmanager.url}/api/v2/alerts`, { headers: { authorization: auth.authorization } });
      const alerts = (await res.json()) as { labels: Record<string, string> }[];
      return alerts.some((a) => a.labels.alertname === 'CredentialsTestAlert') ? true : undefined;
    });
    await assert.rejects(queryPrometheus(prometheus.url, 'up'), /asks for credentials \(HTTP 401\): none were given/);
  });

  it('locks the stats page with the userlist, and leaves /metrics open', async () => {
    const lb = await startBalancer({ 'mnist-1': '127.0.0.1:9' }, { LB_STATS_AUTH: '1' }, [
      join(dir, 'credentials', 'haproxy-userlist.cfg'),
    ]);
    balancers.push(lb);
    const stats = lb.metricsUrl.replace('/metrics', '/stats');
    assert.equal(await status(stats), 401);
    assert.equal(await status(stats, basic('admin', 'not-the-password')), 401);
    assert.equal(await status(stats, auth.authorization), 200);
    assert.equal(await status(lb.metricsUrl), 200);
  });
});
