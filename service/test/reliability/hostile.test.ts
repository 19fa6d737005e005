/**
 * Every kind of broken or malicious upload, against a replica in its own process so that its own
 * metrics tell its memory and event-loop lag. Each case must get its status and a JSON error (or,
 * for odd but valid images, the right digit), while a good request sent alongside it and one
 * sent after it are answered correctly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pngBomb } from '../../../devkit/raw-png.ts';
import { spawnReplica, type ReplicaProcess } from '../../../devkit/replica-process.ts';
import { digits, encodeDigit, multipart, sample, unusualPngs } from '../../../devkit/testing.ts';
import { declaring, jpegWithSecondFrame, MAX_DECLARABLE_SIDE, tiffWithSecondPage } from '../support/hostile-files.ts';
import sharp from 'sharp';
import { rawExchange } from '../support/raw-http.ts';

const MiB = 1024 * 1024;
/**
 * 64 KiB per millisecond (about 64 MB/s, a fast network) for the 50 MB uploads: on loopback an
 * unpaced upload can be written whole before the client has had a turn to read the early answer.
 */
const UPLOAD_PACE_MS = 1;
/** Short, so that the slow-loris cases end quickly; the default is 30 s. */
const REQUEST_TIMEOUT_MS = 2000;

interface Outcome {
  status: number;
  contentType: string;
  body: unknown;
  /** For uploads: request bytes written before the answer came. */
  sentBeforeAnswer?: number;
}

interface HostileCase {
  name: string;
  send: (url: string) => Promise<Outcome>;
  status: number;
  /** The JSON error code expected; absent when the answer must be the digit. */
  code?: string;
  /** An upload the service must refuse before reading it whole. */
  refusedEarly?: boolean;
}

const [probe] = digits(1, 4242);
const digit = probe!;

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

/** For every accepted format, a 28x28 picture whose header declares a canvas far past the cap. */
async function headerBombs(): Promise<HostileCase[]> {
  const png = await encodeDigit(digit.pixels);
  const pictures: Record<string, Buffer> = {
    'image/png': png,
    'image/jpeg': await encodeDigit(digit.pixels, 'image/jpeg'),
    'image/webp': await sharp(png).webp().toBuffer(),
    'image/bmp': await encodeDigit(digit.pixels, 'image/bmp'),
    'image/gif': await encodeDigit(digit.pixels, 'image/gif'),
    'image/tiff': await encodeDigit(digit.pixels, 'image/tiff'),
  };
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

async function buildCases(): Promise<HostileCase[]> {
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

async function goodRequest(url: string): Promise<void> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: new Uint8Array(await encodeDigit(digit.pixels)),
  });
  assert.equal(res.status, 200, 'a good request is answered');
  assert.equal(((await res.json()) as { digit: number }).digit, digit.label, 'and answered correctly');
}

/** The replica's own view of itself: resident memory, and event-loop lag since the last scrape. */
async function vitals(metricsUrl: string): Promise<{ rss: number; lagMax: number }> {
  const text = await (await fetch(metricsUrl)).text();
  return {
    rss: sample(text, 'process_resident_memory_bytes') ?? NaN,
    lagMax: sample(text, 'nodejs_eventloop_lag_max_seconds') ?? NaN,
  };
}

const cases = await buildCases();

describe('hostile input', () => {
  let replica: ReplicaProcess;
  let baseline: { rss: number };
  const seen = { rss: 0, lagMax: 0, lagCase: '' };

  before(async () => {
    replica = await spawnReplica({ REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), REPLICA: 'hostile' });
    for (let i = 0; i < 20; i++) await goodRequest(replica.url); // warm-up: first-use allocations are not growth
    baseline = await vitals(replica.metricsUrl);
  });
  after(async () => {
    await replica.stop();
  });

  for (const c of cases) {
    it(`${c.name}: ${c.code ? `${c.status} ${c.code}` : 'the digit'}, good requests alongside and after`, async () => {
      const [outcome] = await Promise.all([c.send(replica.url), goodRequest(replica.url)]);
      const body = outcome.body as { error?: { code?: string; message?: string } };
      assert.equal(outcome.status, c.status, `status ${outcome.status}, body ${JSON.stringify(body).slice(0, 300)}`);
      assert.match(outcome.contentType, /^application\/json/, 'a JSON answer');
      if (c.code) {
        assert.equal(body.error?.code, c.code, 'error code');
        assert.ok((body.error?.message ?? '').length > 10, 'the message says what went wrong');
      } else {
        assert.equal((outcome.body as { digit?: number }).digit, digit.label, 'the right digit');
      }
      if (c.refusedEarly) {
        assert.ok(
          (outcome.sentBeforeAnswer ?? Infinity) < 50 * MiB,
          `refused after ${outcome.sentBeforeAnswer} bytes, before the whole upload was read`,
        );
      }
      await goodRequest(replica.url);
      const now = await vitals(replica.metricsUrl);
      seen.rss = Math.max(seen.rss, now.rss);
      if (now.lagMax > seen.lagMax) Object.assign(seen, { lagMax: now.lagMax, lagCase: c.name });
    });
  }

  it('kept memory and event-loop lag bounded through the whole suite', () => {
    const growth = (seen.rss - baseline.rss) / MiB;
    assert.ok(growth < 256, `resident memory grew by ${growth.toFixed(0)} MiB (limit 256)`);
    // A stall would show here: the 63570x6 PNG the fuzzer found once blocked the loop for 41 s.
    assert.ok(seen.lagMax < 1, `event-loop lag reached ${seen.lagMax.toFixed(3)} s during "${seen.lagCase}"`);
    assert.equal(replica.child.exitCode, null, 'the replica is still running');
  });
});
