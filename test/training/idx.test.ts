import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIdx } from '../../devkit/mnist/idx.ts';
import { loadMnist } from '../../devkit/mnist/dataset.ts';

describe('IDX parsing', () => {
  it('reads the shape and bytes of a well-formed file', () => {
    const file = Uint8Array.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const idx = parseIdx(file);
    assert.deepEqual(idx.shape, [2, 3]);
    assert.deepEqual([...idx.data], [1, 2, 3, 4, 5, 6]);
  });

  it('rejects a wrong magic, a non-byte type and a truncated body', () => {
    assert.throws(() => parseIdx(Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 0])), /magic/);
    assert.throws(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0])), /type 0xd/);
    assert.throws(() => parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 4, 0])), /needs 4/);
  });

  it('loads the official MNIST test split: 10,000 28x28 images with labels 0-9', () => {
    const test = loadMnist('test');
    assert.equal(test.count, 10_000);
    assert.equal(test.images.length, 10_000 * 784);
    assert.deepEqual([...new Set(test.labels)].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.match(test.sha256.images, /^[0-9a-f]{64}$/);
  });
});
