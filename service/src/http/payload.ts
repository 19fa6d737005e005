/**
 * Reads the body of POST /predict in whichever of the three accepted forms it comes:
 * multipart/form-data with the image in field `file` (`curl -F file=@digit.png`),
 * a raw `image/*` body, or JSON `{"pixels": [...]}`. Everything stays in memory within the body
 * limit: no temporary files.
 */
import type { Context } from 'koa';
import { koaBody } from 'koa-body';
import getRawBody from 'raw-body';
import { parserError, tooLarge } from './error-mapping.ts';
import { ApiError, type ErrorCode } from './errors.ts';
import { fileFromForm } from './multipart.ts';

export type Payload = { form: 'multipart' | 'raw'; bytes: Buffer } | { form: 'json'; pixels: unknown };

export function createPayloadReader(maxBodyBytes: number) {
  const json = koaBody({
    json: true,
    // Stryker disable next-line BooleanLiteral: only JSON bodies reach this parser
    multipart: false,
    // Stryker disable next-line BooleanLiteral: only JSON bodies reach this parser
    urlencoded: false,
    // Stryker disable next-line BooleanLiteral: only JSON bodies reach this parser
    text: false,
    jsonLimit: maxBodyBytes,
    jsonStrict: true,
  });

  /** A JSON body (the Open Inference Protocol's requests), within the same limit. */
  async function readJson(ctx: Context): Promise<unknown> {
    if (!ctx.is('application/json')) {
      throw new ApiError('unsupported_media_type', 'send the inference request as application/json');
    }
    await parseWith(json, ctx, 'invalid_json');
    return ctx.request.body;
  }

  async function readPayload(ctx: Context): Promise<Payload> {
    const declared = Number(ctx.get('content-length'));
    if (declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
    if (ctx.is('multipart/form-data')) {
      // The contract asks a form to declare its length: it is checked against the limit before a
      // byte is read, and the body, read whole and then parsed, must be that long.
      if (!ctx.get('content-length')) {
        throw new ApiError(
          'length_required',
          'a multipart upload must declare its Content-Length; send the image as a raw image/* body to stream it',
        );
      }
      const body = await readBody(ctx, maxBodyBytes);
      const bytes = fileFromForm(body, ctx.get('content-type'));
      if (bytes.length === 0) throw new ApiError('empty_file', 'the uploaded file is empty (0 bytes)');
      return { form: 'multipart', bytes };
    }
    if (ctx.is('image/*')) {
      const bytes = await readBody(ctx, maxBodyBytes);
      if (bytes.length === 0) throw new ApiError('empty_file', 'the request body is empty (0 bytes)');
      return { form: 'raw', bytes };
    }
    if (ctx.is('application/json')) {
      await parseWith(json, ctx, 'invalid_json');
      // Strict JSON parses to nothing but an object or an array.
      const body = ctx.request.body as object;
      if (!('pixels' in body)) {
        throw new ApiError('missing_pixels', 'the JSON body must be an object with a "pixels" array of 784 numbers');
      }
      return { form: 'json', pixels: (body as { pixels: unknown }).pixels };
    }
    throw new ApiError(
      'unsupported_media_type',
      `Content-Type "${ctx.get('content-type') || '(none)'}" is not accepted; send multipart/form-data with field "file", an image/* body, or application/json {"pixels": [...]}`,
    );
  }

  return { readPayload, readJson };
}

/** The whole body, at most `limit` bytes. */
async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(ctx.req, { limit });
  } catch (err) {
    // Too large or cut short by its client; Node's HTTP parser already framed it to its length.
    // Stryker disable next-line StringLiteral: raw-body has no other error behind Node's HTTP parser
    throw parserError(err, 'bad_request');
  }
}

/** Runs a koa-body parser; its errors become ours under `code` (error-mapping.ts reads them). */
async function parseWith(parser: ReturnType<typeof koaBody>, ctx: Context, code: ErrorCode): Promise<void> {
  try {
    await parser(ctx, async () => {});
  } catch (err) {
    throw parserError(err, code);
  }
}
