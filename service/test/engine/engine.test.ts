/**
 * The engine's parts on small models made here: backend selection, the model files' round trip,
 * the model card's check, and what `createEngine` refuses and answers. Each engine is built inside
 * its test, so that a fault in start-up fails the test that shows it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { layers, sequential } from '@tensorflow/tfjs-layers';
import { BACKENDS, selectBackend } from '../../src/engine/backend.ts';
import { createEngine, toPrediction } from '../../src/engine/engine.ts';
import { readModelCard } from '../../src/engine/model-card.ts';
import { loadModel, modelSaver } from '../../src/engine/model-files.ts';
import { MNIST_INPUT_SHAPE, MNIST_PIXELS } from '../../src/mnist.ts';

tf.env().set('IS_TEST', true); // no advice to install the native backend in the test output

const biases = (classes: number) => Float32Array.from({ length: classes }, (_, i) => i / 10);
const CARD = { name: 'tiny', version: '0.0.1', parameters: 0, flops_per_image: 0 };

/** A seeded one-layer model of `classes` outputs saved with its card in a new directory. */
async function tinyModel(classes: number, card: object = CARD): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'engine-test-'));
  const model = sequential({
    layers: [
      layers.flatten({ inputShape: [...MNIST_INPUT_SHAPE] }),
      layers.dense({
        units: classes,
        activation: 'softmax',
        kernelInitializer: 'glorotUniform',
        biasInitializer: 'ones',
      }),
    ],
  });
  model.setWeights([tf.randomUniform([MNIST_PIXELS, classes], -1, 1, 'float32', 7), tf.tensor1d(biases(classes))]);
  await model.save(modelSaver(dir));
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify(card));
  model.dispose();
  return dir;
}

/** Inputs with a recognisable spread of values, so that models of different weights disagree. */
const inputs = (n: number) =>
  Array.from({ length: n }, (_, i) => Float32Array.from({ length: MNIST_PIXELS }, (_, p) => ((p * (i + 3)) % 17) / 16));

