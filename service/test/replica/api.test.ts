import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeRgba } from '../../../devkit/encode.ts';
import { scaleToUnit } from '../../src/mnist.ts';
import { seededRandom } from '../../../devkit/random.ts';
import { pngBomb } from '../../../devkit/raw-png.ts';
import {
  digits,
  encodeDigit,
  mapConcurrent,
  multipart,
  startTestReplica,
  unusualPngs,
  type Digit,
} from '../../../devkit/testing.ts';

type Replica = Awaited<ReturnType<typeof startTestReplica>>;
let replica: Replica;

interface Answer {
  digit: number;
  confidence: number;
  probabilities: number[];
  replica: string;
  [k: string]: unknown;
}

async function postImage(bytes: Buffer, type: string): Promise<Response> {
  try {
    return await fetch(`${replica.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: new Uint8Array(bytes),
    });
  } catch (err) {
    // fetch hides the socket error in `cause`; a failure here must say what the connection saw.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`POST /predict failed: ${cause?.code ?? ''} ${cause?.message ?? String(err)}`, { cause: err });
  }
}

async function expectError(res: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${JSON.stringify(body)}`);
  assert.equal(body.error.code, code);
  assert.ok(body.error.message.length > 10, 'the message says what went wrong');
  if (message) assert.match(body.error.message, message);
}

/** After any bad request the replica must still answer a good one correctly. */
async function stillServes(): Promise<void> {
  const [d] = digits(1, 0);
  const res = await postImage(await encodeDigit(d!.pixels), 'image/png');
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as Answer).digit, d!.label);
}

/** Ink colour on paper colour, as a phone photo of a pen drawing would have it. */
function onPaper(d: Digit, width: number, height: number, left: number, top: number, scale = 1): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  const paper = [236, 230, 214];
  const ink = [20, 30, 110];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.floor((x - left) / scale);
      const sy = Math.floor((y - top) / scale);
      const v = sx >= 0 && sy >= 0 && sx < 28 && sy < 28 ? d.pixels[sy * 28 + sx]! / 255 : 0;
      for (let c = 0; c < 3; c++) rgba[(y * width + x) * 4 + c] = Math.round(paper[c]! * (1 - v) + ink[c]! * v);
      rgba[(y * width + x) * 4 + 3] = 255;
    }
  }
  return rgba;
}

async function accuracy(
  items: Digit[],
  encode: (d: Digit) => Promise<{ bytes: Buffer; type: string }>,
): Promise<number> {
  const answers = await mapConcurrent(items, 8, async (d) => {
    const { bytes, type } = await encode(d);
    const res = await postImage(bytes, type);
    assert.equal(res.status, 200);
    return ((await res.json()) as Answer).digit === d.label;
  });
  return answers.filter(Boolean).length / items.length;
}

