import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { digits, encodeDigit, mapConcurrent, multipart, sample, startTestReplica } from '../../../devkit/testing.ts';

type Replica = Awaited<ReturnType<typeof startTestReplica>>;

async function scrape(replica: Replica): Promise<string> {
  const res = await fetch(replica.metricsUrl);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  return res.text();
}

/** Requests are counted when their answer has left the server; poll briefly for the last one. */
async function scrapeWhen(replica: Replica, ready: (text: string) => boolean): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const text = await scrape(replica);
    if (ready(text)) return text;
    await new Promise((r) => setTimeout(r, 20));
  }
  return scrape(replica);
}

/** A histogram's count, sum and cumulative buckets (upper bound, count), summed over its series. */
function histogram(text: string, name: string): { count: number; sum: number; buckets: [number, number][] } {
  const buckets = new Map<number, number>();
  for (const match of text.matchAll(new RegExp(`^${name}_bucket\\{(.*)\\} (\\S+)$`, 'gm'))) {
    const le = /le="([^"]+)"/.exec(match[1]!)![1]!;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(match[2]));
  }
  const total = (suffix: string) =>
    [...text.matchAll(new RegExp(`^${name}_${suffix}(\\{.*\\})? (\\S+)$`, 'gm'))].reduce((s, m) => s + Number(m[2]), 0);
  return {
    count: total('count'),
    sum: total('sum'),
    buckets: [...buckets].sort(([a], [b]) => a - b),
  };
}

function seriesCount(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).length;
}

