/** Shared test fixtures: an in-process replica on ephemeral ports and real MNIST digits as files. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { rawPng } from './raw-png.ts';
export { sample } from './prometheus-text.ts';
import { parseConfig, startReplica, type Replica } from '../service/src/index.ts';
import { encodeGrey, type EncodableMime } from './encode.ts';
import { imageAt, loadMnist, type MnistSplit } from './mnist/dataset.ts';

export async function startTestReplica(
  env: Record<string, string> = {},
): Promise<Replica & { url: string; metricsUrl: string }> {
  const config = parseConfig({ PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', REPLICA: 'test-replica', ...env });
  const replica = await startReplica(config, pino({ level: 'silent' }));
  return {
    ...replica,
    url: `http://127.0.0.1:${replica.apiPort}`,
    metricsUrl: `http://127.0.0.1:${replica.metricsPort}/metrics`,
  };
}

let testSet: MnistSplit | undefined;
export function mnistTest(): MnistSplit {
  testSet ??= loadMnist('test');
  return testSet;
}

export interface Digit {
  index: number;
  label: number;
  pixels: Uint8Array;
}

/** `count` test digits from `offset`, every `stride`-th (a stride spreads a sample over the set). */
export function digits(count: number, offset = 0, stride = 1): Digit[] {
  const test = mnistTest();
  return Array.from({ length: count }, (_, i) => {
    const index = (offset + i * stride) % test.count;
    return { index, label: test.labels[index]!, pixels: imageAt(test, index) };
  });
}

export function encodeDigit(pixels: ArrayLike<number>, mime: EncodableMime = 'image/png', side = 28): Promise<Buffer> {
  return encodeGrey(pixels, side, side, mime);
}

/** The same digit as a 16-bit greyscale PNG and as a palette PNG, which encoders rarely produce. */
export function unusualPngs(pixels: Uint8Array): { sixteenBit: Buffer; palette: Buffer } {
  const rows16 = new Uint8Array(28 * (1 + 56));
  const rowsPal = new Uint8Array(28 * 29);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = pixels[y * 28 + x]!;
      rows16[y * 57 + 1 + 2 * x] = v;
      rows16[y * 57 + 2 + 2 * x] = v;
      rowsPal[y * 29 + 1 + x] = v;
    }
  }
  const palette = Uint8Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3));
  return {
    sixteenBit: rawPng({ width: 28, height: 28, bitDepth: 16, colorType: 0, rows: rows16 }),
    palette: rawPng({ width: 28, height: 28, bitDepth: 8, colorType: 3, rows: rowsPal, palette }),
  };
}

/** Sends a multipart upload the way `curl -F file=@digit.png` does. */
export function multipart(bytes: Buffer, type = 'image/png', field = 'file', filename = 'digit.png'): FormData {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(bytes)], { type }), filename);
  return form;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function mapConcurrent<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}

/** The last line of a command's output, parsed as JSON (the load script's --json summary). */
export function lastJsonLine<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/** A short, quiet load-script run that ends with its JSON summary. */
export const SMOKE_LOAD_ARGS = ['--requests', '60', '--digits', '30', '--quiet', '--json'];

/** Whether a program is on the PATH. */
export const installed = (program: string): boolean => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

/** True when a tool a test needs is there; else skips the test, or fails it in CI (which installs it). */
export function requireTool(present: boolean, what: string, t: { skip: (why: string) => void }): boolean {
  if (present) return true;
  assert.ok(!process.env.CI, `${what} is missing in CI`);
  t.skip(`${what} not installed`);
  return false;
}
