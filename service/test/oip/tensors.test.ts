/**
 * readInferRequest over the space of valid requests (every accepted shape, UINT8 and FP32, flat and
 * nested data, any input name) and of broken ones (every refusal a TensorError with a message).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readInferRequest, TensorError } from '../../src/oip/tensors.ts';

const SHAPES = [[28, 28], [784], [1, 28, 28], [28, 28, 1]];

/** Nests a flat list into `shape`. */
function nest(flat: number[], shape: number[]): unknown {
  if (shape.length === 1) return flat;
  const size = flat.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), shape.slice(1)));
}

const request = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    rest: fc.constantFrom(...SHAPES),
    datatype: fc.constantFrom('UINT8', 'FP32'),
    nested: fc.boolean(),
    name: fc.string(),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ n, rest, datatype, nested, name, seed }) => {
    const shape = [n, ...rest];
    const flat = Array.from({ length: n * 784 }, (_, i) => ((i * 31 + seed) % 256) * (datatype === 'FP32' ? 0.5 : 1));
    return { shape, flat, body: { inputs: [{ name, shape, datatype, data: nested ? nest(flat, shape) : flat }] } };
  });

describe('readInferRequest', () => {
  it('reads every accepted shape, datatype and layout to the same rows', () => {
    fc.assert(
      fc.property(request, ({ shape, flat, body }) => {
        const read = readInferRequest(body, 64);
        assert.equal(read.rows.kind, 'pixels');
        if (read.rows.kind !== 'pixels') return;
        assert.equal(read.rows.rows.length, shape[0]);
        read.rows.rows.forEach((row, r) => assert.deepEqual(Array.from(row), flat.slice(r * 784, (r + 1) * 784)));
        assert.deepEqual(read.outputs, ['probabilities', 'digit']);
      }),
    );
  });

  it('reads FP32 rows within 0..1 on the 0..255 scale, as /predict does', () => {
    const data = Array.from({ length: 784 }, (_, i) => (i % 2) * 0.5);
    const read = readInferRequest({ inputs: [{ name: 'input-0', shape: [1, 28, 28], datatype: 'FP32', data }] }, 1);
    assert.equal(read.rows.kind === 'pixels' && read.rows.rows[0]![1], 127.5);
  });

  it('refuses every broken tensor with a TensorError, never anything else', () => {
    const broken = fc.oneof(
      request.map(({ body }) => ({ ...body, inputs: [{ ...body.inputs[0]!, datatype: 'INT64' }] })),
      request.map(({ body, shape }) => ({ inputs: [{ ...body.inputs[0]!, shape: [shape[0]!, 27, 28] }] })),
      request.map(({ body, flat }) => ({ inputs: [{ ...body.inputs[0]!, data: flat.slice(1) }] })),
      request.map(({ body, flat }) => ({ inputs: [{ ...body.inputs[0]!, data: [...flat.slice(1), 256] }] })),
      request.map(({ body, flat }) => ({ inputs: [{ ...body.inputs[0]!, data: [-1, ...flat.slice(1)] }] })),
      request.map(({ body }) => ({ ...body, outputs: [{ name: 'logits' }] })),
      request.map(({ body }) => ({ ...body, id: 7 })),
      fc.constantFrom(null, [], 'x', 1, {}, { inputs: [] }, { inputs: [1] }, { inputs: [{}, {}] }),
    );
    fc.assert(
      fc.property(broken, (body) => {
        assert.throws(
          () => readInferRequest(body, 64),
          (err) => err instanceof TensorError && err.message.length > 0,
        );
      }),
    );
  });

  it('caps the rows of one request', () => {
    const data = new Array(3 * 784).fill(0);
    assert.throws(
      () => readInferRequest({ inputs: [{ name: 'x', shape: [3, 784], datatype: 'UINT8', data }] }, 2),
      /at most 2 digits/,
    );
  });

  it('takes a BYTES tensor of base64 pictures, echoes the id and keeps the outputs asked for', () => {
    const png = Buffer.from('89504e47', 'hex').toString('base64');
    const read = readInferRequest(
      { id: 'r1', inputs: [{ name: 'b', shape: [1], datatype: 'BYTES', data: [png] }], outputs: [{ name: 'digit' }] },
      4,
    );
    assert.equal(read.id, 'r1');
    assert.deepEqual(read.outputs, ['digit']);
    assert.equal(read.rows.kind === 'images' && read.rows.images[0]!.toString('hex'), '89504e47');
  });
});
