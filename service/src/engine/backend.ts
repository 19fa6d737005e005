/**
 * Picks the first tfjs backend that loads: the native TensorFlow binding (`@tensorflow/tfjs-node`,
 * only in an image built with TFJS_NODE=1, since its install downloads libtensorflow), else
 * WebAssembly (XNNPACK, ships inside its npm package, what the default image and every measurement
 * run), else plain JavaScript.
 */
import * as tf from '@tensorflow/tfjs-core';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

async function register(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') await import('@tensorflow/tfjs-node' as string);
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

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
  throw new Error(`no tfjs backend could be loaded (tried ${candidates.join(', ')})`);
}
