/**
 * `npm run fixtures [-- --count N --out DIR --offset K]`
 * Writes N real MNIST test digits as 28x28 greyscale PNGs named `<index>_<label>.png`, the images
 * the service tests and the load scripts send. Deterministic: the same N gives the same files.
 */
import { fail, parseCli } from '../../devkit/cli.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeGreyPng } from '../../devkit/encode.ts';
import { MNIST_SIDE } from '../../service/src/index.ts';
import { imageAt, loadMnist } from '../../devkit/mnist/dataset.ts';

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

const USAGE = `Usage: npm run fixtures [-- --count N --offset N --out DIR]

Writes N official MNIST test digits as 28x28 greyscale PNGs named <index>_<label>.png.

  --count N    how many (default 100)
  --offset N   the first test index (default 0)
  --out DIR    where (default fixtures/digits)
  --help       this text
`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const values = parseCli(USAGE, {
    count: { type: 'string', default: '100' },
    out: { type: 'string', default: 'fixtures/digits' },
    offset: { type: 'string', default: '0' },
  });
  const count = Number(values.count);
  const offset = Number(values.offset);
  if (!Number.isInteger(count) || count <= 0) fail(USAGE, `--count must be a positive integer, got "${values.count}"`);
  if (!Number.isInteger(offset) || offset < 0) fail(USAGE, `--offset must be a whole number, got "${values.offset}"`);
  const files = await writeDigitFixtures(resolve(values.out), count, offset);
  console.log(`wrote ${files.length} digits to ${resolve(values.out)}`);
}
