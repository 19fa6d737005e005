/**
 * The drift rules' constants are MNIST's training set's: each digit's share, and its digits' mean
 * ink share and ink-centre offset as the replicas measure them (service/src/metrics/input-features.ts).
 * (What the rules do is promtool's part: prometheus/tests/drift.test.yml.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { parse } from 'yaml';
import { inputFeatures, scaleToUnit } from '../../service/src/index.ts';
import { imageAt, loadMnist } from '../../devkit/mnist/dataset.ts';

type Rule = { record?: string; expr: string; labels?: Record<string, string> };
const rules = (
  parse(readFileSync('prometheus/rules/mnist-drift.yml', 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const constant = (rule: Rule) => Number(/^vector\(([\d.]+)\)$/.exec(rule.expr.trim())![1]);

it("holds MNIST's training set in the drift rules' constants", () => {
  const train = loadMnist('train');
  const counts = new Array<number>(10).fill(0);
  let [ink, offset] = [0, 0];
  for (let i = 0; i < train.count; i++) {
    counts[train.labels[i]!]!++;
    const f = inputFeatures(scaleToUnit(imageAt(train, i)));
    ink += f.inkFraction;
    offset += f.centreOffset;
  }
  const shares = rules.filter((r) => r.record === 'training:mnist_class_share:ratio');
  assert.deepEqual(
    shares.map((r) => [r.labels!.digit, constant(r)]),
    counts.map((c, d) => [String(d), Number((c / train.count).toFixed(4))]),
  );
  const one = (name: string) => constant(rules.find((r) => r.record === name)!);
  assert.equal(one('training:mnist_input_ink_fraction:mean'), Number((ink / train.count).toFixed(4)));
  assert.equal(one('training:mnist_input_centre_offset_pixels:mean'), Number((offset / train.count).toFixed(3)));
});
