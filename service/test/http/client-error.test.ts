/**
 * The answer to a request Node's HTTP parser refuses, on a real stream standing for the socket:
 * the classification of the parser's codes, the exact bytes written, the sockets that get no
 * answer at all, and the linger before a client that keeps sending is cut off.
 * (service/test/reliability/hostile.test.ts sends such requests to a replica over TCP.)
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { classifyClientError, clientErrorHandler } from '../../src/http/client-error.ts';
import { ERRORS } from '../../src/http/errors.ts';

/** A socket whose written bytes can be read back, and whose destruction is recorded. */
function socket(options: { writable?: boolean; headersSent?: boolean } = {}) {
  const stream = new PassThrough({ autoDestroy: false });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString('latin1')));
  if (options.writable === false) stream.end();
  if (options.headersSent !== undefined) Object.assign(stream, { _httpMessage: { headersSent: options.headersSent } });
  return { stream, written: () => written };
}

const parserError = (code: string) => Object.assign(new Error(code), { code });

describe('requests the HTTP parser refuses', () => {
  it("classifies the parser's codes, naming an unknown one in the message", () => {
    assert.deepEqual(classifyClientError('ERR_HTTP_REQUEST_TIMEOUT'), {
      code: 'request_timeout',
      message: 'the whole request did not arrive in time',
    });
    assert.deepEqual(classifyClientError('HPE_HEADER_OVERFLOW'), {
      code: 'headers_too_large',
      message: 'the request headers are too large',
    });
    assert.deepEqual(classifyClientError('HPE_CHUNK_EXTENSIONS_OVERFLOW'), {
      code: 'chunk_extensions_too_large',
      message: 'the chunk extensions are too large',
    });
    assert.deepEqual(classifyClientError('HPE_INVALID_METHOD'), {
      code: 'malformed_request',
      message: 'the request is not valid HTTP/1.1 (HPE_INVALID_METHOD)',
    });
    assert.equal(classifyClientError(undefined).message, 'the request is not valid HTTP/1.1 (unknown)');
  });

  it('answers with the JSON error and closes, then cuts off a client still sending after a second', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const refused: string[] = [];
    const { stream, written } = socket();
    clientErrorHandler((code) => refused.push(code))(parserError('HPE_HEADER_OVERFLOW'), stream);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(refused, ['headers_too_large']);
    const [head, body] = written().split('\r\n\r\n') as [string, string];
    assert.deepEqual(head.split('\r\n'), [
      `HTTP/1.1 ${ERRORS.headers_too_large.status} Request Header Fields Too Large`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ]);
    assert.deepEqual(JSON.parse(body), {
      error: { code: 'headers_too_large', message: 'the request headers are too large' },
    });
    t.mock.timers.tick(999);
    assert.equal(stream.destroyed, false, 'the client gets a second to read the answer');
    t.mock.timers.tick(1);
    assert.equal(stream.destroyed, true);
  });

  for (const [name, make, error] of [
    ['a reset connection', () => socket(), parserError('ECONNRESET')],
    ['a socket no longer writable', () => socket({ writable: false }), parserError('HPE_INVALID_METHOD')],
    ['a socket already answering', () => socket({ headersSent: true }), parserError('HPE_INVALID_METHOD')],
  ] as const) {
    it(`destroys ${name} without an answer or a count`, () => {
      const refused: string[] = [];
      const { stream, written } = make();
      clientErrorHandler((code) => refused.push(code))(error, stream);
      assert.equal(stream.destroyed, true);
      assert.equal(written(), '');
      assert.deepEqual(refused, []);
    });
  }

  it('answers a socket whose previous answer has not started', () => {
    const refused: string[] = [];
    const { stream } = socket({ headersSent: false });
    clientErrorHandler((code) => refused.push(code))(parserError('HPE_INVALID_METHOD'), stream);
    assert.deepEqual(refused, ['malformed_request']);
  });
});
