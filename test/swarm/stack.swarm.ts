/**
 * Tier 3: the Swarm stack (swarm/stack.yaml) on a real Docker Swarm of three nodes on this machine
 * (scripts/swarm/nodes.sh: the host's engine as manager, two dockerds in network namespaces as
 * workers), driven through the load balancer on 8080 and asserted through Prometheus's API: tasks
 * spread over nodes and each replica seen by its name; load reaching every replica; scaling under
 * load; a rolling update under load; a worker cut off under load; and nothing left behind.
 * Needs root, Docker and the images of the compose tier (`npm run test:compose` builds them).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { queryPrometheus } from '../../devkit/prometheus-api.ts';
import { backgroundLoad, waitFor, type LoadSummary } from '../support/cluster.ts';

const run = promisify(execFile);
const STACK = 'mnist';
const SERVICE = `${STACK}_mnist`;
const LB = 'http://127.0.0.1:8080';
const PROMETHEUS = 'http://127.0.0.1:9090';
/** What runs on the workers (the balancer and Prometheus stay on the manager, where the images are). */
const WORKER_IMAGES = [
  'mnist-cluster/service:local',
  /image: *(prom\/node-exporter:\S+)/.exec(readFileSync('swarm/stack.yaml', 'utf8'))![1]!,
];
const WORKERS = ['mnist-node-2', 'mnist-node-3'];

const sh = async (cmd: string, args: string[], env: Record<string, string> = {}) =>
  (await run(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 })).stdout;
const nodes = (...args: string[]) => sh('scripts/swarm/nodes.sh', args);
const GRAFANA_IMAGE = /image: *(grafana\/grafana:\S+)/.exec(readFileSync('swarm/stack.yaml', 'utf8'))![1]!;
let grafanaReplicas = '0';
const deploy = (env: Record<string, string> = {}) =>
  sh('docker', ['stack', 'deploy', '--prune', '-c', 'swarm/stack.yaml', STACK], {
    REPLICAS: '4',
    GRAFANA_REPLICAS: grafanaReplicas,
    ...env,
  });

const query = (expr: string) => queryPrometheus(PROMETHEUS, expr);

/** The running tasks of the replica service: node and slot of each. */
async function tasks(): Promise<{ node: string; name: string }[]> {
  const out = await sh('docker', [
    'service',
    'ps',
    SERVICE,
    '--filter',
    'desired-state=running',
    '--format',
    '{{.Node}} {{.Name}} {{.CurrentState}}',
  ]);
  return out
    .trim()
    .split('\n')
    .filter((l) => / Running /.test(l))
    .map((l) => {
      const [node, name] = l.split(' ');
      return { node: node!, name: name! };
    });
}

/** Replicas Prometheus scrapes right now (their own `replica` label), and the balancer's servers up. */
async function seen(): Promise<{ prometheus: string[]; balancer: number }> {
  const up = await query('mnist_model_info and on (instance) up{job="mnist"} == 1');
  const servers = await query('sum(haproxy_server_status{job="lb",state="UP"})');
  return { prometheus: up.map((r) => r.metric.replica!).sort(), balancer: Number(servers[0]?.value[1] ?? 0) };
}

async function converged(replicas: number, seconds: number): Promise<number> {
  const started = Date.now();
  await waitFor(`${replicas} replicas running, scraped and balanced`, seconds, async () => {
    const [running, now] = [await tasks(), await seen()];
    return running.length === replicas && now.prometheus.length === replicas && now.balancer === replicas
      ? true
      : undefined;
  });
  return (Date.now() - started) / 1000;
}

/** scripts/load.sh through the balancer in the background, for `seconds`. */
const loadThroughBalancer = (seconds: number) =>
  backgroundLoad(['--target', LB, '--concurrency', '8', '--duration', String(seconds)]);

