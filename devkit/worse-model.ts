/**
 * A deliberately worse model for the rollout's tests: v1 with its last layer's kernel and bias
 * scaled by `factor` (below 1). Its answers are v1's (the same argmax, so it passes the known-digit
 * check), its probabilities far flatter: a model that has lost its confidence (0.15: a mean
 * confidence of about 0.53 on MNIST's test digits, against v1's 0.99).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_MODELS_DIR } from '../service/src/index.ts';

export function writeLessConfidentModel(dir: string, factor = 0.15): void {
  cpSync(join(SHIPPED_MODELS_DIR, 'v1'), dir, { recursive: true });
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    weightsManifest: { weights: { shape: number[] }[] }[];
  };
  const sizes = model.weightsManifest[0]!.weights.map((w) => w.shape.reduce((a, b) => a * b, 1));
  const bytes = readFileSync(join(dir, 'weights.bin'));
  const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const lastLayer = sizes.at(-2)! + sizes.at(-1)!;
  for (let i = weights.length - lastLayer; i < weights.length; i++) weights[i]! *= factor;
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(weights.buffer));
}
