/**
 * The Open Inference Protocol's routes over real HTTP on a replica: metadata, health, and
 * inference of UINT8 flat, FP32 nested and BYTES (base64 PNG) tensors; a batch of 32 answers what
 * 32 single requests do, and shares batches with /predict; errors in the protocol's shape.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { digits, encodeDigit, sample, startTestReplica } from '../../../devkit/testing.ts';

type Replica = Awaited<ReturnType<typeof startTestReplica>>;
interface Output {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

describe('the Open Inference Protocol (v2 REST)', () => {
  let replica: Replica;
  before(async () => {
    replica = await startTestReplica();
  });
  after(() => replica.stop());

  /** Every answer of a v2 route, for the check against the OpenAPI document at the end. */
  const answers: { template: string; method: string; status: number; body: unknown }[] = [];
  const infer = async (body: unknown, path = '/v2/models/mnist/infer') => {
    const res = await fetch(`${replica.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { outputs?: Output[]; id?: string; error?: unknown };
    answers.push({ template: '/v2/models/{name}/infer', method: 'post', status: res.status, body: answer });
    return { status: res.status, body: answer };
  };
  const output = (outputs: Output[] | undefined, name: string) => outputs!.find((o) => o.name === name)!;

  it('answers the server and model metadata and health routes', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${replica.url}${path}`);
      const body = (await res.json()) as Record<string, unknown>;
      const template = path
        .replace(/^\/v2\/models\/[^/]+\/versions\/[^/]+/, '/v2/models/{name}/versions/{version}')
        .replace(/^\/v2\/models\/[^/]+/, '/v2/models/{name}');
      answers.push({ template, method: 'get', status: res.status, body });
      return { status: res.status, body };
    };
    assert.equal((await get('/v2')).body.name, 'mnist-cluster');
    assert.deepEqual((await get('/v2/health/live')).body, { live: true });
    assert.deepEqual((await get('/v2/health/ready')).body, { ready: true });
    const model = await get('/v2/models/mnist');
    assert.equal(model.status, 200);
    const version = (model.body.versions as string[])[0]!;
    assert.equal((await get(`/v2/models/mnist/versions/${version}`)).status, 200);
    assert.deepEqual((await get('/v2/models/mnist/ready')).body, { name: 'mnist', ready: true });
    const unknown = await get('/v2/models/cifar');
    assert.equal(unknown.status, 404);
    assert.equal(typeof unknown.body.error, 'string', "the protocol's error shape");
    assert.equal((await get('/v2/models/mnist/versions/nope')).status, 404);
  });

  it('classifies a batch of 32 as 32 single requests do, UINT8 flat and FP32 nested alike', async () => {
    const batch = digits(32, 0, 97);
    const flat = batch.flatMap((d) => Array.from(d.pixels));
    const all = await infer({
      id: 'b32',
      inputs: [{ name: 'input', shape: [32, 28, 28], datatype: 'UINT8', data: flat }],
    });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.id, 'b32');
    const digitsOut = output(all.body.outputs, 'digit');
    const probabilities = output(all.body.outputs, 'probabilities');
    assert.deepEqual(digitsOut.shape, [32]);
    assert.deepEqual(probabilities.shape, [32, 10]);
    const correct = digitsOut.data.filter((d, i) => d === batch[i]!.label).length;
    assert.ok(correct >= 30, `${correct} of 32 right`);
    for (const [i, d] of batch.entries()) {
      const nested = Array.from({ length: 28 }, (_, y) =>
        Array.from(d.pixels.subarray(y * 28, y * 28 + 28), (v) => v / 255),
      );
      const one = await infer({ inputs: [{ name: 'input-0', shape: [1, 28, 28], datatype: 'FP32', data: [nested] }] });
      assert.equal(output(one.body.outputs, 'digit').data[0], digitsOut.data[i]);
      output(one.body.outputs, 'probabilities').data.forEach((p, k) =>
        assert.ok(Math.abs(p - probabilities.data[i * 10 + k]!) < 1e-6, `digit ${i} class ${k}`),
      );
    }
  });

  it('answers as /predict does for the same pixels with "normalise": true, on 1,000 test digits', async () => {
    const set = digits(1000, 3, 7);
    for (let start = 0; start < set.length; start += 32) {
      const chunk = set.slice(start, start + 32);
      const res = await infer({
        parameters: { normalise: true },
        inputs: [
          {
            name: 'input',
            shape: [chunk.length, 784],
            datatype: 'UINT8',
            data: chunk.flatMap((d) => Array.from(d.pixels)),
          },
        ],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const probabilities = output(res.body.outputs, 'probabilities').data;
      const answers = await Promise.all(
        chunk.map(async (d) => {
          const r = await fetch(`${replica.url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ pixels: Array.from(d.pixels) }),
          });
          return (await r.json()) as { digit: number; probabilities: number[] };
        }),
      );
      answers.forEach((a, i) => {
        assert.equal(output(res.body.outputs, 'digit').data[i], a.digit, `digit ${start + i}`);
        a.probabilities.forEach((p, k) => assert.ok(Math.abs(p - probabilities[i * 10 + k]!) < 1e-6));
      });
    }
  });

  it('takes base64 PNGs as a BYTES tensor through the image pipeline', async () => {
    const [d] = digits(1, 5);
    const png = (await encodeDigit(d!.pixels)).toString('base64');
    const res = await infer({
      inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [png] }],
      outputs: [{ name: 'digit' }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.outputs!.map((o) => o.name),
      ['digit'],
    );
    assert.equal(res.body.outputs![0]!.data[0], d!.label);
  });

  it('counts the digits of each request in mnist_infer_rows', async () => {
    const text = await (await fetch(replica.metricsUrl)).text();
    const count = sample(text, 'mnist_infer_rows_count');
    const sum = sample(text, 'mnist_infer_rows_sum');
    // The batch of 32, its 32 single rows, 32 batches of the 1,000 digits and the one picture.
    assert.equal(count, 32 + 32 + 2);
    assert.equal(sum, 32 + 32 + 1000 + 1);
  });

  it("accepts a request file written as TorchServe's MNIST v2 example writes one", async () => {
    // Its totensor.py: torchvision's ToTensor (pixels / 255, shape [1,28,28]) rounded to 4 places,
    // under a random input name; the example's file is that, laid out one image row per line.
    const [d] = digits(1, 42);
    const rows = Array.from(
      { length: 28 },
      (_, y) =>
        `        [${Array.from(d!.pixels.subarray(y * 28, y * 28 + 28), (v) => (v / 255).toFixed(4)).join(', ')}]`,
    );
    const file = `{
  "id": "${randomUUID()}",
  "inputs": [{
    "name": "input-0",
    "shape": [1, 28, 28],
    "datatype": "FP32",
    "data": [
      [
${rows.join(',\n')}
      ]
    ]
  }]
}
`;
    const res = await fetch(`${replica.url}/v2/models/mnist/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: file,
    });
    const body = (await res.json()) as { outputs: Output[]; id: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.id, JSON.parse(file).id);
    assert.equal(output(body.outputs, 'digit').data[0], d!.label);
  });

  it('shares batches between v2 rows and /predict under a mixed load, answering every request of both right', async () => {
    const set = digits(256, 11, 3);
    const batch = (i: number) => set.slice((i * 32) % set.length, ((i * 32) % set.length) + 32);
    const v2Body = (i: number) =>
      JSON.stringify({
        inputs: [
          { name: 'input', shape: [32, 784], datatype: 'UINT8', data: batch(i).flatMap((d) => Array.from(d.pixels)) },
        ],
      });
    // Each batch alone first: what it answers must not depend on the traffic it is batched with.
    const alone = new Map<number, number[]>();
    for (let i = 0; i < set.length / 32; i++) {
      alone.set(i, output((await infer(JSON.parse(v2Body(i)))).body.outputs, 'probabilities').data);
    }
    const timeout = () => AbortSignal.timeout(20_000);
    let [v2Sent, predictCorrect, predictAnswered, largestPredictBatch] = [0, 0, 0, 0];
    const V2_REQUESTS = 40;
    const v2Worker = async () => {
      while (v2Sent < V2_REQUESTS) {
        const i = v2Sent++;
        const res = await fetch(`${replica.url}/v2/models/mnist/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: v2Body(i),
          signal: timeout(),
        });
        const body = (await res.json()) as { outputs: Output[] };
        assert.equal(res.status, 200, JSON.stringify(body));
        const expected = alone.get(i % (set.length / 32))!;
        output(body.outputs, 'probabilities').data.forEach((p, k) => assert.ok(Math.abs(p - expected[k]!) < 1e-6));
      }
    };
    const predictWorker = async (w: number) => {
      for (let i = w; v2Sent < V2_REQUESTS; i += 8) {
        const d = set[i % set.length]!;
        const res = await fetch(`${replica.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pixels: Array.from(d.pixels) }),
          signal: timeout(),
        });
        const body = (await res.json()) as { digit: number; batch_size: number };
        assert.equal(res.status, 200, JSON.stringify(body));
        predictAnswered++;
        predictCorrect += Number(body.digit === d.label);
        largestPredictBatch = Math.max(largestPredictBatch, body.batch_size);
      }
    };
    await Promise.all([
      ...Array.from({ length: 4 }, v2Worker),
      ...Array.from({ length: 8 }, (_, w) => predictWorker(w)),
    ]);
    assert.ok(predictAnswered > 0 && predictCorrect / predictAnswered > 0.9, `${predictCorrect}/${predictAnswered}`);
    // Eight /predict clients alone never make a batch of more than eight.
    assert.ok(largestPredictBatch > 8, `the largest batch a /predict input ran in: ${largestPredictBatch}`);
  });

  it('answers any malformed request with a 4xx {"error": string}, never a 5xx, and serves on', async () => {
    const valid = { inputs: [{ name: 'x', shape: [1, 784], datatype: 'UINT8', data: new Array(784).fill(0) }] };
    const bodies = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string().map((text) => `{"inputs": ${text}`),
      fc
        .record({
          name: fc.jsonValue(),
          shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 800 }), { maxLength: 5 }), fc.jsonValue()),
          datatype: fc.oneof(fc.constantFrom('UINT8', 'FP32', 'BYTES', 'INT64', 'FP16'), fc.jsonValue()),
          data: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 50 }), fc.jsonValue()),
        })
        .map((input) => JSON.stringify({ ...valid, inputs: [input] })),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const res = await fetch(`${replica.url}/v2/models/mnist/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        const answer = (await res.json()) as { error?: unknown };
        if (res.status === 200) return;
        assert.ok(res.status >= 400 && res.status < 500, `${res.status} for ${body.slice(0, 120)}`);
        assert.equal(typeof answer.error, 'string');
      }),
      { numRuns: 200 },
    );
    assert.equal((await infer(valid)).status, 200);
  });

  it('refuses a bad tensor with 400 and {"error": string}', async () => {
    for (const body of [
      { inputs: [{ name: 'x', shape: [1, 28, 28], datatype: 'UINT8', data: [1, 2, 3] }] },
      { inputs: [{ name: 'x', shape: [1, 27, 28], datatype: 'UINT8', data: new Array(756).fill(0) }] },
      { inputs: [{ name: 'x', shape: [1, 784], datatype: 'INT64', data: new Array(784).fill(0) }] },
      { inputs: [] },
    ]) {
      const res = await infer(body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(typeof res.body.error, 'string');
    }
  });

  it('answers only what the OpenAPI document says, on every v2 route and status met above', async () => {
    const doc = (await (await fetch(`${replica.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
      >;
    };
    const ajv = new Ajv({ strict: false });
    ajv.addSchema(doc, 'doc');
    assert.ok(answers.length >= 10);
    for (const { template, method, status, body } of answers) {
      const response = doc.paths[template]?.[method]?.responses[String(status)];
      assert.ok(response, `${method} ${template} ${status} is not in the document`);
      const pointer = ['paths', template, method, 'responses', String(status), 'content', 'application/json', 'schema']
        .map((p) => encodeURIComponent(p.replaceAll('~', '~0').replaceAll('/', '~1')))
        .join('/');
      const validate = ajv.compile({ $ref: `doc#/${pointer}` });
      assert.ok(validate(body), `${method} ${template} ${status}: ${JSON.stringify(validate.errors)}`);
    }
  });

  it('sheds a batch that does not fit in the queue as a whole (429, Retry-After) and refuses a body over the limit (413)', async () => {
    const small = await startTestReplica({ MAX_QUEUE: '8', MAX_BODY_BYTES: '20000' });
    try {
      const post = (body: string) =>
        fetch(`${small.url}/v2/models/mnist/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
      const rows = (n: number) =>
        JSON.stringify({
          inputs: [{ name: 'x', shape: [n, 784], datatype: 'UINT8', data: new Array(n * 784).fill(0) }],
        });
      const inferred = async () =>
        sample(await (await fetch(small.metricsUrl)).text(), 'mnist_inference_batch_size_sum') ?? 0;
      const before = await inferred();
      const shed = await post(rows(9));
      assert.equal(shed.status, 429);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await inferred(), before, 'none of its rows was inferred');
      assert.ok(shed.headers.get('retry-after'));
      assert.equal(typeof ((await shed.json()) as { error: unknown }).error, 'string');
      const large = await post(rows(16));
      assert.equal(large.status, 413);
      assert.equal(typeof ((await large.json()) as { error: unknown }).error, 'string');
      assert.equal((await post(rows(8))).status, 200, 'eight fit');
    } finally {
      await small.stop();
    }
  });
});
