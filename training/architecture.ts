/**
 * The architectures this project trains, by name (`npm run train -- --architecture NAME`); the
 * name is the model card's. Every initializer and dropout draws from the seed, so two builds with
 * one seed are identical.
 */
import * as tf from '@tensorflow/tfjs';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE } from '../service/src/index.ts';
import { DEFAULT_AUGMENT } from './augment.ts';
import { DEFAULT_REDRAW } from './redraw.ts';
import type { Recipe } from './trainer.ts';

export interface Architecture {
  /** One line for the usage text and docs/model.md. */
  summary: string;
  build(seed: number): tf.LayersModel;
  /** How it trains best, where that differs from the default recipe. */
  recipe?: Partial<Recipe>;
}

/** Seeded initializers, one seed after another. */
function seeds(seed: number) {
  let next = seed;
  return {
    heNormal: () => tf.initializers.heNormal({ seed: next++ }),
    glorotUniform: () => tf.initializers.glorotUniform({ seed: next++ }),
    next: () => next++,
  };
}

/** A valid convolution of `filters` `size`x`size` kernels. */
const conv = (filters: number, size: number) => ({ filters, size });
type Block = ReturnType<typeof conv> | 'pool';

/**
 * Convolutions and a hidden dense layer, each followed by batch normalisation and then its ReLU
 * (the order `foldBatchNorm` folds into one fused layer for serving), and the softmax.
 */
function normalisedNet(seed: number, name: string, blocks: Block[], hidden: number): tf.LayersModel {
  const s = seeds(seed);
  const normalised = (layer: tf.layers.Layer) => [
    layer,
    tf.layers.batchNormalization(),
    tf.layers.activation({ activation: 'relu' }),
  ];
  return tf.sequential({
    name,
    layers: [
      tf.layers.inputLayer({ inputShape: [...MNIST_INPUT_SHAPE] }),
      ...blocks.flatMap((b) =>
        b === 'pool'
          ? [tf.layers.maxPooling2d({ poolSize: 2 })]
          : normalised(
              tf.layers.conv2d({
                filters: b.filters,
                kernelSize: b.size,
                useBias: false,
                kernelInitializer: s.heNormal(),
              }),
            ),
      ),
      tf.layers.flatten(),
      ...normalised(tf.layers.dense({ units: hidden, useBias: false, kernelInitializer: s.heNormal() })),
      tf.layers.dropout({ rate: 0.25, seed: s.next() }),
      tf.layers.dense({ units: MNIST_CLASSES, activation: 'softmax', kernelInitializer: s.glorotUniform() }),
    ],
  });
}

/** Warped and redrawn (pen, blur, resolution) through the service's normalisation, one clean epoch. */
const REDRAWN_RECIPE: Partial<Recipe> = {
  epochs: 20,
  learningRate: 2e-3,
  learningRateDecay: 0.82,
  augment: DEFAULT_AUGMENT,
  redraw: DEFAULT_REDRAW,
  cleanEpochs: 1,
};

export const ARCHITECTURES = {
  'mnist-cnn': {
    summary: 'conv32 3x3 - maxpool - conv64 3x3 - maxpool - dense128 - dropout 0.3 - dense10 (v1)',
    build(seed) {
      const s = seeds(seed);
      const conv = (filters: number) =>
        tf.layers.conv2d({
          filters,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: s.heNormal(),
        });
      return tf.sequential({
        name: 'mnist-cnn',
        layers: [
          tf.layers.inputLayer({ inputShape: [...MNIST_INPUT_SHAPE] }),
          conv(32),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          conv(64),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: s.heNormal() }),
          tf.layers.dropout({ rate: 0.3, seed: s.next() }),
          tf.layers.dense({ units: MNIST_CLASSES, activation: 'softmax', kernelInitializer: s.glorotUniform() }),
        ],
      });
    },
  },
  'lenet-bn': {
    summary: 'conv16 5x5 - bn - maxpool - conv32 5x5 - bn - maxpool - dense64 - bn - dropout 0.25 - dense10',
    build: (seed) => normalisedNet(seed, 'lenet-bn', [conv(16, 5), 'pool', conv(32, 5), 'pool'], 64),
    recipe: REDRAWN_RECIPE,
  },
  'deep-bn': {
    summary:
      'conv16 5x5 - bn - maxpool - conv32 3x3 - bn - conv32 3x3 - bn - maxpool - dense64 - bn - dropout 0.25 - dense10',
    build: (seed) => normalisedNet(seed, 'deep-bn', [conv(16, 5), 'pool', conv(32, 3), conv(32, 3), 'pool'], 64),
    recipe: REDRAWN_RECIPE,
  },
  'wide-bn': {
    summary:
      'conv16 5x5 - bn - maxpool - conv32 3x3 - bn - conv48 3x3 - bn - maxpool - dense128 - bn - dropout 0.25 - dense10',
    build: (seed) => normalisedNet(seed, 'wide-bn', [conv(16, 5), 'pool', conv(32, 3), conv(48, 3), 'pool'], 128),
    recipe: {
      ...REDRAWN_RECIPE,
      epochs: 22,
      learningRateDecay: 0.877,
      cleanEpochs: 3,
      redraw: { ...DEFAULT_REDRAW, chance: 0.35 },
      replicas: 2,
    },
  },
  'wide-bn-256': {
    summary:
      'conv16 5x5 - bn - maxpool - conv32 3x3 - bn - conv48 3x3 - bn - maxpool - dense256 - bn - dropout 0.25 - dense10',
    build: (seed) => normalisedNet(seed, 'wide-bn-256', [conv(16, 5), 'pool', conv(32, 3), conv(48, 3), 'pool'], 256),
    recipe: {
      ...REDRAWN_RECIPE,
      epochs: 18,
      learningRateDecay: 0.85,
      cleanEpochs: 3,
      redraw: { ...DEFAULT_REDRAW, chance: 0.35, drawingPx: [10, 19] },
      replicas: 2,
    },
  },
} satisfies Record<string, Architecture>;

export type ArchitectureName = keyof typeof ARCHITECTURES;
export const DEFAULT_ARCHITECTURE: ArchitectureName = 'wide-bn';

export function buildModel(seed: number, name: ArchitectureName = DEFAULT_ARCHITECTURE): tf.LayersModel {
  return ARCHITECTURES[name].build(seed);
}
