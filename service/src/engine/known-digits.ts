/**
 * Known digits (MNIST test images with their labels) that a model must classify before it serves:
 * a check that the weights are the model's and not noise, cheap enough for every load. The file
 * holds one record per digit, its label byte then its 784 pixel bytes (MNIST's own layout).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MNIST_PIXELS, scaleToUnit } from '../mnist.ts';
import type { Engine } from './engine.ts';

/** Shipped beside the models, relative to this file so it works from src and dist. */
export const KNOWN_DIGITS_FILE = fileURLToPath(new URL('../../models/known-digits.bin', import.meta.url));

export interface KnownDigits {
  inputs: Float32Array[];
  labels: number[];
}

const RECORD = 1 + MNIST_PIXELS;

export function encodeKnownDigits(digits: readonly { label: number; pixels: Uint8Array }[]): Buffer {
  const out = Buffer.alloc(digits.length * RECORD);
  digits.forEach((d, i) => {
    out[i * RECORD] = d.label;
    out.set(d.pixels, i * RECORD + 1);
  });
  return out;
}

export function readKnownDigits(file = KNOWN_DIGITS_FILE): KnownDigits {
  const bytes = readFileSync(file);
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new Error(`${file} is not a whole number of ${RECORD}-byte digit records`);
  }
  const digits: KnownDigits = { inputs: [], labels: [] };
  for (let at = 0; at < bytes.length; at += RECORD) {
    digits.labels.push(bytes[at]!);
    digits.inputs.push(scaleToUnit(bytes.subarray(at + 1, at + RECORD)));
  }
  return digits;
}

/** The share of `digits` the engine classifies right. */
export function checkOnKnownDigits(engine: Pick<Engine, 'predict'>, digits: KnownDigits): number {
  const answers = engine.predict(digits.inputs);
  return answers.filter((a, i) => a.digit === digits.labels[i]).length / digits.labels.length;
}