describe('the inference API over real HTTP', () => {
  before(async () => {
    replica = await startTestReplica();
  });
  after(async () => {
    await replica.stop();
  });

  it('answers a curl -F file=@digit.png upload with the digit', async () => {
    const [d] = digits(1, 0);
    const wall = performance.now();
    const res = await fetch(`${replica.url}/predict`, {
      method: 'POST',
      body: multipart(await encodeDigit(d!.pixels)),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Answer;
    assert.equal(body.digit, d!.label);
    assert.ok(body.confidence > 0.5 && body.confidence <= 1, 'body.confidence > 0.5 && body.confidence <= 1');
    assert.equal(body.probabilities.length, 10);
    assert.ok(
      Math.abs(body.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3,
      'Math.abs(body.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3',
    );
    assert.equal(body.replica, 'test-replica');
    assert.equal(body.input_form, 'multipart');
    const waited = performance.now() - wall;
    const { preprocess_ms: preprocess, queue_ms: queue, inference_ms: inference } = body as Record<string, number>;
    assert.ok(preprocess! > 0 && inference! > 0 && queue! >= 0, 'each stage took its time, in ms');
    assert.ok(
      preprocess! + queue! + inference! < waited,
      `${preprocess} + ${queue} + ${inference} ms within ${waited} ms`,
    );
    assert.equal(body.batch_size, 1);
    assert.deepEqual(
      [body.model, body.model_version, body.backend],
      [replica.engine.card.name, replica.versions.defaultVersion, replica.engine.backend],
    );
  });

  for (const mime of ['image/png', 'image/jpeg', 'image/bmp', 'image/gif', 'image/tiff'] as const) {
    it(`classifies raw ${mime} bodies`, async () => {
      for (const d of digits(5, 10)) {
        const res = await postImage(await encodeDigit(d.pixels, mime), mime);
        assert.equal(res.status, 200);
        const answer = (await res.json()) as Answer;
        assert.equal(answer.digit, d.label, `digit ${d.index} as ${mime}`);
        assert.equal(answer.input_form, 'raw');
      }
    });
  }

  it('adds what the model saw with ?explain=1, and nothing without it', async () => {
    const [d] = digits(1, 7);
    const width = 90;
    const height = 70;
    const rgba = onPaper(d!, width, height, 40, 20, 1);
    const png = await encodeRgba(rgba, width, height, 'image/png');
    const ask = (query: string) =>
      fetch(`${replica.url}/predict${query}`, { method: 'POST', body: multipart(png) }).then(
        async (res) =>
          [res.status, (await res.json()) as Answer & { explain?: { model_input: number[]; crop: object } }] as const,
      );
    const [status, plain] = await ask('');
    assert.equal(status, 200);
    assert.equal('explain' in plain, false);
    for (const query of ['?explain=0', '?explain=false', '?other=1']) {
      const [code, answer] = await ask(query);
      assert.deepEqual([code, 'explain' in answer], [200, false], query);
    }
    for (const query of ['?explain=1', '?explain=true']) {
      const [, explained] = await ask(query);
      assert.equal(explained.digit, plain.digit);
      const { model_input: input, crop } = explained.explain!;
      assert.equal(input.length, 784);
      assert.ok(input.every((v) => v >= 0 && v <= 1));
      assert.ok(
        input.some((v) => v > 0.9),
        'the digit is there, white on black',
      );
      // The digit's own 28x28 square sits at (40, 20); its ink lies within it.
      const box = crop as { x: number; y: number; width: number; height: number };
      assert.ok(box.x >= 40 && box.y >= 20 && box.x + box.width <= 68 && box.y + box.height <= 48, JSON.stringify(box));
      // What the model saw is what the engine classifies: the same digit and confidence.
      const [direct] = replica.engine.predict([Float32Array.from(input)]);
      assert.equal(direct!.digit, explained.digit);
    }
    for (const [query, shown] of [
      ['?explain=maybe', '"maybe"'],
      ['?explain=1&explain=1', '["1","1"]'],
    ]) {
      const [refused, body] = await ask(query!);
      assert.equal(refused, 400);
      assert.deepEqual((body as unknown as { error: { code: string; message: string } }).error, {
        code: 'invalid_parameter',
        message: `explain must be 1, true, 0 or false, got ${shown}`,
        request_id: (body as unknown as { error: { request_id: string } }).error.request_id,
      });
    }
  });

  it('classifies JSON pixels given as 0..255 or as 0..1', async () => {
    const [d] = digits(1, 21);
    for (const pixels of [[...d!.pixels], [...scaleToUnit(d!.pixels)]]) {
      const res = await fetch(`${replica.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pixels }),
      });
      assert.equal(res.status, 200);
      const answer = (await res.json()) as Answer;
      assert.equal(answer.digit, d!.label);
      assert.equal(answer.input_form, 'json');
    }
  });

  it('reads a transparent drawing-app PNG (black ink on alpha 0) and 16-bit and palette PNGs', async () => {
    const [d] = digits(1, 30);
    const rgba = new Uint8Array(28 * 28 * 4);
    d!.pixels.forEach((v, i) => rgba.set([0, 0, 0, v], i * 4));
    const transparent = await encodeRgba(rgba, 28, 28, 'image/png');
    const answer = (await (await postImage(transparent, 'image/png')).json()) as Answer;
    assert.equal(answer.digit, d!.label);

    const { sixteenBit, palette } = unusualPngs(d!.pixels);
    for (const png of [sixteenBit, palette]) {
      const res = await postImage(png, 'image/png');
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Answer).digit, d!.label);
    }
  });

  it('classifies 500 real MNIST test digits sent as PNG as accurately as the model does on the raw data', async () => {
    const items = digits(500, 1000);
    const direct = replica.engine.predict(items.map((d) => scaleToUnit(d.pixels)));
    const modelAccuracy = direct.filter((p, i) => p.digit === items[i]!.label).length / items.length;
    const httpAccuracy = await accuracy(items, async (d) => ({
      bytes: await encodeDigit(d.pixels),
      type: 'image/png',
    }));
    assert.ok(httpAccuracy >= modelAccuracy - 0.004, `HTTP ${httpAccuracy} vs model ${modelAccuracy}`);
    assert.ok(httpAccuracy >= 0.98, 'httpAccuracy >= 0.98');
  });

  describe('real-world variants of the same digits: at least 97% correct', () => {
    // Spread over the whole test set, so the sample is as hard as the set, not one stretch of it.
    const items = digits(300, 5, 33);
    const random = seededRandom(5);

    it('black ink on white paper', async () => {
      const acc = await accuracy(items, async (d) => ({
        bytes: await encodeDigit(d.pixels.map((v) => 255 - v)),
        type: 'image/png',
      }));
      assert.ok(acc >= 0.97, `accuracy ${acc}`);
    });

    it('shifted off-centre and enlarged in a larger canvas', async () => {
      const acc = await accuracy(items, async (d) => {
        const scale = 1 + Math.floor(random() * 3);
        const [w, h] = [150, 120];
        const rgba = onPaper(
          d,
          w,
          h,
          Math.floor(random() * (w - 28 * scale)),
          Math.floor(random() * (h - 28 * scale)),
          scale,
        );
        return { bytes: await encodeRgba(rgba, w, h, 'image/png'), type: 'image/png' };
      });
      assert.ok(acc >= 0.97, `accuracy ${acc}`);
    });

    it('colour JPEGs (blue ink on cream paper, 3x size)', async () => {
      const acc = await accuracy(items, async (d) => ({
        bytes: await encodeRgba(onPaper(d, 84, 84, 0, 0, 3), 84, 84, 'image/jpeg'),
        type: 'image/jpeg',
      }));
      assert.ok(acc >= 0.97, `accuracy ${acc}`);
    });
  });

  describe('errors: a JSON body with a status that says what went wrong, and the replica keeps serving', () => {
    const json = (body: string) =>
      fetch(`${replica.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    it('413 for a body over the limit', async () => {
      await expectError(await postImage(Buffer.alloc(9 * 1024 * 1024, 1), 'image/png'), 413, 'payload_too_large');
      await stillServes();
    });
    it('413 for a small PNG declaring 20000x20000 pixels', async () => {
      const bomb = pngBomb();
      await expectError(await postImage(bomb, 'image/png'), 413, 'image_too_large');
      await stillServes();
    });
    it('415 for an unsupported Content-Type and for an SVG', async () => {
      await expectError(
        await fetch(`${replica.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'hi',
        }),
        415,
        'unsupported_media_type',
        /^Content-Type "text\/plain" is not accepted; send multipart\/form-data/,
      );
      await expectError(
        await fetch(`${replica.url}/predict`, { method: 'POST', body: new Uint8Array([1, 2, 3]) }),
        415,
        'unsupported_media_type',
        /^Content-Type "\(none\)" is not accepted/,
      );
      const svg = Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><rect width="5" height="5"/></svg>',
      );
      await expectError(await postImage(svg, 'image/svg+xml'), 415, 'unsupported_image_format');
      await stillServes();
    });
    it('400 for a form without a file, an empty file, two files', async () => {
      const form = new FormData();
      form.append('file', 'a text field, not a file');
      await expectError(await fetch(`${replica.url}/predict`, { method: 'POST', body: form }), 400, 'missing_file');
      await expectError(
        await fetch(`${replica.url}/predict`, { method: 'POST', body: multipart(Buffer.alloc(0)) }),
        400,
        'empty_file',
      );
      await expectError(await postImage(Buffer.alloc(0), 'image/png'), 400, 'empty_file');
      const two = multipart(await encodeDigit(digits(1)[0]!.pixels));
      two.append('file', new Blob([new Uint8Array(await encodeDigit(digits(1)[0]!.pixels))]), 'again.png');
      await expectError(await fetch(`${replica.url}/predict`, { method: 'POST', body: two }), 400, 'too_many_files');
      const elsewhere = multipart(await encodeDigit(digits(1)[0]!.pixels), 'image/png', 'image');
      elsewhere.append('upload_file', new Blob([new Uint8Array(16)]), 'other.png');
      await expectError(
        await fetch(`${replica.url}/predict`, { method: 'POST', body: elsewhere }),
        400,
        'too_many_files',
      );
      const big = multipart(Buffer.alloc(9 * 1024 * 1024, 7));
      await expectError(await fetch(`${replica.url}/predict`, { method: 'POST', body: big }), 413, 'payload_too_large');
      await stillServes();
    });
    it('400 for wrong pixel counts, out-of-range values and broken JSON', async () => {
      await expectError(await json(JSON.stringify({ pixels: new Array(783).fill(0) })), 400, 'invalid_pixels');
      await expectError(await json(JSON.stringify({ pixels: [...new Array(783).fill(0), -1] })), 400, 'invalid_pixels');
      await expectError(
        await json(JSON.stringify({ pixels: [...new Array(783).fill(0), 'x'] })),
        400,
        'invalid_pixels',
      );
      await expectError(await json(JSON.stringify({ image: [] })), 400, 'missing_pixels');
      await expectError(await json('{"pixels": [1, 2'), 400, 'invalid_json');
      await stillServes();
    });
    it('422 for bytes that are not the image they claim to be, and for a blank picture', async () => {
      await expectError(await postImage(Buffer.from('definitely not an image'), 'image/png'), 422, 'undecodable_image');
      const png = await encodeDigit(digits(1)[0]!.pixels);
      await expectError(await postImage(png.subarray(0, 80), 'image/png'), 422, 'undecodable_image');
      await expectError(await postImage(await encodeDigit(new Array(784).fill(255)), 'image/png'), 422, 'blank_image');
      await stillServes();
    });
    it('404 for an unknown route and 405 for a wrong method', async () => {
      await expectError(await fetch(`${replica.url}/nothing-here`), 404, 'not_found');
      const res = await fetch(`${replica.url}/predict`, { method: 'GET' });
      assert.match(res.headers.get('allow') ?? '', /POST/);
      await expectError(res, 405, 'method_not_allowed');
      await stillServes();
    });
  });

  it('echoes a valid X-Request-Id and makes one up otherwise', async () => {
    const mine = await fetch(`${replica.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(mine.headers.get('x-request-id'), 'abc-123');
    const made = await fetch(`${replica.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('serves health, readiness, the model card, an index, the OpenAPI document and Swagger UI', async () => {
    assert.equal((await fetch(`${replica.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${replica.url}/readyz`)).status, 200);
    const model = (await (await fetch(`${replica.url}/model`)).json()) as Record<string, unknown>;
    assert.equal(model.backend, replica.engine.backend);
    assert.equal(typeof model.parameters, 'number');
    assert.equal(typeof (model.evaluation as { accuracy: number }).accuracy, 'number');
    const index = (await (await fetch(`${replica.url}/`)).json()) as { endpoints: Record<string, string> };
    assert.ok('POST /predict' in index.endpoints, "'POST /predict' in index.endpoints");
    const doc = (await (await fetch(`${replica.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.match(doc.openapi, /^3\./);
    for (const path of ['/predict', '/healthz', '/readyz', '/model']) assert.ok(path in doc.paths, path);
    const page = await fetch(`${replica.url}/docs`);
    assert.match(await page.text(), /swagger-ui-bundle\.js/);
    const bundle = await fetch(`${replica.url}/docs/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    assert.ok((await bundle.arrayBuffer()).byteLength > 100_000, '(await bundle.arrayBuffer()).byteLength > 100_000');
  });

  it("answers the OpenAPI document's JSON example, which Swagger UI's Try it out sends, with a 7", async () => {
    type Doc = { paths: { '/predict': { post: { requestBody: { content: Record<string, { example: unknown }> } } } } };
    const doc = (await (await fetch(`${replica.url}/openapi.json`)).json()) as Doc;
    const example = doc.paths['/predict'].post.requestBody.content['application/json']!.example;
    const res = await fetch(`${replica.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(example),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { digit: number }).digit, 7);
  });

  it('does not expose metrics on the API port', async () => {
    assert.equal((await fetch(`${replica.url}/metrics`)).status, 404);
  });
});
