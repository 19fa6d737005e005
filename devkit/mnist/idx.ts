/**
 * Reader for the IDX format the official MNIST files use (http://yann.lecun.com/exdb/mnist/):
 * a big-endian header of magic (0x0000, element type, rank), one uint32 per dimension, then the
 * elements. Only unsigned bytes (type 0x08) occur in MNIST, so only they are accepted.
 */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

export function parseIdx(buffer: Uint8Array): IdxArray {
  if (buffer.length < 4) throw new Error('IDX file too short for its header');
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (view.getUint16(0) !== 0) throw new Error('not an IDX file: magic does not start with 0x0000');
  const type = view.getUint8(2);
  if (type !== UNSIGNED_BYTE) throw new Error(`IDX element type 0x${type.toString(16)} is not supported`);
  const rank = view.getUint8(3);
  const headerBytes = 4 + 4 * rank;
  if (buffer.length < headerBytes) throw new Error('IDX file too short for its dimensions');
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = shape.reduce((a, b) => a * b, 1);
  if (buffer.length !== headerBytes + count) {
    throw new Error(`IDX body holds ${buffer.length - headerBytes} bytes, shape [${shape}] needs ${count}`);
  }
  return { shape, data: buffer.subarray(headerBytes) };
}
