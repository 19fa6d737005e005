/** Backend for training and evaluation: the service's choice, plus the wasm gradient kernels. */
import { BACKENDS, selectBackend, type BackendName } from '../service/src/index.ts';
import { registerWasmTrainingKernels } from './wasm-conv-gradients.ts';

export async function setupBackend(requested?: string): Promise<BackendName> {
  if (requested !== undefined && !BACKENDS.includes(requested as BackendName)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(', ')}, got "${requested}"`);
  }
  const backend = await selectBackend(requested ? [requested as BackendName] : BACKENDS);
  if (backend === 'wasm') registerWasmTrainingKernels();
  return backend;
}