/** The stack's networks or volumes left on the manager (`stack rm` keeps volumes). */
async function stackObjects(kind: 'network' | 'volume'): Promise<string[]> {
  const out = await sh('docker', [kind, 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`]);
  return out.split('\n').filter(Boolean);
}

/** Prometheus's and Grafana's volumes: a volume left by an earlier run would bring its series back. */
async function removeVolumes(): Promise<void> {
  const volumes = await stackObjects('volume');
  if (volumes.length > 0) await sh('docker', ['volume', 'rm', ...volumes]);
}

const failed = (s: LoadSummary) => s.total.requests - s.total.ok;

describe('the Swarm stack on three nodes', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    await removeVolumes();
    await nodes('up', String(WORKERS.length));
    await nodes('load', ...WORKER_IMAGES);
    // Grafana runs where its image exists (no registry here: then the stack has it at 0 replicas).
    grafanaReplicas = await sh('docker', ['image', 'inspect', GRAFANA_IMAGE]).then(
      () => '1',
      () => '0',
    );
    const secret = spawn('docker', ['secret', 'create', 'grafana_admin_password', '-'], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    secret.stdin.end(randomBytes(18).toString('base64url'));
    await new Promise((resolve) => secret.on('exit', resolve));
    await deploy();
    await converged(4, 240);
  });

  after(async () => {
    await sh('docker', ['stack', 'rm', STACK]).catch(() => '');
    await waitFor('the stack removed', 120, async () => {
      const left = await sh('docker', ['ps', '-aq', '--filter', `label=com.docker.stack.namespace=${STACK}`]);
      return left.trim() === '' ? true : undefined;
    });
    await sh('docker', ['secret', 'rm', 'grafana_admin_password']).catch(() => '');
    await removeVolumes();
    await nodes('down');
    const leftovers = {
      swarm: (await sh('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim(),
      networks: (await stackObjects('network')).join(' '),
      volumes: (await stackObjects('volume')).join(' '),
      netns: (await sh('ip', ['netns', 'list'])).trim(),
      dockerds: (await sh('sh', ['-c', 'pgrep -fa "^dockerd --data-root" || true'])).trim(),
    };
    assert.deepEqual(leftovers, { swarm: 'inactive', networks: '', volumes: '', netns: '', dockerds: '' });
  });

  it('runs every task, spread over the nodes; Prometheus sees each replica by name, every node and Alertmanager', async (t) => {
    const running = await tasks();
    const byNode: Record<string, number> = {};
    for (const task of running) byNode[task.node] = (byNode[task.node] ?? 0) + 1;
    t.diagnostic(`tasks by node: ${JSON.stringify(byNode)}`);
    assert.ok(Object.keys(byNode).length >= 2, 'on at least two nodes');
    assert.deepEqual((await seen()).prometheus, ['mnist-1', 'mnist-2', 'mnist-3', 'mnist-4']);
    const exporters = await waitFor('node-exporter on every node', 60, async () => {
      const names = (await query('node_uname_info')).map((r) => r.metric.nodename!).sort();
      return names.length === 3 ? names : undefined;
    });
    t.diagnostic(`node-exporters: ${exporters.join(', ')}`);
    await waitFor('Prometheus sending to Alertmanager, found by DNS', 60, async () => {
      const [found] = await query('prometheus_notifications_alertmanagers_discovered');
      const [up] = await query('up{job="alertmanager"}');
      return found?.value[1] === '1' && up?.value[1] === '1' ? true : undefined;
    });
  });

  it('spreads steady load through the balancer over every replica', async () => {
    const summary = await loadThroughBalancer(10);
    assert.equal(failed(summary), 0, JSON.stringify(summary.total.by_status));
    assert.deepEqual(Object.keys(summary.total.by_replica).sort(), ['mnist-1', 'mnist-2', 'mnist-3', 'mnist-4']);
  });

  it('scales 4 -> 6 -> 3 under load: Prometheus and the balancer follow, no request fails', async (t) => {
    const load = loadThroughBalancer(90);
    await sh('docker', ['service', 'scale', '--detach', `${SERVICE}=6`]);
    const up = await converged(6, 120);
    await sh('docker', ['service', 'scale', '--detach', `${SERVICE}=3`]);
    const down = await converged(3, 120);
    t.diagnostic(`followed 4 -> 6 in ${up.toFixed(0)} s (tasks starting included), 6 -> 3 in ${down.toFixed(0)} s`);
    const summary = await load;
    t.diagnostic(
      `through the balancer: ${JSON.stringify(summary.total.by_status)} ${JSON.stringify(summary.total.by_replica)}`,
    );
    assert.equal(failed(summary), 0, JSON.stringify(summary.total.by_status));
  });

  it('rolls out a changed environment one task at a time under load, no request failing', async (t) => {
    const load = loadThroughBalancer(120);
    const started = Date.now();
    await deploy({ REPLICAS: '3', DEPLOYMENT: '2' });
    await waitFor('the update completed', 240, async () => {
      const state = await sh('docker', ['service', 'inspect', SERVICE, '--format', '{{.UpdateStatus.State}}']);
      return state.trim() === 'completed' ? true : undefined;
    });
    t.diagnostic(`rolled out in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    await converged(3, 60);
    const summary = await load;
    t.diagnostic(`through the balancer: ${JSON.stringify(summary.total.by_status)}`);
    assert.equal(failed(summary), 0, JSON.stringify(summary.total.by_status));
  });

  it('survives a worker cut off under load: the balancer drops its replicas, Swarm starts them elsewhere', async (t) => {
    const lost = (await tasks()).find((task) => WORKERS.includes(task.node))?.node;
    assert.ok(lost, 'a replica runs on a worker');
    const load = loadThroughBalancer(90);
    await new Promise((r) => setTimeout(r, 5000));
    const cut = Date.now();
    await nodes('cut', lost);
    const recovered = await waitFor('three replicas running on the reachable nodes', 180, async () => {
      const running = (await tasks()).filter((task) => task.node !== lost);
      const now = await seen();
      return running.length === 3 && now.prometheus.length === 3 && now.balancer === 3 ? Date.now() : undefined;
    });
    const summary = await load;
    t.diagnostic(
      `recovered in ${((recovered - cut) / 1000).toFixed(0)} s; through the balancer ${JSON.stringify(summary.total.by_status)} (${failed(summary)} failed)`,
    );
    await nodes('mend', lost);
    // At most the requests in flight when the link went: 8 clients.
    assert.ok(failed(summary) <= 8, `failed ${failed(summary)}: ${JSON.stringify(summary.total.by_status)}`);
  });
});
