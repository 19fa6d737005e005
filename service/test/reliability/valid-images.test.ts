/**
 * The space of valid pictures: any size from 8 to 2000 pixels a side, every format and layout the
 * service accepts (devkit/image-variants.ts), a digit drawn anywhere in it, sent raw or in a
 * multipart form over real HTTP. Each must be answered 200 with a digit. A size or limit computed
 * in floating point (the JPEG limit that refused 280x280) fails here on the sizes it gets wrong.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeVariant, mediaTypeOf, VARIANTS, type Drawing, type Variant } from '../../../devkit/image-variants.ts';
import { digits, startTestReplica } from '../../../devkit/testing.ts';

/** A fraction from 0 to 1, spread evenly (fc.double crowds its values near 0). */
const fraction = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000);

const RUNS = Number(process.env.VALID_IMAGE_RUNS ?? 3000);
/** A fixed seed, so that a run is repeatable; VALID_IMAGE_SEED explores other pictures. */
const SEED = Number(process.env.VALID_IMAGE_SEED ?? 20261201);
/**
 * Above the largest picture drawn here (an uncompressed 2000x2000 BMP is 16 MB): the pictures
 * must be valid, and one larger than the body limit is not (MAX_BODY_BYTES, 8 MiB by default).
 */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Mostly small pictures (a canvas, a thumbnail), some large ones (a photo), up to 2000. */
const side = fc.oneof(
  { arbitrary: fc.integer({ min: 8, max: 64 }), weight: 5 },
  { arbitrary: fc.integer({ min: 65, max: 512 }), weight: 3 },
  { arbitrary: fc.integer({ min: 513, max: 2000 }), weight: 1 },
);
const shade = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.integer({ min, max }));

const picture = fc
  .record({
    variant: fc.constantFrom(...VARIANTS),
    width: side,
    height: side,
    at: fc.tuple(fraction, fraction),
    size: fraction.map((f) => 0.4 + 0.6 * f),
    darkInk: fc.boolean(),
    light: shade(190, 255),
    dark: shade(0, 60),
    interlaced: fc.boolean(),
    transparentPaper: fc.boolean(),
    digit: fc.integer({ min: 0, max: 99 }),
    multipart: fc.boolean(),
  })
  .map((p) => {
    const boxSide = Math.max(6, Math.floor(p.size * Math.min(p.width, p.height)));
    const drawing: Omit<Drawing, 'digit'> = {
      width: p.width,
      height: p.height,
      box: {
        x: Math.floor(p.at[0] * (p.width - boxSide)),
        y: Math.floor(p.at[1] * (p.height - boxSide)),
        side: boxSide,
      },
      paper: p.darkInk ? p.light : p.dark,
      ink: p.darkInk ? p.dark : p.light,
      interlaced: p.interlaced,
      transparentPaper: p.transparentPaper,
    };
    return { variant: p.variant as Variant, drawing, digit: p.digit, multipart: p.multipart };
  });

const SAMPLE = digits(100, 0, 97);

describe('every valid picture', () => {
  let replica: Awaited<ReturnType<typeof startTestReplica>>;
  before(async () => {
    replica = await startTestReplica({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  });
  after(async () => {
    await replica.stop();
  });

  it(`gets 200 and a digit: ${RUNS} pictures of random size, format and layout`, async (t) => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(picture, async ({ variant, drawing, digit, multipart }) => {
        const bytes = new Uint8Array(await encodeVariant(variant, { ...drawing, digit: SAMPLE[digit]!.pixels }));
        assert.ok(bytes.length < MAX_BODY_BYTES - 1024, `${variant}: ${bytes.length} bytes, over the body limit`);
        const type = mediaTypeOf(variant);
        let body: BodyInit = bytes;
        const headers: Record<string, string> = {};
        if (multipart) {
          body = new FormData();
          body.append('file', new Blob([bytes], { type }), `picture.${variant.split('-')[0]}`);
        } else headers['content-type'] = type;
        const res = await fetch(`${replica.url}/predict`, { method: 'POST', headers, body });
        const answer = (await res.json()) as { digit?: number };
        assert.equal(res.status, 200, `${variant} ${drawing.width}x${drawing.height}: ${JSON.stringify(answer)}`);
        assert.ok(Number.isInteger(answer.digit) && answer.digit! >= 0 && answer.digit! <= 9);
        seen.set(variant, (seen.get(variant) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    t.diagnostic(`${RUNS} pictures answered 200; by variant: ${JSON.stringify(Object.fromEntries(seen))}`);
    assert.equal(seen.size, VARIANTS.length, 'every variant was tried');
  });
});
