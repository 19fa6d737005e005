/** Every model the repository ships (service/models/<version>) loads, checks out and classifies. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEngine, type Engine } from '../../src/engine/engine.ts';
import { DEFAULT_MODEL, DEFAULT_MODEL_DIR, SHIPPED_MODELS_DIR } from '../../src/engine/model-card.ts';
import { scaleToUnit } from '../../src/mnist.ts';
import { digits } from '../../../devkit/testing.ts';

const SHIPPED = readdirSync(SHIPPED_MODELS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

it('ships the default model among its models', () => {
  assert.ok(SHIPPED.includes(DEFAULT_MODEL), `${DEFAULT_MODEL} in ${SHIPPED.join(', ')}`);
});

for (const version of SHIPPED) describeShipped(version);

describe('the engine on the default model', () => {
  let engine: Engine;
  before(async () => {
    engine = await createEngine({ modelDir: DEFAULT_MODEL_DIR, backend: 'auto' });
  });
  after(() => engine.dispose());

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

function describeShipped(version: string): void {
  const dir = join(SHIPPED_MODELS_DIR, version);
  describe(`the shipped model ${version}`, () => {
    let engine: Engine;
    before(async () => {
      engine = await createEngine({ modelDir: dir, backend: 'auto' });
    });
    after(() => engine.dispose());

    it('has a model card whose weights checksum and test accuracy hold', () => {
      const card = engine.card as unknown as {
        weights_sha256: string;
        evaluation: { accuracy: number; test_images: number };
      };
      const weights = readFileSync(join(dir, 'weights.bin'));
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
  });
}
