import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { greyImage, rgbaToGrey, type GreyImage } from '../../src/imaging/grey-image.ts';
import {
  boundingBox,
  centreOfMass,
  normaliseDigit,
  resizeArea,
  runningMax,
  strokeWidth,
  toInkOnBlack,
} from '../../src/imaging/normalise.ts';
import { imageAt, loadMnist } from '../../../devkit/mnist/dataset.ts';

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

  it('computes a running maximum in O(n) that equals the naive window, for any radius', () => {
    const line = Float32Array.from({ length: 57 }, (_, i) => (i * 7919) % 101);
    for (const r of [1, 2, 5, 13, 56, 200]) {
      const naive = line.map((_, i) => Math.max(0, ...line.slice(Math.max(0, i - r), i + r + 1)));
      assert.deepEqual(runningMax(line, r), naive, `radius ${r}`);
    }
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
