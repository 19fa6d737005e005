/**
 * The one file of a multipart/form-data body, found in the body read whole (its length is declared
 * and bounded before it is read) by @remix-run/multipart-parser: a synchronous pass over one
 * buffer, no streams; only the file is copied out of it. A part with a filename is a file whatever its
 * Content-Type (as in Starlette), so Python's requests, which sends none, is understood; so is an
 * `application/octet-stream` part without one. The file may be in any field; there must be one.
 */
import { getMultipartBoundary, parseMultipart } from '@remix-run/multipart-parser';
import { ApiError } from './errors.ts';

/** Form fields beside the file: a few are allowed (a browser form sends its other inputs). */
const MAX_FIELDS = 10;
const MAX_FIELD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');

export function fileFromForm(body: Buffer, contentType: string): Buffer {
  const boundary = getMultipartBoundary(contentType);
  if (!boundary) throw invalidMultipart('the Content-Type has no boundary');
  let file: Buffer | undefined;
  let fields = 0;
  try {
    const parts = parseMultipart(withoutPreamble(body, boundary), {
      boundary,
      maxParts: MAX_FIELDS + 1,
      maxFileSize: body.length,
      maxTotalSize: body.length,
    });
    for (const part of parts) {
      if (part.isFile) {
        if (file) throw new ApiError('too_many_files', 'send exactly one image in field "file"');
        file = Buffer.concat(part.content);
      } else {
        if (++fields > MAX_FIELDS) throw new ApiError('too_many_fields', 'the form has too many fields');
        if (part.size > MAX_FIELD_BYTES)
          throw new ApiError('payload_too_large', 'a form field is larger than the limit');
      }
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if ((err as Error).name === 'MaxPartsExceededError') {
      throw new ApiError('too_many_fields', 'the form has too many parts');
    }
    // The library's own parse errors, and a part header that is not valid UTF-8.
    throw invalidMultipart((err as Error).message);
  }
  if (!file) throw new ApiError('missing_file', 'the multipart form holds no file; send the image in field "file"');
  return file;
}

/**
 * RFC 2046 lets a body open with a preamble that readers ignore; the parser insists on the first
 * boundary at byte 0, so the body is handed over from there (a delimiter begins a line).
 */
function withoutPreamble(body: Buffer, boundary: string): Buffer {
  const delimiter = Buffer.from(`--${boundary}`);
  if (body.subarray(0, delimiter.length).equals(delimiter)) return body;
  const at = body.indexOf(Buffer.concat([CRLF, delimiter]));
  return at < 0 ? body : body.subarray(at + CRLF.length);
}

function invalidMultipart(reason: string): ApiError {
  return new ApiError('invalid_multipart', `the multipart body cannot be parsed: ${reason}`);
}
