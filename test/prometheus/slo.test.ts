/**
 * The entry point's SLOs: prometheus/rules/mnist-slo.yml is what prometheus/slo/slos.yaml
 * generates, the spec is checked before anything is written, and its SLIs read metrics that exist.
 * (What the rules do is promtool's part: prometheus/tests/slo*.test.yml.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { replicaRegistry } from '../../scripts/docs/references.ts';
import { readSloSpec, SLO_RULES } from '../../prometheus/slo/generate.ts';
import { renderSloRules, sloSpecSchema, WINDOWS, BURN_ALERTS } from '../../prometheus/slo/rules.ts';

describe('the SLO rules', () => {
  const spec = readSloSpec();

  it('are what the spec generates (npm run slo)', () => {
    assert.equal(readFileSync(SLO_RULES, 'utf8'), renderSloRules(spec));
  });

  it('record every window an alert reads, and the period', () => {
    const read = new Set(BURN_ALERTS.flatMap((a) => [a.long, a.short]));
    assert.deepEqual(new Set(WINDOWS), read);
    const text = renderSloRules(spec);
    for (const window of [...WINDOWS, spec.period])
      assert.match(text, new RegExp(`record: slo:sli_error:ratio_rate${window}\n`));
  });

  it('refuses a spec with an impossible objective, an SLI without its window, or an unknown key', () => {
    const slo = spec.slos[0]!;
    for (const broken of [
      { ...spec, slos: [{ ...slo, objective: 100 }] },
      { ...spec, slos: [{ ...slo, errors: 'sum(rate(x[5m]))' }] },
      { ...spec, slos: [{ ...slo, target: 99 }] },
      { ...spec, period: '30 days' },
      { ...spec, slos: [] },
    ]) {
      assert.equal(sloSpecSchema.safeParse(broken).success, false, JSON.stringify(broken).slice(0, 120));
    }
  });

  it("reads only the replicas' metrics that exist, HAProxy's frontend counters and the probe's result", () => {
    const declared = new Set(
      replicaRegistry()
        .getMetricsAsArray()
        .map((m) => m.name),
    );
    for (const slo of spec.slos) {
      for (const name of `${slo.errors} ${slo.total}`.match(/\b[a-z_]+(?=\{)/g) ?? []) {
        // HAProxy's (its exporter's names) and the blackbox exporter's (test/prometheus/blackbox.test.ts).
        if (name.startsWith('haproxy_frontend_') || name === 'probe_success') continue;
        const base = name.replace(/_(count|bucket|sum)$/, '');
        assert.ok(declared.has(name) || declared.has(base), `${slo.name}: ${name} is no replica metric`);
      }
    }
  });
});
