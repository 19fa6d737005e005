/** `npm run eval` run as users run it: two models in one run, the robustness suite, the JSON summary. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { lastJsonLine } from '../../devkit/testing.ts';
import { DEFAULT_MODEL_DIR, readModelCard } from '../../service/src/index.ts';
import { ROBUSTNESS_TARGETS, ROBUSTNESS_VARIANTS } from '../../training/robustness.ts';

const run = promisify(execFile);
const EVAL = ['run', '-s', 'eval', '--', '--backend', 'wasm'];

interface Figures {
  backend: string;
  models: {
    model: string;
    accuracy: number;
    test_images: number;
    errors: number;
    images_per_s_batch32: number;
    images_per_s_batch32_vs_first: number;
    robustness: Record<string, number>;
  }[];
}

describe('npm run eval', () => {
  it('evaluates two models in one run: accuracy, cost against the first, every robustness variant', async () => {
    const args = [...EVAL, '--model', 'service/models/v1', '--model', 'service/models/v1', '--robustness-images', '60'];
    const { stdout } = await run('npm', args, { maxBuffer: 4 * 1024 * 1024 });
    const figures = lastJsonLine<Figures>(stdout);
    assert.equal(figures.backend, 'wasm');
    assert.equal(figures.models.length, 2);
    const [first, second] = figures.models;
    assert.equal(first!.test_images, 10_000);
    assert.ok(first!.accuracy > 0.99, `accuracy ${first!.accuracy}`);
    assert.equal(first!.errors, Math.round((1 - first!.accuracy) * 10_000));
    assert.equal(first!.images_per_s_batch32_vs_first, 1);
    assert.ok(second!.images_per_s_batch32_vs_first > 0);
    assert.deepEqual(second!.robustness, first!.robustness, 'one model, the same suite: the same figures');
    assert.deepEqual(Object.keys(first!.robustness), [...ROBUSTNESS_VARIANTS]);
    for (const [variant, accuracy] of Object.entries(first!.robustness)) {
      // 60 digits: every figure is a whole number of them, and the model gets most right.
      assert.ok(Number.isInteger(Math.round(accuracy * 60 * 1e6) / 1e6), `${variant}: ${accuracy}`);
      assert.ok(accuracy > 0.7 && accuracy <= 1, `${variant}: ${accuracy}`);
    }
    assert.match(stdout, /robustness suite \(60 test digits per variant\)/);
    assert.match(stdout, /low-res-8 +90\.00%/);
  });

  it('finds the default model at its targets, and its card saying so', async () => {
    const { stdout } = await run('npm', [...EVAL, '--robustness-images', '1000'], { maxBuffer: 4 * 1024 * 1024 });
    const [served] = lastJsonLine<Figures>(stdout).models;
    assert.ok(served!.accuracy >= 0.995, `accuracy ${served!.accuracy}`);
    for (const variant of ROBUSTNESS_VARIANTS) {
      const accuracy = served!.robustness[variant]!;
      assert.ok(accuracy >= ROBUSTNESS_TARGETS[variant], `${variant}: ${accuracy}`);
    }
    assert.equal((await readModelCard(DEFAULT_MODEL_DIR)).evaluation.accuracy, served!.accuracy);
  });

  it('refuses a robustness sample it cannot draw, with the reason and the usage', async () => {
    for (const bad of ['10001', '-1', '2.5', 'many']) {
      const failed = await run('npm', [...EVAL, `--robustness-images=${bad}`]).then(
        () => assert.fail(`--robustness-images ${bad} was accepted`),
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(failed.code, 2);
      assert.match(failed.stderr, new RegExp(`--robustness-images must be a whole number from 0 to 10000, got ${bad}`));
      assert.match(failed.stderr, /Usage: /);
    }
  });
});
