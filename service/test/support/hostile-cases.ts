/**
 * The hostile-input case table: every kind of broken or malicious upload, each with the status and
 * error code it must get (or the digit, for odd but valid pictures). The suite that sends them is
 * reliability/hostile.test.ts.
 */
import { pngBomb } from '../../../devkit/raw-png.ts';
import { encodeVariant, mediaTypeOf, ONE_PER_FORMAT, plainDrawing } from '../../../devkit/image-variants.ts';
import { digits, encodeDigit, multipart, unusualPngs } from '../../../devkit/testing.ts';
import { declaring, jpegWithSecondFrame, MAX_DECLARABLE_SIDE, tiffWithSecondPage } from './hostile-files.ts';
import { rawExchange } from './raw-http.ts';

export const MiB = 1024 * 1024;
/**
 * 64 KiB per millisecond (about 64 MB/s, a fast network) for the 50 MB uploads: on loopback an
 * unpaced upload can be written whole before the client has had a turn to read the early answer.
 */
const UPLOAD_PACE_MS = 1;
/** Short, so that the slow-loris cases end quickly; the default is 30 s. */
export const REQUEST_TIMEOUT_MS = 2000;

interface Outcome {
  status: number;
  contentType: string;
  body: unknown;
  /** For uploads: request bytes written before the answer came. */
  sentBeforeAnswer?: number;
}

export interface HostileCase {
  name: string;
  send: (url: string) => Promise<Outcome>;
  status: number;
  /** The JSON error code expected; absent when the answer must be the digit. */
  code?: string;
  /** An upload the service must refuse before reading it whole. */
  refusedEarly?: boolean;
}

const [probe] = digits(1, 4242);
/** The digit every case that carries one draws. */
export const digit = probe!;

async function viaFetch(url: string, init: RequestInit): Promise<Outcome> {
  const res = await fetch(`${url}/predict`, { method: 'POST', ...init });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: parseJson(text) };
}

const post = (type: string, body: Uint8Array | string) => (url: string) =>
  viaFetch(url, { headers: { 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });

const postForm = (form: () => FormData) => (url: string) => viaFetch(url, { body: form() });

async function viaSocket(url: string, parts: Iterable<Buffer | string>, gapMs = 0): Promise<Outcome> {
  const answer = await rawExchange(url, parts, gapMs);
  return {
    status: answer.status,
    contentType: answer.headers['content-type'] ?? '',
    body: parseJson(answer.body),
    sentBeforeAnswer: answer.sentBeforeAnswer,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `total` bytes in 64 KiB chunks, generated as they are sent (never held whole). */
function* bytes(total: number, fill = 0x41): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, fill);
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, total - sent));
}

/** The same, in HTTP chunked encoding, after an optional preamble. */
function* chunked(total: number, preamble = ''): Generator<Buffer> {
  const encode = (chunk: Buffer) =>
    Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  if (preamble) yield encode(Buffer.from(preamble, 'latin1'));
  for (const chunk of bytes(total)) yield encode(chunk);
  yield Buffer.from('0\r\n\r\n');
}

const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

