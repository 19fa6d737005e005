/**
 * `npm run candidates [-- --rounds N]`
 * Times candidate architectures, untrained, on the wasm backend: parameters, FLOPs, ms per image
 * at batch 1 and 32, and how much cheaper than v1's architecture at batch 32. The candidates take
 * turns, round after round, and each figure is the median of the rounds, so that all of them see
 * the machine in the same state. Accuracy needs training:
 * `npm run train -- --architecture NAME`.
 */
import * as tf from '@tensorflow/tfjs';
import { fail, parseCli } from '../../devkit/cli.ts';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE } from '../../service/src/index.ts';
import { buildModel } from '../architecture.ts';
import { msPerImage } from '../evaluate.ts';
import { median } from '../../devkit/stats.ts';
import { flopsPerImage } from '../model-stats.ts';
import { setupBackend } from '../setup-backend.ts';

const USAGE = `Usage: npm run candidates [-- --rounds N]

Times candidate architectures, untrained, on the wasm backend against v1's
(mnist-cnn): parameters, MFLOPs, ms per image at batch 1 and 32, speed-up at batch 32.
The last line is one JSON object.

  --rounds N   rounds of measurement, each candidate in turn (default 5)
  --help       this text
`;

const args = parseCli(USAGE, { rounds: { type: 'string', default: '5' } });
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) fail(USAGE, `--rounds must be a positive integer, got ${args.rounds}`);

const L = tf.layers;
const conv = (filters: number, kernelSize: number, strides = 1) =>
  L.conv2d({ filters, kernelSize, strides, padding: strides > 1 ? 'same' : 'valid', activation: 'relu' });
const pool = () => L.maxPooling2d({ poolSize: 2 });
/** Convolutions, then an optional hidden dense layer and the softmax. */
const net = (layers: tf.layers.Layer[], hidden = 0) =>
  tf.sequential({
    layers: [
      L.inputLayer({ inputShape: [...MNIST_INPUT_SHAPE] }),
      ...layers,
      L.flatten(),
      ...(hidden ? [L.dense({ units: hidden, activation: 'relu' })] : []),
      L.dense({ units: MNIST_CLASSES, activation: 'softmax' }),
    ],
  });

/** Named by their layers: l5 = LeNet-style 5x5 valid convolutions, c3 = 3x3, d = dense units. */
const CANDIDATES: Record<string, () => tf.LayersModel> = {
  'mnist-cnn (v1)': () => buildModel(1, 'mnist-cnn'),
  'l5 8-16 d64': () => net([conv(8, 5), pool(), conv(16, 5), pool()], 64),
  'l5 12-24 d64': () => net([conv(12, 5), pool(), conv(24, 5), pool()], 64),
  'l5 16-32': () => net([conv(16, 5), pool(), conv(32, 5), pool()]),
  'l5 16-32 d64': () => net([conv(16, 5), pool(), conv(32, 5), pool()], 64),
  'l5 20-40 d64': () => net([conv(20, 5), pool(), conv(40, 5), pool()], 64),
  'l5 24-48 d96': () => net([conv(24, 5), pool(), conv(48, 5), pool()], 96),
  'c3 16-32 d64': () => net([conv(16, 3), pool(), conv(32, 3), pool()], 64),
  'c3 32-64 d128': () => net([conv(32, 3), pool(), conv(64, 3), pool()], 128),
  'c5 16 c3 32-32 d64': () => net([conv(16, 5), pool(), conv(32, 3), conv(32, 3), pool()], 64),
  'c5 16 c3 32-48 d128': () => net([conv(16, 5), pool(), conv(32, 3), conv(48, 3), pool()], 128),
  'strided c5 32 c3 64 d64': () => net([conv(32, 5, 2), conv(64, 3, 2)], 64),
};

/** ms per image over `reps` batches of `n` random images. */
const timed = (model: tf.LayersModel, n: number, reps: number) =>
  msPerImage(
    model,
    Array.from({ length: reps }, () => tf.randomUniform([n, ...MNIST_INPUT_SHAPE])),
  );

await setupBackend('wasm');
const models = Object.entries(CANDIDATES).map(([name, build]) => ({
  name,
  model: build(),
  b1: [] as number[],
  b32: [] as number[],
}));
for (let round = 0; round < rounds; round++) {
  for (const m of models) {
    m.b1.push(timed(m.model, 1, 200));
    m.b32.push(timed(m.model, 32, 30));
  }
}
const v1 = median(models[0]!.b32);
const rows = models.map(({ name, model, b1, b32 }) => ({
  name,
  parameters: model.countParams(),
  mflops: Number((flopsPerImage(model) / 1e6).toFixed(2)),
  ms_batch1: Number(median(b1).toFixed(3)),
  ms_batch32: Number(median(b32).toFixed(4)),
  speedup_batch32: Number((v1 / median(b32)).toFixed(2)),
}));
console.log('| candidate | parameters | MFLOPs | ms/image, batch 1 | ms/image, batch 32 | vs v1, batch 32 |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.parameters} | ${r.mflops} | ${r.ms_batch1} | ${r.ms_batch32} | ${r.speedup_batch32}x |`,
  );
}
console.log(JSON.stringify({ backend: 'wasm', rounds, candidates: rows }));
