import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEngine, type Engine } from '../../src/engine/engine.ts';
import { DEFAULT_MODEL_DIR } from '../../src/engine/model-card.ts';
import { scaleToUnit } from '../../src/mnist.ts';
import { digits } from '../../../devkit/testing.ts';

describe('the shipped model', () => {
  let engine: Engine;
  before(async () => {
    engine = await createEngine({ modelDir: DEFAULT_MODEL_DIR, backend: 'auto' });
  });
  after(() => engine.dispose());

  it('has a model card whose weights checksum and test accuracy hold', () => {
    const card = engine.card as unknown as {
      weights_sha256: string;
      evaluation: { accuracy: number; test_images: number };
    };
    const weights = readFileSync(join(DEFAULT_MODEL_DIR, 'weights.bin'));
    assert.equal(createHash('sha256').update(weights).digest('hex'), card.weights_sha256);
    assert.equal(card.evaluation.test_images, 10_000);
    assert.ok(card.evaluation.accuracy >= 0.993, `card says ${card.evaluation.accuracy}`);
  });

  it('classifies known MNIST test digits correctly', () => {
    const known = digits(20);
    const answers = engine.predict(known.map((d) => scaleToUnit(d.pixels)));
    assert.deepEqual(
      answers.map((a) => a.digit),
      known.map((d) => d.label),
    );
    assert.ok(
      answers.every((a) => a.confidence > 0.5),
      'answers.every((a) => a.confidence > 0.5)',
    );
  });

  it('leaks no tensors over thousands of predictions of every batch size', () => {
    const inputs = digits(64).map((d) => scaleToUnit(d.pixels));
    engine.predict(inputs.slice(0, 1));
    const baseline = engine.liveTensors();
    for (let i = 0; i < 2000; i++) engine.predict(inputs.slice(0, 1 + (i % 64)));
    assert.equal(engine.liveTensors(), baseline);
    assert.throws(() => engine.predict([new Float32Array(10)]), /784/);
    assert.equal(engine.liveTensors(), baseline);
  });
});
