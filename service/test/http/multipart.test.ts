/**
 * The multipart reader as a pure function, over the space of forms: forms encoded by Node's own
 * FormData (what fetch and undici send), and hand-built ones with the variations real clients
 * produce (no part Content-Type, a quoted boundary, a preamble, text fields around the file, file
 * bytes that look like a delimiter). The HTTP suites (api, hostile, multipart-fuzz, real-clients)
 * send such forms over real connections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fileFromForm } from '../../src/http/multipart.ts';
import { ApiError, type ErrorCode } from '../../src/http/errors.ts';

const bytes = fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a));
/** RFC 2046 boundary characters, without the space (a boundary may not end in one). */
const boundary = fc.stringMatching(/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/);
const fieldName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,20}$/);
const text = fc.string({ unit: 'grapheme', maxLength: 200 });

async function encodedByFormData(
  fields: [string, string][],
  at: number,
  file: Buffer,
  field: string,
): Promise<{ body: Buffer; type: string }> {
  const form = new FormData();
  fields.forEach(([name, value], i) => {
    if (i === at) form.append(field, new Blob([new Uint8Array(file)]), 'digit.png');
    form.append(name, value);
  });
  if (at >= fields.length) form.append(field, new Blob([new Uint8Array(file)]), 'digit.png');
  const response = new Response(form);
  return { body: Buffer.from(await response.arrayBuffer()), type: response.headers.get('content-type')! };
}

interface Part {
  headers: string[];
  content: Buffer;
}

function build(b: string, parts: Part[], preamble = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble)];
  for (const p of parts)
    chunks.push(Buffer.from(`--${b}\r\n${p.headers.join('\r\n')}\r\n\r\n`), p.content, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${b}--\r\n`));
  return Buffer.concat(chunks);
}

const filePart = (content: Buffer, field = 'file', type?: string): Part => ({
  headers: [
    `Content-Disposition: form-data; name="${field}"; filename="d.png"`,
    ...(type ? [`Content-Type: ${type}`] : []),
  ],
  content,
});
const textPart = (name: string, value: string | Buffer): Part => ({
  headers: [`Content-Disposition: form-data; name="${name}"`],
  content: Buffer.from(value),
});

function refusedWith(code: ErrorCode, run: () => unknown, message = /./): void {
  assert.throws(run, (err: unknown) => err instanceof ApiError && err.code === code && message.test(err.message));
}

describe('the multipart reader', () => {
  it("returns the file's exact bytes from any form Node's FormData encodes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fieldName, text), { maxLength: 10 }),
        fc.nat({ max: 10 }),
        bytes,
        fieldName,
        async (fields, at, file, field) => {
          const { body, type } = await encodedByFormData(fields, at, file, field);
          assert.deepEqual(fileFromForm(body, type), file);
        },
      ),
    );
  });

  it('returns the file from hand-built forms: any boundary, quoted or not, typed or not, with a preamble', () => {
    fc.assert(
      fc.property(
        boundary,
        fc.boolean(),
        fc.constantFrom(undefined, 'image/png', 'application/octet-stream', 'text/plain'),
        fc.constantFrom('', 'This is a multi-part message in MIME format.\r\n', '\r\n', 'not a delimiter: --{b}--\r\n'),
        bytes,
        fc.array(text, { maxLength: 4 }),
        (b, quoted, type, preambleText, file, notes) => {
          // A preamble may hold the boundary's text, as long as no line begins with it.
          const preamble = preambleText.replace('{b}', b);
          // File bytes that hold the boundary without a CRLF before it are still content.
          const content = Buffer.concat([file, Buffer.from(`--${b}`), file]);
          const parts = [...notes.map((n, i) => textPart(`note${i}`, n)), filePart(content, 'upload_file', type)];
          const contentType = `multipart/form-data; boundary=${quoted ? `"${b}"` : b}`;
          assert.deepEqual(fileFromForm(build(b, parts, preamble), contentType), content);
        },
      ),
    );
  });

  it('treats an application/octet-stream part without a filename as the file', () => {
    const part = { headers: ['Content-Disposition: form-data; name="file"', 'Content-Type: application/octet-stream'] };
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    assert.deepEqual(fileFromForm(build('b', [{ ...part, content: png }]), 'multipart/form-data; boundary=b'), png);
  });

  it('refuses two files, eleven fields, a field over 64 KiB and a form without a file', () => {
    const type = 'multipart/form-data; boundary=b';
    const png = Buffer.from('png');
    refusedWith('too_many_files', () => fileFromForm(build('b', [filePart(png), filePart(png, 'other')]), type));
    const fields = (n: number) => Array.from({ length: n }, (_, i) => textPart(`f${i}`, 'x'));
    assert.deepEqual(fileFromForm(build('b', [...fields(10), filePart(png)]), type), png);
    refusedWith(
      'too_many_fields',
      () => fileFromForm(build('b', [...fields(11), filePart(png)]), type),
      /^the form has too many fields$/,
    );
    refusedWith('too_many_fields', () => fileFromForm(build('b', [filePart(png), ...fields(11)]), type));
    refusedWith('too_many_fields', () => fileFromForm(build('b', fields(11)), type), /too many fields$/);
    assert.deepEqual(fileFromForm(build('b', [textPart('n', Buffer.alloc(64 * 1024)), filePart(png)]), type), png);
    refusedWith(
      'payload_too_large',
      () => fileFromForm(build('b', [textPart('n', Buffer.alloc(64 * 1024 + 1)), filePart(png)]), type),
      /^a form field is larger than the limit$/,
    );
    refusedWith('missing_file', () => fileFromForm(build('b', fields(2)), type));
  });

  it('refuses a cut-off, unterminated or foreign-boundary body, a missing boundary and a non-UTF-8 part header', () => {
    const type = 'multipart/form-data; boundary=b';
    const form = build('b', [filePart(Buffer.from('png'))]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: form.length - 3 }), (at) =>
        refusedWith('invalid_multipart', () => fileFromForm(form.subarray(0, at), type)),
      ),
    );
    refusedWith('invalid_multipart', () => fileFromForm(form, 'multipart/form-data; boundary=other'));
    refusedWith(
      'invalid_multipart',
      () => fileFromForm(form, 'multipart/form-data'),
      /^the multipart body cannot be parsed: the Content-Type has no boundary$/,
    );
    const header = Buffer.from('--b\r\nContent-Disposition: form-data; name="f\xe9"', 'latin1');
    const latin1 = Buffer.concat([header, form.subarray(3)]);
    refusedWith('invalid_multipart', () => fileFromForm(latin1, type));
  });
});
