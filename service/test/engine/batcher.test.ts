import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientGoneError, Batcher, QueueFullError } from '../../src/engine/batcher.ts';
import { toPrediction, type Prediction } from '../../src/engine/engine.ts';

/** An engine that answers input[0] as the digit and records each batch's size. */
function recordingEngine(failOn?: number) {
  const batches: number[] = [];
  return {
    batches,
    predict(inputs: readonly Float32Array[]): Prediction[] {
      batches.push(inputs.length);
      if (failOn !== undefined && inputs.some((x) => x[0] === failOn)) throw new Error('bad input');
      return inputs.map((x) => toPrediction(Array.from({ length: 10 }, (_, d) => (d === x[0] ? 1 : 0))));
    },
  };
}

const input = (digit: number) => Float32Array.of(digit);

/** Lets pending setImmediate callbacks and promise reactions run (the real ones: not mocked). */
async function turns(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The answers of `promises` that have arrived so far, in order once all have. */
function settled<T>(promises: Promise<T>[]): { values: T[] } {
  const out = { values: [] as T[] };
  void Promise.all(promises).then((values) => (out.values = values));
  return out;
}

/** A caller whose client can leave, as the request context is for a client that disconnects. */
function caller() {
  let gone = false;
  let dropInput: (() => void) | undefined;
  return {
    onClientGone: (callback: () => void) => (gone ? callback() : void (dropInput = callback)),
    leave() {
      gone = true;
      dropInput?.();
    },
  };
}

describe('micro-batching', () => {
  // The clock is node:test's mock: a batch that waits for its deadline stays pending until the test
  // moves the clock, so "at once" and "at the deadline" are told apart without measuring time.
  it('runs a full batch at once without waiting for the deadline', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 4, maxDelayMs: 10_000, maxQueue: 100 });
    const answers = settled([1, 2, 3, 4].map((d) => batcher.predict(input(d))));
    await turns();
    assert.deepEqual(engine.batches, [4], 'the full batch ran with the clock standing still');
    assert.deepEqual(
      answers.values.map((a) => a.prediction.digit),
      [1, 2, 3, 4],
    );
    assert.ok(
      answers.values.every((a) => a.batchSize === 4),
      'answers.every((a) => a.batchSize === 4)',
    );
  });

  it('runs a partial batch when the oldest input reaches the deadline, not before', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 32, maxDelayMs: 10_000, maxQueue: 100 });
    const answers = settled([5, 6, 7].map((d) => batcher.predict(input(d))));
    await turns();
    t.mock.timers.tick(9_000);
    await turns();
    assert.deepEqual(engine.batches, [], 'nothing ran before the deadline');
    assert.equal(answers.values.length, 0);
    t.mock.timers.tick(1_000);
    await turns();
    assert.deepEqual(engine.batches, [3]);
    assert.deepEqual(
      answers.values.map((a) => a.prediction.digit),
      [5, 6, 7],
    );
  });

  it('runs a partial batch at its own deadline, not at the deadline of a batch that filled up earlier', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 2, maxDelayMs: 100, maxQueue: 100 });
    const first = settled([1, 2].map((d) => batcher.predict(input(d))));
    await turns();
    assert.deepEqual(engine.batches, [2], 'full at once: its deadline no longer counts');
    assert.equal(first.values.length, 2);
    t.mock.timers.tick(50);
    const late = settled([batcher.predict(input(3))]);
    t.mock.timers.tick(50);
    await turns();
    assert.deepEqual(engine.batches, [2], "the first batch's deadline passed: nothing ran");
    t.mock.timers.tick(50);
    await turns();
    assert.deepEqual(engine.batches, [2, 1], "the late input's own deadline");
    assert.equal(late.values[0]?.prediction.digit, 3);
  });

  it('keeps later deadlines when clients leave a full batch before it runs', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 3, maxDelayMs: 100, maxQueue: 100 });
    const leaving = [caller(), caller()];
    const first = settled([batcher.predict(input(1))]);
    for (const [i, c] of leaving.entries()) void batcher.predict(input(2 + i), c.onClientGone).catch(() => undefined);
    for (const c of leaving) c.leave(); // the batch was full, its run already due; now it is not full
    const joined = settled([batcher.predict(input(4))]);
    await turns();
    assert.deepEqual(engine.batches, [2], 'the due run took the input that came meanwhile');
    assert.deepEqual([first.values[0]?.prediction.digit, joined.values[0]?.prediction.digit], [1, 4]);
    t.mock.timers.tick(50);
    void batcher.predict(input(5));
    t.mock.timers.tick(50);
    await turns();
    assert.deepEqual(engine.batches, [2], 'no deadline left over from the inputs that ran');
    t.mock.timers.tick(50);
    await turns();
    assert.deepEqual(engine.batches, [2, 1]);
  });

  it('with no delay runs what arrived together in the next turn, the clock standing still', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 32, maxDelayMs: 0, maxQueue: 100 });
    const answers = settled([4, 5, 6].map((d) => batcher.predict(input(d))));
    await turns();
    assert.deepEqual(engine.batches, [3]);
    assert.deepEqual(
      answers.values.map((a) => a.prediction.digit),
      [4, 5, 6],
    );
  });

  it('measures the wait of a partial batch in seconds', async () => {
    const batcher = new Batcher(recordingEngine(), { maxBatchSize: 32, maxDelayMs: 20, maxQueue: 100 });
    const started = performance.now();
    const answers = await Promise.all([5, 6, 7].map((d) => batcher.predict(input(d))));
    const elapsed = (performance.now() - started) / 1000;
    assert.ok(answers[0]!.queueSeconds >= 0.015, `waited ${answers[0]!.queueSeconds}s`);
    assert.ok(answers[0]!.queueSeconds <= elapsed, `waited ${answers[0]!.queueSeconds}s of ${elapsed}s`);
  });

  it('splits a burst into batches of at most the maximum, answering each caller in order', async () => {
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 4, maxDelayMs: 1, maxQueue: 100 });
    const inputs = Array.from({ length: 10 }, (_, i) => i % 10);
    const answers = await Promise.all(inputs.map((d) => batcher.predict(input(d))));
    assert.deepEqual(engine.batches, [4, 4, 2]);
    assert.deepEqual(
      answers.map((a) => a.prediction.digit),
      inputs,
    );
  });

  it('fails only the input that breaks the engine, not its batch-mates', async () => {
    const engine = recordingEngine(3);
    const reported: number[] = [];
    const batcher = new Batcher(engine, {
      maxBatchSize: 4,
      maxDelayMs: 1,
      maxQueue: 100,
      onBatch: (size, seconds) => {
        assert.ok(seconds >= 0 && seconds < 1, `${seconds} s`);
        reported.push(size);
      },
    });
    const started = performance.now();
    const results = await Promise.allSettled([1, 3, 5, 7].map((d) => batcher.predict(input(d))));
    const elapsed = (performance.now() - started) / 1000;
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    // The batch of four failed; each input then ran alone, and each of those runs that worked is reported.
    assert.deepEqual(engine.batches, [4, 1, 1, 1, 1]);
    assert.deepEqual(reported, [1, 1, 1]);
    for (const [i, r] of results.entries()) {
      if (r.status !== 'fulfilled') continue;
      assert.deepEqual([r.value.prediction.digit, r.value.batchSize], [[1, 3, 5, 7][i], 1]);
      assert.ok(r.value.queueSeconds >= 0 && r.value.queueSeconds <= elapsed, `queued ${r.value.queueSeconds}s`);
      assert.ok(r.value.inferenceSeconds >= 0 && r.value.inferenceSeconds <= elapsed);
    }
    // Without an onBatch listener the reruns work the same.
    const quiet = new Batcher(recordingEngine(3), { maxBatchSize: 4, maxDelayMs: 1, maxQueue: 100 });
    const statuses = await Promise.allSettled([1, 3, 5].map((d) => quiet.predict(input(d))));
    assert.deepEqual(
      statuses.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
  });

  it('refuses at once with QueueFullError when the queue is full', async () => {
    const batcher = new Batcher(recordingEngine(), { maxBatchSize: 2, maxDelayMs: 50, maxQueue: 3 });
    const accepted = [1, 2, 3].map((d) => batcher.predict(input(d)));
    await assert.rejects(batcher.predict(input(4)), QueueFullError);
    assert.equal((await Promise.all(accepted)).length, 3);
    assert.equal(batcher.depth, 0);
  });

  it('with a batch size of 1 runs every input alone', async () => {
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 1, maxDelayMs: 5, maxQueue: 100 });
    await Promise.all([1, 2, 3].map((d) => batcher.predict(input(d))));
    assert.deepEqual(engine.batches, [1, 1, 1]);
  });

  it('takes an input whose client is gone out of the queue at once, and never infers it', async () => {
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 4, maxDelayMs: 30, maxQueue: 3 });
    const gone = caller();
    const kept = batcher.predict(input(1));
    const dropped = batcher.predict(input(2), gone.onClientGone);
    const alsoKept = batcher.predict(input(3), caller().onClientGone);
    assert.equal(batcher.depth, 3);
    gone.leave();
    await assert.rejects(dropped, ClientGoneError);
    assert.equal(batcher.depth, 2, 'its place in the queue is free again');
    const answers = await Promise.all([kept, alsoKept, batcher.predict(input(4))]);
    assert.deepEqual(engine.batches, [3]);
    assert.deepEqual(
      answers.map((a) => a.prediction.digit),
      [1, 3, 4],
    );
    await assert.rejects(batcher.predict(input(5), gone.onClientGone), ClientGoneError, 'already gone: never queued');
    assert.equal(batcher.depth, 0);
  });

  it('leaves the queue alone when a client leaves after its input was inferred', async () => {
    const engine = recordingEngine();
    const batcher = new Batcher(engine, { maxBatchSize: 1, maxDelayMs: 0, maxQueue: 10 });
    const late = caller();
    assert.equal((await batcher.predict(input(1), late.onClientGone)).prediction.digit, 1);
    const next = batcher.predict(input(2));
    late.leave();
    assert.equal(batcher.depth, 1, 'the input queued after it keeps its place');
    assert.equal((await next).prediction.digit, 2);
    assert.deepEqual(engine.batches, [1, 1]);
  });
});