describe('backend selection', () => {
  it('tries the native binding, then WebAssembly, then plain JavaScript', () => {
    assert.deepEqual(BACKENDS, ['tensorflow', 'wasm', 'cpu']);
  });

  it('activates the first candidate that loads, and says which', async () => {
    assert.equal(await selectBackend(['cpu']), 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(await selectBackend(['wasm', 'cpu']), 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
  });

  it('passes over a backend that does not load, and names every one tried when none does', async () => {
    const native = await import('@tensorflow/tfjs-node' as string).then(
      () => true,
      () => false,
    );
    // Without the optional native binding (the default install), its candidate is passed over.
    if (!native) assert.equal(await selectBackend(['tensorflow', 'cpu']), 'cpu');
    await assert.rejects(selectBackend([]), { message: 'no tfjs backend could be loaded (tried )' });
    if (!native) {
      await assert.rejects(selectBackend(['tensorflow']), {
        message: 'no tfjs backend could be loaded (tried tensorflow)',
      });
      await assert.rejects(selectBackend(['tensorflow', 'tensorflow']), {
        message: 'no tfjs backend could be loaded (tried tensorflow, tensorflow)',
      });
    }
  });
});

describe('model files', () => {
  it('save a model as model.json and one weights file, and load it back to the same answers', async () => {
    await selectBackend(['cpu']);
    const dir = await tinyModel(10);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    assert.deepEqual(
      json.weightsManifest.map((group) => group.paths),
      [['weights.bin']],
    );
    assert.equal(readFileSync(join(dir, 'weights.bin')).length, (MNIST_PIXELS * 10 + 10) * 4);
    assert.equal(json.format, 'layers-model');
    const model = await loadModel(dir);
    const [kernel, bias] = model.getWeights();
    assert.deepEqual(bias!.dataSync(), biases(10));
    assert.equal(kernel!.shape.join('x'), `${MNIST_PIXELS}x10`);
    model.dispose();
  });

  it('load a model of a few bytes (a Buffer from the shared pool) to its weights, and report what they saved', async () => {
    await selectBackend(['cpu']);
    const dir = mkdtempSync(join(tmpdir(), 'engine-test-'));
    const model = sequential({ layers: [layers.dense({ inputShape: [3], units: 2 })] });
    model.setWeights([tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([7, 8])]);
    const saved = await model.save(modelSaver(dir));
    assert.equal(saved.modelArtifactsInfo.weightDataBytes, 8 * 4);
    assert.equal(saved.modelArtifactsInfo.modelTopologyType, 'JSON');
    const loaded = await loadModel(dir);
    assert.deepEqual(
      loaded.getWeights().map((w) => Array.from(w.dataSync())),
      [
        [1, 2, 3, 4, 5, 6],
        [7, 8],
      ],
    );
    model.dispose();
    loaded.dispose();
  });

  it('refuse weights in more than one buffer', async () => {
    const saver = modelSaver(mkdtempSync(join(tmpdir(), 'engine-test-')));
    await assert.rejects(saver.save!({ modelTopology: {}, weightData: [new ArrayBuffer(4), new ArrayBuffer(4)] }), {
      message: 'expected one weights buffer',
    });
  });
});

describe('the model card', () => {
  it('is read as written, and refused without a name and a version', async () => {
    const dir = await tinyModel(10, { ...CARD, extra: [1, 2] });
    assert.deepEqual(await readModelCard(dir), { ...CARD, extra: [1, 2] });
    for (const card of [{ version: '1' }, { name: 'x' }, { name: 1, version: '1' }, { name: 'x', version: 1 }]) {
      writeFileSync(join(dir, 'metadata.json'), JSON.stringify(card));
      await assert.rejects(readModelCard(dir), { message: `${join(dir, 'metadata.json')} lacks a name and version` });
    }
  });
});

describe('the engine', () => {
  it('refuses a model that does not answer ten classes', async () => {
    for (const classes of [9, 11]) {
      await assert.rejects(createEngine({ modelDir: await tinyModel(classes), backend: 'cpu' }), {
        message: `model outputs [,${classes}], expected 10 classes`,
      });
    }
  });

  it('answers each input of a batch as it would alone, in order, and leaks nothing', async () => {
    const engine = await createEngine({ modelDir: await tinyModel(10), backend: 'cpu' });
    assert.equal(engine.backend, 'cpu');
    assert.equal(engine.card.name, 'tiny');
    assert.deepEqual(engine.predict([]), []);
    const batch = inputs(5);
    const tensors = engine.liveTensors();
    const together = engine.predict(batch);
    assert.equal(engine.liveTensors(), tensors);
    assert.equal(together.length, 5);
    const alone = batch.map((input) => engine.predict([input])[0]!);
    for (const [i, answer] of together.entries()) {
      assert.equal(answer.digit, alone[i]!.digit);
      for (const [d, p] of answer.probabilities.entries()) assert.ok(Math.abs(p - alone[i]!.probabilities[d]!) < 1e-6);
    }
    assert.ok(new Set(together.map((a) => a.digit)).size > 1, 'the inputs are told apart');
    engine.dispose();
    assert.equal(engine.liveTensors(), tensors - 2, "disposing frees the model's kernel and bias");
  });

  it('refuses an input of the wrong length, naming it', async () => {
    const engine = await createEngine({ modelDir: await tinyModel(10), backend: 'cpu' });
    const [good] = inputs(1);
    assert.throws(() => engine.predict([good!, new Float32Array(MNIST_PIXELS - 1)]), {
      message: `input 1 has ${MNIST_PIXELS - 1} values, expected ${MNIST_PIXELS}`,
    });
    engine.dispose();
  });

  it('answers the most probable digit, the first of equals, with its probability', () => {
    assert.deepEqual(toPrediction([0.1, 0.3, 0.3, 0.2]), {
      digit: 1,
      confidence: 0.3,
      probabilities: [0.1, 0.3, 0.3, 0.2],
    });
    assert.deepEqual(toPrediction([0.9, 0.1]).digit, 0);
    assert.deepEqual(toPrediction([0, 0, 0, 1]).digit, 3);
    assert.deepEqual(toPrediction(Float32Array.of(0.25, 0.5, 0.25)).probabilities, [0.25, 0.5, 0.25]);
  });
});
