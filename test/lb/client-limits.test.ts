/**
 * The entry point's per-client limits and API keys (haproxy/haproxy.cfg), run by a real HAProxy in
 * front of a real replica, with clients on different loopback addresses (127.0.0.2, 127.0.0.3):
 * the client over its request rate or its connections gets a JSON 429 with Retry-After, in the
 * protocol's shape on /v2, while the other is served; the limited clients are counted; one address
 * holding idle and slow connections keeps no more than its limit open; with keys
 * required, a request without a valid key gets a JSON 401 and each key has limits of its own.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import { spawnReplica, type ReplicaProcess } from '../../devkit/replica-process.ts';
import { sample } from '../../devkit/testing.ts';

/** A client on its own loopback address, with up to `connections` keep-alive connections to `url`. */
function client(url: string, address: string, connections = 1) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(url);
  return {
    get(path: string, headers: Record<string, string> = {}) {
      return new Promise<{ status: number; headers: IncomingHttpHeaders; body: unknown }>((resolve, reject) => {
        request({ hostname, port, path, headers, agent, localAddress: address }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
        })
          .on('error', reject)
          .end();
      });
    },
    close: () => agent.destroy(),
  };
}
type Client = ReturnType<typeof client>;

/** Statuses of `count` requests, `parallel` at a time. */
async function statuses(c: Client, path: string, count: number, parallel = 1, headers: Record<string, string> = {}) {
  const out: number[] = [];
  for (let i = 0; i < count; i += parallel) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(parallel, count - i) }, () => c.get(path, headers)),
    );
    out.push(...answers.map((a) => a.status));
  }
  return out;
}
const count = (list: number[], status: number) => list.filter((s) => s === status).length;

