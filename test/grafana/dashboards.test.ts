import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { queriesOf } from '../../grafana/src/builder.ts';
import { DASHBOARDS } from '../../grafana/src/dashboards.ts';
import { DASHBOARD_DIR, renderDashboards } from '../../grafana/src/generate.ts';
import { freePort } from '../../devkit/free-port.ts';
import { haveHaproxy, startBalancer } from '../../devkit/haproxy.ts';
import {
  ALERTMANAGER,
  PROMETHEUS,
  startAlertmanager,
  startPrometheus,
  type MonitoringProcess,
} from '../../devkit/monitoring-process.ts';
import { installed, requireTool, startTestReplica } from '../../devkit/testing.ts';
import { autoscalerRegistry, rolloutRegistry } from '../../scripts/docs/references.ts';
import { metricNames } from './promql-names.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: {
    defaults?: {
      unit?: string;
      thresholds?: { steps: { value: number | null }[] };
      custom?: { thresholdsStyle?: { mode: string } };
    };
    overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
  };
  transformations?: {
    id: string;
    options: { includeByName?: Record<string, boolean>; renameByName?: Record<string, string> };
  }[];
  targets?: { expr: string; datasource: { uid: string } }[];
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  links: { url: string }[];
  annotations: { list: { expr: string; datasource: { uid: string } }[] };
  panels: Panel[];
  templating: { list: { name: string; type: string; current?: { value: unknown } }[] };
}

const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'));
const dashboards = files.map((file) => ({
  file,
  json: JSON.parse(readFileSync(`${DASHBOARD_DIR}${file}`, 'utf8')) as Dashboard,
}));
const provisioned = (
  parseYaml(readFileSync('grafana/provisioning/datasources/prometheus.yml', 'utf8')) as {
    datasources: { uid: string }[];
  }
).datasources.map((d) => d.uid);

/**
 * The metric names a real scrape declares (# TYPE lines, so a series absent right now, like a
 * memory limit on an unlimited host, still counts) and exposes, with histogram suffixes.
 */
function namesIn(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([A-Za-z_:][\w:]*) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name!);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name! + suffix);
    }
    const sample = /^([A-Za-z_:][\w:]*)/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

