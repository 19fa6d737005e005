/**
 * The load balancer's configuration (haproxy/haproxy.cfg), run by a real HAProxy in front of real
 * replica processes on loopback: `haproxy -c` on both server files, requests spread over the
 * replicas, no client-visible error while a replica is killed or drains, JSON errors in the
 * service's shape when no replica is left, and its Prometheus metrics. The compose tier runs the
 * same file in the pinned image.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../../devkit/free-port.ts';
import { API_KEYS_FILE, haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import { spawnReplica, type ReplicaProcess } from '../../devkit/replica-process.ts';
import { digits, encodeDigit, multipart, sample } from '../../devkit/testing.ts';

/** Whether each named server is up in HAProxy's own view (its Prometheus exporter). */
async function serversUp(balancer: Balancer, names: string[]): Promise<Record<string, boolean>> {
  const text = await (await fetch(balancer.metricsUrl)).text();
  const state = (server: string) => sample(text, 'haproxy_server_status', { proxy: 'replicas', server, state: 'UP' });
  return Object.fromEntries(names.map((name) => [name, state(name) === 1]));
}

async function until(what: string, probe: () => Promise<boolean>, seconds = 15): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `workers` clients sending forms to `url` until `stop` resolves; every answer tallied. */
async function steadyLoad(url: string, png: Buffer, workers: number, stop: Promise<unknown>) {
  let done = false;
  void stop.then(() => (done = true));
  const byReplica: Record<string, number> = {};
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!done) {
        try {
          const res = await fetch(`${url}/predict`, { method: 'POST', body: multipart(png) });
          const body = (await res.json()) as { replica?: string };
          if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(body)}`);
          else byReplica[body.replica!] = (byReplica[body.replica!] ?? 0) + 1;
        } catch (err) {
          failures.push(String(err));
        }
      }
    }),
  );
  return { byReplica, failures };
}

describe("the load balancer's compose servers", () => {
  it('name every replica of compose.yaml, at its in-container API port', () => {
    const compose = parseYaml(readFileSync('compose.yaml', 'utf8')) as { services: Record<string, unknown> };
    const replicas = Object.keys(compose.services).filter((name) => /^mnist-\d+$/.test(name));
    const servers = [...readFileSync('haproxy/compose.cfg', 'utf8').matchAll(/^\s*server (\S+) (\S+)/gm)];
    assert.deepEqual(
      servers.map((m) => [m[1], m[2]]),
      replicas.map((name) => [name, `${name}:8000`]),
    );
  });
});

describe('the load balancer (HAProxy with haproxy/haproxy.cfg)', { skip: !haveHaproxy() && !process.env.CI }, () => {
  let png: Buffer;
  const replicas: Record<string, ReplicaProcess> = {};
  before(async () => {
    assert.ok(haveHaproxy(), 'haproxy is missing in CI (apt-get install haproxy)');
    png = await encodeDigit(digits(1, 3)[0]!.pixels);
    const names = ['mnist-1', 'mnist-2', 'mnist-3'];
    const started = await Promise.all(names.map((name) => spawnReplica({ REPLICA: name })));
    names.forEach((name, i) => (replicas[name] = started[i]!));
  });
  after(async () => {
    await Promise.all(Object.values(replicas).map((r) => r.stop()));
  });
  /** HAProxy in front of the named replicas, once it sees them all up. */
  async function balancerOver(names: string[]): Promise<Balancer> {
    const lb = await startBalancer(Object.fromEntries(names.map((n) => [n, replicas[n]!.url.replace('http://', '')])));
    await until('the replicas up in HAProxy', async () => Object.values(await serversUp(lb, names)).every(Boolean));
    return lb;
  }

  it('is a valid configuration with the compose and the Swarm server files', () => {
    for (const servers of ['haproxy/compose.cfg', 'haproxy/swarm.cfg']) {
      // -c resolves server names; the compose and Swarm names exist only inside their networks.
      const out = execFileSync('haproxy', ['-c', '-f', 'haproxy/haproxy.cfg', '-f', servers], {
        env: { ...process.env, LB_API_KEYS_FILE: API_KEYS_FILE },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.match(out, /Configuration file is valid/);
    }
  });

  it('spreads requests over every replica, and keeps answering while one is killed (retried elsewhere)', async () => {
    const names = ['mnist-1', 'mnist-2'];
    const lb = await balancerOver(names);
    try {
      const load = steadyLoad(lb.url, png, 8, new Promise((r) => setTimeout(r, 6000)));
      await new Promise((r) => setTimeout(r, 2000));
      replicas['mnist-2']!.child.kill('SIGKILL');
      const { byReplica, failures } = await load;
      assert.deepEqual(failures, [], 'no client saw an error');
      assert.ok(byReplica['mnist-1']! > 50 && byReplica['mnist-2']! > 50, JSON.stringify(byReplica));
      assert.deepEqual(await serversUp(lb, names), { 'mnist-1': true, 'mnist-2': false }, 'the killed one is down');
      // Ready for the floating address while it sees a replica up (keepalived asks it).
      assert.equal((await fetch(lb.metricsUrl.replace('/metrics', '/ready'))).status, 200);
      const metrics = await (await fetch(lb.metricsUrl)).text();
      // With `option redispatch 1` HAProxy may count such a retry as a redispatch instead.
      const count = (name: string) => sample(metrics, name, { proxy: 'replicas' }) ?? 0;
      const retried =
        count('haproxy_backend_retry_warnings_total') + count('haproxy_backend_redispatch_warnings_total');
      assert.ok(retried > 0, 'the requests it was serving were retried on the other');
    } finally {
      await lb.stop();
    }
  });

  it('sends a draining replica nothing new: its in-flight requests finish, the rest go elsewhere', async () => {
    const names = ['mnist-1', 'mnist-3'];
    const lb = await balancerOver(names);
    try {
      const stopped = new Promise((r) => setTimeout(r, 6000));
      const load = steadyLoad(lb.url, png, 8, stopped);
      await new Promise((r) => setTimeout(r, 2000));
      const exit = replicas['mnist-3']!.stop(); // SIGTERM: drains, then exits
      await until('the draining replica marked down', async () => !(await serversUp(lb, names))['mnist-3']);
      const { failures } = await load;
      assert.deepEqual(failures, [], 'no client saw an error');
      assert.equal(await exit, 0, 'the replica drained and exited cleanly');
      const after = await steadyLoad(lb.url, png, 4, new Promise((r) => setTimeout(r, 1000)));
      assert.deepEqual(Object.keys(after.byReplica), ['mnist-1'], 'only the live replica answers now');
    } finally {
      await lb.stop();
    }
  });

  it("answers in the service's JSON error shape when no replica is left (503 with Retry-After), and is not ready", async () => {
    const lb = await startBalancer({ gone: `127.0.0.1:${await freePort()}` });
    try {
      await until('the absent server marked down', async () => !(await serversUp(lb, ['gone'])).gone);
      const res = await fetch(`${lb.url}/predict`, {
        method: 'POST',
        body: new Uint8Array(png),
        headers: { 'content-type': 'image/png' },
      });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.headers.get('retry-after'), '1');
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'no_replica_available');
      assert.match(body.error.message, /no replica/);
      // Not ready: a node whose balancer sees no replica gives up the floating address.
      const ready = await fetch(lb.metricsUrl.replace('/metrics', '/ready'));
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'no replica up' });
    } finally {
      await lb.stop();
    }
  });
});