describe('per-client limits and API keys at the entry point', { skip: !haveHaproxy() && !process.env.CI }, () => {
  let replica: ReplicaProcess;
  const balancers: Balancer[] = [];
  const clients: Client[] = [];
  let dir = '';
  before(async () => {
    assert.ok(haveHaproxy(), 'haproxy is missing in CI (apt-get install haproxy)');
    replica = await spawnReplica({ REPLICA: 'mnist-1' });
    dir = mkdtempSync(join(tmpdir(), 'mnist-keys-'));
  });
  after(async () => {
    clients.forEach((c) => c.close());
    await Promise.all(balancers.map((b) => b.stop()));
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const balancer = async (env: Record<string, string>) => {
    const lb = await startBalancer({ 'mnist-1': replica.url.replace('http://', '') }, env);
    balancers.push(lb);
    // Ready once its health checks see the replica (the metrics port's /ready, outside the limits).
    const ready = lb.metricsUrl.replace('/metrics', '/ready');
    for (let i = 0; i < 50 && !(await fetch(ready)).ok; i++) await new Promise((r) => setTimeout(r, 200));
    return lb;
  };
  const clientOf = (lb: Balancer, address: string, connections = 1) => {
    const c = client(lb.url, address, connections);
    clients.push(c);
    return c;
  };

  it('answers the client over its request rate with a JSON 429 and Retry-After, serves the other, and counts one limited client', async () => {
    const lb = await balancer({ LB_CLIENT_REQUESTS_PER_10S: '40' });
    const [noisy, quiet] = [clientOf(lb, '127.0.0.2'), clientOf(lb, '127.0.0.3')];
    const noisyStatuses = await statuses(noisy, '/healthz', 60);
    assert.equal(count(noisyStatuses, 200), 40, `the first 40 pass: ${noisyStatuses.join()}`);
    assert.equal(count(noisyStatuses, 429), 20);
    const refused = await noisy.get('/predict');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal((refused.body as { error: { code: string } }).error.code, 'client_rate_limited');
    const oip = await noisy.get('/v2/models/mnist');
    assert.equal(oip.status, 429);
    assert.equal(typeof (oip.body as { error: unknown }).error, 'string', "the Open Inference Protocol's shape");
    assert.deepEqual(await statuses(quiet, '/healthz', 30), new Array(30).fill(200), 'the other client is served');
    const text = await (await fetch(lb.metricsUrl)).text();
    assert.equal(sample(text, 'haproxy_sticktable_used', { name: 'limited_clients' }), 1);
    assert.ok(sample(text, 'haproxy_frontend_requests_denied_total', { proxy: 'api' })! >= 22);
  });

  it('answers a client over its open connections with 429, and serves the other', async () => {
    const lb = await balancer({ LB_CLIENT_CONNECTIONS: '4' });
    const [greedy, other] = [clientOf(lb, '127.0.0.2', 12), clientOf(lb, '127.0.0.3', 4)];
    const greedyStatuses = await statuses(greedy, '/healthz', 12, 12);
    assert.ok(count(greedyStatuses, 429) >= 1, `over 4 connections: ${greedyStatuses.join()}`);
    assert.ok(count(greedyStatuses, 200) >= 4, greedyStatuses.join());
    assert.deepEqual(await statuses(other, '/healthz', 8, 4), new Array(8).fill(200));
  });

  it("holds one address's idle and slow connections to its limit while another client is served", async () => {
    /** Opens `idle` connections that send nothing and `slow` ones trickling headers; how many stay open. */
    const flood = async (lb: Balancer, idle: number, slow: number) => {
      const { hostname, port } = new URL(lb.url);
      const sockets = await Promise.all(
        Array.from({ length: idle + slow }, (_, i) => {
          const socket = connect({ host: hostname, port: Number(port), localAddress: '127.0.0.2' });
          socket.on('error', () => {});
          // Resolved once connected, or once refused or closed first.
          return new Promise<Socket>((resolve) => {
            socket.once('close', () => resolve(socket));
            socket.once('connect', () => {
              if (i >= idle) socket.write('POST /predict HTTP/1.1\r\nHost: lb\r\n');
              resolve(socket);
            });
          });
        }),
      );
      const trickle = setInterval(() => {
        for (const socket of sockets.slice(idle)) if (!socket.destroyed) socket.write('X-Slow: 1\r\n');
      }, 300);
      return {
        open: async () => {
          await new Promise((r) => setTimeout(r, 1000));
          return sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
        },
        end: () => {
          clearInterval(trickle);
          sockets.forEach((socket) => socket.destroy());
        },
      };
    };
    const held: Record<string, number> = {};
    for (const [limit, name] of [
      ['100000', 'unlimited'],
      ['300', 'limited'],
    ] as const) {
      const lb = await balancer({ LB_CLIENT_OPEN_CONNECTIONS: limit });
      const abusive = await flood(lb, 400, 100);
      try {
        held[name] = await abusive.open();
        const other = clientOf(lb, '127.0.0.3');
        const started = performance.now();
        assert.deepEqual(await statuses(other, '/healthz', 100), new Array(100).fill(200), name);
        console.log(
          `${name}: one address held ${held[name]} of 500 idle and slow connections; another client's 100 requests ` +
            `all answered, ${((performance.now() - started) / 100).toFixed(2)} ms each on average`,
        );
      } finally {
        abusive.end();
      }
    }
    assert.equal(held.unlimited, 500, 'without the limit the address holds every connection');
    assert.ok(held.limited! <= 300, `with the limit: ${held.limited}`);
  });

  it('requires a valid key when keys are on (JSON 401), and limits each key on its own', async () => {
    const keys = join(dir, 'api-keys.sha256');
    const [first, second] = [0, 1].map(() => execFileSync('scripts/api-key.sh', [keys], { encoding: 'utf8' }).trim());
    const lb = await balancer({ LB_REQUIRE_API_KEY: '1', LB_API_KEYS_FILE: keys, LB_CLIENT_REQUESTS_PER_10S: '20' });
    const shared = clientOf(lb, '127.0.0.2');
    const none = await shared.get('/healthz');
    assert.equal(none.status, 401);
    assert.equal((none.body as { error: { code: string } }).error.code, 'unauthorized');
    assert.equal(none.headers['www-authenticate'], 'ApiKey');
    assert.equal((await shared.get('/healthz', { 'x-api-key': `${first}x` })).status, 401, 'a wrong key');
    const oip = await shared.get('/v2/health/ready');
    assert.equal(oip.status, 401);
    assert.equal(typeof (oip.body as { error: unknown }).error, 'string');
    // Two keys from one address: the first over its limit, the second still served.
    const firstStatuses = await statuses(shared, '/healthz', 30, 1, { 'x-api-key': first! });
    assert.deepEqual([count(firstStatuses, 200), count(firstStatuses, 429)], [20, 10]);
    assert.deepEqual(await statuses(shared, '/healthz', 10, 1, { 'x-api-key': second! }), new Array(10).fill(200));
  });
});
