/**
 * The CNN this project trains and serves: two 3x3 convolutions with max-pooling, a 128-unit dense
 * layer with dropout, softmax over the ten digits. Small enough to infer in well under a
 * millisecond on one core; augmentation and a decaying learning rate, not width, carry accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE } from '../service/src/index.ts';

export const ARCHITECTURE_NAME = 'mnist-cnn';

/** Every initializer and the dropout draw from `seed`, so two builds with one seed are identical. */
export function buildModel(seed: number): tf.LayersModel {
  let next = seed;
  const heNormal = () => tf.initializers.heNormal({ seed: next++ });
  const conv = (filters: number) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: heNormal() });
  return tf.sequential({
    name: ARCHITECTURE_NAME,
    layers: [
      tf.layers.inputLayer({ inputShape: [...MNIST_INPUT_SHAPE] }),
      conv(32),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(64),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: heNormal() }),
      tf.layers.dropout({ rate: 0.3, seed: next++ }),
      tf.layers.dense({
        units: MNIST_CLASSES,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: next++ }),
      }),
    ],
  });
}
