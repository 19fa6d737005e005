/**
 * Every kind of broken or malicious upload, against a replica in its own process so that its own
 * metrics tell its memory and event-loop lag. Each case must get its status and a JSON error (or,
 * for odd but valid images, the right digit), while a good request sent alongside it and one
 * sent after it are answered correctly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scrape } from '../../../devkit/prometheus-text.ts';
import { spawnReplica, type ReplicaProcess } from '../../../devkit/replica-process.ts';
import { encodeDigit } from '../../../devkit/testing.ts';
import { buildCases, digit, MiB, REQUEST_TIMEOUT_MS } from '../support/hostile-cases.ts';

async function goodRequest(url: string): Promise<void> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: new Uint8Array(await encodeDigit(digit.pixels)),
  });
  assert.equal(res.status, 200, 'a good request is answered');
  assert.equal(((await res.json()) as { digit: number }).digit, digit.label, 'and answered correctly');
}

/** The replica's own view of itself: resident memory, and event-loop lag since the last scrape. */
async function vitals(metricsUrl: string): Promise<{ rss: number; lagMax: number }> {
  const { process_resident_memory_bytes: rss, nodejs_eventloop_lag_max_seconds: lagMax } = await scrape(metricsUrl, [
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_max_seconds',
  ]);
  return { rss: rss ?? NaN, lagMax: lagMax ?? NaN };
}

const cases = await buildCases();

describe('hostile input', () => {
  let replica: ReplicaProcess;
  let baseline: { rss: number };
  const seen = { rss: 0, lagMax: 0, lagCase: '' };

  before(async () => {
    replica = await spawnReplica({ REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), REPLICA: 'hostile' });
    for (let i = 0; i < 20; i++) await goodRequest(replica.url); // warm-up: first-use allocations are not growth
    baseline = await vitals(replica.metricsUrl);
  });
  after(async () => {
    await replica.stop();
  });

  for (const c of cases) {
    it(`${c.name}: ${c.code ? `${c.status} ${c.code}` : 'the digit'}, good requests alongside and after`, async () => {
      const [outcome] = await Promise.all([c.send(replica.url), goodRequest(replica.url)]);
      const body = outcome.body as { error?: { code?: string; message?: string } };
      assert.equal(outcome.status, c.status, `status ${outcome.status}, body ${JSON.stringify(body).slice(0, 300)}`);
      assert.match(outcome.contentType, /^application\/json/, 'a JSON answer');
      if (c.code) {
        assert.equal(body.error?.code, c.code, 'error code');
        assert.ok((body.error?.message ?? '').length > 10, 'the message says what went wrong');
      } else {
        assert.equal((outcome.body as { digit?: number }).digit, digit.label, 'the right digit');
      }
      if (c.refusedEarly) {
        assert.ok(
          (outcome.sentBeforeAnswer ?? Infinity) < 50 * MiB,
          `refused after ${outcome.sentBeforeAnswer} bytes, before the whole upload was read`,
        );
      }
      await goodRequest(replica.url);
      const now = await vitals(replica.metricsUrl);
      seen.rss = Math.max(seen.rss, now.rss);
      if (now.lagMax > seen.lagMax) Object.assign(seen, { lagMax: now.lagMax, lagCase: c.name });
    });
  }

  it('kept memory and event-loop lag bounded through the whole suite', () => {
    const growth = (seen.rss - baseline.rss) / MiB;
    assert.ok(growth < 256, `resident memory grew by ${growth.toFixed(0)} MiB (limit 256)`);
    // A stall would show here: the 63570x6 PNG the fuzzer found once blocked the loop for 41 s.
    assert.ok(seen.lagMax < 1, `event-loop lag reached ${seen.lagMax.toFixed(3)} s during "${seen.lagCase}"`);
    assert.equal(replica.child.exitCode, null, 'the replica is still running');
  });
});
