/**
 * The metrics listener over real HTTP: GET and HEAD on /metrics (a query string ignored), JSON
 * errors for any other path or method, and a 500 that says why when a collector fails.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { createMetricsServer } from '../../src/metrics/metrics-server.ts';

async function listen(registry: Registry): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createMetricsServer(registry);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('the metrics listener', () => {
  const registry = new Registry();
  new Gauge({ name: 'test_answer', help: 'An answer.', registers: [registry] }).set(42);
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    server = await listen(registry);
  });
  after(() => server.close());

  it('serves the registry in its own format at GET /metrics, with or without a query string', async () => {
    for (const path of ['/metrics', '/metrics?since=1']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), registry.contentType);
      assert.match(await res.text(), /^test_answer 42$/m);
    }
  });

  it('answers HEAD with the headers alone', async () => {
    const res = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), registry.contentType);
    assert.equal(await res.text(), '');
  });

  it('refuses other methods with 405 and what is allowed, other paths with 404, in JSON', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${server.url}/metrics`, { method });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), { error: { code: 'method_not_allowed', message: 'use GET /metrics' } });
    }
    for (const path of ['/', '/metric', '/metrics/', '/predict']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), {
        error: { code: 'not_found', message: 'metrics are served at GET /metrics' },
      });
    }
  });

  it('answers 500 with the reason when a collector fails, and serves again once it does not', async () => {
    const failing = new Registry();
    let fail = true;
    new Gauge({
      name: 'test_flaky',
      help: 'Fails when told to.',
      registers: [failing],
      collect() {
        if (fail) throw new Error('the cgroup file vanished');
        this.set(1);
      },
    });
    const flaky = await listen(failing);
    try {
      const res = await fetch(`${flaky.url}/metrics`);
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(await res.json(), { error: { code: 'internal_error', message: 'the cgroup file vanished' } });
      fail = false;
      assert.match(await (await fetch(`${flaky.url}/metrics`)).text(), /^test_flaky 1$/m);
    } finally {
      await flaky.close();
    }
  });
});
