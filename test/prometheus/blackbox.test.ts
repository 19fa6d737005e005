/**
 * The outside probe (blackbox/blackbox.yml, prometheus/entrypoint.sh): its picture is the first
 * MNIST test digit and its expected answer that digit's label; Debian's blackbox exporter on the
 * module, against a real HAProxy (haproxy/haproxy.cfg, HTTP and HTTPS with the generated
 * certificate) in front of a real replica, passes, and fails when the balancer has no replica, the
 * port is closed, or the certificate is not the one trusted; the targets Prometheus's entrypoint
 * writes follow API_BIND and the ports.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { freePort } from '../../devkit/free-port.ts';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import { spawnReplica, type ReplicaProcess } from '../../devkit/replica-process.ts';
import { digits, encodeDigit, installed } from '../../devkit/testing.ts';
import { waitFor } from '../support/cluster.ts';

interface Module {
  prober: string;
  http: {
    body: string;
    fail_if_body_not_matches_regexp: string[];
    tls_config: { ca_file: string };
  };
}
const config = parseYaml(readFileSync('blackbox/blackbox.yml', 'utf8')) as { modules: Record<string, Module> };
const module = config.modules.entry_point!;
const BLACKBOX = installed('prometheus-blackbox-exporter') ? 'prometheus-blackbox-exporter' : undefined;

describe('the outside probe', () => {
  it("sends the first MNIST test digit and expects that digit's label", async () => {
    const body = JSON.parse(module.http.body) as { inputs: { datatype: string; data: string[] }[] };
    const [input] = body.inputs;
    assert.equal(input!.datatype, 'BYTES');
    const [digit] = digits(1);
    assert.equal(input!.data[0], (await encodeDigit(digit!.pixels)).toString('base64'));
    assert.deepEqual(module.http.fail_if_body_not_matches_regexp, [`"data":\\[${digit!.label}\\]`]);
  });

  it("writes the published addresses as Prometheus's probe targets", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-probe-targets-'));
    try {
      const targets = (env: Record<string, string>) => {
        const file = join(dir, 'targets.json');
        execFileSync('sh', ['prometheus/entrypoint.sh'], {
          env: { PATH: process.env.PATH, PROMETHEUS_BIN: 'true', PROBE_TARGETS: file, ...env },
        });
        return (JSON.parse(readFileSync(file, 'utf8')) as { targets: string[] }[]).flatMap((t) => t.targets);
      };
      const path = '/v2/models/mnist/infer';
      assert.deepEqual(targets({}), [`http://127.0.0.1:8080${path}`, `https://127.0.0.1:8443${path}`]);
      assert.deepEqual(targets({ API_BIND: '0.0.0.0', LB_PORT: '18080', LB_TLS_PORT: '18443' }), [
        `http://127.0.0.1:18080${path}`,
        `https://127.0.0.1:18443${path}`,
      ]);
      assert.deepEqual(targets({ API_BIND: '192.0.2.7' }), [
        `http://192.0.2.7:8080${path}`,
        `https://192.0.2.7:8443${path}`,
      ]);
      assert.deepEqual(targets({ API_BIND: '::' }), [`http://[::1]:8080${path}`, `https://[::1]:8443${path}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const tools = Boolean(BLACKBOX) && haveHaproxy();
  describe('run by a real blackbox exporter against a real balancer', { skip: !tools && !process.env.CI }, () => {
    let dir = '';
    let replica: ReplicaProcess;
    let exporter: ChildProcess;
    let exporterUrl = '';
    const balancers: Balancer[] = [];
    const endpoints = { http: '', https: '', empty: '' };

    const balancer = async (servers: Record<string, string>) => {
      const tlsPort = await freePort();
      const lb = await startBalancer(servers, {
        LB_TLS_CERT: join(dir, 'certs', 'entry.pem'),
        LB_TLS_BIND: `127.0.0.1:${tlsPort}`,
        LB_TLS_PUBLIC_PORT: String(tlsPort),
      });
      balancers.push(lb);
      return { lb, https: `https://127.0.0.1:${tlsPort}` };
    };

    before(async () => {
      assert.ok(tools, 'the blackbox exporter and HAProxy are missing in CI (scripts/ci/install-test-tools.sh)');
      dir = mkdtempSync(join(tmpdir(), 'mnist-blackbox-'));
      execFileSync(process.execPath, [
        ...['--import', 'tsx', 'scripts/tls/entry-certificate.ts', '--out', join(dir, 'certs')],
      ]);
      execFileSync(process.execPath, [
        ...['--import', 'tsx', 'scripts/tls/entry-certificate.ts', '--out', join(dir, 'other')],
      ]);
      replica = await spawnReplica({ REPLICA: 'mnist-1' });
      const served = await balancer({ 'mnist-1': replica.url.replace('http://', '') });
      await waitFor('the balancer to see the replica', 30, async () =>
        (await fetch(served.lb.metricsUrl.replace('/metrics', '/ready'))).ok ? true : undefined,
      );
      const empty = await balancer({ 'mnist-1': `127.0.0.1:${await freePort()}` });
      const path = '/v2/models/mnist/infer';
      Object.assign(endpoints, {
        http: `${served.lb.url}${path}`,
        https: `${served.https}${path}`,
        empty: `${empty.lb.url}${path}`,
      });
      // The project's module as it is, trusting this test's certificate; and once trusting another.
      const trusting = (ca: string) => ({
        ...module,
        http: { ...module.http, tls_config: { ...module.http.tls_config, ca_file: ca } },
      });
      writeFileSync(
        join(dir, 'blackbox.yml'),
        stringify({
          modules: {
            entry_point: trusting(join(dir, 'certs', 'entry-ca.pem')),
            other_ca: trusting(join(dir, 'other', 'entry-ca.pem')),
          },
        }),
      );
      const port = await freePort();
      exporterUrl = `http://127.0.0.1:${port}`;
      exporter = spawn(
        BLACKBOX!,
        [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`],
        { stdio: 'ignore' },
      );
      await waitFor('the blackbox exporter', 30, async () =>
        (await fetch(`${exporterUrl}/-/healthy`).then(
          (r) => r.ok,
          () => false,
        ))
          ? true
          : undefined,
      );
    });
    after(async () => {
      exporter?.kill();
      await Promise.all(balancers.map((b) => b.stop()));
      await replica?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const probe = async (target: string, moduleName = 'entry_point') => {
      const url = `${exporterUrl}/probe?module=${moduleName}&target=${encodeURIComponent(target)}`;
      const text = await (await fetch(url)).text();
      return Number(/^probe_success (\d)/m.exec(text)?.[1]);
    };

    it('passes through the balancer, over HTTP and over HTTPS with the certificate it trusts', async () => {
      assert.equal(await probe(endpoints.http), 1);
      assert.equal(await probe(endpoints.https), 1);
    });

    it('fails with no replica behind the balancer, on a closed port, and on a certificate it does not trust', async () => {
      assert.equal(await probe(endpoints.empty), 0);
      assert.equal(await probe(`http://127.0.0.1:${await freePort()}/v2/models/mnist/infer`), 0);
      assert.equal(await probe(endpoints.https, 'other_ca'), 0);
    });
  });
});
