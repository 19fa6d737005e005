import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRgba } from '../../../devkit/encode.ts';
import { spawnReplica } from '../../../devkit/replica-process.ts';
import { digits, sample, startTestReplica } from '../../../devkit/testing.ts';
import { connect } from 'node:net';
import { once } from 'node:events';

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(await condition(), 'the condition never held');
}

/** A 1000x1000 photo-sized JPEG of a digit: each takes tens of milliseconds to decode. */
async function largeJpeg(pixels: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const side = 1000;
  const rgba = new Uint8Array(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = 255 - pixels[Math.floor((y * 28) / side) * 28 + Math.floor((x * 28) / side)]!;
      rgba.set([v, v, v, 255], (y * side + x) * 4);
    }
  }
  return new Uint8Array(await encodeRgba(rgba, side, side, 'image/jpeg'));
}

describe('graceful shutdown', () => {
  it('drains for SHUTDOWN_TIMEOUT_MS, not longer: a request that never finishes is cut off then', async () => {
    // Every other deadline far away, so that only the drain's own can end it.
    const replica = await startTestReplica({
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '300',
      REQUEST_TIMEOUT_MS: '120000',
      KEEP_ALIVE_TIMEOUT_MS: '120000',
    });
    // A request whose body stops halfway: in flight until the server gives up on it.
    const socket = connect(replica.apiPort, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n');
    socket.write(Buffer.alloc(10));
    const closed = once(socket, 'close');
    await waitUntil(
      async () => (sample(await (await fetch(replica.metricsUrl)).text(), 'mnist_inflight_requests') ?? 0) === 1,
    );
    let timer: NodeJS.Timeout | undefined;
    const tooLong = new Promise((resolve) => (timer = setTimeout(resolve, 20_000, 'still draining')));
    const outcome = await Promise.race([replica.stop(), tooLong]);
    clearTimeout(timer);
    assert.equal(outcome, false, 'the drain ended on its deadline, the request cut off');
    await closed;
  });

  it('answers every in-flight request after SIGTERM, then exits 0', async () => {
    // A batch deadline of a second (the most allowed) holds every input in the queue until all twelve
    // have arrived.
    const replica = await spawnReplica({ MAX_BATCH_DELAY_MS: '1000' });
    const [d] = digits(1, 7);
    const body = await largeJpeg(d!.pixels);
    const inflight = Array.from({ length: 12 }, () =>
      fetch(`${replica.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body,
      }).then(async (res) => ({ status: res.status, digit: ((await res.json()) as { digit: number }).digit })),
    );
    // Only requests the replica has received are in flight: one still in the listen backlog when
    // the listener closes is reset, which is what any server does.
    const inflightNow = async () =>
      sample(await (await fetch(replica.metricsUrl)).text(), 'mnist_inflight_requests') ?? 0;
    for (let i = 0; i < 1000 && (await inflightNow()) < 12; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await inflightNow(), 12, 'twelve requests in flight at SIGTERM');
    const exited = replica.stop();
    const answers = await Promise.all(inflight);
    assert.deepEqual(
      answers.map((a) => a.status),
      new Array(12).fill(200),
    );
    assert.ok(
      answers.every((a) => a.digit === d!.label),
      'answers.every((a) => a.digit === d!.label)',
    );
    assert.equal(await exited, 0);
    await assert.rejects(fetch(`${replica.url}/healthz`), 'no new connections after shutdown');
  });

  it('keeps answering for SHUTDOWN_DELAY_MS after SIGTERM, /readyz at 503, then stops listening', async () => {
    const replica = await spawnReplica({ SHUTDOWN_DELAY_MS: '1500' });
    const started = Date.now();
    const exited = replica.stop();
    await new Promise((r) => setTimeout(r, 300));
    const ready = await fetch(`${replica.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { error: { code: string } }).error.code, 'draining');
    assert.equal(ready.headers.get('connection'), 'close', 'a kept-alive client is told to reconnect elsewhere');
    const res = await fetch(`${replica.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pixels: Array.from(digits(1, 7)[0]!.pixels) }),
    });
    assert.equal(res.status, 200, 'a request arriving during the delay is served');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started >= 1500, 'it waited the delay before exiting');
    await assert.rejects(fetch(`${replica.url}/healthz`), 'no new connections after shutdown');
  });
});
