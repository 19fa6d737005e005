/**
 * The inference engine: loads the model on the chosen backend, warms it up and classifies batches
 * of model inputs. Routes see only `predict`, so batching can sit behind it unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MNIST_CLASSES, MNIST_INPUT_SHAPE, MNIST_PIXELS } from '../mnist.ts';
import { BACKENDS, selectBackend, type BackendName } from './backend.ts';
import { readModelCard, type ModelCard } from './model-card.ts';
import { loadModel } from './model-files.ts';

export interface Prediction {
  digit: number;
  confidence: number;
  probabilities: number[];
}

export interface Engine {
  readonly backend: BackendName;
  readonly card: ModelCard;
  /** Classifies each 784-value input (0..1, MNIST layout); one answer per input, in order. */
  predict(inputs: readonly Float32Array[]): Prediction[];
  /** Tensors alive in the engine; constant between calls when nothing leaks. */
  liveTensors(): number;
  dispose(): void;
}

export function toPrediction(probabilities: ArrayLike<number>): Prediction {
  const probs = Array.from(probabilities);
  let digit = 0;
  for (let d = 1; d < probs.length; d++) if (probs[d]! > probs[digit]!) digit = d;
  return { digit, confidence: probs[digit]!, probabilities: probs };
}

export async function createEngine(options: { modelDir: string; backend: 'auto' | BackendName }): Promise<Engine> {
  const backend = await selectBackend(options.backend === 'auto' ? BACKENDS : [options.backend]);
  const [card, model] = await Promise.all([readModelCard(options.modelDir), loadModel(options.modelDir)]);
  // A refused model's weights are freed: a replica that refuses bad models keeps no memory of them.
  const outputShape = model.outputs[0]?.shape;
  const inputShape = model.inputs[0]?.shape.slice(1);
  const problem =
    outputShape?.[1] !== MNIST_CLASSES || model.outputs.length !== 1
      ? `model outputs [${outputShape}], expected 10 classes`
      : inputShape?.join() !== MNIST_INPUT_SHAPE.join() || model.inputs.length !== 1
        ? `model takes [${inputShape}], expected [${MNIST_INPUT_SHAPE.join()}]`
        : undefined;
  if (problem) {
    model.dispose();
    throw new Error(problem);
  }

  const predict = (inputs: readonly Float32Array[]): Prediction[] => {
    if (inputs.length === 0) return [];
    const batch = new Float32Array(inputs.length * MNIST_PIXELS);
    inputs.forEach((input, i) => {
      if (input.length !== MNIST_PIXELS)
        throw new Error(`input ${i} has ${input.length} values, expected ${MNIST_PIXELS}`);
      batch.set(input, i * MNIST_PIXELS);
    });
    // tidy returns the output tensor, not its values: tidy walks whatever it returns looking for
    // tensors, and walking a typed array element by element sent V8 into a deoptimise/recompile
    // loop that kept its compiler threads busy under load.
    const output = tf.tidy(() => model.predict(tf.tensor4d(batch, [inputs.length, ...MNIST_INPUT_SHAPE])) as tf.Tensor);
    let probs: Float32Array;
    try {
      probs = output.dataSync() as Float32Array;
    } finally {
      output.dispose();
    }
    return inputs.map((_, i) => toPrediction(probs.subarray(i * MNIST_CLASSES, (i + 1) * MNIST_CLASSES)));
  };

  // The first calls of each batch size compile kernels and allocate; pay that before /readyz.
  // Stryker disable next-line ArrayDeclaration: speed only (the first requests' latency)
  for (const n of [1, 8, 32]) predict(Array.from({ length: n }, () => new Float32Array(MNIST_PIXELS)));

  return {
    backend,
    card,
    predict,
    liveTensors: () => tf.memory().numTensors,
    dispose: () => model.dispose(),
  };
}