describe('Grafana dashboards', () => {
  const known = new Set<string>(['up']);
  let exporterChecked = false;
  let haproxyChecked = false;
  let engineChecked = false;
  let monitoringChecked = false;

  before(async () => {
    const replica = await startTestReplica();
    try {
      // Histogram and confidence series appear once something has been observed.
      await fetch(`${replica.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pixels: Array.from({ length: 784 }, (_, i) => (i % 28 > 10 && i % 28 < 16 ? 255 : 0)) }),
      });
      await fetch(`${replica.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      for (const name of namesIn(await (await fetch(replica.metricsUrl)).text())) known.add(name);
    } finally {
      await replica.stop();
    }
    // The autoscaler's (Swarm only) from its registry.
    for (const name of namesIn(await autoscalerRegistry().metrics())) known.add(name);
    for (const name of namesIn(await rolloutRegistry().metrics())) known.add(name);
    for (const file of readdirSync('prometheus/rules')) {
      const rules = parseYaml(readFileSync(`prometheus/rules/${file}`, 'utf8')) as {
        groups: { rules: { record?: string }[] }[];
      };
      for (const group of rules.groups) for (const rule of group.rules) if (rule.record) known.add(rule.record);
    }
    // HAProxy's names from a real one with the project's configuration and one server.
    if (haveHaproxy()) {
      const balancer = await startBalancer({ 'mnist-1': `127.0.0.1:${await freePort()}` });
      try {
        for (const name of namesIn(await (await fetch(balancer.metricsUrl)).text())) known.add(name);
        haproxyChecked = true;
      } finally {
        await balancer.stop();
      }
    }
    // node-exporter's names from a real one (Debian's prometheus-node-exporter), where installed.
    const exporter = ['prometheus-node-exporter', 'node_exporter'].find(installed);
    if (exporter) {
      const port = await freePort();
      const child = spawn(exporter, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 50 && !exporterChecked; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
            (r) => r.text(),
            () => '',
          );
          if (text.includes('node_cpu_seconds_total')) {
            for (const name of namesIn(text)) known.add(name);
            exporterChecked = true;
          }
        }
      } finally {
        child.kill();
      }
    }
    // The Docker engine's names (swarm_* among them) from this machine's engine, where its metrics
    // are on (scripts/ci/install-docker.sh turns them on, as docs/scaling.md asks of every node).
    const engine = await fetch('http://127.0.0.1:9323/metrics').then(
      (r) => r.text(),
      () => '',
    );
    if (engine.includes('swarm_manager_nodes')) {
      for (const name of namesIn(engine)) known.add(name);
      engineChecked = true;
    }
    // Prometheus's and Alertmanager's own names from real ones (Debian's): an Alertmanager in a
    // cluster (of one) and a Prometheus sending to it.
    if (ALERTMANAGER && PROMETHEUS) {
      const dir = mkdtempSync(join(tmpdir(), 'dashboard-names-'));
      const running: MonitoringProcess[] = [];
      try {
        const am = await startAlertmanager(join(dir, 'am'), 'http://127.0.0.1:9/unused', [
          `--cluster.listen-address=127.0.0.1:${await freePort()}`,
        ]);
        running.push(am);
        const config = { alerting: { alertmanagers: [{ static_configs: [{ targets: [am.url.slice(7)] }] }] } };
        const prometheus = await startPrometheus(join(dir, 'prometheus'), config);
        running.push(prometheus);
        // Its per-Alertmanager counters exist once it has found the Alertmanager.
        for (let i = 0; i < 100 && !monitoringChecked; i++) {
          const text = await (await fetch(`${prometheus.url}/metrics`)).text();
          if (/^prometheus_notifications_alertmanagers_discovered 1$/m.test(text)) {
            for (const name of namesIn(text)) known.add(name);
            monitoringChecked = true;
          } else await new Promise((r) => setTimeout(r, 100));
        }
        for (const name of namesIn(await (await fetch(`${am.url}/metrics`)).text())) known.add(name);
      } finally {
        for (const process of running) process.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('are exactly what grafana/src generates (npm run dashboards)', () => {
    const generated = renderDashboards();
    assert.deepEqual(Object.keys(generated).sort(), files.sort());
    for (const [file, text] of Object.entries(generated)) {
      assert.equal(readFileSync(`${DASHBOARD_DIR}${file}`, 'utf8'), text, `${file} is stale: run npm run dashboards`);
    }
  });

  for (const { file, json } of dashboards) {
    describe(file, () => {
      it('has the fields Grafana loads: uid, title, schemaVersion, panels, templating', () => {
        assert.match(json.uid, /^[\w-]{1,40}$/);
        assert.ok(json.title.length > 0, 'title');
        assert.equal(typeof json.schemaVersion, 'number');
        assert.ok(Array.isArray(json.panels) && json.panels.length > 0, 'panels');
        assert.ok(Array.isArray(json.templating.list), 'templating');
      });

      it('has unique panel ids and panels that do not overlap on the 24-column grid', () => {
        const ids = json.panels.map((p) => p.id);
        assert.equal(new Set(ids).size, ids.length, 'duplicate panel id');
        const boxes = json.panels.map((p) => ({ title: p.title, ...p.gridPos }));
        for (const b of boxes)
          assert.ok(b.x >= 0 && b.w > 0 && b.x + b.w <= 24 && b.h > 0, `${b.title} is off the grid`);
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            const [a, b] = [boxes[i]!, boxes[j]!];
            const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
            assert.ok(!overlap, `"${a.title}" overlaps "${b.title}"`);
          }
        }
      });

      it('queries only the provisioned Prometheus datasource', () => {
        const variable = json.templating.list.find((v) => v.name === 'datasource');
        const resolve = (uid: string) => (uid === '${datasource}' ? String(variable?.current?.value) : uid);
        for (const panel of json.panels.filter((p) => p.type !== 'row')) {
          assert.ok(
            provisioned.includes(resolve(panel.datasource!.uid)),
            `${panel.title}: datasource ${panel.datasource!.uid}`,
          );
          for (const t of panel.targets ?? [])
            assert.ok(provisioned.includes(resolve(t.datasource.uid)), `${panel.title}: target datasource`);
        }
      });

      it('gives every panel a description and a unit', () => {
        for (const panel of json.panels.filter((p) => p.type !== 'row')) {
          assert.ok((panel.description ?? '').length > 20, `${panel.title} has no description`);
          assert.ok(panel.fieldConfig?.defaults?.unit, `${panel.title} has no unit`);
        }
      });

      it('gives every column of every table a unit', () => {
        const tables = json.panels.filter((p) => p.type === 'table');
        for (const panel of tables) {
          const organize = panel.transformations?.find((t) => t.id === 'organize')?.options;
          const shown = Object.keys(organize?.includeByName ?? {});
          assert.ok(shown.length > 0, `${panel.title} shows only chosen columns`);
          for (const field of shown) {
            const name = organize?.renameByName?.[field] ?? field;
            const unit = panel.fieldConfig?.overrides
              ?.find((o) => o.matcher.id === 'byName' && o.matcher.options === name)
              ?.properties.find((p) => p.id === 'unit')?.value;
            assert.ok(typeof unit === 'string' && unit.length > 0, `${panel.title}: column ${name} has no unit`);
          }
        }
      });

      it('links to the other dashboards by uid, and marks restarts and firing alerts', () => {
        const uids = dashboards.map((d) => d.json.uid);
        const internal = json.links.filter((l) => l.url.startsWith('/d/'));
        assert.ok(internal.length > 0, 'links to the other dashboard');
        for (const link of internal) {
          const uid = link.url.slice(3);
          assert.ok(uids.includes(uid) && uid !== json.uid, `link ${link.url}`);
        }
        assert.ok(
          json.annotations.list.some((a) => a.expr.includes('ALERTS{alertstate="firing"}')),
          'firing alerts',
        );
      });
    });
  }

  it('use only metric names that the service, node-exporter, HAProxy, the Docker engine or the recording rules expose', () => {
    if (!exporterChecked) assert.ok(!process.env.CI, 'CI installs prometheus-node-exporter to check node_* names');
    if (!haproxyChecked) assert.ok(!process.env.CI, 'CI installs haproxy to check haproxy_* names');
    if (!engineChecked) assert.ok(!process.env.CI, "CI turns on Docker's metrics to check swarm_* names");
    if (!monitoringChecked) assert.ok(!process.env.CI, 'CI installs Prometheus and Alertmanager to check their names');
    for (const spec of Object.values(DASHBOARDS)) {
      for (const { panel, query } of queriesOf(spec)) {
        for (const name of metricNames(query.expr)) {
          if (name.startsWith('node_') && !exporterChecked) continue;
          if (name.startsWith('haproxy_') && !haproxyChecked) continue;
          if (name.startsWith('swarm_') && !engineChecked) continue;
          if (/^(prometheus|alertmanager)_/.test(name) && !monitoringChecked) continue;
          assert.ok(known.has(name), `${spec.uid} / ${panel.title}: unknown metric ${name}`);
        }
      }
    }
  });

  it('draw every alert threshold on a panel that plots what the alert compares', () => {
    const rules = (
      parseYaml(readFileSync('prometheus/rules/mnist-alerts.yml', 'utf8')) as {
        groups: { rules: { alert?: string; expr: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules.filter((r) => r.alert));
    const panels = Object.values(DASHBOARDS).flatMap((spec) => spec.rows.flatMap((r) => r.panels));
    const built = dashboards.flatMap((d) => d.json.panels);
    let drawn = 0;
    for (const rule of rules) {
      // An alert on a quantity crossing a fixed level: `<expr> > 0.5` (a level of 0 is "any").
      const level = /[<>]=?\s*([\d.]+)\s*$/.exec(rule.expr.trim());
      if (!level || Number(level[1]) === 0) continue;
      const value = Number(level[1]);
      const panel = panels.find((p) => p.thresholds?.some((t) => t.alert === rule.alert));
      assert.ok(panel, `${rule.alert}: no panel draws its threshold ${value}`);
      assert.deepEqual(
        panel.thresholds!.filter((t) => t.alert === rule.alert).map((t) => t.value),
        [value],
        `${rule.alert}: the panel's line is not the rule's level`,
      );
      const plotted = new Set(panel.queries.flatMap((q) => metricNames(q.expr)));
      for (const name of metricNames(rule.expr.replace(/[<>]=?\s*[\d.]+\s*$/, ''))) {
        assert.ok(plotted.has(name), `${rule.alert}: "${panel.title}" does not plot ${name}`);
      }
      const json = built.find((p) => p.title === panel.title)!;
      assert.ok(
        json.fieldConfig?.defaults?.thresholds?.steps.some((s) => s.value === value),
        `${panel.title}: step ${value}`,
      );
      assert.notEqual(
        json.fieldConfig?.defaults?.custom?.thresholdsStyle?.mode ?? 'off',
        'off',
        `${panel.title}: line drawn`,
      );
      drawn++;
    }
    assert.ok(drawn >= 6, `only ${drawn} thresholds drawn`);
  });

  it('annotate with valid PromQL (promtool) over metrics that exist', (t) => {
    const exprs = dashboards.flatMap((d) => d.json.annotations.list.map((a) => a.expr));
    for (const expr of exprs) {
      for (const name of metricNames(expr))
        assert.ok(known.has(name) || name === 'ALERTS', `annotation ${expr}: ${name}`);
    }
    if (!requireTool(installed('promtool'), 'promtool', t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'annotations-'));
    try {
      const rules = exprs.map(
        (expr, i) => `      - record: annotation:check_${i}\n        expr: '${expr.replace(/'/g, "''")}'`,
      );
      writeFileSync(join(dir, 'rules.yml'), `groups:\n  - name: annotations\n    rules:\n${rules.join('\n')}\n`);
      assert.match(
        execFileSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' }),
        /SUCCESS/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads metric names out of PromQL correctly', () => {
    assert.deepEqual(
      metricNames('sum by (replica, le) (rate(a_bucket{le="0.5",x=~"y"}[5m])) / on () group_left () max(b:c:d) > 1'),
      ['a_bucket', 'b:c:d'],
    );
  });
});
