import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { namedReplicas } from '../../devkit/compose-topology.ts';
import { installed, requireTool } from '../../devkit/testing.ts';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
}

describe('prometheus/prometheus.yml', () => {
  const promtool = (t: { skip: (why: string) => void }, ...args: string[]): string | null => {
    if (!requireTool(installed('promtool'), 'promtool', t)) return null;
    return execFileSync('promtool', args, { encoding: 'utf8' });
  };

  it('passes promtool check config (which also loads the rule files)', (t) => {
    const out = promtool(t, 'check', 'config', 'prometheus/prometheus.yml');
    if (out !== null) assert.match(out, /SUCCESS: \d+ rules found/);
  });

  it('has rules that pass promtool check rules', (t) => {
    const files = readdirSync('prometheus/rules').map((f) => `prometheus/rules/${f}`);
    const out = promtool(t, 'check', 'rules', ...files);
    if (out !== null) assert.equal(out.match(/SUCCESS/g)?.length, files.length);
  });

  it('has alerts that fire on crafted series and stay quiet on healthy ones (promtool test rules)', (t) => {
    const tests = readdirSync('prometheus/tests').map((f) => `prometheus/tests/${f}`);
    const out = promtool(t, 'test', 'rules', ...tests);
    if (out !== null) assert.match(out, /SUCCESS/);
  });

  it('scrapes every named replica under its name, the load balancer, node-exporter and itself', () => {
    const config = parseYaml(readFileSync('prometheus/prometheus.yml', 'utf8')) as { scrape_configs: ScrapeConfig[] };
    const jobs = Object.fromEntries(config.scrape_configs.map((j) => [j.job_name, j.static_configs]));
    const replicas = jobs.mnist!.map((s) => [s.targets[0], s.labels?.replica]);
    assert.deepEqual(
      replicas,
      namedReplicas().map((r) => [`${r.name}:18000`, r.name]),
    );
    assert.deepEqual(jobs.lb![0]!.targets, ['lb:8405']);
    assert.deepEqual(jobs.node![0]!.targets, ['node-exporter:9100']);
    assert.ok(jobs.prometheus, 'Prometheus scrapes itself');
  });
});
