import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { runLoad } from '../../../devkit/loadgen/driver.ts';
import { mnistDigits } from '../../../devkit/loadgen/payloads.ts';
import { digits, encodeDigit, mapConcurrent, sample, startTestReplica } from '../../../devkit/testing.ts';

describe('under overload and many requests', () => {
  it('sheds with 429, Retry-After and a JSON error once the queue is full, then recovers by itself', async () => {
    const replica = await startTestReplica({ MAX_BATCH_SIZE: '1', MAX_QUEUE: '2' });
    try {
      const pngs = await Promise.all(digits(50).map((d) => encodeDigit(d.pixels)));
      const heapBefore = process.memoryUsage().heapUsed;
      const answers = await mapConcurrent(
        Array.from({ length: 600 }, (_, i) => pngs[i % pngs.length]!),
        200,
        async (png) => {
          const res = await fetch(`${replica.url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'image/png' },
            body: new Uint8Array(png),
          });
          const body = (await res.json()) as { error?: { code: string } };
          return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.error?.code };
        },
      );
      const shed = answers.filter((a) => a.status === 429);
      assert.ok(shed.length > 0, 'a queue of 2 under 200 concurrent requests must shed');
      assert.ok(
        shed.every((a) => a.retryAfter === '1' && a.code === 'overloaded'),
        'every 429 says when to retry',
      );
      assert.ok(
        answers.every((a) => a.status === 200 || a.status === 429),
        'nothing but answers and shedding',
      );
      assert.equal(replica.batcher.depth, 0);
      const res = await fetch(`${replica.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: new Uint8Array(pngs[0]!),
      });
      assert.equal(res.status, 200, 'serves again once the load stops');
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      assert.ok(heapGrowth < 200 * 2 ** 20, `heap grew by ${heapGrowth} bytes`);
    } finally {
      await replica.stop();
    }
  });

  it('drops a request whose client disconnects while it waits for its batch, and counts it', async () => {
    // A one-second batch deadline keeps the lone request queued while its client gives up.
    const replica = await startTestReplica({ MAX_BATCH_DELAY_MS: '1000' });
    try {
      const metric = async (name: string, labels: Record<string, string> = {}) =>
        sample(await (await fetch(replica.metricsUrl)).text(), name, labels) ?? 0;
      const batchesBefore = await metric('mnist_inference_batch_size_count');
      await assert.rejects(
        fetch(`${replica.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body: new Uint8Array(await encodeDigit(digits(1)[0]!.pixels)),
          signal: AbortSignal.timeout(150),
        }),
      );
      for (let i = 0; i < 50 && replica.batcher.depth > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(replica.batcher.depth, 0, 'out of the queue well before its deadline');
      await new Promise((r) => setTimeout(r, 1200)); // past the deadline: no batch may run for it
      assert.equal(await metric('mnist_inference_batch_size_count'), batchesBefore, 'never inferred');
      assert.equal(await metric('mnist_rejected_requests_total', { reason: 'client_closed_request' }), 1);
      assert.equal(await metric('mnist_http_requests_total', { route: '/predict', status: '499' }), 1);
    } finally {
      await replica.stop();
    }
  });

  it('counts an upload its client abandons half-way as 499 in every form, and serves on', async () => {
    const replica = await startTestReplica();
    try {
      const metric = async (name: string, labels: Record<string, string>) =>
        sample(await (await fetch(replica.metricsUrl)).text(), name, labels) ?? 0;
      const { port } = new URL(replica.url);
      const types = ['image/png', 'multipart/form-data; boundary=b', 'application/json'];
      for (const type of types) {
        const socket = connect(Number(port), '127.0.0.1');
        socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 10000\r\n\r\n`);
        socket.write('x'.repeat(1000));
        await new Promise((r) => setTimeout(r, 100)); // the server is reading the body
        socket.destroy();
      }
      const gone = { reason: 'client_closed_request' };
      for (let i = 0; i < 100 && (await metric('mnist_rejected_requests_total', gone)) < types.length; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(await metric('mnist_rejected_requests_total', gone), types.length);
      assert.equal(await metric('mnist_http_requests_total', { route: '/predict', status: '499' }), types.length);
      assert.equal(await metric('mnist_http_requests_total', { route: '/predict', status: '400' }), 0);
      const png = new Uint8Array(await encodeDigit(digits(1)[0]!.pixels));
      const res = await fetch(`${replica.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: png,
      });
      assert.equal(res.status, 200);
    } finally {
      await replica.stop();
    }
  });

  it('leaks no tensors over a thousand good and bad requests of every input form', async () => {
    const replica = await startTestReplica();
    try {
      const sample = await mnistDigits(100);
      const warm = { targets: [replica.url], weights: [1], durationSeconds: null, rateAt: null, seed: 2 };
      await runLoad(
        { ...warm, requests: 50, concurrency: 8, mix: { multipart: 1, raw: 1, json: 1 }, badShare: 0 },
        sample,
      );
      const baseline = replica.engine.liveTensors();
      const summary = await runLoad(
        { ...warm, requests: 1000, concurrency: 16, mix: { multipart: 1, raw: 1, json: 1 }, badShare: 0.3 },
        sample,
      );
      assert.equal(summary.total.requests, 1000);
      assert.equal(summary.total.good_error_rate, 0);
      assert.equal(replica.engine.liveTensors(), baseline);
    } finally {
      await replica.stop();
    }
  });
});
