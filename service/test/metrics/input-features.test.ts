/** The drift features: bounded for any input, and they move as the picture does. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { inputFeatures } from '../../src/metrics/input-features.ts';
import { MNIST_PIXELS, scaleToUnit } from '../../src/mnist.ts';
import { digits } from '../../../devkit/testing.ts';

it('gives an ink share in [0, 1] and an offset within the picture for any input', () => {
  fc.assert(
    fc.property(
      fc.float32Array({ minLength: MNIST_PIXELS, maxLength: MNIST_PIXELS, min: 0, max: 1, noNaN: true }),
      (x) => {
        const f = inputFeatures(x);
        assert.ok(f.inkFraction >= 0 && f.inkFraction <= 1);
        assert.ok(f.centreOffset >= 0 && f.centreOffset <= Math.hypot(13.5, 13.5) + 1e-9);
      },
    ),
  );
  assert.deepEqual(inputFeatures(new Float32Array(MNIST_PIXELS)), { inkFraction: 0, centreOffset: 0 });
});

it('moves the centre offset by the pixels a digit is shifted, and keeps its ink share', () => {
  for (const d of digits(20, 40, 31)) {
    const input = scaleToUnit(d.pixels);
    const shifted = new Float32Array(MNIST_PIXELS);
    // Three pixels to the right; MNIST's digits leave at least four blank columns on each side.
    for (let i = 0; i < MNIST_PIXELS; i++) if (i % 28 < 25) shifted[i + 3] = input[i]!;
    const [a, b] = [inputFeatures(input), inputFeatures(shifted)];
    assert.equal(b.inkFraction, a.inkFraction);
    assert.ok(b.centreOffset >= 3 - a.centreOffset - 1e-6 && b.centreOffset <= 3 + a.centreOffset + 1e-6);
  }
});

it("finds MNIST's test digits where its training digits are: ink about 13%, centre within 1.5 px", () => {
  const features = digits(500, 0, 19).map((d) => inputFeatures(scaleToUnit(d.pixels)));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(mean(features.map((f) => f.inkFraction)) - 0.132) < 0.01);
  assert.ok(mean(features.map((f) => f.centreOffset)) < 1.5);
});
