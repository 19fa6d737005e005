/**
 * `npm run eval [-- --model DIR ... --backend NAME --robustness-images N]`
 * Evaluates saved models on the official 10,000 MNIST test images and on the robustness suite
 * built from them. Prints per-class accuracy, the confusion matrix and a table of the suite's
 * variants; the last line is one JSON object with the figures of every model.
 */
import { fail, parseCli } from '../../devkit/cli.ts';
import { resolve } from 'node:path';
import { DEFAULT_MODEL_DIR, MNIST_PIXELS, readModelCard, loadModel } from '../../service/src/index.ts';
import { evaluate, evaluateInputs, measureInferenceCost, type InferenceCost } from '../evaluate.ts';
import { median } from '../../devkit/stats.ts';
import { loadMnist } from '../../devkit/mnist/dataset.ts';
import { setupBackend } from '../setup-backend.ts';
import { ROBUSTNESS_TARGETS, ROBUSTNESS_VARIANTS, robustnessInputs } from '../robustness.ts';

const USAGE = `Usage: npm run eval [-- --model DIR ... --backend NAME --robustness-images N]

Evaluates models on the 10,000 official MNIST test images: per-class accuracy, the confusion
matrix, inference cost, and accuracy on the robustness suite (the test digits redrawn small,
blurred, thin, thick, rotated, off-centre and anti-aliased, normalised as the service does).
Given several models, their costs are measured in alternation and compared with the first's.
The last line is one JSON object.

  --model DIR              a model to evaluate, repeatable (default: the default model)
  --backend NAME           tfjs backend (tensorflow, wasm, cpu; default: the best that loads)
  --robustness-images N    test digits per robustness variant, 0 to skip (default 10000)
  --help                   this text
`;

/** Cost measurements per model, alternated so that both see the same machine. */
const COST_ROUNDS = 3;

const args = parseCli(USAGE, {
  model: { type: 'string', multiple: true, default: [DEFAULT_MODEL_DIR] },
  backend: { type: 'string' },
  'robustness-images': { type: 'string', default: '10000' },
});
const robustnessImages = Number(args['robustness-images']);
if (!Number.isInteger(robustnessImages) || robustnessImages < 0 || robustnessImages > 10_000) {
  fail(USAGE, `--robustness-images must be a whole number from 0 to 10000, got ${args['robustness-images']}`);
}
const backend = await setupBackend(args.backend);
const test = loadMnist('test');
const models = await Promise.all(
  args.model.map(async (dir) => {
    const path = resolve(dir);
    const card = await readModelCard(path).catch(() => null);
    return { name: card ? `${card.name}@${card.version}` : path, model: await loadModel(path) };
  }),
);

const costs: InferenceCost[][] = models.map(() => []);
for (let round = 0; round < COST_ROUNDS; round++) {
  models.forEach(({ model }, m) => costs[m]!.push(measureInferenceCost(model, test)));
}

const robustness = models.map(() => ({}) as Record<string, number>);
for (const variant of robustnessImages > 0 ? ROBUSTNESS_VARIANTS : []) {
  const inputs = robustnessInputs(variant, test, robustnessImages);
  const labels = test.labels.subarray(0, robustnessImages);
  const inputsAt = (start: number, n: number) => inputs.subarray(start * MNIST_PIXELS, (start + n) * MNIST_PIXELS);
  models.forEach(({ model }, m) => (robustness[m]![variant] = evaluateInputs(model, labels, inputsAt).accuracy));
}

const figures = models.map(({ name, model }, m) => {
  const result = evaluate(model, test);
  console.log(`model ${name}, backend ${backend}`);
  console.log('per-class accuracy:');
  result.perClassAccuracy.forEach((a, d) => console.log(`  ${d}: ${(a * 100).toFixed(2)}%`));
  console.log('confusion matrix (rows: true digit, columns: predicted):');
  console.log(`      ${[...Array(10).keys()].map((d) => String(d).padStart(5)).join('')}`);
  result.confusion.forEach((row, d) => console.log(`  ${d}: ${row.map((n) => String(n).padStart(5)).join('')}`));
  console.log();
  const runs = costs[m]!;
  return {
    model: name,
    accuracy: result.accuracy,
    test_images: result.images,
    errors: Math.round((1 - result.accuracy) * result.images),
    ms_per_image_batch1: Number(median(runs.map((c) => c.msPerImageBatch1)).toFixed(3)),
    images_per_s_batch32: Math.round(median(runs.map((c) => c.imagesPerSecondBatch32))),
    robustness: robustness[m]!,
  };
});

if (robustnessImages > 0) {
  const pct = (a: number) => `${(a * 100).toFixed(2)}%`.padStart(9);
  console.log(`robustness suite (${robustnessImages} test digits per variant):`);
  console.log(`  ${'variant'.padEnd(14)}${'target'.padStart(9)}${models.map((_, m) => `   model ${m + 1}`).join('')}`);
  for (const variant of ROBUSTNESS_VARIANTS) {
    const cells = figures.map((f) => {
      const a = f.robustness[variant]!;
      return `${pct(a)}${a >= ROBUSTNESS_TARGETS[variant] ? ' ' : '!'}`;
    });
    console.log(`  ${variant.padEnd(14)}${pct(ROBUSTNESS_TARGETS[variant])}${cells.join('')}`);
  }
  console.log('  (! below its target)');
}
console.log(
  JSON.stringify({
    backend,
    models: figures.map((f) => ({
      ...f,
      images_per_s_batch32_vs_first: Number((f.images_per_s_batch32 / figures[0]!.images_per_s_batch32).toFixed(2)),
    })),
  }),
);
