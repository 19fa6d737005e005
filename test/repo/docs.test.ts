/**
 * The documentation stays true: the generated reference pages match the code (and a change to the
 * code without regenerating is caught), every catalogued error is one the service raises, and
 * every relative link in the README and docs/ resolves.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { configSchema, ERRORS, openApiDocument } from '../../service/src/index.ts';
import { stalePages } from '../../scripts/docs/main.ts';
import { DASHBOARDS } from '../../grafana/src/dashboards.ts';
import {
  referencePages,
  renderConfiguration,
  renderErrors,
  renderMetrics,
  replicaRegistry,
} from '../../scripts/docs/references.ts';

const tracked = (pattern: string): string[] =>
  execFileSync('git', ['ls-files', '--', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean);

describe('generated reference pages', () => {
  it('match what the code generates', async () => {
    assert.deepEqual(stalePages(await referencePages()), []);
  });

  it('pass npm run docs -- --check', () => {
    const check = spawnSync('npm', ['run', '-s', 'docs', '--', '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /up to date/);
  });

  it('go stale when an error code is added without regenerating', () => {
    const errors = { ...ERRORS, teapot: { status: 418, when: 'a new code nobody documented' } };
    assert.deepEqual(stalePages({ 'reference/errors.md': renderErrors(errors) }), ['reference/errors.md']);
  });

  it('go stale when a configuration variable is added without regenerating', () => {
    const schema = configSchema.extend({ NEW_KNOB: z.string().default('x').describe('a new knob') });
    assert.deepEqual(stalePages({ 'reference/configuration.md': renderConfiguration(schema) }), [
      'reference/configuration.md',
    ]);
  });

  it('go stale when a metric is added without regenerating', async () => {
    const registry = replicaRegistry();
    new Counter({ name: 'mnist_new_things_total', help: 'A new metric.', registers: [registry] });
    assert.deepEqual(stalePages({ 'reference/metrics.md': await renderMetrics(registry) }), ['reference/metrics.md']);
  });
});

describe('the error catalogue', () => {
  it('holds only codes the service raises somewhere', () => {
    const source = readdirSync('service/src', { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && f !== join('http', 'errors.ts'))
      .map((f) => readFileSync(join('service/src', f), 'utf8'))
      .join('\n');
    const unused = Object.keys(ERRORS).filter((code) => !source.includes(`'${code}'`));
    assert.deepEqual(unused, [], 'catalogued but never raised');
  });

  it("is what the OpenAPI document's error responses describe", () => {
    const doc = openApiDocument('test') as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    };
    const described = JSON.stringify(doc.paths);
    for (const [code, { status }] of Object.entries(ERRORS)) {
      if (['not_found', 'not_implemented', 'client_closed_request'].includes(code)) continue;
      assert.ok(described.includes(`\`${code}\``), `${code} (${status}) is in the OpenAPI document`);
    }
  });
});

describe('panels named in the docs', () => {
  it("are the dashboards' own: every **Row → Panel** is a panel of that row", () => {
    const panels = new Set(
      Object.values(DASHBOARDS).flatMap((d) =>
        d.rows.flatMap((row) => row.panels.map((p) => `${row.title} → ${p.title}`)),
      ),
    );
    const pages = ['README.md', ...tracked('docs/*.md')];
    const named = pages.flatMap((page) =>
      [...readFileSync(page, 'utf8').matchAll(/\*\*([^*\n]+ → [^*\n]+)\*\*/g)].map((m) => ({ page, name: m[1]! })),
    );
    assert.ok(named.length >= 8, `${named.length} panels named`);
    assert.deepEqual(
      named.filter(({ name }) => !panels.has(name)).map(({ page, name }) => `${page}: ${name}`),
      [],
    );
  });
});

describe('README and docs/', () => {
  const pages = ['README.md', ...tracked('docs/*.md'), ...tracked('*/README.md')];

  it('link only to files that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(page, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
        const path = join(dirname(page), decodeURIComponent(target!.split('#')[0]!));
        if (!existsSync(path)) broken.push(`${page} -> ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('assume no reader saw the project history', () => {
    // Built from parts, so that this file does not match its own search.
    const history = ['DESIGN', '\\.md|the ', 'ancestor'].join('');
    const grep = spawnSync('git', ['grep', '-nIiE', history], { encoding: 'utf8' });
    assert.equal(grep.stdout, '');
  });
});