describe('Prometheus metrics', () => {
  let replica: Replica;
  before(async () => {
    replica = await startTestReplica();
  });
  after(async () => {
    await replica.stop();
  });

  it('counts a known sequence of good and bad requests exactly', async () => {
    const ds = digits(4, 100);
    const post = (init: RequestInit) => fetch(`${replica.url}/predict`, { method: 'POST', ...init });
    const png = (i: number) => encodeDigit(ds[i]!.pixels).then((b) => new Uint8Array(b));
    const answers = [
      await post({ headers: { 'content-type': 'image/png' }, body: await png(0) }),
      await post({ headers: { 'content-type': 'image/png' }, body: await png(1) }),
      await post({ body: multipart(Buffer.from(await png(2))) }),
      await post({
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pixels: [...ds[3]!.pixels] }),
      }),
      await post({ headers: { 'content-type': 'text/plain' }, body: 'nope' }),
      await post({ headers: { 'content-type': 'image/png' }, body: 'not a png' }),
    ];
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 200, 415, 422],
    );
    const text = await scrapeWhen(
      replica,
      (t) => sample(t, 'mnist_http_request_duration_seconds_count', { route: '/predict', method: 'POST' }) === 6,
    );
    const predict = { method: 'POST', route: '/predict' };
    assert.equal(sample(text, 'mnist_http_requests_total', { ...predict, status: '200' }), 4);
    assert.equal(sample(text, 'mnist_http_requests_total', { ...predict, status: '415' }), 1);
    assert.equal(sample(text, 'mnist_http_requests_total', { ...predict, status: '422' }), 1);
    assert.equal(sample(text, 'mnist_http_request_duration_seconds_count', predict), 6);
    assert.equal(sample(text, 'mnist_rejected_requests_total', { reason: 'unsupported_media_type' }), 1);
    assert.equal(sample(text, 'mnist_rejected_requests_total', { reason: 'undecodable_image' }), 1);
    assert.equal(sample(text, 'mnist_preprocess_duration_seconds_count'), 4);
    assert.equal(sample(text, 'mnist_queue_wait_seconds_count'), 4);
    assert.equal(sample(text, 'mnist_prediction_confidence_count'), 4);
    assert.equal(sample(text, 'mnist_inference_batch_size_sum'), 4);
    const byDigit = new Map<number, number>();
    for (const d of ds) byDigit.set(d.label, (byDigit.get(d.label) ?? 0) + 1);
    for (const [digit, count] of byDigit)
      assert.equal(sample(text, 'mnist_predictions_total', { digit: String(digit) }), count);
    assert.equal(sample(text, 'mnist_client_requests_total', { client_ip: '127.0.0.1' }), 6);
    assert.equal(sample(text, 'mnist_inflight_requests'), 0);
    assert.equal(sample(text, 'mnist_inference_queue_depth'), 0);
    assert.ok(sample(text, 'mnist_http_received_bytes_total')! > 4 * 200, 'bodies and headers received');
    assert.ok(
      sample(text, 'mnist_http_sent_bytes_total')! > 6 * 100,
      "sample(text, 'mnist_http_sent_bytes_total')! > 6 * 100",
    );
    // The last prediction was 28x28 JSON pixels.
    const runtime = sample(text, 'mnist_api_runtime_seconds')!;
    assert.ok(runtime > 0, `mnist_api_runtime_seconds ${runtime}`);
    const perPixel = sample(text, 'mnist_api_time_per_pixel_seconds')!;
    assert.ok(Math.abs(perPixel * 784 - runtime) <= runtime * 1e-9, `${perPixel} x 784 is ${runtime}`);
    assert.equal(
      sample(text, 'mnist_model_info', { backend: replica.engine.backend, model: replica.engine.card.name }),
      1,
    );
    assert.equal(sample(text, 'mnist_build_info', { node_version: process.version }), 1);
    assert.ok(sample(text, 'mnist_tfjs_tensors')! > 0, "sample(text, 'mnist_tfjs_tensors')! > 0");
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.notEqual(sample(text, name), undefined, name);
    }
    assert.match(text, /replica="test-replica"/);
  });

  it("counts each request's own bytes, headers included, on a kept-alive connection", async () => {
    const counters = async () => {
      const text = await scrape(replica);
      return {
        requests: sample(text, 'mnist_http_requests_total', { method: 'POST', route: '/predict', status: '200' }) ?? 0,
        received: sample(text, 'mnist_http_received_bytes_total')!,
        sent: sample(text, 'mnist_http_sent_bytes_total')!,
      };
    };
    const before = await counters();
    const png = await encodeDigit(digits(1, 5)[0]!.pixels);
    const request = Buffer.concat([
      Buffer.from(
        `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${png.length}\r\n\r\n`,
      ),
      png,
    ]);
    const { port } = new URL(replica.url);
    const socket = connect(Number(port), '127.0.0.1');
    let answered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (answered = Buffer.concat([answered, chunk])));
    /** Bytes of complete answers received so far (each has a Content-Length). */
    const answers = () => {
      let at = 0;
      let count = 0;
      for (;;) {
        const end = answered.indexOf('\r\n\r\n', at);
        if (end < 0) return { count, bytes: at };
        const length = Number(/content-length: (\d+)/i.exec(answered.toString('latin1', at, end))![1]);
        if (answered.length < end + 4 + length) return { count, bytes: at };
        at = end + 4 + length;
        count++;
      }
    };
    for (let n = 1; n <= 3; n++) {
      socket.write(request);
      for (let i = 0; i < 2000 && answers().count < n; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(answers().count, n, `answer ${n} on the same connection`);
    }
    socket.end();
    let after = await counters();
    for (let i = 0; i < 50 && after.requests < before.requests + 3; i++) after = await counters();
    assert.equal(after.requests - before.requests, 3);
    assert.equal(after.received - before.received, 3 * request.length);
    assert.equal(after.sent - before.sent, answers().bytes);
  });

  it('records durations in seconds: every observation within the time the client itself waited', async () => {
    const fresh = await startTestReplica();
    try {
      const ds = digits(8, 300);
      let longest = 0;
      let total = 0;
      for (const d of ds) {
        const started = performance.now();
        const res = await fetch(`${fresh.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body: new Uint8Array(await encodeDigit(d.pixels)),
        });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        const seconds = (performance.now() - started) / 1000;
        longest = Math.max(longest, seconds);
        total += seconds;
      }
      const text = await scrapeWhen(
        fresh,
        (t) => sample(t, 'mnist_http_request_duration_seconds_count', { route: '/predict' }) === ds.length,
      );
      for (const name of [
        'mnist_http_request_duration_seconds',
        'mnist_preprocess_duration_seconds',
        'mnist_queue_wait_seconds',
        'mnist_inference_duration_seconds',
      ]) {
        const { count, sum, buckets } = histogram(text, name);
        assert.equal(count, ds.length, `${name}_count`);
        assert.ok(sum >= 0 && sum <= total, `${name}_sum ${sum} within the clients' ${total} s`);
        assert.equal(buckets.at(-1)![1], count, `${name}: le="+Inf" holds every observation`);
        for (let i = 1; i < buckets.length; i++)
          assert.ok(buckets[i]![1] >= buckets[i - 1]![1], `${name}: buckets are cumulative`);
        const bound = buckets.find(([le]) => le >= longest)!;
        assert.equal(bound[1], count, `${name}: every observation at most the longest request, ${longest} s`);
      }
      const runtime = sample(text, 'mnist_api_runtime_seconds')!;
      assert.ok(runtime > 0 && runtime <= longest, `mnist_api_runtime_seconds ${runtime} <= ${longest}`);
      const confidence = histogram(text, 'mnist_prediction_confidence');
      assert.ok(confidence.sum > 0.5 * ds.length && confidence.sum <= ds.length, 'confidences are probabilities');
    } finally {
      await fresh.stop();
    }
  });

  it('reports the inputs waiting for their batch as the queue depth', async () => {
    const waiting = await startTestReplica({ MAX_BATCH_DELAY_MS: '1000', MAX_BATCH_SIZE: '64' });
    try {
      const body = new Uint8Array(await encodeDigit(digits(1, 7)[0]!.pixels));
      const answers = Array.from({ length: 5 }, () =>
        fetch(`${waiting.url}/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body }),
      );
      const text = await scrapeWhen(waiting, (t) => sample(t, 'mnist_inference_queue_depth') === 5);
      assert.equal(sample(text, 'mnist_inference_queue_depth'), 5);
      for (const res of await Promise.all(answers)) assert.equal(res.status, 200);
      assert.equal(sample(await scrape(waiting), 'mnist_inference_queue_depth'), 0);
    } finally {
      await waiting.stop();
    }
  });

  it('answers 404 for other paths on the metrics port', async () => {
    assert.equal((await fetch(replica.metricsUrl.replace('/metrics', '/other'))).status, 404);
  });

  it('passes promtool check metrics on a real scrape', async (t) => {
    const which = spawnSync('sh', ['-c', 'command -v promtool']);
    if (which.status !== 0) {
      // CI installs promtool; only a developer machine without it may skip.
      assert.ok(!process.env.CI, 'promtool is missing in CI');
      t.skip('promtool not installed');
      return;
    }
    const text = await scrape(replica);
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(out.trim(), '', `promtool reported: ${out}`);
  });
});

describe('the client_ip label', () => {
  const addresses = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

  it('stays capped with 10,000 distinct forwarded addresses when TRUST_PROXY is set', async () => {
    const replica = await startTestReplica({ TRUST_PROXY: 'true', CLIENT_IP_LABEL_LIMIT: '100' });
    try {
      await mapConcurrent(addresses, 32, async (ip) => {
        const res = await fetch(`${replica.url}/healthz`, { headers: { 'x-forwarded-for': `${ip}, 127.0.0.1` } });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      });
      // An address with a series of its own keeps it once the cap is reached.
      await (await fetch(`${replica.url}/healthz`, { headers: { 'x-forwarded-for': addresses[0]! } })).text();
      const text = await scrapeWhen(
        replica,
        (t) => sample(t, 'mnist_client_requests_total', { client_ip: addresses[0]! }) === 2,
      );
      assert.equal(seriesCount(text, 'mnist_client_requests_total'), 101);
      assert.equal(sample(text, 'mnist_client_requests_total', { client_ip: addresses[0]! }), 2);
      assert.equal(sample(text, 'mnist_client_requests_total', { client_ip: 'other' }), 9_900);
    } finally {
      await replica.stop();
    }
  });

  it('ignores X-Forwarded-For when TRUST_PROXY is not set', async () => {
    const replica = await startTestReplica();
    try {
      for (const ip of addresses.slice(0, 50))
        await (await fetch(`${replica.url}/healthz`, { headers: { 'x-forwarded-for': ip } })).text();
      const text = await scrapeWhen(
        replica,
        (t) => sample(t, 'mnist_client_requests_total', { client_ip: '127.0.0.1' }) === 50,
      );
      assert.equal(seriesCount(text, 'mnist_client_requests_total'), 1);
      assert.equal(sample(text, 'mnist_client_requests_total', { client_ip: '127.0.0.1' }), 50);
    } finally {
      await replica.stop();
    }
  });
});
