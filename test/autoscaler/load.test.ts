/**
 * The load as the autoscaler reads it, from a real Prometheus scraping replicas' gauges: one value
 * per replica that reports, a replica that stops answering left out (not taken as idle), the
 * monitoring's password honoured, and a Prometheus gone seen as unavailable.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashSync } from 'bcryptjs';
import { Gauge, Registry } from 'prom-client';
import { observeLoad, type LoadSource } from '../../autoscaler/src/load.ts';
import type { Observation } from '../../autoscaler/src/policy.ts';
import { PROMETHEUS, startPrometheus, type MonitoringProcess } from '../../devkit/monitoring-process.ts';
import { requireTool } from '../../devkit/testing.ts';
import { basicAuthorization } from '../../devkit/basic-auth.ts';

const PASSWORD = 'autoscaler-test-password';
const AUTHORIZATION = basicAuthorization('admin', PASSWORD);

/** A replica's metrics port as far as the autoscaler looks: its requests in flight. */
async function replica(name: string, inFlight: number) {
  const registry = new Registry();
  registry.setDefaultLabels({ replica: name });
  new Gauge({ name: 'mnist_inflight_requests', help: 'in flight', registers: [registry] }).set(inFlight);
  const server = createServer((_req, res) => {
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { target: `127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function until(what: string, source: LoadSource, accept: (seen: Observation) => boolean): Promise<Observation> {
  let seen: Observation | undefined;
  for (let i = 0; i < 150; i++) {
    seen = await observeLoad(source);
    if (accept(seen)) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: last seen ${JSON.stringify(seen)}`);
}

describe('the load the autoscaler reads from Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-autoscaler-'));
  const replicas: Awaited<ReturnType<typeof replica>>[] = [];
  let prometheus: MonitoringProcess | undefined;
  let source: LoadSource;

  before(async () => {
    if (!PROMETHEUS) return;
    replicas.push(await replica('mnist-1', 2), await replica('mnist-2', 4), await replica('mnist-3', 9));
    writeFileSync(join(dir, 'web.yml'), `basic_auth_users:\n  admin: ${JSON.stringify(hashSync(PASSWORD, 4))}\n`);
    const config = {
      global: { scrape_interval: '1s' },
      scrape_configs: [{ job_name: 'mnist', static_configs: [{ targets: replicas.map((r) => r.target) }] }],
    };
    prometheus = await startPrometheus(
      join(dir, 'prometheus'),
      config,
      {},
      {
        configFile: join(dir, 'web.yml'),
        authorization: AUTHORIZATION,
      },
    );
    // A window longer than the test: a replica gone must leave the answer at once, not when its samples age out.
    source = { url: prometheus.url, windowS: 300, peakS: 300, authorization: AUTHORIZATION };
  });
  after(async () => {
    prometheus?.kill();
    await Promise.all(replicas.map((r) => r.close().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each replica its load, dated by the newest sample', async (t) => {
    if (!requireTool(PROMETHEUS !== undefined, 'prometheus', t)) return;
    const seen = await until(
      'three replicas, now and at their recent peak',
      source,
      (s) => s.kind === 'load' && s.perReplica.length === 3 && s.recentPeak.length === 3,
    );
    assert.ok(seen.kind === 'load');
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    assert.deepEqual(sorted(seen.perReplica), [2, 4, 9]);
    // Steady gauges: their highest is what they are.
    assert.deepEqual(sorted(seen.recentPeak), [2, 4, 9]);
    assert.ok(Math.abs(Date.now() - seen.sampledAt) < 5000, `sampled at ${new Date(seen.sampledAt).toISOString()}`);
  });

  it('asks with the password, and is refused without it', async (t) => {
    if (!requireTool(PROMETHEUS !== undefined, 'prometheus', t)) return;
    const refused = await observeLoad({ ...source, authorization: undefined });
    assert.deepEqual(refused, { kind: 'unavailable', error: 'Prometheus answered 401' });
  });

  it('leaves out a replica that stops answering, instead of counting it idle', async (t) => {
    if (!requireTool(PROMETHEUS !== undefined, 'prometheus', t)) return;
    await replicas[2]!.close();
    const seen = await until('two replicas', source, (s) => s.kind === 'load' && s.perReplica.length === 2);
    assert.ok(seen.kind === 'load');
    assert.deepEqual(
      [...seen.perReplica].sort((a, b) => a - b),
      [2, 4],
    );
  });

  it('reports a Prometheus gone as unavailable', async (t) => {
    if (!requireTool(PROMETHEUS !== undefined, 'prometheus', t)) return;
    prometheus!.kill();
    const seen = await until('unavailable', source, (s) => s.kind === 'unavailable');
    assert.equal(seen.kind, 'unavailable');
  });
});
