/**
 * Requests Node's HTTP parser refuses before Koa ever sees them: malformed request lines, header
 * floods, bad Content-Length or chunking, and uploads that miss the request timeout (slow-loris).
 * Node would answer them with a bare status line; this answers with the same JSON error body as
 * every other failure, counts them, and closes the connection.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERRORS, errorBody, type ErrorCode } from './errors.ts';

/** Time the client gets to read the answer before the socket is closed under it. */
const LINGER_MS = 1000;

interface ProtocolError {
  code: ErrorCode;
  message: string;
}

/** The parser's error codes, grouped the way Node's own default answers group them. */
export function classifyClientError(code: string | undefined): ProtocolError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'the whole request did not arrive in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', message: 'the request headers are too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { code: 'chunk_extensions_too_large', message: 'the chunk extensions are too large' };
    default:
      return {
        code: 'malformed_request',
        message: `the request is not valid HTTP/1.1 (${code ?? 'unknown'})`,
      };
  }
}

export function clientErrorHandler(onRefused: (code: string) => void) {
  return function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // A reset or a socket that has already started another answer cannot take one more.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const refused = classifyClientError(err.code);
    onRefused(refused.code);
    const body = errorBody(refused.code, refused.message);
    const { status } = ERRORS[refused.code];
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    // A client that keeps sending after the answer must not hold the socket open.
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}
