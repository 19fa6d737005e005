/**
 * The gradient of one share of a batch: the part of a training step that data-parallel threads
 * split between them (`gradient-helpers.ts`). Every thread runs this same function, so a share's
 * gradient is the same whichever thread computes it.
 */
import * as tf from '@tensorflow/tfjs';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE, MNIST_PIXELS } from '../service/src/index.ts';
import type { GradientJob, GradientReply } from './gradient-helpers.ts';

export interface ShareGradients {
  loss: number;
  accuracy: number;
  /** One per variable, in the order given. */
  grads: tf.Tensor[];
}

/** The model's trainable variables, in layer order: the same order in every copy of the model. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Mean cross-entropy loss, accuracy and the loss's gradient for `variables` over the images in
 * `inputs` (0..1) and their `labels`. The caller owns (and disposes) the gradients.
 */
export function shareGradients(
  model: tf.LayersModel,
  variables: tf.Variable[],
  inputs: Float32Array,
  labels: Int32Array,
): ShareGradients {
  return tf.tidy(() => {
    const xs = tf.tensor4d(inputs, [inputs.length / MNIST_PIXELS, ...MNIST_INPUT_SHAPE]);
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), MNIST_CLASSES);
    let correct: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const probs = model.apply(xs, { training: true }) as tf.Tensor2D;
      correct = tf.keep(tf.equal(probs.argMax(1), ys.argMax(1)).mean());
      return tf.metrics.categoricalCrossentropy(ys, probs).mean() as tf.Scalar;
    }, variables);
    const accuracy = correct!.dataSync()[0]!;
    correct!.dispose();
    const ordered = variables.map((v) => tf.keep(grads[v.name]!));
    return { loss: value.dataSync()[0]!, accuracy, grads: ordered };
  });
}

/**
 * A helper thread's part of a step: its copy of the model takes the trainer's weights, then
 * computes its share's gradient, returned as arrays. Leaves no tensor behind: it runs for every
 * batch of a training run.
 */
export function helperStep(model: tf.LayersModel, variables: tf.Variable[], job: GradientJob): GradientReply {
  // Batch normalisation's moving statistics are not sent: a training step normalises by the share's own.
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(job.weights[i]!, v.shape))));
  const { loss, accuracy, grads } = shareGradients(model, variables, job.inputs, job.labels);
  const arrays = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose(grads);
  return { loss, accuracy, grads: arrays };
}
