import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { greyImage, rgbaToGrey, type GreyImage } from '../../src/imaging/grey-image.ts';
import {
  boundingBox,
  centreOfMass,
  crop,
  normaliseDigit,
  placeByCentreOfMass,
  strokeWidth,
  toInkOnBlack,
} from '../../src/imaging/normalise.ts';
import { dilate, padded, resizeArea, runningMax } from '../../src/imaging/raster.ts';
import { imageAt, loadMnist } from '../../../devkit/mnist/dataset.ts';
import { seededRandom, type Random } from '../../../devkit/random.ts';

/** A standard normal draw (Box-Muller). */
const gaussian = (random: Random) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** A canvas of `bg` with a filled rectangle of `ink`. */
function rectangle(
  w: number,
  h: number,
  box: { x: number; y: number; w: number; h: number },
  ink = 255,
  bg = 0,
): GreyImage {
  const img = greyImage(w, h, new Float32Array(w * h).fill(bg));
  for (let y = box.y; y < box.y + box.h; y++) for (let x = box.x; x < box.x + box.w; x++) img.data[y * w + x] = ink;
  return img;
}

const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};

describe('MNIST-style normalisation', () => {
  it("reports the crop box where it found the digit, in the picture's pixels", () => {
    const { crop } = normaliseDigit(rectangle(200, 150, { x: 50, y: 20, w: 40, h: 100 }));
    assert.deepEqual(crop, { x: 50, y: 20, width: 40, height: 100 });
    assert.equal(normaliseDigit(greyImage(30, 30, new Float32Array(900).fill(255))).crop, null);
  });

  it('scales a digit so its longer side is 20 px, keeping the aspect ratio', () => {
    const out = normaliseDigit(rectangle(200, 200, { x: 50, y: 20, w: 40, h: 100 })).digit;
    assert.equal(out.width, 28);
    const box = boundingBox(out)!;
    assert.equal(box.height, 20);
    assert.equal(box.width, 8);
  });

  it('centres the digit by its centre of mass at (14, 14)', () => {
    const out = normaliseDigit(rectangle(100, 80, { x: 3, y: 5, w: 30, h: 60 })).digit;
    const com = centreOfMass(out);
    assert.ok(Math.abs(com.x - 14) <= 0.5 && Math.abs(com.y - 14) <= 0.5, `centre of mass at ${com.x}, ${com.y}`);
  });

  it('inverts a dark digit on light paper, and gives the same result as the light-on-dark original', () => {
    const dark = normaliseDigit(rectangle(60, 60, { x: 10, y: 10, w: 10, h: 30 }, 20, 235)).digit;
    const light = normaliseDigit(rectangle(60, 60, { x: 10, y: 10, w: 10, h: 30 }, 255, 0)).digit;
    assert.ok(meanAbsDiff(dark.data, light.data) < 1, 'inverted input differs');
    assert.equal(Math.max(...dark.data), 255);
    assert.equal(dark.data[0], 0);
  });

  it('leaves an already-MNIST digit (nearly) unchanged', () => {
    const test = loadMnist('test');
    for (let i = 0; i < 50; i++) {
      const digit = imageAt(test, i);
      const out = normaliseDigit(greyImage(28, 28, Float32Array.from(digit))).digit;
      assert.ok(meanAbsDiff(out.data, digit) < 3, `digit ${i} changed by ${meanAbsDiff(out.data, digit)}`);
    }
  });

  it('finds the same digit shifted off-centre in a larger canvas', () => {
    const digit = imageAt(loadMnist('test'), 3);
    const canvas = greyImage(90, 70);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) canvas.data[(40 + y) * 90 + 55 + x] = digit[y * 28 + x]!;
    const out = normaliseDigit(canvas).digit;
    assert.ok(meanAbsDiff(out.data, digit) < 3, 'meanAbsDiff(out.data, digit) < 3');
  });

  it('thickens a hairline stroke drawn on a large canvas so it survives scaling down', () => {
    const thin = rectangle(600, 600, { x: 290, y: 50, w: 4, h: 500 });
    assert.ok(strokeWidth(thin) < 5, 'strokeWidth(thin) < 5');
    const out = normaliseDigit(thin).digit;
    const bright = out.data.filter((v) => v > 127).length;
    assert.ok(bright >= 20 * 2, `only ${bright} bright pixels: the stroke vanished`);
  });

  it('thickens a pen that needs exactly one more pixel each side as if it had drawn one pixel wider', () => {
    // 19x158 px: strokes 2 * 19 * 158 / (2 * 177) = 16.96 px wide where MNIST's would be
    // 2.5 * 158 / 20 = 19.75 px: one pixel each side (radius 1) gives the 21x160 bar below, which
    // is wide enough already.
    const pen = normaliseDigit(rectangle(200, 200, { x: 90, y: 20, w: 19, h: 158 })).digit;
    const wider = normaliseDigit(rectangle(200, 200, { x: 89, y: 19, w: 21, h: 160 })).digit;
    assert.deepEqual(pen, wider);
  });

  it('computes a running maximum in O(n) that equals the naive window, for any length and radius', () => {
    // Lengths and radii of every remainder modulo the block size 2r+1, and radii past the length.
    fc.assert(
      fc.property(
        fc.array(fc.nat(255), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 70 }),
        (values, r) => {
          const line = Float32Array.from(values);
          const naive = line.map((_, i) => Math.max(0, ...line.slice(Math.max(0, i - r), i + r + 1)));
          assert.deepEqual(runningMax(line, r), naive);
        },
      ),
      { numRuns: 400, seed: 5 },
    );
  });

  it('handles an extreme aspect ratio (a 60000x6 stroke) at bounded cost', () => {
    const out = normaliseDigit(rectangle(60000, 6, { x: 0, y: 2, w: 60000, h: 2 })).digit;
    const box = boundingBox(out)!;
    assert.equal(box.width, 20);
    assert.ok(box.height >= 1 && box.height <= 3, `height ${box.height}`);
  });

  it('cuts JPEG-like background noise to zero', () => {
    const noisy = rectangle(40, 40, { x: 15, y: 8, w: 8, h: 24 });
    for (let i = 0; i < noisy.data.length; i++) if (noisy.data[i] === 0) noisy.data[i] = (i * 7919) % 17;
    const ink = toInkOnBlack(noisy);
    assert.deepEqual(boundingBox(ink), { x: 15, y: 8, width: 8, height: 24 });
  });

  it('returns an all-zero field for a blank picture', () => {
    assert.ok(
      normaliseDigit(greyImage(30, 30, new Float32Array(900).fill(255))).digit.data.every((v) => v === 0),
      'normaliseDigit(greyImage(30, 30, new Float32Array(900).fill(255))).data.every((v) => v === 0)',
    );
  });

  it('finds no digit on paper with nothing on it, whatever its level, noise and size', () => {
    const paper = fc.record({
      width: fc.integer({ min: 8, max: 400 }),
      height: fc.integer({ min: 8, max: 400 }),
      level: fc.integer({ min: 0, max: 255 }),
      sigma: fc.double({ min: 0, max: 40, noNaN: true }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(paper, ({ width, height, level, sigma, seed }) => {
        const random = seededRandom(seed);
        const data = Float32Array.from({ length: width * height }, () =>
          Math.min(255, Math.max(0, level + sigma * gaussian(random))),
        );
        assert.equal(normaliseDigit(greyImage(width, height, data)).crop, null);
      }),
      { numRuns: 60, seed: 35 },
    );
  });

  it('finds a faint digit whose ink stands out from the paper’s noise, and no speck of a pixel or two', () => {
    const test = loadMnist('test');
    const random = seededRandom(5);
    for (const [contrast, sigma] of [
      [40, 0],
      [60, 3],
      [160, 10],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        const faint = Float32Array.from(imageAt(test, i), (v) =>
          Math.min(255, Math.max(0, 230 - (v / 255) * contrast + sigma * gaussian(random))),
        );
        assert.notEqual(normaliseDigit(greyImage(28, 28, faint)).crop, null, `digit ${i}, ${contrast} on ${sigma}`);
      }
    }
    for (const speck of [
      { x: 0, y: 0, w: 1, h: 1 },
      { x: 14, y: 3, w: 2, h: 2 },
    ]) {
      assert.equal(normaliseDigit(rectangle(28, 28, speck)).crop, null, JSON.stringify(speck));
    }
    assert.notEqual(normaliseDigit(rectangle(28, 28, { x: 14, y: 3, w: 1, h: 3 })).crop, null, 'a 1x3 stroke is ink');
  });

  it('area-resamples exactly: a 2x2 block averages to one pixel', () => {
    const out = resizeArea(greyImage(2, 2, Float32Array.from([0, 100, 200, 100])), 1, 1);
    assert.equal(out.data[0], 100);
  });

  it('composites transparent pixels onto paper that contrasts with the ink', () => {
    // Black ink on a transparent canvas, as drawing apps export it.
    const rgba = new Uint8Array(4 * 4);
    rgba.set([0, 0, 0, 255], 0);
    const grey = rgbaToGrey(rgba, 2, 2);
    assert.deepEqual([...grey.data], [0, 255, 255, 255]);
  });
});

