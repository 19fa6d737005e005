/** Static figures of a layers model for its model card. */
import type * as tf from '@tensorflow/tfjs';

export interface LayerSummary {
  name: string;
  type: string;
  outputShape: (number | null)[];
  parameters: number;
}

export function summarizeLayers(model: tf.LayersModel): LayerSummary[] {
  return model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: layer.outputShape as (number | null)[],
    parameters: layer.countParams(),
  }));
}

/**
 * Floating-point operations of one forward pass for one image, counting a multiply-add as two:
 * convolutions and dense layers, which are nearly all of the work.
 */
export function flopsPerImage(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const kernel = layer.getWeights()[0];
    const out = layer.outputShape as number[];
    if (layer.getClassName() === 'Conv2D' && kernel) {
      const [fh, fw, ci, co] = kernel.shape as number[];
      flops += 2 * (out[1] as number) * (out[2] as number) * fh! * fw! * ci! * co!;
    } else if (layer.getClassName() === 'Dense' && kernel) {
      flops += 2 * (kernel.shape[0] as number) * (kernel.shape[1] as number);
    }
  }
  return flops;
}
