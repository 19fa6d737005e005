/** Batch normalisation folded into the layer before it gives the same outputs with fewer layers. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURES, buildModel, type ArchitectureName } from '../../training/architecture.ts';
import { foldBatchNorm } from '../../training/fold-batch-norm.ts';

/** Moving statistics, scale and shift far from their initial 0 and 1, so that folding them shows. */
function randomiseNormalisation(model: tf.LayersModel): void {
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const shape = layer.getWeights()[0]!.shape;
    layer.setWeights([
      tf.randomUniform(shape, 0.5, 2, 'float32', 1),
      tf.randomUniform(shape, -1, 1, 'float32', 2),
      tf.randomUniform(shape, -0.5, 0.5, 'float32', 3),
      tf.randomUniform(shape, 0.2, 3, 'float32', 4),
    ]);
  }
}

/** The two models' softmax outputs agree to 1e-5 on `x`, and they are not all alike. */
function assertSameOutputs(model: tf.LayersModel, folded: tf.LayersModel, x: tf.Tensor): void {
  const expected = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  const actual = (folded.predict(x) as tf.Tensor).arraySync() as number[][];
  const worst = Math.max(...expected.flatMap((row, i) => row.map((v, j) => Math.abs(v - actual[i]![j]!))));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  assert.ok(
    expected.flat().some((v) => v > 0.2),
    'outputs that differ between the digits',
  );
}

describe('folding batch normalisation', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('gives the same outputs as the trained model at inference, without its normalisation layers', async () => {
    // Seeded weights: unseeded, a draw now and then gave near-uniform outputs, which the check of
    // assertSameOutputs rightly refuses as proving nothing.
    const kernelInitializer = (seed: number) => tf.initializers.glorotUniform({ seed });
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [12, 12, 1],
          filters: 4,
          kernelSize: 3,
          useBias: false,
          kernelInitializer: kernelInitializer(11),
        }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', kernelInitializer: kernelInitializer(12) }),
        tf.layers.batchNormalization({ epsilon: 0.01 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 8, kernelInitializer: kernelInitializer(13) }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: kernelInitializer(14) }),
      ],
    });
    randomiseNormalisation(model);
    const folded = await foldBatchNorm(model);
    assert.deepEqual(
      folded.layers.map((l) => l.getClassName()),
      ['Conv2D', 'MaxPooling2D', 'Conv2D', 'Flatten', 'Dense', 'Dense'],
    );
    assert.deepEqual(
      folded.layers.map((l) => (l.getConfig().activation as string | undefined) ?? '-'),
      ['relu', '-', 'linear', '-', 'relu', 'softmax'],
    );
    assertSameOutputs(model, folded, tf.randomNormal([5, 12, 12, 1], 0, 1, 'float32', 7));
  });

  it('serves every named architecture without normalisation layers, with the same outputs', async () => {
    for (const name of Object.keys(ARCHITECTURES) as ArchitectureName[]) {
      const model = buildModel(1, name);
      randomiseNormalisation(model);
      const folded = await foldBatchNorm(model);
      assert.ok(!folded.layers.some((l) => l.getClassName() === 'BatchNormalization'), name);
      assertSameOutputs(model, folded, tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 8));
    }
  });

  it('leaves a model without normalisation as it is', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'relu' }), tf.layers.dense({ units: 1 })],
    });
    const folded = await foldBatchNorm(model);
    const x = tf.tensor2d([[1, -2, 3]]);
    assert.deepEqual((folded.predict(x) as tf.Tensor).arraySync(), (model.predict(x) as tf.Tensor).arraySync());
  });

  it('refuses what it cannot fold', async () => {
    const activated = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'relu' }), tf.layers.batchNormalization()],
    });
    await assert.rejects(foldBatchNorm(activated), /must have no activation/);
    const input = tf.input({ shape: [3] });
    const functional = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor,
    });
    await assert.rejects(foldBatchNorm(functional), /only a sequential model/);
  });
});
