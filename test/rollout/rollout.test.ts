/**
 * The rollout controller against the real pieces: two replicas serving v1, v2 and a worse model
 * side by side, a real HAProxy with the canary map in front of them, a real Prometheus scraping
 * them, and MNIST digits sent through the balancer all along. v2 over v1 is promoted share by share;
 * a model as accurate but far less confident (v1 with its last layer's weights scaled down: the
 * same answers, flatter probabilities) is rolled back at its first share. Not one request fails.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import { instantVector } from '../../autoscaler/src/prometheus-query.ts';
import { readCanary, type RuntimeApi } from '../../rollout/src/haproxy-runtime.ts';
import { createRolloutMetrics } from '../../rollout/src/metrics.ts';
import { Rollout, type RolloutState } from '../../rollout/src/rollout.ts';
import { SHIPPED_MODELS_DIR } from '../../service/src/index.ts';
import { freePorts } from '../../devkit/free-port.ts';
import { haveHaproxy, startBalancer, type Balancer } from '../../devkit/haproxy.ts';
import { writeLessConfidentModel } from '../../devkit/worse-model.ts';
import { PROMETHEUS, startPrometheus, type MonitoringProcess } from '../../devkit/monitoring-process.ts';
import { digits, sample, startTestReplica } from '../../devkit/testing.ts';

type Replica = Awaited<ReturnType<typeof startTestReplica>>;
const MAP = fileURLToPath(new URL('../../haproxy/canary.map', import.meta.url));

describe('the rollout controller', { skip: (!haveHaproxy() || !PROMETHEUS) && 'needs haproxy and prometheus' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-'));
  const replicas: Replica[] = [];
  let balancer: Balancer;
  let prometheus: MonitoringProcess;
  let api: RuntimeApi;
  let stopLoad = false;
  const load = { ok: 0, failed: [] as string[], byVersion: new Map<string, number>() };
  let loadDone: Promise<void[]>;

  before(async () => {
    const repo = join(dir, 'models');
    for (const v of ['v1', 'v2']) cpSync(join(SHIPPED_MODELS_DIR, v), join(repo, v), { recursive: true });
    writeLessConfidentModel(join(repo, 'flat'));
    for (const name of ['mnist-1', 'mnist-2']) {
      replicas.push(
        await startTestReplica({
          REPLICA: name,
          MODEL_REPOSITORY: repo,
          MODEL_DIR: join(repo, 'v1'),
          MODEL_VERSIONS: 'v1,v2,flat',
        }),
      );
    }
    const [runtimePort] = await freePorts(1);
    api = { address: `127.0.0.1:${runtimePort}`, map: join(dir, 'canary.map') };
    copyFileSync(MAP, api.map);
    balancer = await startBalancer(
      Object.fromEntries(replicas.map((r, i) => [`mnist-${i + 1}`, `127.0.0.1:${r.apiPort}`])),
      { LB_CANARY_MAP: api.map, LB_RUNTIME_API: `ipv4@${api.address}` },
    );
    prometheus = await startPrometheus(join(dir, 'prometheus'), {
      global: { scrape_interval: '1s' },
      scrape_configs: [
        { job_name: 'mnist', static_configs: [{ targets: replicas.map((r) => `127.0.0.1:${r.metricsPort}`) }] },
      ],
    });
    for (let i = 0; i < 100; i++) {
      const up = await instantVector({ url: prometheus.url }, 'count(up{job="mnist"} == 1)').catch(() => []);
      if (up[0]?.value === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const sent = digits(200, 2000, 7);
    const client = async (offset: number) => {
      for (let i = offset; !stopLoad; i++) {
        const d = sent[i % sent.length]!;
        const res = await fetch(`${balancer.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ pixels: Array.from(d.pixels) }),
        }).catch((err: Error) => ({ status: 0, statusText: err.message, headers: new Headers() }) as Response);
        if (res.status !== 200) {
          load.failed.push(`${res.status} ${res.statusText}`);
          continue;
        }
        await res.json();
        load.ok++;
        const version = res.headers.get('x-model-version')!;
        load.byVersion.set(version, (load.byVersion.get(version) ?? 0) + 1);
      }
    };
    loadDone = Promise.all([0, 50, 100, 150].map(client));
  });
  after(async () => {
    stopLoad = true;
    await loadDone;
    prometheus?.kill();
    await balancer?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const controller = (registry: Registry) =>
    new Rollout({
      balancers: [api],
      prometheus: { url: prometheus.url },
      steps: [10, 50, 100],
      stepSeconds: 6,
      intervalSeconds: 1,
      bounds: {
        minRequests: 20,
        maxErrorRatioIncrease: 0.01,
        maxLatencyRatio: 1.5,
        latencySlackSeconds: 0.02,
        maxConfidenceDrop: 0.02,
      },
      sticky: false,
      metrics: createRolloutMetrics(registry),
      logger: pino({ level: 'silent' }),
    });

  async function finished(rollout: Rollout): Promise<RolloutState> {
    for (let i = 0; i < 600; i++) {
      const state = rollout.status;
      if (state.phase !== 'running') return state;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the rollout did not finish: ${JSON.stringify(rollout.status)}`);
  }

  it('promotes v2 over v1 share by share, each step judged on both versions', async () => {
    const registry = new Registry();
    const rollout = controller(registry);
    await assert.rejects(rollout.start('v9'), /0 of 2 replicas/);
    const started = await rollout.start('v2');
    assert.equal(started.stable, 'v1');
    assert.deepEqual(await readCanary(api), { share: '10', sticky: '0', canary: 'v2', stable: 'v1' });
    const state = await finished(rollout);
    assert.equal(state.phase, 'promoted', JSON.stringify(state.history, null, 1));
    assert.deepEqual(
      state.history.map((s) => `${s.decision}@${s.share}`),
      ['started@10', 'advanced@50', 'advanced@100', 'promoted@100'],
    );
    for (const step of state.history.slice(1)) {
      assert.ok(step.candidate!.requests >= 20 && step.stable!.requests >= 20, JSON.stringify(step));
    }
    // Promoted: v2 is the entry point's stable version, and every request naming none gets it.
    assert.deepEqual(await readCanary(api), { share: '0', sticky: '0', stable: 'v2' });
    const text = await registry.metrics();
    assert.equal(sample(text, 'mnist_rollout_steps_total', { decision: 'promoted' }), 1);
    assert.equal(sample(text, 'mnist_rollout_share_percent'), 0);
    assert.deepEqual(load.failed, []);
  });

  it('rolls back at once a candidate as accurate but far less confident, at its first share', async () => {
    const registry = new Registry();
    const rollout = controller(registry);
    const started = await rollout.start('flat');
    assert.equal(started.stable, 'v2', 'the promoted version is now stable');
    const state = await finished(rollout);
    assert.equal(state.phase, 'rolled_back', JSON.stringify(state.history, null, 1));
    const last = state.history.at(-1)!;
    assert.equal(last.share, 10, 'judged worse at its first share');
    assert.match(last.reason, /mean confidence .* below/);
    assert.ok(last.candidate!.meanConfidence < last.stable!.meanConfidence - 0.02);
    assert.deepEqual(await readCanary(api), { share: '0', sticky: '0', stable: 'v2' });
    const text = await registry.metrics();
    assert.equal(sample(text, 'mnist_rollout_steps_total', { decision: 'rolled_back' }), 1);
    assert.equal(sample(text, 'mnist_rollout_judgements_total', { verdict: 'fail' }), 1);
    assert.deepEqual(load.failed, []);
    assert.ok(load.ok > 500, `requests served through the rollouts (${load.ok})`);
  });
});
