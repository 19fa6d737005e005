/**
 * Every error the service answers with, in one catalogue: its stable code, its HTTP status and
 * when it happens. An ApiError can only be made from a code in here, so the catalogue is complete
 * by construction; the error reference (docs/reference/errors.md) and the OpenAPI document's
 * error responses are generated from it.
 */
export const ERRORS = {
  bad_request: { status: 400, when: 'the request could not be read (a parser refused it)' },
  malformed_request: { status: 400, when: "the request is not valid HTTP/1.1 (refused by Node's parser)" },
  missing_file: { status: 400, when: 'a multipart form holds no file part' },
  too_many_files: { status: 400, when: 'a multipart form holds more than one file' },
  too_many_fields: { status: 400, when: 'a multipart form holds more than 10 fields' },
  empty_file: { status: 400, when: 'the uploaded file or the raw body is 0 bytes' },
  invalid_multipart: { status: 400, when: 'the multipart body cannot be parsed' },
  invalid_json: { status: 400, when: 'the JSON body does not parse' },
  missing_pixels: { status: 400, when: 'the JSON body is not an object with a "pixels" array' },
  invalid_pixels: { status: 400, when: '"pixels" is not 784 numbers from 0 to 255' },
  invalid_parameter: { status: 400, when: 'a query parameter has a value it does not take (explain=maybe)' },
  invalid_tensor: {
    status: 400,
    when: 'an Open Inference Protocol request whose tensor this model cannot take (shape, datatype, values, outputs)',
  },
  empty_image: { status: 400, when: 'the image bytes are empty' },
  not_found: { status: 404, when: 'no route matches the path' },
  unknown_version: {
    status: 404,
    when: 'the model version a request names (?version=, X-Model-Version, /versions/{v}) is not served by this replica',
  },
  method_not_allowed: { status: 405, when: 'the route exists but not for this method (the Allow header lists them)' },
  request_timeout: { status: 408, when: 'the whole request did not arrive within REQUEST_TIMEOUT_MS' },
  length_required: { status: 411, when: 'a multipart upload does not declare its Content-Length' },
  payload_too_large: { status: 413, when: 'the body is larger than MAX_BODY_BYTES' },
  image_too_large: { status: 413, when: 'the image header declares more than MAX_IMAGE_PIXELS pixels' },
  chunk_extensions_too_large: { status: 413, when: 'chunked transfer encoding carries oversized chunk extensions' },
  unsupported_media_type: { status: 415, when: 'the Content-Type is not multipart/form-data, image/* or JSON' },
  unsupported_image_format: {
    status: 415,
    when: 'the bytes are an image format the service does not decode (SVG, ...)',
  },
  undecodable_image: { status: 422, when: 'the bytes do not decode as the image they claim to be' },
  blank_image: {
    status: 422,
    when: 'the picture holds no ink that stands out from the paper and its noise, or only a speck: there is no digit to classify',
  },
  model_refused: {
    status: 422,
    when: 'the model admin endpoint (metrics port) refused a load or unload: the model does not load, is not an MNIST model or misses its known digits, or the version is the default; the versions served are unchanged',
  },
  overloaded: { status: 429, when: 'the inference queue is full (MAX_QUEUE); retry after Retry-After' },
  headers_too_large: { status: 431, when: 'the request headers exceed 16 KiB' },
  client_closed_request: { status: 499, when: 'the client disconnected before its answer (logged and counted only)' },
  internal_error: { status: 500, when: 'an unexpected failure; the message exposes nothing' },
  not_implemented: { status: 501, when: 'the HTTP method is unknown to every route' },
  starting: { status: 503, when: 'GET /readyz before the model is loaded and warmed' },
  draining: { status: 503, when: 'GET /readyz after SIGTERM, while in-flight requests finish' },
} as const satisfies Record<string, { status: number; when: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The one error type the HTTP layer answers with: a catalogued code, its status and a message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    // Stryker disable next-line StringLiteral: the name shows only in a stack trace, never to a client or in a metric
    this.name = 'ApiError';
    this.status = ERRORS[code].status;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; request_id?: string };
}

/**
 * The body of an error on a route of the Open Inference Protocol (/v2/...): its own shape,
 * `{"error": "<message>"}`, which its clients read; the same catalogue, a second rendering.
 */
export interface OipErrorBody {
  error: string;
}

/** The error body a path's clients expect: the protocol's on /v2, the service's elsewhere. */
export function renderError(path: string, error: ApiError, requestId: string): ErrorBody | OipErrorBody {
  if (path === '/v2' || path.startsWith('/v2/')) return { error: error.message };
  return { error: { code: error.code, message: error.message, request_id: requestId } };
}

/** The JSON body of an error, for the listeners that answer outside Koa. */
export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } } satisfies ErrorBody);
}
