/**
 * Whatever a request's handling throws, mapped to the API error the client sees: the service's
 * own errors keep their code and words, a body parser's 4xx becomes a 400 or 413 in our shape, and
 * anything else a 500 that exposes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientGoneError, QueueFullError } from '../../src/engine/batcher.ts';
import { parserError, toApiError, tooLarge } from '../../src/http/error-mapping.ts';
import { ApiError } from '../../src/http/errors.ts';
import { ImageError } from '../../src/imaging/header.ts';
import { PixelsError } from '../../src/imaging/to-model-input.ts';

const seen = (err: ApiError) => ({ status: err.status, code: err.code, message: err.message, headers: err.headers });
const INTERNAL = {
  status: 500,
  code: 'internal_error',
  message: 'the server failed to handle this request',
  headers: {},
};

describe('the mapping of errors to API errors', () => {
  it("keeps the service's own errors, their code and their words", () => {
    const own = new ApiError('missing_file', 'no file');
    assert.equal(toApiError(own), own);
    assert.deepEqual(seen(toApiError(new ImageError('image_too_large', 'too big'))), {
      status: 413,
      code: 'image_too_large',
      message: 'too big',
      headers: {},
    });
    assert.deepEqual(seen(toApiError(new QueueFullError(3))), {
      status: 429,
      code: 'overloaded',
      message: 'the inference queue is full; retry shortly',
      headers: { 'Retry-After': '3' },
    });
    assert.deepEqual(seen(toApiError(new ClientGoneError())), {
      status: 499,
      code: 'client_closed_request',
      message: 'the client went away before its input was inferred',
      headers: {},
    });
    assert.deepEqual(seen(toApiError(new PixelsError('783 values'))), {
      status: 400,
      code: 'invalid_pixels',
      message: '783 values',
      headers: {},
    });
  });

  it("turns a parser's 4xx, under any of the fields parsers use for it, into a 400 with its words", () => {
    for (const err of [{ status: 400 }, { statusCode: 404 }, { httpCode: 499 }]) {
      const mapped = toApiError({ ...err, message: 'stream ended' });
      assert.deepEqual([mapped.status, mapped.code], [400, 'bad_request'], JSON.stringify(err));
      assert.match(mapped.message, /: stream ended$/);
    }
  });

  it('answers 500 and says nothing of anything else', () => {
    for (const err of [
      new Error('secret path /etc/x'),
      { status: 399 },
      { status: 500, message: 'upstream' },
      { statusCode: 503 },
      undefined,
      null,
      'a string',
    ]) {
      assert.deepEqual(seen(toApiError(err)), INTERNAL, String(err));
    }
  });

  it('maps a parser error: too large to 413, malformed JSON to invalid_json, the rest to the given code', () => {
    for (const err of [{ status: 413 }, { statusCode: 413 }, { type: 'entity.too.large', status: 400 }])
      assert.deepEqual(seen(parserError(err, 'bad_request')), seen(tooLarge()), JSON.stringify(err));
    const json = parserError({ status: 400, type: 'entity.parse.failed', message: 'Unexpected token' }, 'bad_request');
    assert.deepEqual([json.code, json.message], ['invalid_json', 'the body is not valid JSON: Unexpected token']);
    const form = parserError({ status: 400, message: 'bad boundary' }, 'invalid_multipart');
    assert.equal(form.code, 'invalid_multipart');
    assert.match(form.message, /^.+: bad boundary$/);
    assert.match(parserError({}, 'bad_request').message, /: the request could not be read$/);
  });

  it("counts a body its client stopped sending as the client's doing (499), whatever the form", () => {
    // raw-body's error for a request whose connection closed before its declared length arrived.
    const aborted = { status: 400, type: 'request.aborted', code: 'ECONNABORTED', message: 'request aborted' };
    for (const code of ['bad_request', 'invalid_multipart', 'invalid_json'] as const) {
      const mapped = parserError(aborted, code);
      assert.deepEqual([mapped.status, mapped.code], [499, 'client_closed_request']);
      assert.match(mapped.message, /disconnected/);
    }
  });

  it('says the limit when it knows it', () => {
    assert.equal(
      tooLarge(1000).message,
      'the request body is larger than the limit of 1000 bytes (0.0 MiB): send a smaller picture; a digit needs no more than about 1000 pixels a side',
    );
    assert.match(tooLarge().message, /^the request body is larger than the limit: send a smaller picture/);
    assert.equal(tooLarge().status, 413);
  });
});
