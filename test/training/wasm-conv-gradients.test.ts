import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { seededRandom } from '../../devkit/random.ts';
import { registerWasmTrainingKernels } from '../../training/wasm-conv-gradients.ts';

type Shape4 = [number, number, number, number];

async function gradients(
  backend: string,
  x: Float32Array,
  xShape: Shape4,
  w: Float32Array,
  wShape: Shape4,
  pad: 'valid' | 'same',
) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xShape);
    const wt = tf.tensor4d(w, wShape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf
        .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad)
        .square()
        .sum(),
    )([xt, wt]);
    return [dx!.dataSync(), dw!.dataSync()] as const;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('wasm convolution gradient kernels', () => {
  before(async () => {
    await tf.setBackend('wasm');
    registerWasmTrainingKernels();
  });

  for (const pad of ['valid', 'same'] as const) {
    for (const k of [1, 3, 4, 5]) {
      it(`match the cpu backend's gradients for ${k}x${k} filters with ${pad} padding`, async () => {
        const random = seededRandom(k * 10 + (pad === 'same' ? 1 : 0));
        const xShape: Shape4 = [3, 9, 8, 2];
        const wShape: Shape4 = [k, k, 2, 5];
        const x = Float32Array.from({ length: 3 * 9 * 8 * 2 }, () => random() - 0.5);
        const w = Float32Array.from({ length: k * k * 2 * 5 }, () => random() - 0.5);
        const [cpuDx, cpuDw] = await gradients('cpu', x, xShape, w, wShape, pad);
        const [wasmDx, wasmDw] = await gradients('wasm', x, xShape, w, wShape, pad);
        assert.ok(maxAbsDiff(cpuDw, wasmDw) < 1e-4, 'filter gradient differs');
        assert.ok(maxAbsDiff(cpuDx, wasmDx) < 1e-4, 'input gradient differs');
        assert.ok(Math.max(...cpuDw.map(Math.abs)) > 0.1, 'gradient is not trivially zero');
      });
    }
  }

  it('refuses strides it does not implement, naming the problem', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 8, 8, 1]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    assert.throws(
      () => tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 2, 'valid').sum())(w),
      /stride 1 only/,
    );
    tf.dispose([x, w]);
  });
});
