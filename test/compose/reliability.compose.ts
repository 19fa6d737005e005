/**
 * Tier 2, reliability: the compose stack pushed well past its CPU limits (it sheds, Prometheus's
 * shedding alert fires and resolves), a replica's process killed during load (the other keeps
 * serving, the restart policy brings it back, Prometheus sees the restart), and Prometheus and
 * Grafana restarted (history and provisioning survive).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { digits, encodeDigit } from '../../devkit/testing.ts';
import { backgroundLoad } from '../support/cluster.ts';
import {
  byReplica,
  compose,
  health,
  LB,
  predict,
  MONITORING_AUTH,
  PROMETHEUS,
  query,
  REPLICAS,
  FIRST,
  SECOND,
  run,
  startStack,
  stopStack,
  waitFor,
} from './stack.ts';

interface Alert {
  labels: { alertname: string; replica?: string };
  state: 'pending' | 'firing';
}

async function alerts(name: string): Promise<Alert[]> {
  const body = (await (await fetch(`${PROMETHEUS}/api/v1/alerts`, { headers: MONITORING_AUTH })).json()) as {
    data: { alerts: Alert[] };
  };
  return body.data.alerts.filter((a) => a.labels.alertname === name);
}

async function containerOf(service: string): Promise<{ id: string; restarts: number; startedAt: string }> {
  const id = (await compose('ps', '--all', '--quiet', service)).trim();
  const { stdout } = await run('docker', ['inspect', '--format', '{{.RestartCount}} {{.State.StartedAt}}', id]);
  const [restarts, startedAt] = stdout.trim().split(' ');
  return { id, restarts: Number(restarts), startedAt: startedAt! };
}

/**
 * The replica's Node process in a container, seen from the host. Not `docker kill`: Docker records
 * that as a deliberate stop, and no restart policy applies. The server is the only child of the
 * container's init; a health check's process is not (its parent is the runtime's shim), and after
 * host PIDs wrap it may list before the server.
 */
async function serverPid(containerId: string): Promise<number> {
  const { stdout: init } = await run('docker', ['inspect', '--format', '{{.State.Pid}}', containerId]);
  const initPid = init.trim();
  const children = readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim().split(/\s+/);
  assert.equal(children.length, 1, `one child under the container's init: ${children.join(' ')}`);
  const pid = Number(children[0]);
  // Its command line, not its name: Node.js 22 and later name the process's main thread MainThread.
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.deepEqual([argv[0], argv.at(-2)], ['node', 'service/src/main.js'], "the replica's node process");
  return pid;
}

const png = async () => encodeDigit(digits(1, 77)[0]!.pixels);

