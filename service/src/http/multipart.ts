/**
 * The one file of a multipart/form-data body, read in memory by a streaming parser
 * (@fastify/busboy) straight from the request: no per-part objects, no temporary files. A part
 * with a filename is a file whatever its Content-Type (as in Starlette), so Python's requests,
 * which sends none, is understood. The file is the one in field `file`, or the form's only file.
 */
import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy';
import { tooLarge } from './error-mapping.ts';
import { ApiError } from './errors.ts';

/** Form fields beside the file: a few are allowed (a browser form sends its other inputs). */
const MAX_FIELDS = 10;
const MAX_FIELD_BYTES = 64 * 1024;

/** `maxFileBytes`: the largest file (the caller checks the body's declared length against it too). */
export function readMultipartFile(req: IncomingMessage, maxFileBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let parser: BusboyInstance;
    try {
      parser = new Busboy({
        headers: req.headers as BusboyHeaders,
        limits: {
          files: 1,
          fields: MAX_FIELDS,
          fieldSize: MAX_FIELD_BYTES,
          fileSize: maxFileBytes,
          parts: MAX_FIELDS + 1,
          headerPairs: 20,
        },
      });
    } catch (err) {
      reject(invalidMultipart(err as Error));
      return;
    }
    let failure: ApiError | undefined;
    const fail = (error: ApiError) => (failure ??= error);
    const chunks: Buffer[] = [];
    let found = false;
    parser.on('file', (_field, file) => {
      found = true;
      file.on('data', (chunk: Buffer) => chunks.push(chunk));
      file.on('limit', () => fail(tooLarge(maxFileBytes)));
      // A part cut off by the end of the body fails its own stream: unhandled, that would end the process.
      file.on('error', (err: Error) => fail(invalidMultipart(err)));
    });
    parser.on('field', (_name, _value, _nameTruncated, valueTruncated) => {
      if (valueTruncated) fail(new ApiError('payload_too_large', 'a form field is larger than the limit'));
    });
    parser.on('filesLimit', () => fail(new ApiError('too_many_files', 'send exactly one image in field "file"')));
    parser.on('fieldsLimit', () => fail(new ApiError('too_many_fields', 'the form has too many fields')));
    parser.on('partsLimit', () => fail(new ApiError('too_many_fields', 'the form has too many parts')));
    // Settles once, on the parser's end or error, or on a client that goes away mid-body. A failed
    // body is still read to its (declared, bounded) end, so that the error can be answered.
    let settled = false;
    const settle = (error?: ApiError) => {
      if (settled) return;
      settled = true;
      if (error) {
        req.unpipe(parser);
        req.resume();
        reject(error);
      } else resolve(Buffer.concat(chunks));
    };
    parser.on('finish', () => settle(failure ?? (found ? undefined : missingFile())));
    parser.on('error', (err: Error) => settle(failure ?? invalidMultipart(err)));
    req.on('close', () => {
      if (!req.complete) settle(new ApiError('invalid_multipart', 'the upload ended before its body was complete'));
    });
    req.pipe(parser);
  });
}

function invalidMultipart(err: Error): ApiError {
  return new ApiError('invalid_multipart', `the multipart body cannot be parsed: ${err.message}`);
}

function missingFile(): ApiError {
  return new ApiError('missing_file', 'the multipart form holds no file; send the image in field "file"');
}
