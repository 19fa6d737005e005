/**
 * The Open Inference Protocol's inference request (kserve/open-inference-protocol,
 * inference_rest.md) read into what this model takes: N digits as 28x28 intensities on the
 * 0..255 scale, or N encoded pictures (a BYTES tensor of base64 strings) for the image pipeline.
 * Pure: the parsed JSON in, rows out, or a TensorError whose message says what is wrong.
 */
import { MNIST_PIXELS, MNIST_SIDE } from '../mnist.ts';

export class TensorError extends Error {
  // Stryker disable next-line StringLiteral: the name shows only in a stack trace
  override name = 'TensorError';
}

/** The shapes a batch of N digits may take; N is the first axis. */
const DIGIT_SHAPES = [
  [MNIST_SIDE, MNIST_SIDE],
  [MNIST_PIXELS],
  [1, MNIST_SIDE, MNIST_SIDE],
  [MNIST_SIDE, MNIST_SIDE, 1],
] as const;

export const OUTPUTS = ['probabilities', 'digit'] as const;
export type OutputName = (typeof OUTPUTS)[number];

export type Rows =
  { kind: 'pixels'; rows: Float32Array<ArrayBuffer>[]; normalise: boolean } | { kind: 'images'; images: Buffer[] };

export interface InferRequest {
  id?: string;
  rows: Rows;
  outputs: OutputName[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `data` as a flat list: already flat, or nested exactly as `shape` says. */
function flatten(data: unknown[], shape: number[]): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (value: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(value)) throw new TensorError(`data${at} is nested deeper than the shape [${shape.join(',')}]`);
      out.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      throw new TensorError(`data${at} must be an array of ${shape[depth]} (the shape is [${shape.join(',')}])`);
    }
    for (let i = 0; i < value.length; i++) walk(value[i], depth + 1, `${at}[${i}]`);
  };
  walk(data, 0, '');
  return out;
}

function digitRows(values: unknown[], datatype: string, rows: number): Float32Array<ArrayBuffer>[] {
  const out: Float32Array<ArrayBuffer>[] = [];
  for (let r = 0; r < rows; r++) {
    const row = new Float32Array(MNIST_PIXELS);
    let max = 0;
    for (let i = 0; i < MNIST_PIXELS; i++) {
      const v = values[r * MNIST_PIXELS + i];
      const valid =
        typeof v === 'number' &&
        v >= 0 &&
        v <= 255 &&
        // Stryker disable next-line ConditionalExpression: a UINT8 tensor holds integers only
        (datatype !== 'UINT8' || Number.isInteger(v));
      if (!valid) {
        const what = datatype === 'UINT8' ? 'an integer from 0 to 255' : 'a number from 0 to 255 (or 0 to 1)';
        throw new TensorError(`element ${r * MNIST_PIXELS + i} must be ${what}, got ${JSON.stringify(v)}`);
      }
      row[i] = v;
      if (v > max) max = v;
    }
    // FP32 rows within 0..1 are the model's own scale (as /predict's JSON reads them).
    if (datatype === 'FP32' && max <= 1) for (let i = 0; i < MNIST_PIXELS; i++) row[i] = row[i]! * 255;
    out.push(row);
  }
  return out;
}

/** The request body (parsed JSON) as rows, refusing anything this model cannot take; at most `maxRows`. */
export function readInferRequest(body: unknown, maxRows: number): InferRequest {
  if (!isObject(body)) throw new TensorError('the body must be a JSON object with "inputs"');
  const { id, inputs, outputs, parameters } = body;
  if (id !== undefined && typeof id !== 'string') throw new TensorError('"id" must be a string');
  if (!Array.isArray(inputs) || inputs.length !== 1) {
    throw new TensorError('"inputs" must hold exactly one tensor: the digits (this model has one input)');
  }
  const input: unknown = inputs[0];
  if (!isObject(input)) throw new TensorError('the input must be an object with name, shape, datatype and data');
  const { name, shape, datatype, data } = input;
  if (typeof name !== 'string') throw new TensorError('the input needs a "name" (any)');
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TensorError('the input "shape" must be a list of whole numbers');
  }
  const dims = shape as number[];
  const rows = dims[0]!;
  if (rows < 1) throw new TensorError('the input holds no digit (its first dimension is 0)');
  if (rows > maxRows) throw new TensorError(`at most ${maxRows} digits per request (MAX_INFER_ROWS), got ${rows}`);
  if (!Array.isArray(data)) throw new TensorError('the input "data" must be an array');
  const options = {
    ...(isObject(parameters) ? parameters : {}),
    ...(isObject(input.parameters) ? input.parameters : {}),
  };
  const normalise = options.normalise ?? false;
  if (typeof normalise !== 'boolean') throw new TensorError('the parameter "normalise" must be true or false');
  const wanted = readOutputs(outputs);

  if (datatype === 'BYTES') {
    if (!(dims.length === 1 || (dims.length === 2 && dims[1] === 1))) {
      throw new TensorError(`a BYTES input of pictures has shape [N] or [N,1], got [${dims.join(',')}]`);
    }
    const values = flatten(data, dims);
    if (values.length !== rows) throw new TensorError(`the shape says ${rows} pictures, "data" holds ${values.length}`);
    const images = values.map((v, i) => {
      if (typeof v !== 'string' || v.length === 0) throw new TensorError(`picture ${i} must be a base64 string`);
      const bytes = Buffer.from(v, 'base64');
      if (bytes.length === 0) throw new TensorError(`picture ${i} is not base64`);
      return bytes;
    });
    return { ...(id === undefined ? {} : { id }), rows: { kind: 'images', images }, outputs: wanted };
  }
  if (datatype !== 'UINT8' && datatype !== 'FP32') {
    throw new TensorError(`datatype must be UINT8, FP32 or BYTES (encoded pictures), got ${JSON.stringify(datatype)}`);
  }
  const rest = dims.slice(1);
  if (!DIGIT_SHAPES.some((s) => s.length === rest.length && s.every((d, i) => d === rest[i]))) {
    throw new TensorError(
      `a digit tensor has shape [N,28,28], [N,784], [N,1,28,28] or [N,28,28,1], got [${dims.join(',')}]`,
    );
  }
  const values = flatten(data, dims);
  if (values.length !== rows * MNIST_PIXELS) {
    throw new TensorError(
      `the shape [${dims.join(',')}] holds ${rows * MNIST_PIXELS} elements, "data" holds ${values.length}`,
    );
  }
  return {
    ...(id === undefined ? {} : { id }),
    rows: { kind: 'pixels', rows: digitRows(values, datatype, rows), normalise },
    outputs: wanted,
  };
}

function readOutputs(outputs: unknown): OutputName[] {
  if (outputs === undefined) return [...OUTPUTS];
  if (!Array.isArray(outputs) || outputs.length === 0) throw new TensorError('"outputs" must be a non-empty list');
  return outputs.map((o) => {
    const name = isObject(o) ? o.name : undefined;
    if (!OUTPUTS.includes(name as OutputName)) {
      throw new TensorError(`unknown output ${JSON.stringify(name)}: this model has ${OUTPUTS.join(' and ')}`);
    }
    return name as OutputName;
  });
}
