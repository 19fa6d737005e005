/**
 * What the load generator sends: real MNIST test digits in the three accepted input forms, and
 * bad requests of the kinds hostile or careless clients send.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeGreyPng } from '../encode.ts';
import { MNIST_SIDE } from '../../service/src/index.ts';
import { imageAt, loadMnist } from '../mnist/dataset.ts';
import { pngBomb } from '../raw-png.ts';

export type InputForm = 'multipart' | 'raw' | 'json';
export const INPUT_FORMS: readonly InputForm[] = ['multipart', 'raw', 'json'];
export type BadKind = 'undecodable' | 'oversized' | 'wrong-type';
export const BAD_KINDS: readonly BadKind[] = ['undecodable', 'oversized', 'wrong-type'];

export interface EncodedDigit {
  label: number;
  png: Buffer;
  pixels: number[];
}

export interface LoadRequest {
  body: Buffer | string;
  headers: Record<string, string>;
}

/** The first `count` MNIST test digits as PNG, as `npm run fixtures` writes them. */
export async function mnistDigits(count: number): Promise<EncodedDigit[]> {
  const test = loadMnist('test');
  return Promise.all(
    Array.from({ length: Math.min(count, test.count) }, async (_, i) => {
      const pixels = imageAt(test, i);
      return { label: test.labels[i]!, png: await encodeGreyPng(pixels, MNIST_SIDE, MNIST_SIDE), pixels: [...pixels] };
    }),
  );
}

/** Digits from a folder of `<index>_<label>.png` files (the fixture script's output). */
export function fixtureDigits(dir: string): EncodedDigit[] {
  const files = readdirSync(dir).filter((f) => /^\d+_\d\.png$/.test(f));
  if (files.length === 0) throw new Error(`${dir} holds no <index>_<label>.png files (npm run fixtures writes them)`);
  return files
    .sort((a, b) => parseInt(a) - parseInt(b))
    .map((f) => ({
      label: Number(f.slice(-5, -4)),
      png: readFileSync(join(dir, f)),
      pixels: [],
    }));
}

const BOUNDARY = 'mnist-load-boundary';

export function goodPayload(digit: EncodedDigit, form: InputForm): LoadRequest {
  if (form === 'raw') return { body: digit.png, headers: { 'content-type': 'image/png' } };
  if (form === 'json') {
    if (digit.pixels.length === 0) throw new Error('JSON pixels need digits from the MNIST set, not PNG fixtures');
    return { body: JSON.stringify({ pixels: digit.pixels }), headers: { 'content-type': 'application/json' } };
  }
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="digit.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return {
    body: Buffer.concat([head, digit.png, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
  };
}

/** A request each replica must refuse: 422 (undecodable), 413 (a 20000x20000 PNG), 415. */
export function badPayload(kind: BadKind): LoadRequest {
  if (kind === 'undecodable')
    return { body: Buffer.from('this is not an image'), headers: { 'content-type': 'image/png' } };
  if (kind === 'oversized') return { body: pngBomb(), headers: { 'content-type': 'image/png' } };
  return { body: 'digit: 7', headers: { 'content-type': 'text/plain' } };
}

export type TensorForm = 'UINT8' | 'FP32' | 'BYTES';

/**
 * An Open Inference Protocol request for `batch`, as its clients send one: UINT8 pixels flat, FP32
 * pixels scaled to 0..1 and nested [N,28,28] (tritonclient and TorchServe's MNIST example), or each
 * digit as a base64 PNG in a BYTES tensor.
 */
export function inferPayload(batch: readonly EncodedDigit[], form: TensorForm): LoadRequest {
  const n = batch.length;
  const input =
    form === 'BYTES'
      ? { name: 'image', shape: [n], datatype: form, data: batch.map((d) => d.png.toString('base64')) }
      : form === 'UINT8'
        ? { name: 'input', shape: [n, MNIST_SIDE, MNIST_SIDE], datatype: form, data: batch.flatMap((d) => d.pixels) }
        : {
            name: 'input-0',
            shape: [n, MNIST_SIDE, MNIST_SIDE],
            datatype: form,
            data: batch.map((d) =>
              Array.from({ length: MNIST_SIDE }, (_, y) =>
                d.pixels.slice(y * MNIST_SIDE, (y + 1) * MNIST_SIDE).map((v) => Number((v / 255).toFixed(4))),
              ),
            ),
          };
  return { body: JSON.stringify({ inputs: [input] }), headers: { 'content-type': 'application/json' } };
}
