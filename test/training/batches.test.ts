/**
 * Training batches: every image of the epoch once, shuffled afresh each epoch, warped in the
 * augmented epochs only, redrawn when the recipe says so, and the same whether made in this thread
 * or in a worker on the other core.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadMnist } from '../../devkit/mnist/dataset.ts';
import { scaleToUnit } from '../../service/src/index.ts';
import { DEFAULT_AUGMENT } from '../../training/augment.ts';
import { batchesInWorker, batchesPerEpoch, preparedBatches, type BatchChunk } from '../../training/batches.ts';
import { DEFAULT_REDRAW } from '../../training/redraw.ts';
import { DEFAULT_RECIPE } from '../../training/trainer.ts';

const train = loadMnist('train');
// 1,000 images in batches of 32: 31 batches an epoch (the last 8 images dropped), in chunks.
const recipe = { ...DEFAULT_RECIPE, epochs: 3, cleanEpochs: 1, batchSize: 32, limit: 1000, seed: 5 };
const epochOf = (chunks: BatchChunk[], epoch: number) => chunks.filter((c) => c.epoch === epoch);
const concat = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T) => {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};
const inputsOf = (chunks: BatchChunk[]) =>
  concat(
    chunks.map((c) => c.inputs),
    (n) => new Float32Array(n),
  );
const labelsOf = (chunks: BatchChunk[]) =>
  concat(
    chunks.map((c) => c.labels),
    (n) => new Int32Array(n),
  );
/** The label counts of a set of labels, digit by digit. */
const histogram = (labels: ArrayLike<number>) =>
  Array.from(labels).reduce((h, d) => (h[d]!++, h), new Array<number>(10).fill(0));

describe('training batches', () => {
  const chunks = [...preparedBatches(train, recipe)];

  it('give every epoch its batches in order, each a batch size of images and labels', () => {
    assert.equal(batchesPerEpoch(train, recipe), 31);
    for (const epoch of [1, 2, 3]) {
      const own = epochOf(chunks, epoch);
      assert.deepEqual(
        own.map((c) => c.first),
        own.map((_, i) => own.slice(0, i).reduce((n, c) => n + c.batches, 0)),
      );
      assert.equal(
        own.reduce((n, c) => n + c.batches, 0),
        31,
      );
      for (const c of own) {
        assert.equal(c.labels.length, c.batches * 32);
        assert.equal(c.inputs.length, c.batches * 32 * 784);
      }
    }
  });

  it('shuffle the same images afresh each epoch, and show the clean epochs as they are', () => {
    const [first, second, clean] = [1, 2, 3].map((e) => labelsOf(epochOf(chunks, e)));
    assert.notDeepEqual(first, second);
    // 992 of the 1,000 images each epoch: the label counts differ by at most the 8 left out.
    const all = histogram(train.labels.subarray(0, 1000));
    for (const labels of [first!, second!, clean!]) {
      assert.ok(histogram(labels).every((n, d) => n <= all[d]! && n >= all[d]! - 8));
    }
    // The clean epoch's inputs are training images exactly; a warped epoch's are not.
    const images = new Set(
      Array.from({ length: 1000 }, (_, i) => scaleToUnit(train.images.subarray(i * 784, (i + 1) * 784)).join()),
    );
    const cleanInputs = inputsOf(epochOf(chunks, 3));
    const firstInputs = inputsOf(epochOf(chunks, 1));
    const isImage = (inputs: Float32Array, i: number) => images.has(inputs.subarray(i * 784, (i + 1) * 784).join());
    assert.ok(Array.from({ length: 992 }, (_, i) => i).every((i) => isImage(cleanInputs, i)));
    assert.ok(Array.from({ length: 992 }, (_, i) => i).filter((i) => isImage(firstInputs, i)).length < 10);
  });

  it('are redrawn when the recipe says so, and warped only otherwise', () => {
    const one = { ...recipe, epochs: 1, cleanEpochs: 0, limit: 64 };
    const warped = [...preparedBatches(train, { ...one, augment: DEFAULT_AUGMENT })];
    const redrawn = [...preparedBatches(train, { ...one, redraw: DEFAULT_REDRAW })];
    assert.deepEqual(labelsOf(redrawn), labelsOf(warped));
    assert.notDeepEqual(inputsOf(redrawn), inputsOf(warped));
    assert.ok(inputsOf(redrawn).every((v) => v >= 0 && v <= 1.0001));
  });

  it('are the same made in a worker thread, and the worker stops when the consumer does', async () => {
    const fromWorker: BatchChunk[] = [];
    for await (const chunk of batchesInWorker('train', recipe)) fromWorker.push(chunk);
    assert.deepEqual(fromWorker, chunks);
    const taken: BatchChunk[] = [];
    for await (const chunk of batchesInWorker('train', recipe)) {
      taken.push(chunk);
      if (taken.length === 2) break;
    }
    assert.deepEqual(taken, chunks.slice(0, 2));
  });
});
