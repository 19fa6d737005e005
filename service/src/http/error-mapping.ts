/** Maps whatever was thrown to the API error the client sees. Unknown errors expose nothing. */
import { AbandonedError, QueueFullError } from '../engine/batcher.ts';
import { ImageError } from '../imaging/decode.ts';
import { PixelsError } from '../imaging/model-input.ts';
import { ApiError } from './api-error.ts';

const IMAGE_STATUS: Record<ImageError['code'], number> = {
  empty_image: 400,
  unsupported_image_format: 415,
  image_too_large: 413,
  undecodable_image: 422,
  blank_image: 422,
};

/** Errors from koa-body (co-body, formidable), raw-body and http-errors carry a status. */
interface HttpishError {
  status?: number;
  statusCode?: number;
  httpCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ImageError) return new ApiError(IMAGE_STATUS[err.code], err.code, err.message);
  if (err instanceof QueueFullError) {
    return new ApiError(429, 'overloaded', err.message, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  // nginx's 499: nobody reads this answer, but the log and the metrics say what happened.
  if (err instanceof AbandonedError) return new ApiError(499, 'client_closed_request', err.message);
  if (err instanceof PixelsError) return new ApiError(400, 'invalid_pixels', err.message);
  const e = (err ?? {}) as HttpishError;
  const status = e.status ?? e.statusCode ?? e.httpCode;
  if (status === 413 || e.type === 'entity.too.large') {
    return new ApiError(413, 'payload_too_large', 'the request body is larger than the limit');
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const code =
      e.type === 'entity.parse.failed'
        ? 'invalid_json'
        : status === 405
          ? 'method_not_allowed'
          : status === 400
            ? 'bad_request'
            : 'client_error';
    return new ApiError(status, code, e.message || 'the request could not be read');
  }
  return new ApiError(500, 'internal_error', 'the server failed to handle this request');
}
