/**
 * The architectures this project trains, by name (`npm run train -- --architecture NAME`); the
 * name is the model card's. Every initializer and dropout draws from the seed, so two builds with
 * one seed are identical.
 */
import * as tf from '@tensorflow/tfjs';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE } from '../service/src/index.ts';

export interface Architecture {
  /** One line for the usage text and docs/model.md. */
  summary: string;
  build(seed: number): tf.LayersModel;
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
} satisfies Record<string, Architecture>;

export type ArchitectureName = keyof typeof ARCHITECTURES;
export const DEFAULT_ARCHITECTURE: ArchitectureName = 'mnist-cnn';

export function buildModel(seed: number, name: ArchitectureName = DEFAULT_ARCHITECTURE): tf.LayersModel {
  return ARCHITECTURES[name].build(seed);
}