describe('the compose cluster under overload and faults', { timeout: 20 * 60_000 }, () => {
  let withGrafana = false;
  before(async () => {
    ({ withGrafana } = await startStack());
  });
  after(async () => {
    await stopStack();
  });

  it('sheds load past the CPU limits with 429, fires the shedding alert, then recovers and resolves it', async (t) => {
    const started = Date.now();
    const since = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
    const before = await Promise.all(REPLICAS.map((r) => containerOf(r.name)));
    // 400 requests in flight per replica against a queue of 256 and one CPU each.
    const load = backgroundLoad([
      ...REPLICAS.flatMap((r) => ['--target', r.api]),
      ...['--concurrency', '800', '--duration', '60', '--mix', 'raw=1'],
    ]);
    const firing = await waitFor('MnistSheddingLoad to fire for both replicas', 120, async () => {
      const states = await alerts('MnistSheddingLoad');
      const replicas = states.filter((a) => a.state === 'firing').map((a) => a.labels.replica);
      return replicas.includes(FIRST) && replicas.includes(SECOND) ? replicas : undefined;
    });
    assert.equal(firing.length, 2);
    t.diagnostic(`MnistSheddingLoad firing for both replicas after ${since()}`);
    const summary = await load;
    for (const target of summary.targets) {
      const statuses = Object.keys(target.by_status);
      t.diagnostic(`${target.target}: ${JSON.stringify(target.by_status)} in 60 s`);
      assert.ok(
        (target.by_status['429'] ?? 0) > 0,
        `${target.target} shed with 429: ${JSON.stringify(target.by_status)}`,
      );
      assert.ok(
        (target.by_status['200'] ?? 0) > 0,
        `${target.target} kept serving: ${JSON.stringify(target.by_status)}`,
      );
      assert.deepEqual(
        statuses.filter((s) => s !== '200' && s !== '429'),
        [],
        `${target.target}: nothing but 200 and 429 (no 5xx, no dropped connections)`,
      );
    }
    const afterLoad = await Promise.all(REPLICAS.map((r) => containerOf(r.name)));
    assert.deepEqual(afterLoad, before, 'neither replica crashed or restarted');

    // Recovery: with light traffic, the alert resolves and p99 falls under the alert's threshold.
    const bytes = await png();
    const lightTraffic = async () => {
      for (const r of REPLICAS) assert.equal((await predict(r.api, bytes)).replica, r.name);
    };
    await waitFor('MnistSheddingLoad to resolve', 180, async () => {
      await lightTraffic();
      return (await alerts('MnistSheddingLoad')).length === 0 ? true : undefined;
    });
    t.diagnostic(`MnistSheddingLoad resolved after ${since()}`);
    let p99: Record<string, number> = {};
    await waitFor('p99 back under the latency alert threshold (0.5 s)', 120, async () => {
      await lightTraffic();
      p99 = byReplica(await query('replica:mnist_latency_seconds:p99_rate1m'));
      return REPLICAS.every((r) => p99[r.name]! < 0.5) ? true : undefined;
    }).catch(() => undefined);
    t.diagnostic(`p99 ${JSON.stringify(p99)} s after ${since()}`);
    for (const r of REPLICAS) assert.ok(p99[r.name]! < 0.5, `${r.name} p99 back to ${p99[r.name]} s`);
  });

  it('keeps serving when a replica is killed during load (no error through the load balancer); the restart policy brings it back', async (t) => {
    const victim = REPLICAS[1]!;
    const before = await containerOf(victim.name);
    const startedBefore = await waitFor('both replicas scraped', 60, async () => {
      const started = byReplica(await query('process_start_time_seconds{job="mnist"}'));
      return started[FIRST] && started[SECOND] ? started : undefined;
    });
    const load = backgroundLoad([
      ...REPLICAS.flatMap((r) => ['--target', r.api]),
      ...['--concurrency', '8', '--duration', '30', '--mix', 'multipart=1,raw=1,json=1'],
    ]);
    const throughLb = backgroundLoad(['--target', LB, '--concurrency', '8', '--duration', '30']);
    // Killed once Prometheus has seen it serve part of this load, so the restart shows as a reset.
    const served = async () =>
      byReplica(await query('sum by (replica) (mnist_http_requests_total{job="mnist",route="/predict"})'))[
        victim.name
      ] ?? 0;
    const servedBefore = await served();
    await waitFor(`${victim.name} to serve the load`, 30, async () =>
      (await served()) >= servedBefore + 200 ? true : undefined,
    );
    // The Node process itself, from the host, as the OOM killer or a crash would end it.
    process.kill(await serverPid(before.id), 'SIGTERM');
    const back = await waitFor(`${victim.name} restarted by its restart policy`, 90, async () => {
      const now = await containerOf(victim.name);
      return now.restarts > before.restarts ? now : undefined;
    });
    assert.equal(back.id, before.id, 'the same container, restarted (not recreated)');
    const summary = await load;
    const [balanced] = (await throughLb).targets;
    t.diagnostic(
      `through the load balancer: ${JSON.stringify(balanced!.by_status)} ${JSON.stringify(balanced!.by_replica)}`,
    );
    assert.equal(
      balanced!.ok,
      balanced!.requests,
      `no error through the load balancer: ${JSON.stringify(balanced!.by_status)}`,
    );
    assert.ok(balanced!.by_replica[SECOND]! > 0 && balanced!.by_replica[FIRST]! > 0, 'both served through it');
    const [survivor, killed] = summary.targets;
    for (const target of summary.targets) t.diagnostic(`${target.target}: ${JSON.stringify(target.by_status)}`);
    assert.equal(
      survivor!.ok,
      survivor!.requests,
      `${FIRST} answered everything: ${JSON.stringify(survivor!.by_status)}`,
    );
    assert.ok(killed!.ok < killed!.requests, `${SECOND} failed while down: ${JSON.stringify(killed!.by_status)}`);
    assert.ok((killed!.by_status['200'] ?? 0) > 0, 'and served before and after');
    assert.deepEqual(
      Object.keys(killed!.by_status).filter((s) => /^[45]\d\d$/.test(s) && s !== '200'),
      [],
      'its failures were refused or reset connections, not HTTP errors',
    );
    // Prometheus: a new process behind mnist-2 (and the old one on mnist-1), up again, counters reset.
    await waitFor(`Prometheus to scrape the restarted ${SECOND}`, 60, async () => {
      const started = byReplica(await query('process_start_time_seconds{job="mnist"}'));
      const up = byReplica(await query('up{job="mnist"}'));
      return started[SECOND]! > startedBefore[SECOND]! && up[SECOND] === 1 ? true : undefined;
    });
    const started = byReplica(await query('process_start_time_seconds{job="mnist"}'));
    assert.equal(started[FIRST], startedBefore[FIRST], `${FIRST} was not restarted`);
    const resets = await waitFor(`${SECOND}'s counters to start again from zero`, 30, async () => {
      const counted = byReplica(
        await query('sum by (replica) (resets(mnist_http_requests_total{job="mnist",route="/predict"}[5m]))'),
      );
      return counted[SECOND]! >= 1 ? counted : undefined;
    });
    assert.equal(resets[FIRST], 0);
    // Whether a scrape fell inside the outage depends on timing (a restart takes about as long as
    // the 2 s scrape interval): reported, not asserted.
    const lowest = byReplica(await query('min_over_time(up{job="mnist"}[2m])'));
    t.diagnostic(`lowest up over the last 2 minutes: ${JSON.stringify(lowest)}`);
  });

  it('sends a draining replica (SIGTERM) nothing new: no error through the load balancer, and it comes back', async (t) => {
    const victim = REPLICAS[1]!;
    const before = await containerOf(victim.name);
    await waitFor('the load balancer to see both replicas up', 60, async () => {
      const up = byReplica(await query('haproxy_server_status{job="lb",state="UP"}'));
      return up[FIRST] === 1 && up[SECOND] === 1 ? true : undefined;
    });
    const throughLb = backgroundLoad(['--target', LB, '--concurrency', '8', '--duration', '20']);
    await new Promise((r) => setTimeout(r, 5000));
    // As `docker stop` or a rolling update starts it: the replica stops listening and finishes
    // what it has; the balancer's next checks fail and it stops sending there.
    const signalled = Math.floor(Date.now() / 1000);
    process.kill(await serverPid(before.id), 'SIGTERM');
    await waitFor(`${victim.name} restarted by its restart policy`, 90, async () =>
      (await containerOf(victim.name)).restarts > before.restarts ? true : undefined,
    );
    const [balanced] = (await throughLb).targets;
    t.diagnostic(
      `through the load balancer: ${JSON.stringify(balanced!.by_status)} ${JSON.stringify(balanced!.by_replica)}`,
    );
    assert.equal(balanced!.ok, balanced!.requests, `no error: ${JSON.stringify(balanced!.by_status)}`);
    // It drained and exited cleanly (0), rather than crashing: Docker's own record of the exit (its
    // logs are no witness: a rotation of the log files can hide the "draining" line from them).
    const { stdout: exits } = await run('docker', [
      'events',
      '--since',
      String(signalled - 1),
      '--until',
      String(Math.floor(Date.now() / 1000) + 1),
      '--filter',
      `container=${before.id}`,
      '--filter',
      'event=die',
      '--format',
      '{{.Actor.Attributes.exitCode}}',
    ]);
    assert.deepEqual(exits.trim().split('\n'), ['0'], 'the replica drained and exited with 0');
  });

  it("comes back on a replica's published port after one client floods it with held connections; nothing fails through the entry point", async (t) => {
    const victim = REPLICAS[0]!;
    const before = await containerOf(victim.name);
    const port = Number(new URL(victim.api).port);
    const answers = () =>
      fetch(`${victim.api}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
    const throughLb = backgroundLoad(['--target', LB, '--concurrency', '4', '--duration', '60']);
    // The measured abuse: one local client opening 12,000 connections and keeping its end of each
    // open (half-open after the server closes), more than Docker's proxy has descriptors for here.
    const sockets = Array.from({ length: 12_000 }, () => {
      const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      socket.on('error', () => {});
      return socket;
    });
    const flooded = Date.now();
    try {
      let refusedAt = 0;
      const back = await waitFor(`${victim.name}'s published port answering again`, 120, async () => {
        if (Date.now() - flooded < 5000) return undefined;
        if (await answers()) return Date.now();
        refusedAt ||= Date.now();
        return undefined;
      });
      const after = await containerOf(victim.name);
      const line = {
        flood_connections: sockets.length,
        refused_s: refusedAt ? Number(((back - refusedAt) / 1000).toFixed(1)) : 0,
        restarted: after.restarts - before.restarts,
      };
      t.diagnostic(JSON.stringify(line));
      // Where Docker's proxy died, the watchdog restarted the replica, once.
      assert.ok(line.restarted <= 1, JSON.stringify(line));
    } finally {
      sockets.forEach((socket) => socket.destroy());
    }
    const [balanced] = (await throughLb).targets;
    assert.equal(balanced!.ok, balanced!.requests, `through the entry point: ${JSON.stringify(balanced!.by_status)}`);
    await waitFor(`${victim.name} healthy`, 90, async () =>
      (await health())[victim.name] === 'healthy' ? true : undefined,
    );
  });

  it('keeps its history across a recreated Prometheus container (named volume)', async () => {
    const at = Math.floor(Date.now() / 1000) - 30;
    const series = async () => {
      return (await query('up', at))
        .map((r) => `${r.metric.job}/${r.metric.replica ?? r.metric.instance}=${r.value[1]}`)
        .sort();
    };
    const before = await series();
    assert.ok(before.length >= 4, `series before: ${before.join(', ')}`);
    const oldId = (await containerOf('prometheus')).id;
    await compose('up', '--detach', '--wait', '--force-recreate', '--no-deps', 'prometheus');
    assert.notEqual((await containerOf('prometheus')).id, oldId, 'a new container');
    const after = await waitFor('Prometheus to answer again', 60, async () =>
      (await series()).length ? series() : undefined,
    );
    assert.deepEqual(after, before, 'the same samples from before the restart');
  });

  it('keeps its provisioned datasource and dashboards across a Grafana restart', async (t) => {
    if (!withGrafana) {
      t.skip('the Grafana image is not available on this machine (no registry)');
      return;
    }
    await compose('restart', 'grafana');
    await waitFor('Grafana healthy', 120, async () =>
      (await fetch('http://127.0.0.1:3000/api/health').then(
        (r) => r.ok,
        () => false,
      ))
        ? true
        : undefined,
    );
    const source = (await (await fetch('http://127.0.0.1:3000/api/datasources/uid/prometheus')).json()) as {
      uid: string;
    };
    assert.equal(source.uid, 'prometheus');
    const found = (await (await fetch('http://127.0.0.1:3000/api/search?type=dash-db')).json()) as { uid: string }[];
    assert.ok(found.length >= 2, `dashboards after restart: ${found.map((d) => d.uid).join(', ')}`);
  });
});
