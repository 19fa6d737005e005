/**
 * The autoscaler's window on the Docker API (swarm/docker-scale.cfg) with a real HAProxy: the
 * `mnist` service's inspect and update pass, everything else an engine offers is refused with 403
 * before it reaches the engine (a recording server in the engine's place).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../devkit/free-port.ts';
import { haveHaproxy } from '../../devkit/haproxy.ts';
import { requireTool } from '../../devkit/testing.ts';

describe('the Docker API proxy of the autoscaler', () => {
  const reached: string[] = [];
  const engine = createServer((req, res) => {
    reached.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const dir = mkdtempSync(join(tmpdir(), 'mnist-docker-scale-'));
  let proxy = '';
  let stop = () => {};

  before(async () => {
    if (!haveHaproxy()) return;
    await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', resolve));
    const enginePort = (engine.address() as { port: number }).port;
    const port = await freePort();
    const config = readFileSync('swarm/docker-scale.cfg', 'utf8')
      .replace(/bind :2375/, `bind 127.0.0.1:${port}`)
      .replace(/server engine \S+/, `server engine 127.0.0.1:${enginePort}`);
    writeFileSync(join(dir, 'docker-scale.cfg'), config);
    const child = spawn('haproxy', ['-db', '-f', join(dir, 'docker-scale.cfg')], { stdio: 'ignore' });
    stop = () => child.kill('SIGKILL');
    proxy = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${proxy}/_ping`).then(
          () => true,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(() => {
    stop();
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes the mnist service's inspect and update, and nothing else", async (t) => {
    if (!requireTool(haveHaproxy(), 'haproxy', t)) return;
    const status = async (method: string, path: string) =>
      (await fetch(proxy + path, { method, body: method === 'POST' ? '{}' : undefined })).status;
    const allowed = [
      ['GET', '/services/mnist_mnist'],
      ['GET', '/v1.41/services/mnist_mnist'],
      ['POST', '/v1.41/services/my-stack_mnist/update?version=12'],
    ];
    const refused = [
      ['GET', '/services/mnist_lb'],
      ['POST', '/services/mnist_prometheus-server/update?version=3'],
      ['DELETE', '/services/mnist_mnist'],
      ['GET', '/services/mnist_mnist/logs'],
      ['POST', '/services/mnist_mnist'],
      ['GET', '/services'],
      ['GET', '/secrets'],
      ['POST', '/containers/create'],
      ['POST', '/v1.41/containers/abc/exec'],
      ['GET', '/services/mnist_mnist/../../secrets'],
      ['GET', '/services/mnist_mnist%2F..%2F..%2Fsecrets'],
      ['POST', '/services/create'],
    ];
    reached.length = 0;
    for (const [method, path] of allowed) assert.equal(await status(method!, path!), 200, `${method} ${path}`);
    for (const [method, path] of refused) assert.equal(await status(method!, path!), 403, `${method} ${path}`);
    assert.deepEqual(
      reached,
      allowed.map(([method, path]) => `${method} ${path}`),
    );
  });
});
