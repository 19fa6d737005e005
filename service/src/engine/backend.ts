/**
 * Picks the first tfjs backend that loads: the native TensorFlow binding (`@tensorflow/tfjs-node`,
 * only in an image built with TFJS_NODE=1, since its install downloads libtensorflow), else
 * WebAssembly (XNNPACK, ships inside its npm package, what the default image and every measurement
 * run), else plain JavaScript.
 */
import * as tf from '@tensorflow/tfjs-core';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** The package whose import registers each backend. */
const PACKAGES: Record<BackendName, string> = {
  // Stryker disable next-line StringLiteral: untestable here: tfjs-node is absent wherever the tests run (its install downloads libtensorflow)
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

function register(name: BackendName): Promise<boolean> {
  const registered = import(PACKAGES[name]).then(() => tf.setBackend(name));
  // Stryker disable next-line ArrowFunction: undefined is as falsy as false
  return registered.catch(() => false);
}

/** None of the backends asked for could be loaded: the choice of backend, not the model, is at fault. */
export class BackendError extends Error {}

/**
 * Activates the first backend of `candidates` that loads and returns its name.
 * Throws when none does, listing what was tried.
 */
export async function selectBackend(candidates: readonly BackendName[] = BACKENDS): Promise<BackendName> {
  for (const name of candidates) {
    if (await register(name)) {
      await tf.ready();
      return name;
    }
  }
  throw new BackendError(`no tfjs backend could be loaded (tried ${candidates.join(', ')})`);
}
