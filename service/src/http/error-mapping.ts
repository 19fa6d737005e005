/**
 * Maps whatever was thrown to the API error the client sees, in one place: the service's own
 * errors, and the errors of the body parsers (koa-body over co-body, raw-body),
 * which say what went wrong only through a status, a type or their message. Unknown errors
 * expose nothing.
 */
import { ClientGoneError, QueueFullError } from '../engine/batcher.ts';
import { ImageError } from '../imaging/header.ts';
import { PixelsError } from '../imaging/to-model-input.ts';
import { ApiError, ERRORS, type ErrorCode } from './errors.ts';

/** Errors from koa-body (co-body), raw-body and http-errors carry a status. */
interface HttpishError {
  status?: number;
  statusCode?: number;
  httpCode?: number;
  type?: string;
  message?: string;
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ImageError) return new ApiError(err.code, err.message);
  if (err instanceof QueueFullError) {
    return new ApiError('overloaded', err.message, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  // nginx's 499: nobody reads this answer, but the log and the metrics say what happened.
  if (err instanceof ClientGoneError) return new ApiError('client_closed_request', err.message);
  if (err instanceof PixelsError) return new ApiError('invalid_pixels', err.message);
  const status = parserStatus(err);
  // Stryker disable next-line ConditionalExpression: undefined >= 400 is false as well; the type checker asks for it
  if (status !== undefined && status >= 400 && status < 500) return parserError(err, 'bad_request');
  return new ApiError('internal_error', 'the server failed to handle this request');
}

function parserStatus(err: unknown): number | undefined {
  const e = (err ?? {}) as HttpishError;
  return e.status ?? e.statusCode ?? e.httpCode;
}

/** A body parser's error as ours: sizes are 413; malformed JSON and the rest 400s, the parser's words kept. */
export function parserError(err: unknown, code: ErrorCode): ApiError {
  const e = (err ?? {}) as HttpishError;
  const text = e.message || 'the request could not be read';
  if (parserStatus(err) === 413 || e.type === 'entity.too.large') return tooLarge();
  if (e.type === 'request.aborted') {
    return new ApiError('client_closed_request', 'the client disconnected before its request body arrived');
  }
  if (e.type === 'entity.parse.failed') return new ApiError('invalid_json', `the body is not valid JSON: ${text}`);
  return new ApiError(code, `${ERRORS[code].when}: ${text}`);
}

export function tooLarge(limit?: number): ApiError {
  const what = limit === undefined ? 'the limit' : `the limit of ${limit} bytes (${(limit / 2 ** 20).toFixed(1)} MiB)`;
  return new ApiError(
    'payload_too_large',
    `the request body is larger than ${what}: send a smaller picture; a digit needs no more than about 1000 pixels a side`,
  );
}
