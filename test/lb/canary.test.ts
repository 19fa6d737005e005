/**
 * The entry point's weighted canary (haproxy/haproxy.cfg, haproxy/canary.map), run by a real
 * HAProxy in front of a server that echoes the X-Model-Version header it was given: the share the
 * runtime API sets is the share of requests that get the canary version, within three standard
 * deviations over 10,000; a change takes effect from the next requests, without a reload; a
 * request naming its own version is left alone; with `sticky 1` each client stays on one side.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../devkit/free-port.ts';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import { mapConcurrent } from '../../devkit/testing.ts';
import { readCanary, writeCanary, type RuntimeApi } from '../../rollout/src/haproxy-runtime.ts';

const MAP = fileURLToPath(new URL('../../haproxy/canary.map', import.meta.url));

/** Answers with the version header it received ("none" without one). */
function echoServer(): Promise<Server> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version: req.headers['x-model-version'] ?? 'none' }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the weighted canary at the entry point', { skip: !haveHaproxy() && 'haproxy is not installed' }, () => {
  let balancer: Balancer;
  let server: Server;
  let api: RuntimeApi;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  before(async () => {
    server = await echoServer();
    const [runtimePort] = await freePorts(1);
    // A copy of the shipped map: the runtime API changes HAProxy's memory, never the file, but the
    // test must start from the shipped entries whatever another run left.
    const map = join(mkdtempSync(join(tmpdir(), 'canary-')), 'canary.map');
    copyFileSync(MAP, map);
    api = { address: `127.0.0.1:${runtimePort}`, map };
    const { port } = server.address() as { port: number };
    balancer = await startBalancer(
      { echo: `127.0.0.1:${port}` },
      { LB_CANARY_MAP: map, LB_RUNTIME_API: `ipv4@${api.address}` },
    );
  });
  after(async () => {
    agent.destroy();
    await balancer?.stop();
    server?.close();
  });

  /** The version header each of `n` requests reached the server with. */
  function versions(n: number, headers: Record<string, string> = {}, localAddress?: string): Promise<string[]> {
    const { hostname, port } = new URL(balancer.url);
    const one = () =>
      new Promise<string>((resolve, reject) => {
        request({ hostname, port, path: '/predict', method: 'POST', headers, agent, localAddress }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve((JSON.parse(text) as { version: string }).version));
        })
          .on('error', reject)
          .end('{}');
      });
    return mapConcurrent(
      Array.from({ length: n }, (_, i) => i),
      16,
      one,
    );
  }
  const share = (seen: string[], version: string) => seen.filter((v) => v === version).length / seen.length;
  /** Three standard deviations of a share p measured over n independent requests. */
  const threeSigma = (p: number, n: number) => 3 * Math.sqrt((p * (1 - p)) / n);

  it('sends nothing to a canary until the runtime API sets a share', async () => {
    assert.deepEqual(await readCanary(api), { share: '0', sticky: '0' });
    assert.deepEqual(new Set(await versions(200)), new Set(['none']));
  });

  it('sends 10% of 10,000 requests to the canary, within three standard deviations, and the rest to stable', async () => {
    const entries = await writeCanary(api, { canary: 'v1', stable: 'v2', share: '10' });
    assert.deepEqual(entries, { share: '10', sticky: '0', canary: 'v1', stable: 'v2' });
    const seen = await versions(10_000);
    const measured = share(seen, 'v1');
    assert.ok(Math.abs(measured - 0.1) <= threeSigma(0.1, 10_000), `canary share ${measured}`);
    assert.ok(
      seen.every((v) => v === 'v1' || v === 'v2'),
      'every other request went to stable',
    );
  });

  it('takes a new share from the next requests, without a reload', async () => {
    await writeCanary(api, { share: '60' });
    const seen = await versions(300);
    assert.ok(Math.abs(share(seen, 'v1') - 0.6) <= threeSigma(0.6, 300), `canary share ${share(seen, 'v1')}`);
    await writeCanary(api, { share: '100' });
    assert.equal(share(await versions(200), 'v1'), 1);
    await writeCanary(api, { share: '0' });
    assert.equal(share(await versions(200), 'v2'), 1);
  });

  it('leaves a request that names its version alone', async () => {
    await writeCanary(api, { share: '50' });
    assert.deepEqual(new Set(await versions(200, { 'x-model-version': 'v7' })), new Set(['v7']));
  });

  it('keeps each client on one side when sticky, with about the share of clients on the canary', async () => {
    await writeCanary(api, { share: '30', sticky: '1' });
    const clients = Array.from({ length: 120 }, (_, i) => `127.0.${1 + Math.floor(i / 200)}.${10 + i}`);
    let onCanary = 0;
    for (const address of clients) {
      const seen = new Set(await versions(12, {}, address));
      assert.equal(seen.size, 1, `${address} saw ${[...seen].join(', ')}`);
      if (seen.has('v1')) onCanary++;
    }
    const measured = onCanary / clients.length;
    assert.ok(Math.abs(measured - 0.3) <= threeSigma(0.3, clients.length), `clients on the canary ${measured}`);
    await writeCanary(api, { share: '0', sticky: '0', canary: null, stable: null });
    assert.deepEqual(await readCanary(api), { share: '0', sticky: '0' });
  });
});
