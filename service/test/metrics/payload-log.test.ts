/** The sampled payload log: what the model saw, one JSON line per sampled request, in rotated files. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPayloadLog, type PayloadRecord } from '../../src/metrics/payload-log.ts';
import { MNIST_PIXELS, scaleToUnit } from '../../src/mnist.ts';
import { seededRandom } from '../../../devkit/random.ts';
import { digits, startTestReplica } from '../../../devkit/testing.ts';

const record = (i: number, input = new Float32Array(MNIST_PIXELS).fill(i % 2)): PayloadRecord => ({
  requestId: `r-${i}`,
  version: 'v2',
  input,
  digit: i % 10,
  probabilities: Array.from({ length: 10 }, (_, d) => (d === i % 10 ? 0.91 : 0.01)),
  timings: { preprocess_ms: 0.1, queue_ms: 0.2, inference_ms: 0.3 },
});
const lines = (dir: string) =>
  readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { request_id: string; input: string; probabilities: number[] }),
  );

describe('the payload log', () => {
  it('rotates at its size, keeps the newest files only, and loses no record of those it keeps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payload-'));
    const log = createPayloadLog({ dir, sample: 1, maxFileBytes: 20_000, keptFiles: 3 });
    // Paced, so that the disk keeps up and nothing is dropped.
    for (let i = 0; i < 400; i++) {
      log.offer(() => record(i));
      await new Promise((r) => setTimeout(r, 1));
    }
    await log.close();
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['inputs.1.jsonl', 'inputs.2.jsonl', 'inputs.3.jsonl', 'inputs.jsonl']);
    const ids = lines(dir).map((l) => Number(l.request_id.slice(2)));
    const newest = Math.max(...ids);
    assert.equal(newest, 399);
    // The files kept hold a contiguous run of the newest records: none lost in between.
    assert.deepEqual(
      [...ids].sort((a, b) => a - b),
      Array.from({ length: ids.length }, (_, k) => newest - ids.length + 1 + k),
    );
    for (const l of lines(dir)) assert.equal(Buffer.from(l.input, 'base64').length, MNIST_PIXELS);
  });

  it('samples about its share, and builds only the records it writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payload-'));
    let built = 0;
    const outcomes = { written: 0, dropped: 0 };
    const log = createPayloadLog({
      dir,
      sample: 0.25,
      maxFileBytes: 1e9,
      keptFiles: 1,
      random: seededRandom(7),
      onOutcome: (o) => outcomes[o]++,
    });
    for (let i = 0; i < 4000; i++) {
      log.offer(() => {
        built++;
        return record(i);
      });
      await new Promise(setImmediate);
    }
    await log.close();
    const sampled = outcomes.written + outcomes.dropped;
    assert.ok(Math.abs(sampled / 4000 - 0.25) < 3 * Math.sqrt((0.25 * 0.75) / 4000), `${sampled} of 4000`);
    assert.equal(built, outcomes.written);
    assert.equal(lines(dir).length, outcomes.written);
  });

  it('drops and counts records while the disk is behind, instead of queueing them without bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payload-'));
    const outcomes = { written: 0, dropped: 0 };
    const log = createPayloadLog({ dir, sample: 1, maxFileBytes: 1e9, keptFiles: 1, onOutcome: (o) => outcomes[o]++ });
    // One synchronous burst: the stream cannot drain until it ends.
    for (let i = 0; i < 1000; i++) log.offer(() => record(i));
    await log.close();
    assert.equal(outcomes.written + outcomes.dropped, 1000);
    assert.ok(outcomes.dropped > 900, `${outcomes.dropped} dropped`);
    assert.equal(lines(dir).length, outcomes.written);
  });

  it("logs what a replica's model saw, by request id, with the version that answered", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payload-'));
    const replica = await startTestReplica({ PAYLOAD_LOG_DIR: dir, PAYLOAD_LOG_SAMPLE: '1' });
    const sent = new Map<string, number[]>();
    for (const d of digits(5, 60)) {
      const res = await fetch(`${replica.url}/predict?explain=1&version=v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pixels: Array.from(d.pixels) }),
      });
      const body = (await res.json()) as { explain: { model_input: number[] } };
      sent.set(res.headers.get('x-request-id')!, body.explain.model_input);
    }
    await replica.stop();
    const logged = lines(dir) as unknown as { request_id: string; version: string; input: string }[];
    assert.deepEqual(logged.map((l) => l.request_id).sort(), [...sent.keys()].sort());
    for (const l of logged) {
      assert.equal(l.version, 'v1');
      const bytes = Buffer.from(l.input, 'base64');
      const seen = sent.get(l.request_id)!;
      bytes.forEach((b, i) => assert.ok(Math.abs(b / 255 - seen[i]!) <= 0.003, `pixel ${i}`));
    }
    assert.ok(scaleToUnit(Buffer.from(logged[0]!.input, 'base64')).length === MNIST_PIXELS);
  });
});