/** A paced 50 MB POST /predict: with its Content-Length, or chunked after an optional preamble. */
function upload50MB(type: string, framing: { chunked: boolean; preamble?: string }) {
  const size = 50 * MiB;
  return (url: string) =>
    viaSocket(
      url,
      [
        head([
          'POST /predict HTTP/1.1',
          'Host: x',
          `Content-Type: ${type}`,
          framing.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`,
        ]),
        ...(framing.chunked ? chunked(size, framing.preamble) : bytes(size)),
      ],
      UPLOAD_PACE_MS,
    );
}

function formWith(files: number): () => FormData {
  return () => {
    const form = new FormData();
    for (let i = 0; i < files; i++)
      form.append(`f${i}`, new Blob([new Uint8Array(16)], { type: 'image/png' }), `f${i}.png`);
    return form;
  };
}

function textFields(): FormData {
  const form = new FormData();
  form.append('file', 'digit.png');
  form.append('image', 'seven');
  return form;
}

/** For every format the valid-picture variants cover, a 28x28 picture whose header declares a canvas far past the cap. */
async function headerBombs(): Promise<HostileCase[]> {
  const pictures = Object.fromEntries(
    await Promise.all(
      ONE_PER_FORMAT.map(async (v) => [mediaTypeOf(v), await encodeVariant(v, plainDrawing(digit.pixels))] as const),
    ),
  );
  return Object.entries(pictures).map(([type, bytes]) => {
    const side = Math.min(MAX_DECLARABLE_SIDE[type]!, 65000);
    return {
      name: `a 28x28 ${type} declaring ${side}x${side} pixels`,
      send: post(type, declaring(bytes, type, side, side)),
      status: 413,
      code: 'image_too_large',
    };
  });
}

export async function buildCases(): Promise<HostileCase[]> {
  const png = await encodeDigit(digit.pixels);
  const jpeg = await encodeDigit(digit.pixels, 'image/jpeg');
  const tiff = await encodeDigit(digit.pixels, 'image/tiff');
  const { sixteenBit, palette } = unusualPngs(digit.pixels);
  const boundary = 'xYzZy';
  const part = (b: string) =>
    `--${b}\r\nContent-Disposition: form-data; name="file"; filename="d.png"\r\nContent-Type: image/png\r\n\r\n`;
  const zeros = (n: number) => `[${new Array(n).fill(0).join(',')}]`;
  return [
    { name: 'zero bytes as image/png', send: post('image/png', new Uint8Array()), status: 400, code: 'empty_file' },
    {
      name: 'a zero-byte multipart file',
      send: postForm(() => multipart(Buffer.alloc(0))),
      status: 400,
      code: 'empty_file',
    },
    {
      name: 'text named digit.png',
      send: postForm(() => multipart(Buffer.from('this is not a picture of a digit\n'))),
      status: 422,
      code: 'undecodable_image',
    },
    {
      name: 'a truncated PNG',
      send: post('image/png', png.subarray(0, Math.floor(png.length * 0.6))),
      status: 422,
      code: 'undecodable_image',
    },
    {
      name: 'a truncated JPEG',
      send: post('image/jpeg', jpeg.subarray(0, Math.floor(jpeg.length * 0.6))),
      status: 422,
      code: 'undecodable_image',
    },
    {
      name: 'a PNG declaring 20000x20000 pixels in a file of 100 bytes',
      send: post('image/png', pngBomb()),
      status: 413,
      code: 'image_too_large',
    },
    ...(await headerBombs()),
    {
      name: 'a 28x28 JPEG with a second frame header declaring 8000x8000',
      send: post('image/jpeg', jpegWithSecondFrame(jpeg, 8000, 8000)),
      status: 422,
      code: 'undecodable_image',
    },
    {
      name: 'a TIFF whose second page declares 30000x30000 pixels (answered from page one)',
      send: post('image/tiff', tiffWithSecondPage(tiff, 30000, 30000)),
      status: 200,
    },
    { name: 'a 16-bit greyscale PNG', send: post('image/png', sixteenBit), status: 200 },
    { name: 'a palette PNG', send: post('image/png', palette), status: 200 },
    { name: 'a GIF', send: post('image/gif', await encodeDigit(digit.pixels, 'image/gif')), status: 200 },
    { name: 'a TIFF', send: post('image/tiff', tiff), status: 200 },
    {
      name: 'an SVG',
      send: post(
        'image/svg+xml',
        '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><text>7</text></svg>',
      ),
      status: 415,
      code: 'unsupported_image_format',
    },
    {
      name: 'JSON with 783 numbers',
      send: post('application/json', `{"pixels":${zeros(783)}}`),
      status: 400,
      code: 'invalid_pixels',
    },
    {
      name: 'JSON with a million numbers',
      send: post('application/json', `{"pixels":${zeros(1e6)}}`),
      status: 400,
      code: 'invalid_pixels',
    },
    {
      name: 'JSON that is a bare string, not an object',
      send: post('application/json', '"pixels"'),
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'JSON that is a bare number',
      send: post('application/json', '784'),
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'JSON with NaN',
      send: post('application/json', `{"pixels":[NaN${',0'.repeat(783)}]}`),
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'JSON with negative pixels',
      send: post('application/json', JSON.stringify({ pixels: new Array(784).fill(-3) })),
      status: 400,
      code: 'invalid_pixels',
    },
    {
      name: 'JSON nested 100,000 deep',
      send: post('application/json', `{"pixels":${'['.repeat(1e5)}${']'.repeat(1e5)}}`),
      status: 400,
      code: 'invalid_pixels',
    },
    { name: 'a form with no file, only text fields', send: postForm(textFields), status: 400, code: 'missing_file' },
    { name: 'a form with ten files', send: postForm(formWith(10)), status: 400, code: 'too_many_files' },
    {
      name: 'a 50 MB body with its Content-Length',
      send: upload50MB('image/png', { chunked: false }),
      status: 413,
      code: 'payload_too_large',
      refusedEarly: true,
    },
    {
      name: 'a 50 MB chunked body',
      send: upload50MB('image/png', { chunked: true }),
      status: 413,
      code: 'payload_too_large',
      refusedEarly: true,
    },
    {
      name: 'a 50 MB file in a chunked multipart upload (no length)',
      send: upload50MB(`multipart/form-data; boundary=${boundary}`, { chunked: true, preamble: part(boundary) }),
      status: 411,
      code: 'length_required',
      refusedEarly: true,
    },
    {
      name: '50 MB of junk in a chunked multipart body (no length)',
      send: upload50MB(`multipart/form-data; boundary=${boundary}`, { chunked: true }),
      status: 411,
      code: 'length_required',
      refusedEarly: true,
    },
    {
      name: 'slow-loris headers, a byte every 100 ms',
      send: (url) => viaSocket(url, `POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(600)}`, 100),
      status: 408,
      code: 'request_timeout',
    },
    {
      name: 'a slow-loris body, a byte every 100 ms',
      send: (url) =>
        viaSocket(
          url,
          [
            head(['POST /predict HTTP/1.1', 'Host: x', 'Content-Type: image/png', 'Content-Length: 600']),
            ...png.subarray(0, 600).toString('latin1'),
          ],
          100,
        ),
      status: 408,
      code: 'request_timeout',
    },
    {
      name: 'multipart without a boundary',
      send: post('multipart/form-data', `${part(boundary)}x\r\n--${boundary}--\r\n`),
      status: 400,
      code: 'invalid_multipart',
    },
    {
      name: 'multipart whose body uses another boundary',
      send: post(
        `multipart/form-data; boundary=${boundary}`,
        `${part('other')}${png.toString('latin1')}\r\n--other--\r\n`,
      ),
      status: 400,
      code: 'invalid_multipart',
    },
    {
      name: 'multipart that never closes its part',
      send: post(`multipart/form-data; boundary=${boundary}`, `${part(boundary)}${png.toString('latin1')}`),
      status: 400,
      code: 'invalid_multipart',
    },
    {
      name: 'one 20 KB header',
      send: (url) => viaSocket(url, [head(['GET /healthz HTTP/1.1', 'Host: x', `X-Flood: ${'a'.repeat(20 * 1024)}`])]),
      status: 431,
      code: 'headers_too_large',
    },
    {
      name: '3,000 headers',
      send: (url) =>
        viaSocket(url, [
          head(['GET /healthz HTTP/1.1', 'Host: x', ...Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`)]),
        ]),
      status: 431,
      code: 'headers_too_large',
    },
    {
      name: 'a malformed request line',
      send: (url) => viaSocket(url, ['GARBAGE\r\n\r\n']),
      status: 400,
      code: 'malformed_request',
    },
    {
      name: 'a non-numeric Content-Length',
      send: (url) => viaSocket(url, [head(['POST /predict HTTP/1.1', 'Host: x', 'Content-Length: lots'])]),
      status: 400,
      code: 'malformed_request',
    },
    {
      name: 'both Content-Length and Transfer-Encoding (request smuggling)',
      send: (url) =>
        viaSocket(url, [
          head([
            'POST /predict HTTP/1.1',
            'Host: x',
            'Content-Type: image/png',
            'Content-Length: 5',
            'Transfer-Encoding: chunked',
          ]),
          '0\r\n\r\n',
        ]),
      status: 400,
      code: 'malformed_request',
    },
  ];
}
