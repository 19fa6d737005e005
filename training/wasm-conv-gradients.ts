/**
 * Convolution gradients for the tfjs `wasm` backend, computed by its fast forward `Conv2D`
 * (XNNPACK). The backend has no `Conv2DBackpropFilter` at all, so a CNN cannot train on it, and
 * its `Conv2DBackpropInput` is a plain loop about eight times slower than the forward pass.
 * Both gradients of a stride-1 convolution are themselves convolutions:
 *
 *   dW[a,b,c,o] = sum_{n,i,j} x[n, i+a-top, j+b-left, c] * dy[n,i,j,o]
 *               = conv2d(x as [c,H,W,n], dy as [h,w,n,o])[c,a,b,o]   (batch <-> channels swapped)
 *   dx[n,y,x,c] = sum_{a,b,o} dy[n, y-a+top, x-b+left, o] * W[a,b,c,o]
 *               = conv2d(dy, W flipped in space as [fh,fw,o,c]) with the complementary padding
 *
 * Stride 1, dilation 1 and channels-last only; anything else is refused with an error naming it.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];

interface ConvGradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

/** The part of the wasm backend the composed kernels need: freeing their intermediates. */
interface Backend {
  disposeData(dataId: object): boolean;
}

/** Runs wasm kernels by name and frees intermediates, like the backend's own composite kernels. */
class KernelRunner {
  private readonly temporaries: TensorInfo[] = [];
  constructor(private readonly backend: Backend) {}

  run(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap, keep = false): TensorInfo {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`wasm backend has no ${name} kernel to build on`);
    const out = config.kernelFunc({ inputs, backend: this.backend as object, attrs }) as TensorInfo;
    if (!keep) this.temporaries.push(out);
    return out;
  }

  dispose(): void {
    for (const t of this.temporaries) this.backend.disposeData(t.dataId);
  }
}

function checkSupported(kernel: string, attrs: ConvGradAttrs): void {
  const pair = (v: number | [number, number] | undefined) =>
    v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;
  const [sh, sw] = pair(attrs.strides);
  const [dh, dw] = pair(attrs.dilations);
  if (sh !== 1 || sw !== 1) throw new Error(`${kernel} on wasm supports stride 1 only, got [${sh}, ${sw}]`);
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel} on wasm supports dilation 1 only, got [${dh}, ${dw}]`);
  if (attrs.dataFormat !== 'NHWC') throw new Error(`${kernel} on wasm supports NHWC only, got ${attrs.dataFormat}`);
}

function convAttrs(top: number, bottom: number, left: number, right: number): NamedAttrMap {
  return {
    strides: [1, 1],
    dilations: [1, 1],
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dataFormat: 'NHWC',
  };
}

const backpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as ConvGradAttrs & { filterShape: Shape4 };
  checkSupported('Conv2DBackpropFilter', a);
  const { top, bottom, left, right } = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    a.filterShape,
    1,
    1,
    a.pad,
    a.dimRoundingMode,
  ).padInfo;
  const k = new KernelRunner(backend as Backend);
  try {
    const xT = k.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
    const dyT = k.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const gradT = k.run('Conv2D', { x: xT, filter: dyT }, convAttrs(top, bottom, left, right));
    return k.run('Transpose', { x: gradT }, { perm: [1, 2, 0, 3] }, true);
  } finally {
    k.dispose();
  }
};

const backpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as ConvGradAttrs & { inputShape: Shape4 };
  checkSupported('Conv2DBackpropInput', a);
  const [fh, fw] = filter.shape as Shape4;
  const { top, bottom, left, right } = tf.backend_util.computeConv2DInfo(
    a.inputShape,
    filter.shape as Shape4,
    1,
    1,
    a.pad,
    a.dimRoundingMode,
  ).padInfo;
  const k = new KernelRunner(backend as Backend);
  try {
    const flipped = k.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = k.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
    return k.run(
      'Conv2D',
      { x: dy, filter: swapped },
      convAttrs(fh - 1 - top, fh - 1 - bottom, fw - 1 - left, fw - 1 - right),
      true,
    );
  } finally {
    k.dispose();
  }
};

export const wasmConvGradientKernels: KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: backpropFilter },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: backpropInput },
];

/** Installs the kernels above on the wasm backend (replacing its slow BackpropInput); idempotent. */
export function registerWasmTrainingKernels(): void {
  for (const config of wasmConvGradientKernels) {
    if (tf.getKernel(config.kernelName, 'wasm')?.kernelFunc === config.kernelFunc) continue;
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
