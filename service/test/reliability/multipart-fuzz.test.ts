/**
 * Fuzzing the multipart reader over real HTTP: valid forms (any field names, with or without a
 * part Content-Type, extra text fields) cut short, with bytes flipped or boundaries broken. Every
 * answer must be a 200 or a JSON 4xx, and the replica must keep serving: a parser error that
 * escapes (an unhandled stream error) would end the process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { digits, encodeDigit, startTestReplica } from '../../../devkit/testing.ts';

/** A fraction from 0 to 1, spread evenly (fc.double crowds its values near 0). */
const fraction = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000);

const BOUNDARY = 'fuzz-boundary-7MA4YWxk';

function form(png: Buffer, field: string, typed: boolean, extras: string[]): Buffer {
  const parts = extras.map(
    (value, i) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note${i}"\r\n\r\n${value}\r\n`,
  );
  const type = typed ? 'Content-Type: image/png\r\n' : '';
  return Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="d.png"\r\n${type}\r\n`),
    png,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

describe('fuzzing the multipart reader', () => {
  let replica: Awaited<ReturnType<typeof startTestReplica>>;
  let png: Buffer;
  before(async () => {
    replica = await startTestReplica();
    png = await encodeDigit(digits(1, 5)[0]!.pixels);
  });
  after(async () => {
    await replica.stop();
  });

  it('answers every mangled form with a 200 or a JSON 4xx, and keeps serving', async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fraction }),
      fc.record({
        kind: fc.constant('flip' as const),
        flips: fc.array(fc.tuple(fraction, fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
      }),
      fc.record({ kind: fc.constant('none' as const) }),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('file', 'image', 'upload_file'),
        fc.boolean(),
        fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
        mutation,
        fc.constantFrom(`multipart/form-data; boundary=${BOUNDARY}`, `multipart/form-data; boundary="${BOUNDARY}"`),
        async (field, typed, extras, change, contentType) => {
          let body = form(png, field, typed, extras);
          if (change.kind === 'cut') body = body.subarray(0, Math.floor(change.at * body.length));
          if (change.kind === 'flip') {
            body = Buffer.from(body);
            for (const [at, value] of change.flips) body[Math.floor(at * (body.length - 1))] = value;
          }
          const res = await fetch(`${replica.url}/predict`, {
            method: 'POST',
            headers: { 'content-type': contentType },
            body: new Uint8Array(body),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const answer = (await res.json()) as { digit?: number; error?: { code: string } };
          if (res.status === 200) assert.ok(Number.isInteger(answer.digit));
          else {
            assert.ok([400, 413, 415, 422].includes(res.status), `status ${res.status}: ${JSON.stringify(answer)}`);
            assert.equal(typeof answer.error?.code, 'string');
          }
          if (change.kind === 'none') assert.equal(res.status, 200, JSON.stringify(answer));
        },
      ),
      { numRuns: 600, seed: 7 },
    );
    assert.equal((await fetch(`${replica.url}/healthz`)).status, 200);
    assert.ok((statuses.get(200) ?? 0) > 0 && statuses.size > 1, JSON.stringify(Object.fromEntries(statuses)));
  });
});
