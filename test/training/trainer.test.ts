import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_AUGMENT, augmentDigit } from '../../training/augment.ts';
import { buildModel } from '../../training/architecture.ts';
import { loadMnist, imageAt } from '../../devkit/mnist/dataset.ts';
import { seededRandom } from '../../devkit/random.ts';
import { setupBackend } from '../../training/setup-backend.ts';
import { DEFAULT_RECIPE, train } from '../../training/trainer.ts';
import { batchesPerEpoch, preparedBatches } from '../../training/batches.ts';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('training', () => {
  it('lowers the loss within a few dozen batches on the wasm backend', async () => {
    assert.equal(await setupBackend('wasm'), 'wasm');
    const model = buildModel(7);
    const data = loadMnist('train');
    const recipe = { ...DEFAULT_RECIPE, epochs: 1, batchSize: 64, limit: 64 * 30, augment: null, seed: 7 };
    const result = await train(model, preparedBatches(data, recipe), recipe, batchesPerEpoch(data, recipe));
    assert.equal(result.batchLoss.length, 30);
    const first = mean(result.batchLoss.slice(0, 5));
    const last = mean(result.batchLoss.slice(-5));
    assert.ok(last < first * 0.6, `loss fell only from ${first.toFixed(3)} to ${last.toFixed(3)}`);
    model.dispose();
  });

  it('repeats exactly for a seed: same initial weights, same augmentation', () => {
    const a = buildModel(3).getWeights()[0]!.dataSync();
    const b = buildModel(3).getWeights()[0]!.dataSync();
    const c = buildModel(4).getWeights()[0]!.dataSync();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const digit = imageAt(loadMnist('test'), 0);
    const out1 = new Float32Array(784);
    const out2 = new Float32Array(784);
    augmentDigit(digit, out1, 0, seededRandom(1), DEFAULT_AUGMENT);
    augmentDigit(digit, out2, 0, seededRandom(1), DEFAULT_AUGMENT);
    assert.deepEqual(out1, out2);
  });

  it('augments without destroying the digit: ink is kept and stays in range', () => {
    const digit = imageAt(loadMnist('test'), 0);
    const out = new Float32Array(784);
    augmentDigit(digit, out, 0, seededRandom(9), DEFAULT_AUGMENT);
    const inkIn = digit.reduce((s, v) => s + v / 255, 0);
    const inkOut = out.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(inkOut - inkIn) / inkIn < 0.3, `ink ${inkIn} became ${inkOut}`);
    assert.ok(
      out.every((v) => v >= 0 && v <= 1),
      'out.every((v) => v >= 0 && v <= 1)',
    );
    const identity = new Float32Array(784);
    augmentDigit(digit, identity, 0, seededRandom(9), { maxRotationDeg: 0, maxScale: 0, maxShiftPx: 0 });
    assert.ok(
      identity.every((v, i) => Math.abs(v - digit[i]! / 255) < 1e-6),
      'a zero warp is the identity',
    );
  });
});
