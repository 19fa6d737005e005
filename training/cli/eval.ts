/**
 * `npm run eval [-- --model DIR --backend NAME]`
 * Evaluates a saved model on the official 10,000 MNIST test images. Prints per-class accuracy and
 * the confusion matrix; the last line is one JSON object with the figures.
 */
import { parseCli } from '../../devkit/cli.ts';
import { resolve } from 'node:path';
import { DEFAULT_MODEL_DIR, readModelCard, loadModel } from '../../service/src/index.ts';
import { evaluate, measureInferenceCost } from '../evaluate.ts';
import { loadMnist } from '../../devkit/mnist/dataset.ts';
import { setupBackend } from '../setup-backend.ts';

const USAGE = `Usage: npm run eval [-- --model DIR --backend NAME]

Evaluates a model on the 10,000 official MNIST test images: per-class accuracy, the confusion
matrix and inference cost; the last line is one JSON object.

  --model DIR      the model to evaluate (default service/model)
  --backend NAME   tfjs backend (tensorflow, wasm, cpu; default: the best that loads)
  --help           this text
`;

const args = parseCli(USAGE, { model: { type: 'string', default: DEFAULT_MODEL_DIR }, backend: { type: 'string' } });
const dir = resolve(args.model);
const backend = await setupBackend(args.backend);
const card = await readModelCard(dir).catch(() => null);
const model = await loadModel(dir);
const test = loadMnist('test');
const result = evaluate(model, test);
const cost = measureInferenceCost(model, test);

console.log(`model ${dir} (${card?.version ?? 'no model card'}), backend ${backend}`);
console.log('per-class accuracy:');
result.perClassAccuracy.forEach((a, d) => console.log(`  ${d}: ${(a * 100).toFixed(2)}%`));
console.log('confusion matrix (rows: true digit, columns: predicted):');
console.log(`      ${[...Array(10).keys()].map((d) => String(d).padStart(5)).join('')}`);
result.confusion.forEach((row, d) => console.log(`  ${d}: ${row.map((n) => String(n).padStart(5)).join('')}`));
console.log(
  JSON.stringify({
    accuracy: result.accuracy,
    test_images: result.images,
    errors: Math.round((1 - result.accuracy) * result.images),
    model: card ? `${card.name}@${card.version}` : dir,
    backend,
    ms_per_image_batch1: Number(cost.msPerImageBatch1.toFixed(3)),
    images_per_s_batch32: Math.round(cost.imagesPerSecondBatch32),
  }),
);
