/**
 * MAX_BODY_BYTES at its edge, in every form a body comes in: a body of exactly the limit is
 * answered, one byte more is refused with 413 payload_too_large, whether the length is declared
 * or the body is chunked, for raw images, multipart forms and JSON alike.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { paddedPng } from '../../../devkit/raw-png.ts';
import { digits, encodeDigit, startTestReplica } from '../../../devkit/testing.ts';

const LIMIT = 4096;
const DIGIT = digits(1, 11)[0]!;
const BOUNDARY = 'limit-test-boundary';

type Form = 'raw' | 'raw-chunked' | 'multipart' | 'json';

/** A request body of exactly `size` bytes that a replica without a limit answers 200. */
async function bodyOf(form: Form, size: number): Promise<{ type: string; body: Buffer }> {
  if (form === 'json') {
    const json = JSON.stringify({ pixels: [...DIGIT.pixels] });
    return { type: 'application/json', body: Buffer.from(json.padEnd(size, ' ')) };
  }
  const png = await encodeDigit(DIGIT.pixels);
  if (form !== 'multipart') return { type: 'image/png', body: paddedPng(png, size) };
  const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="d.png"\r\nContent-Type: image/png\r\n\r\n`;
  const tail = `\r\n--${BOUNDARY}--\r\n`;
  const file = paddedPng(png, size - head.length - tail.length);
  return {
    type: `multipart/form-data; boundary=${BOUNDARY}`,
    body: Buffer.concat([Buffer.from(head), file, Buffer.from(tail)]),
  };
}

/** Sends the body with its Content-Length, or as a chunked stream that declares none. */
function send(url: string, form: Form, { type, body }: { type: string; body: Buffer }): Promise<Response> {
  if (form !== 'raw-chunked')
    return fetch(url, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) });
  const stream = new ReadableStream({
    start(controller) {
      for (let at = 0; at < body.length; at += 1000) controller.enqueue(body.subarray(at, at + 1000));
      controller.close();
    },
  });
  return fetch(url, { method: 'POST', headers: { 'content-type': type }, body: stream, duplex: 'half' } as RequestInit);
}

describe(`a body limit of ${LIMIT} bytes`, () => {
  let replica: Awaited<ReturnType<typeof startTestReplica>>;
  before(async () => {
    replica = await startTestReplica({ MAX_BODY_BYTES: String(LIMIT) });
  });
  after(async () => {
    await replica.stop();
  });

  for (const form of ['raw', 'raw-chunked', 'multipart', 'json'] as const) {
    it(`answers a ${form} body of exactly the limit and refuses one byte more`, async () => {
      const atLimit = await send(`${replica.url}/predict`, form, await bodyOf(form, LIMIT));
      assert.equal(atLimit.status, 200, JSON.stringify(await atLimit.clone().json()));
      assert.equal(((await atLimit.json()) as { digit: number }).digit, DIGIT.label);
      const over = await send(`${replica.url}/predict`, form, await bodyOf(form, LIMIT + 1));
      assert.equal(over.status, 413);
      const { error } = (await over.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'payload_too_large');
      // A declared length is refused before a byte is read, and the answer says the limit.
      if (form !== 'raw-chunked')
        assert.match(error.message, new RegExp(`^the request body is larger than the limit of ${LIMIT} bytes \\(`));
    });
  }

  it('answers every size up to the limit and refuses every size past it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Form>('raw', 'raw-chunked', 'multipart', 'json'),
        fc.integer({ min: 2600, max: 2 * LIMIT }),
        async (form, size) => {
          const res = await send(`${replica.url}/predict`, form, await bodyOf(form, size));
          const answer = (await res.json()) as { error?: { code: string } };
          if (size <= LIMIT) assert.equal(res.status, 200, `${form} of ${size} bytes: ${JSON.stringify(answer)}`);
          else assert.deepEqual([res.status, answer.error?.code], [413, 'payload_too_large'], `${form} of ${size}`);
        },
      ),
      { numRuns: 200, seed: 20261206 },
    );
  });
});