/** A small image of random intensities, zero in most places (ink is sparse). */
const sparseImage = fc
  .record({ width: fc.integer({ min: 1, max: 24 }), height: fc.integer({ min: 1, max: 24 }), seed: fc.nat() })
  .map(({ width, height, seed }) =>
    greyImage(
      width,
      height,
      Float32Array.from({ length: width * height }, (_, i) => {
        const r = ((i + 1) * 2654435761 + seed * 40503) % 1000;
        return r < 150 ? (r * 17) % 256 : 0;
      }),
    ),
  );
const at = (img: GreyImage, x: number, y: number) =>
  x >= 0 && y >= 0 && x < img.width && y < img.height ? img.data[y * img.width + x]! : 0;

describe('each normalisation step against a naive reference', () => {
  it('boundingBox: the smallest box holding every non-zero pixel, null when there is none', () => {
    fc.assert(
      fc.property(sparseImage, (img) => {
        const inked = [...img.data.keys()].filter((i) => img.data[i]! > 0);
        const xs = inked.map((i) => i % img.width);
        const ys = inked.map((i) => Math.floor(i / img.width));
        const expected = inked.length
          ? {
              x: Math.min(...xs),
              y: Math.min(...ys),
              width: Math.max(...xs) - Math.min(...xs) + 1,
              height: Math.max(...ys) - Math.min(...ys) + 1,
            }
          : null;
        assert.deepEqual(boundingBox(img), expected);
      }),
      { numRuns: 200, seed: 1 },
    );
  });

  it('toInkOnBlack: the paper the upper median of the border, the ink stretched to 255, the border noise cut', () => {
    // Levels from a few values, so that the border's median often sits on a tie.
    const picture = fc
      .record({ width: fc.integer({ min: 2, max: 12 }), height: fc.integer({ min: 2, max: 12 }) })
      .chain(({ width, height }) =>
        fc
          .array(
            fc.oneof(fc.constantFrom(0, 30, 127, 127.5, 128, 200, 255), fc.float({ min: 0, max: 255, noNaN: true })),
            {
              minLength: width * height,
              maxLength: width * height,
            },
          )
          .map((values) => greyImage(width, height, Float32Array.from(values))),
      );
    const quantileOf = (values: number[], q: number) =>
      [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;
    fc.assert(
      fc.property(picture, (img) => {
        const { width: w, height: h } = img;
        const border = [...img.data.keys()].filter((i) => {
          const [x, y] = [i % w, Math.floor(i / w)];
          return x === 0 || y === 0 || x === w - 1 || y === h - 1;
        });
        const paper = quantileOf(
          border.map((i) => img.data[i]!),
          0.5,
        );
        let ink = Array.from(img.data, (v) => Math.max(0, paper > 127.5 ? paper - v : v - paper));
        const peak = Math.max(...ink);
        const deviation = quantileOf(
          border.map((i) => Math.abs(img.data[i]! - paper)),
          0.75,
        );
        // Ink that does not stand out from the paper and its noise is none.
        if (peak < Math.max(10, 10 * deviation)) ink = ink.map(() => 0);
        else {
          ink = ink.map((v) => (v * 255) / peak);
          const noise = quantileOf(
            border.map((i) => ink[i]!),
            0.9,
          );
          const floor = Math.min(2 * noise, 128);
          ink = ink.map((v) => (v <= floor ? 0 : ((v - floor) * 255) / (255 - floor)));
        }
        const out = toInkOnBlack(img);
        assert.ok(
          ink.every((v, i) => Math.abs(v - out.data[i]!) < 1e-2),
          `expected ${ink.join()}\ngot ${[...out.data].join()}`,
        );
      }),
      { numRuns: 300, seed: 21 },
    );
    // A picture of one level has no ink: all zeros, not 0/0.
    for (const level of [0, 90, 255]) {
      assert.ok(
        toInkOnBlack(greyImage(5, 3, new Float32Array(15).fill(level))).data.every((v) => v === 0),
        `${level}`,
      );
    }
  });

  it('crop and padded: pixels copied to their place', () => {
    fc.assert(
      fc.property(sparseImage, fc.nat(5), (img, margin) => {
        const box = { x: Math.floor(img.width / 3), y: Math.floor(img.height / 4), width: 0, height: 0 };
        box.width = img.width - box.x;
        box.height = img.height - box.y;
        const cut = crop(img, box);
        assert.deepEqual([cut.width, cut.height], [box.width, box.height]);
        for (let y = 0; y < box.height; y++)
          for (let x = 0; x < box.width; x++) assert.equal(at(cut, x, y), at(img, box.x + x, box.y + y));
        const pad = padded(img, margin);
        assert.deepEqual([pad.width, pad.height], [img.width + 2 * margin, img.height + 2 * margin]);
        for (let y = 0; y < pad.height; y++)
          for (let x = 0; x < pad.width; x++) assert.equal(at(pad, x, y), at(img, x - margin, y - margin));
      }),
      { numRuns: 100, seed: 2 },
    );
  });

  it('dilate: the maximum over a (2r+1)-pixel square, the image itself for r < 1', () => {
    fc.assert(
      fc.property(sparseImage, fc.integer({ min: 0, max: 4 }), (img, r) => {
        const out = dilate(img, r);
        if (r < 1) return assert.equal(out, img);
        for (let y = 0; y < img.height; y++) {
          for (let x = 0; x < img.width; x++) {
            let max = 0;
            for (let dy = -r; dy <= r; dy++)
              for (let dx = -r; dx <= r; dx++) max = Math.max(max, at(img, x + dx, y + dy));
            assert.equal(at(out, x, y), max);
          }
        }
      }),
      { numRuns: 150, seed: 3 },
    );
  });

  it('resizeArea: every output pixel the mean of the source area it covers, at any scale', () => {
    fc.assert(
      fc.property(sparseImage, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), (img, w, h) => {
        const out = resizeArea(img, w, h);
        assert.deepEqual([out.width, out.height], [w, h]);
        // Supersampling each pixel on a fine grid approximates the exact area mean.
        const n = 24;
        const sx = img.width / w;
        const sy = img.height / h;
        for (let oy = 0; oy < h; oy++) {
          for (let ox = 0; ox < w; ox++) {
            let sum = 0;
            for (let j = 0; j < n; j++)
              for (let i = 0; i < n; i++)
                sum += at(img, Math.floor((ox + (i + 0.5) / n) * sx), Math.floor((oy + (j + 0.5) / n) * sy));
            assert.ok(Math.abs(at(out, ox, oy) - sum / (n * n)) < 256 / n + 1e-3, `pixel ${ox},${oy}`);
          }
        }
        const mass = (g: GreyImage) => g.data.reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(mass(out) * sx * sy - mass(img)) < 1e-3 * (1 + mass(img)), 'the total ink is kept');
      }),
      { numRuns: 100, seed: 4 },
    );
  });

  it('centreOfMass: the intensity-weighted mean position, the middle of an empty image', () => {
    fc.assert(
      fc.property(sparseImage, (img) => {
        let mass = 0;
        let mx = 0;
        let my = 0;
        img.data.forEach((v, i) => {
          mass += v;
          mx += v * (i % img.width);
          my += v * Math.floor(i / img.width);
        });
        const com = centreOfMass(img);
        const expected = mass ? { x: mx / mass, y: my / mass } : { x: (img.width - 1) / 2, y: (img.height - 1) / 2 };
        assert.ok(Math.abs(com.x - expected.x) < 1e-6 && Math.abs(com.y - expected.y) < 1e-6);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it('placeByCentreOfMass: the whole digit in the field, its centre of mass as near (14, 14) as fits', () => {
    fc.assert(
      fc.property(sparseImage, (img) => {
        const field = placeByCentreOfMass(img);
        const sum = (g: GreyImage) => g.data.reduce((s, v) => s + v, 0);
        assert.equal(sum(field), sum(img), 'no ink lost');
        if (sum(img) === 0) return;
        const before = centreOfMass(img);
        const after = centreOfMass(field);
        const shift = { x: after.x - before.x, y: after.y - before.y };
        assert.ok(Number.isInteger(Math.round(shift.x * 1e6) / 1e6), 'shifted by whole pixels');
        const best = (c: number, side: number) => Math.max(0, Math.min(28 - side, Math.round(14 - c)));
        assert.ok(Math.abs(shift.x - best(before.x, img.width)) < 1e-6, `x shift ${shift.x}`);
        assert.ok(Math.abs(shift.y - best(before.y, img.height)) < 1e-6, `y shift ${shift.y}`);
      }),
      { numRuns: 200, seed: 6 },
    );
  });

  it('strokeWidth: 2 * area / perimeter of the ink above half intensity, exact for a rectangle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), (w, h) => {
        const band = rectangle(w + 4, h + 4, { x: 2, y: 2, w, h }, 128);
        assert.ok(Math.abs(strokeWidth(band) - (2 * w * h) / (2 * w + 2 * h)) < 1e-9);
        assert.equal(strokeWidth(rectangle(w + 4, h + 4, { x: 2, y: 2, w, h }, 127.5)), 0, 'half intensity is no ink');
        // Touching the image's edge: outside counts as paper.
        assert.ok(Math.abs(strokeWidth(rectangle(w, h, { x: 0, y: 0, w, h })) - (2 * w * h) / (2 * w + 2 * h)) < 1e-9);
      }),
      { numRuns: 100, seed: 7 },
    );
    // Any shape: each inked pixel counts its sides that face paper or the picture's edge.
    const inked = (img: GreyImage, x: number, y: number) => at(img, x, y) > 127.5;
    fc.assert(
      fc.property(sparseImage, (img) => {
        let [area, perimeter] = [0, 0];
        for (let y = 0; y < img.height; y++) {
          for (let x = 0; x < img.width; x++) {
            if (!inked(img, x, y)) continue;
            area++;
            perimeter += [
              [x - 1, y],
              [x + 1, y],
              [x, y - 1],
              [x, y + 1],
            ].filter(([nx, ny]) => !inked(img, nx!, ny!)).length;
          }
        }
        assert.equal(strokeWidth(img), perimeter === 0 ? 0 : (2 * area) / perimeter);
      }),
      { numRuns: 200, seed: 8 },
    );
  });

  it('normaliseDigit: a picture with any ink gives a field whose brightest pixel is 255, small digits grown to 20 px', () => {
    fc.assert(
      fc.property(sparseImage, (img) => {
        const { digit } = normaliseDigit(img);
        const ink = boundingBox(toInkOnBlack(img));
        if (ink && Math.max(ink.width, ink.height) >= 3) {
          assert.equal(Math.max(...digit.data), 255);
          const box = boundingBox(digit)!;
          assert.ok(Math.max(box.width, box.height) <= 20 + 1, `box ${box.width}x${box.height}`);
        }
      }),
      { numRuns: 200, seed: 8 },
    );
    const small = normaliseDigit(rectangle(30, 30, { x: 10, y: 10, w: 3, h: 6 })).digit;
    assert.deepEqual(
      [boundingBox(small)!.width, boundingBox(small)!.height],
      [10, 20],
      'a 3x6 digit is scaled up to 10x20',
    );
  });
});
