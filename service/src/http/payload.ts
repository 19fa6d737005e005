/**
 * Reads the body of POST /predict in whichever of the three accepted forms it comes:
 * multipart/form-data with the image in field `file` (`curl -F file=@digit.png`),
 * a raw `image/*` body, or JSON `{"pixels": [...]}`. Everything stays in memory within the body
 * limit: no temporary files.
 */
import { Writable } from 'node:stream';
import type { Context } from 'koa';
import { koaBody } from 'koa-body';
import getRawBody from 'raw-body';
import { parserError, tooLarge } from './error-mapping.ts';
import { ApiError, type ErrorCode } from './errors.ts';

export type Payload = { form: 'multipart' | 'raw'; bytes: Buffer } | { form: 'json'; pixels: unknown };

interface VolatileFile {
  originalFilename?: string | null;
}

/** Collects each uploaded file's bytes in memory instead of formidable's temporary files. */
function memoryFiles() {
  const chunks = new WeakMap<object, Buffer[]>();
  const handler = (file?: VolatileFile) => {
    const parts: Buffer[] = [];
    if (file) chunks.set(file, parts);
    return new Writable({
      write(chunk: Buffer, _encoding, done) {
        parts.push(chunk);
        done();
      },
    });
  };
  return { handler, bytesOf: (file: object) => Buffer.concat(chunks.get(file) ?? []) };
}

export function createPayloadReader(maxBodyBytes: number) {
  const files = memoryFiles();
  const multipart = koaBody({
    multipart: true,
    urlencoded: false,
    json: false,
    text: false,
    formidable: {
      maxFiles: 1,
      maxFields: 10,
      maxFileSize: maxBodyBytes,
      maxTotalFileSize: maxBodyBytes,
      maxFieldsSize: 64 * 1024,
      allowEmptyFiles: true,
      minFileSize: 0,
      fileWriteStreamHandler: files.handler as never,
      // formidable reads a part without a Content-Type as a text field, but Python's requests and
      // several other clients send files that way. As in Starlette, a part with a filename is a file.
      onPart(part, handle) {
        if (part.originalFilename != null && !part.mimetype) part.mimetype = 'application/octet-stream';
        handle(part);
      },
    },
  });
  const json = koaBody({
    json: true,
    multipart: false,
    urlencoded: false,
    text: false,
    jsonLimit: maxBodyBytes,
    jsonStrict: true,
  });

  return async function readPayload(ctx: Context): Promise<Payload> {
    const declared = Number(ctx.get('content-length'));
    if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
    if (ctx.is('multipart/form-data')) {
      // formidable limits the bytes of files only; without a declared length checked above, a
      // multipart body of anything else would stream through it without end.
      if (!ctx.get('content-length')) {
        throw new ApiError(
          'length_required',
          'a multipart upload must declare its Content-Length; send the image as a raw image/* body to stream it',
        );
      }
      await parseWith(multipart, ctx, 'invalid_multipart');
      const file = theFile(ctx.request.files ?? {});
      const bytes = files.bytesOf(file);
      if (bytes.length === 0) throw new ApiError('empty_file', 'the uploaded file is empty (0 bytes)');
      return { form: 'multipart', bytes };
    }
    if (ctx.is('image/*')) {
      const bytes = await getRawBody(ctx.req, { limit: maxBodyBytes });
      if (bytes.length === 0) throw new ApiError('empty_file', 'the request body is empty (0 bytes)');
      return { form: 'raw', bytes };
    }
    if (ctx.is('application/json')) {
      await parseWith(json, ctx, 'invalid_json');
      const body: unknown = ctx.request.body;
      if (typeof body !== 'object' || body === null || !('pixels' in body)) {
        throw new ApiError('missing_pixels', 'the JSON body must be an object with a "pixels" array of 784 numbers');
      }
      return { form: 'json', pixels: (body as { pixels: unknown }).pixels };
    }
    throw new ApiError(
      'unsupported_media_type',
      `Content-Type "${ctx.get('content-type') || '(none)'}" is not accepted; send multipart/form-data with field "file", an image/* body, or application/json {"pixels": [...]}`,
    );
  };
}

/**
 * The one uploaded file: field `file` when present, otherwise whichever field holds it (users of
 * other clients send `image`, `upload_file` and the like). formidable refuses a second file.
 */
function theFile(files: Record<string, unknown>): object {
  const file = files['file'] ?? Object.values(files)[0];
  if (!file) throw new ApiError('missing_file', 'the multipart form holds no file; send the image in field "file"');
  if (Array.isArray(file)) throw new ApiError('too_many_files', 'send exactly one image in field "file"');
  return file as object;
}

/** Runs a koa-body parser; its errors become ours under `code` (error-mapping.ts reads them). */
async function parseWith(parser: ReturnType<typeof koaBody>, ctx: Context, code: ErrorCode): Promise<void> {
  try {
    await parser(ctx, async () => {});
  } catch (err) {
    throw parserError(err, code);
  }
}
