/**
 * HTTPS at the entry point: the certificate scripts/tls/entry-certificate.ts generates (or copies),
 * served by a real HAProxy with haproxy/haproxy.cfg in front of a real replica, checked with curl:
 * trusted with --cacert, HTTP/2 offered, TLS below 1.2 refused, plain HTTP redirected when asked.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../devkit/free-port.ts';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import { spawnReplica, type ReplicaProcess } from '../../devkit/replica-process.ts';
import { digits, encodeDigit } from '../../devkit/testing.ts';

const certificate = (...args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/tls/entry-certificate.ts', ...args], {
    encoding: 'utf8',
  });
/** curl's exit status, and what it printed. */
const curl = (...args: string[]) => {
  const run = spawnSync('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'utf8' });
  return { status: run.status, out: run.stdout, err: run.stderr };
};

describe('HTTPS at the entry point', { skip: !haveHaproxy() && !process.env.CI }, () => {
  let replica: ReplicaProcess;
  let dir = '';
  const balancers: Balancer[] = [];
  before(async () => {
    replica = await spawnReplica({ REPLICA: 'mnist-1' });
    dir = mkdtempSync(join(tmpdir(), 'mnist-tls-'));
  });
  after(async () => {
    await Promise.all(balancers.map((b) => b.stop()));
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  /** HAProxy with TLS on a port of its own; its https:// URL. */
  const withTls = async (certs: string, env: Record<string, string> = {}) => {
    const port = await freePort();
    const lb = await startBalancer(
      { 'mnist-1': replica.url.replace('http://', '') },
      {
        LB_TLS_CERT: join(certs, 'entry.pem'),
        LB_TLS_BIND: `127.0.0.1:${port}`,
        LB_TLS_PUBLIC_PORT: String(port),
        ...env,
      },
    );
    balancers.push(lb);
    const ready = lb.metricsUrl.replace('/metrics', '/ready');
    for (let i = 0; i < 50 && !(await fetch(ready)).ok; i++) await new Promise((r) => setTimeout(r, 200));
    return { lb, https: `https://localhost:${port}` };
  };

  it('serves predictions over HTTPS to a client that trusts the generated certificate, with HTTP/2, and keeps the certificate', async () => {
    const certs = join(dir, 'generated');
    assert.match(certificate('--out', certs), /self-signed/);
    const first = readFileSync(join(certs, 'entry.pem'), 'utf8');
    assert.match(certificate('--out', certs), /generated on the first start/);
    assert.equal(readFileSync(join(certs, 'entry.pem'), 'utf8'), first, 'kept, not generated again');
    const { https } = await withTls(certs);
    const png = join(dir, 'digit.png');
    const [d] = digits(1, 7);
    writeFileSync(png, await encodeDigit(d!.pixels));
    const ca = join(certs, 'entry-ca.pem');
    const answer = curl('--cacert', ca, '--http2', '-F', `file=@${png}`, '-w', '\n%{http_version}', `${https}/predict`);
    assert.equal(answer.status, 0, answer.err);
    const [body, version] = answer.out.split('\n');
    assert.equal((JSON.parse(body!) as { digit: number }).digit, d!.label);
    assert.equal(version, '2', 'HTTP/2 negotiated');
    const headers = curl('--cacert', ca, '-D', '-', '-o', '/dev/null', `${https}/healthz`);
    assert.match(headers.out, /strict-transport-security: max-age=31536000/i);
    assert.equal(curl(`${https}/healthz`).status, 60, 'untrusted without --cacert');
    assert.notEqual(
      curl('--cacert', ca, '--tlsv1.1', '--tls-max', '1.1', `${https}/healthz`).status,
      0,
      'TLS 1.1 refused',
    );
    assert.equal(curl('--cacert', ca, '--tlsv1.3', '-o', '/dev/null', `${https}/healthz`).status, 0, 'TLS 1.3');
  });

  it("serves an operator's own certificate, and redirects plain HTTP to HTTPS when asked", async () => {
    const own = join(dir, 'own');
    certificate('--out', own, '--names', 'mnist.example');
    const provided = join(dir, 'provided');
    certificate('--out', provided, '--names', 'own.example');
    const certs = join(dir, 'served');
    assert.match(certificate('--out', certs, '--provided', provided), /the one provided/);
    assert.equal(readFileSync(join(certs, 'entry.pem'), 'utf8'), readFileSync(join(provided, 'entry.pem'), 'utf8'));
    const { lb, https } = await withTls(certs, { LB_HTTPS_REDIRECT: '1' });
    const port = new URL(https).port;
    const redirect = curl('-D', '-', '-o', '/dev/null', `${lb.url}/predict?explain=1`);
    assert.match(redirect.out, /^HTTP\/1\.1 308/);
    assert.match(redirect.out, new RegExp(`location: https://127\\.0\\.0\\.1:${port}/predict\\?explain=1`, 'i'));
    const followed = curl('--cacert', join(provided, 'entry-ca.pem'), '-L', `${lb.url}/healthz`);
    assert.equal(followed.status, 0, followed.err);
    assert.equal(curl('--cacert', join(own, 'entry-ca.pem'), `${https}/healthz`).status, 60, 'another certificate');
  });
});
