/**
 * Training's redrawing of a digit: always a normalised digit, the same for a seed, and each
 * distortion does what it says (a wider pen widens the strokes, blur and a small drawing take
 * detail away); without distortions it is the service's normalisation of the digit as it is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { digits } from '../../devkit/testing.ts';
import { seededRandom } from '../../devkit/random.ts';
import { greyImage, type GreyImage, normaliseDigit, strokeWidth } from '../../service/src/index.ts';
import { resizeBilinear } from '../../training/image-ops.ts';
import { DEFAULT_REDRAW, redrawDigit, type RedrawRange } from '../../training/redraw.ts';

const SAMPLE = digits(20, 11, 487).map(({ pixels }) => greyImage(28, 28, Float32Array.from(pixels)));
const digit = fc.constantFrom(...SAMPLE);
/** Every distortion applied, each neutral unless a test sets it. */
const only = (range: Partial<RedrawRange>): RedrawRange => ({
  chance: 1,
  penPx: [0, 0],
  blurSigma: [0, 0],
  drawingPx: [20, 20],
  ...range,
});
const redrawn = (img: GreyImage, range: Partial<RedrawRange>, seed = 1) =>
  redrawDigit(img, seededRandom(seed), only(range));
/** Sum of absolute differences between neighbours in a row: detail, on the 0..255 scale. */
const detail = ({ width: w, data }: GreyImage) =>
  data.reduce((sum, v, i) => (i % w === 0 ? sum : sum + Math.abs(v - data[i - 1]!)), 0);

describe('redrawing a training digit', () => {
  it('gives a normalised 28x28 digit (brightest pixel 255), the same for a seed', () => {
    fc.assert(
      fc.property(digit, fc.nat(), (img, seed) => {
        const out = redrawDigit(img, seededRandom(seed));
        assert.deepEqual([out.width, out.height], [28, 28]);
        assert.ok(out.data.every((v) => v >= 0 && v <= 255.001));
        assert.ok(Math.abs(Math.max(...out.data) - 255) < 1e-3);
        assert.deepEqual(redrawDigit(img, seededRandom(seed)), out);
      }),
      { numRuns: 60, seed: 1 },
    );
  });

  it('without distortions is the service normalising the digit as it is, not blurred by a redrawing', () => {
    for (const img of SAMPLE.slice(0, 5)) {
      const expected = normaliseDigit(img).digit;
      assert.notDeepEqual(normaliseDigit(resizeBilinear(img, 56, 56)).digit, expected);
      assert.deepEqual(redrawDigit(img, seededRandom(3), { ...DEFAULT_REDRAW, chance: 0 }), expected);
      assert.deepEqual(redrawn(img, {}), expected);
    }
  });

  it('widens the strokes with a wider pen; a thinner one changes the digit', () => {
    // The service thickens strokes thinner than MNIST's, so a thinner pen does not end thinner.
    for (const img of SAMPLE) {
      const [thin, same, thick] = [-1, 0, 2].map((pen) => redrawn(img, { penPx: [pen, pen] }));
      assert.ok(strokeWidth(thick!) > strokeWidth(same!), `pen +2: ${strokeWidth(thick!)} vs ${strokeWidth(same!)}`);
      assert.notDeepEqual(thin, same);
    }
  });

  it('takes detail away with blur and with a small drawing', () => {
    for (const img of SAMPLE) {
      const sharp = detail(redrawn(img, {}));
      assert.ok(detail(redrawn(img, { blurSigma: [1.5, 1.5] })) < sharp);
      assert.ok(detail(redrawn(img, { drawingPx: [8, 8] })) < sharp);
    }
  });

  it('falls back to the digit as it was when a thinner pen would erase it', () => {
    const dot = greyImage(28, 28);
    dot.data[14 * 28 + 14] = 60;
    const out = redrawn(dot, { penPx: [-3, -3] });
    assert.deepEqual(out, normaliseDigit(dot).digit);
  });
});
