/**
 * Data-parallel training: helper threads compute the gradients of their shares of each batch; the
 * step is the whole batch's, and a run repeats exactly for a given number of threads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../devkit/mnist/dataset.ts';
import { buildModel } from '../../training/architecture.ts';
import { batchesPerEpoch, preparedBatches } from '../../training/batches.ts';
import { startGradientHelpers } from '../../training/gradient-helpers.ts';
import { setupBackend } from '../../training/setup-backend.ts';
import { helperStep, trainableVariables } from '../../training/share-gradients.ts';
import { DEFAULT_RECIPE, train } from '../../training/trainer.ts';

const data = loadMnist('train');
const recipe = { ...DEFAULT_RECIPE, epochs: 1, batchSize: 32, limit: 32 * 4, augment: null, seed: 11 };

/** A net without batch normalisation or dropout: its batch gradient is the mean of its shares'. */
function plainNet(seed: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.inputLayer({ inputShape: [28, 28, 1] }),
      tf.layers.conv2d({
        filters: 4,
        kernelSize: 5,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 10,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

async function trained(model: tf.LayersModel, replicas: number) {
  const r = { ...recipe, replicas };
  const result = await train(model, preparedBatches(data, r), r, batchesPerEpoch(data, r));
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.dispose();
  return { weights, batchLoss: result.batchLoss };
}

const maxDifference = (a: number[][], b: number[][]) =>
  Math.max(...a.map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - b[i]![j]!)))));

describe('data-parallel training', () => {
  before(async () => assert.equal(await setupBackend('wasm'), 'wasm'));

  it('takes the whole batch’s step when two threads share each batch', async () => {
    const one = await trained(plainNet(5), 1);
    const two = await trained(plainNet(5), 2);
    assert.equal(two.batchLoss.length, 4);
    const moved = maxDifference(one.weights, (await trained(plainNet(5), 1)).weights);
    assert.equal(moved, 0, 'one thread repeats exactly');
    const difference = maxDifference(one.weights, two.weights);
    assert.ok(difference < 1e-5, `two threads moved the weights ${difference} away from one thread's`);
    two.batchLoss.forEach((loss, i) => assert.ok(Math.abs(loss - one.batchLoss[i]!) < 1e-5, `batch ${i + 1} loss`));
    // A run that skipped a share would land elsewhere: the same steps on half the data do not match.
    const half = { ...recipe, batchSize: 16, limit: 16 * 4 };
    const halfModel = plainNet(5);
    await train(halfModel, preparedBatches(data, half), half, batchesPerEpoch(data, half));
    const halfWeights = halfModel.getWeights().map((w) => Array.from(w.dataSync()));
    assert.ok(maxDifference(one.weights, halfWeights) > 1e-3);
  });

  it('repeats exactly with batch normalisation, which normalises each share by itself', async () => {
    const a = await trained(buildModel(3, 'wide-bn'), 2);
    const b = await trained(buildModel(3, 'wide-bn'), 2);
    assert.deepEqual(a.weights, b.weights);
    assert.deepEqual(a.batchLoss, b.batchLoss);
    const one = await trained(buildModel(3, 'wide-bn'), 1);
    assert.ok(maxDifference(a.weights, one.weights) > 1e-4, 'the share size is part of the recipe');
  });

  it('leaves no tensor behind in a helper, step after step', () => {
    const model = plainNet(5);
    const variables = trainableVariables(model);
    const [batch] = preparedBatches(data, recipe);
    const job = () => ({
      weights: variables.map((v) => v.dataSync() as Float32Array),
      inputs: batch!.inputs.subarray(0, 16 * 784),
      labels: batch!.labels.subarray(0, 16),
    });
    const first = helperStep(model, variables, job());
    const tensors = tf.memory().numTensors;
    const again = Array.from({ length: 5 }, () => helperStep(model, variables, job()));
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(first.grads.length, variables.length);
    // Same weights, same share: the same gradient every time.
    again.forEach((reply) => assert.deepEqual(reply.grads, first.grads));
    model.dispose();
  });

  it('keeps no step’s gradients once the step is taken', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const r = { ...recipe, batchSize: 8, limit: 8 * 150, replicas: 2 };
    const model = buildModel(3, 'wide-bn-256');
    const megabytes: number[] = [];
    await train(model, preparedBatches(data, r), r, batchesPerEpoch(data, r), ({ batch }) => {
      if (batch % 10 === 0) megabytes.push((gc(), process.memoryUsage().arrayBuffers / 1e6));
    });
    model.dispose();
    // Each reply carries the net's gradients (0.9 MB): kept, the 60 steps between the two windows
    // would add 53 MB. The least of each window, since a message in transit at a sample is a spike.
    const [early, late] = [Math.min(...megabytes.slice(2, 6)), Math.min(...megabytes.slice(-4))];
    assert.ok(late - early < 20, `array buffers from ${early} to ${late} MB: ${megabytes.map(Math.round).join(', ')}`);
  });

  it(
    'fails a step sent to a helper that has gone, rather than waiting for its reply',
    { timeout: 60_000 },
    async () => {
      const model = plainNet(5);
      const [helper] = await startGradientHelpers(model, 1);
      await helper!.close();
      const weights = trainableVariables(model).map((v) => v.dataSync() as Float32Array);
      await assert.rejects(
        helper!.gradients({ weights, inputs: new Float32Array(784), labels: new Int32Array(1) }),
        /gradient worker exited/,
      );
      model.dispose();
    },
  );

  it('refuses a thread count that does not divide the batch', async () => {
    const r = { ...recipe, replicas: 3 };
    await assert.rejects(
      train(plainNet(5), preparedBatches(data, r), r, batchesPerEpoch(data, r)),
      /replicas must be a whole number that divides the batch size, got 3/,
    );
  });

  it('npm run train refuses --replicas that do not divide the batch, before training', async () => {
    for (const [replicas, reason] of [
      ['3', /--replicas must divide the batch size \(128\), got 3/],
      ['0', /--replicas must be a positive integer, got "0"/],
    ] as const) {
      const failed = await promisify(execFile)('npm', ['run', '-s', 'train', '--', '--replicas', replicas]).then(
        () => assert.fail(`--replicas ${replicas} was accepted`),
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(failed.code, 2);
      assert.match(failed.stderr, reason);
    }
  });
});
