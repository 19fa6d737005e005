/** The known digits a model must classify before it serves: MNIST test digits, as shipped. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { encodeKnownDigits, KNOWN_DIGITS_FILE, readKnownDigits } from '../../src/engine/known-digits.ts';
import { MNIST_PIXELS } from '../../src/mnist.ts';
import { digits } from '../../../devkit/testing.ts';

/** 100 digits spread over MNIST's test set; UPDATE_KNOWN_DIGITS=1 writes them. */
const expected = () => encodeKnownDigits(digits(100, 7, 100));

it('ships 100 MNIST test digits with their labels, each class present', () => {
  if (process.env.UPDATE_KNOWN_DIGITS === '1') writeFileSync(KNOWN_DIGITS_FILE, expected());
  assert.deepEqual(readFileSync(KNOWN_DIGITS_FILE), expected());
  const known = readKnownDigits();
  assert.equal(known.labels.length, 100);
  assert.deepEqual(new Set(known.labels).size, 10);
  assert.ok(known.inputs.every((x) => x.length === MNIST_PIXELS && x.every((v) => v >= 0 && v <= 1)));
});

it('refuses a file that is not whole records', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'known-digits-')), 'partial.bin');
  writeFileSync(file, Buffer.alloc(1000));
  assert.throws(() => readKnownDigits(file), /785-byte/);
  rmSync(file);
});
