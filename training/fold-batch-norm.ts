/**
 * The serving copy of a trained sequential model without its batch normalisation. Normalisation
 * helps training, but at inference it is a fixed per-channel scale and shift: folded into the
 * convolution (or dense layer) before it, with the activation after it, the layer runs as one
 * fused op (tfjs's fused conv2d with bias and activation) and the model loses a layer per block.
 * inference(x) = activation(gamma * (conv(x) + bias - mean) / sqrt(variance + epsilon) + beta).
 */
import * as tf from '@tensorflow/tfjs';

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

const FOLDABLE = new Set(['Conv2D', 'Dense']);

export async function foldBatchNorm(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = model.toJSON(null, false) as unknown as { class_name: string; config: { layers: LayerJson[] } };
  if (topology.class_name !== 'Sequential') throw new Error('only a sequential model can be folded');
  const specs = topology.config.layers;
  const layers: LayerJson[] = [];
  const weights: tf.Tensor[] = [];
  const made: tf.Tensor[] = [];
  for (let i = 0; i < model.layers.length; i++) {
    const layer = model.layers[i]!;
    const spec = specs[i]!;
    const norm = model.layers[i + 1];
    if (!FOLDABLE.has(spec.class_name) || norm?.getClassName() !== 'BatchNormalization') {
      layers.push(spec);
      weights.push(...layer.getWeights());
      continue;
    }
    if (spec.config.activation !== 'linear') {
      throw new Error(`${layer.name}: a layer followed by batch normalisation must have no activation`);
    }
    const [kernel, bias] = layer.getWeights() as [tf.Tensor, tf.Tensor | undefined];
    const [gamma, beta, mean, variance] = norm.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const epsilon = norm.getConfig().epsilon as number;
    const [foldedKernel, foldedBias] = tf.tidy(() => {
      const scale = gamma.div(variance.add(epsilon).sqrt());
      const shift = (bias ?? tf.zerosLike(mean)).sub(mean).mul(scale).add(beta);
      return [kernel.mul(scale), shift];
    });
    // An Activation layer after the normalisation becomes the folded layer's own.
    const after = specs[i + 2];
    const activation = after?.class_name === 'Activation' ? after.config.activation : 'linear';
    layers.push({ ...spec, config: { ...spec.config, use_bias: true, activation } });
    weights.push(foldedKernel!, foldedBias!);
    made.push(foldedKernel!, foldedBias!);
    i += activation === 'linear' ? 1 : 2;
  }
  const folded = await tf.models.modelFromJSON({
    modelTopology: { ...topology, config: { ...topology.config, layers } },
  } as unknown as tf.io.ModelJSON);
  folded.setWeights(weights);
  tf.dispose(made);
  return folded;
}
