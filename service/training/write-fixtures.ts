/**
 * `npm run fixtures [-- --count N --out DIR --offset K]`
 * Writes N real MNIST test digits as 28x28 grayscale PNGs named `<index>_<label>.png`, the images
 * the service tests and the load scripts send. Deterministic: the same N gives the same files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeGreyPng } from '../src/imaging/encode.ts';
import { MNIST_SIDE } from '../src/imaging/mnist-input.ts';
import { imageAt, loadMnist } from './mnist-dataset.ts';

export async function writeDigitFixtures(dir: string, count: number, offset = 0): Promise<string[]> {
  const test = loadMnist('test');
  if (offset + count > test.count) throw new Error(`only ${test.count} test digits exist`);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = offset; i < offset + count; i++) {
    const file = join(dir, `${i}_${test.labels[i]}.png`);
    await writeFile(file, await encodeGreyPng(imageAt(test, i), MNIST_SIDE, MNIST_SIDE));
    files.push(file);
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '100' },
      out: { type: 'string', default: 'fixtures/digits' },
      offset: { type: 'string', default: '0' },
    },
  });
  const count = Number(values.count);
  const offset = Number(values.offset);
  if (!Number.isInteger(count) || count <= 0) throw new Error(`--count must be a positive integer`);
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`--offset must be a non-negative integer`);
  const files = await writeDigitFixtures(resolve(values.out), count, offset);
  console.log(`wrote ${files.length} digits to ${resolve(values.out)}`);
}
