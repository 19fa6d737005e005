/**
 * The Swarm stack's high-availability promises, checked on the files (tier 1; tier 3 runs them):
 * nothing in swarm/stack.yaml is pinned to one node but Grafana, the monitoring that keeps data runs
 * twice on two nodes, the Alertmanagers form a cluster, the entry point runs on every node, and keepalived's configuration, as scripts/swarm/nodes.sh renders it for each
 * node, is one that Debian's keepalived accepts, with distinct priorities and every other node as
 * a peer.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { installed, requireTool } from '../../devkit/testing.ts';

interface Service {
  ports?: { target: number; published: number; mode?: string }[];
  volumes?: (string | { type: string })[];
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { mode?: string; replicas?: number; placement?: { constraints?: string[]; max_replicas_per_node?: number } };
}
const stack = parseYaml(readFileSync('swarm/stack.yaml', 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

describe('swarm/stack.yaml', () => {
  it('runs the entry point on every node, publishing 8080, 8443 and 8405 on its own node', () => {
    const lb = stack.services.lb!;
    assert.equal(lb.deploy?.mode, 'global');
    assert.deepEqual(
      lb.ports?.map((p) => [p.target, p.published, p.mode]),
      [
        [8080, 8080, 'host'],
        [8443, 8443, 'host'],
        [8405, 8405, 'host'],
      ],
    );
    assert.equal(lb.deploy?.placement?.constraints, undefined);
  });

  it('pins nothing to one node but Grafana and its query balancer; the monitoring with data runs one per node, twice or more', () => {
    const named = new Set(Object.keys(stack.volumes));
    for (const [name, service] of Object.entries(stack.services)) {
      const placement = service.deploy?.placement;
      for (const constraint of placement?.constraints ?? []) {
        assert.doesNotMatch(constraint, /node\.(hostname|id)\b/, `${name}: ${constraint}`);
        if (constraint === 'node.role == manager') continue;
        if (constraint === 'node.labels.mnist.grafana == true') {
          assert.ok(['grafana', 'prometheus'].includes(name), `${name} is pinned to Grafana's node`);
          continue;
        }
        assert.equal(constraint, 'node.labels.mnist.monitoring == true', `${name}: ${constraint}`);
        const volumes = (service.volumes ?? []).filter((v) => typeof v === 'string' && named.has(v.split(':')[0]!));
        assert.equal(volumes.length, 1, `${name} is pinned to the monitoring's nodes but keeps no data there`);
        assert.ok((service.deploy?.replicas ?? 1) >= 2, `${name}: one copy would rest on one node`);
        assert.equal(placement?.max_replicas_per_node, 1, `${name}: two copies could share a node`);
      }
    }
  });

  it('runs two Prometheus and a cluster of Alertmanagers that gossip by DNS', () => {
    assert.equal(stack.services['prometheus-server']?.deploy?.replicas, 2);
    const alertmanager = stack.services.alertmanager!;
    assert.ok((alertmanager.deploy?.replicas ?? 1) >= 2);
    const flags = alertmanager.command ?? [];
    assert.ok(flags.includes('--cluster.listen-address=0.0.0.0:9094'), flags.join(' '));
    assert.ok(flags.includes('--cluster.peer=tasks.alertmanager:9094'), flags.join(' '));
    assert.ok(!flags.some((f) => /^--cluster\.listen-address=$/.test(f)), 'clustering is not switched off');
    assert.equal(alertmanager.environment?.ALERTMANAGER_CLUSTER_PORT, '9094');
  });
});

describe('keepalived on every node (swarm/keepalived/, rendered by nodes.sh)', () => {
  const NODES = ['mnist-node-2', 'mnist-node-3', 'host'];
  const ADDRESS: Record<string, string> = {
    'mnist-node-2': '10.77.0.2',
    'mnist-node-3': '10.77.0.3',
    host: '10.77.0.1',
  };
  const render = (node: string) =>
    execFileSync('scripts/swarm/nodes.sh', ['keepalived-conf', node, ...NODES], { encoding: 'utf8' });

  /** keepalived's own check of a configuration: what it complains about (nothing when valid). */
  function complaints(conf: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'keepalived-'));
    try {
      writeFileSync(join(dir, 'keepalived.conf'), conf);
      // A session of its own (setsid): keepalived ends a config test by signalling its process group.
      const out = spawnSync(
        'setsid',
        ['--wait', 'keepalived', '--config-test', '--use-file', join(dir, 'keepalived.conf')],
        { encoding: 'utf8' },
      );
      return `${out.stdout}${out.stderr}`.trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('gives each node a distinct priority, the host the lowest, and every other node as a unicast peer', () => {
    const priorities = NODES.map((node) => {
      const conf = render(node);
      const peers = /unicast_peer \{([^}]*)\}/.exec(conf)![1]!.trim().split(/\s+/).sort();
      assert.deepEqual(
        peers,
        NODES.filter((n) => n !== node)
          .map((n) => ADDRESS[n]!)
          .sort(),
        node,
      );
      assert.match(conf, new RegExp(`unicast_src_ip ${ADDRESS[node]!.replace(/\./g, '\\.')}\\n`));
      assert.match(conf, /nopreempt/);
      assert.doesNotMatch(conf, /@\w+@/, `${node}: a placeholder left`);
      return Number(/priority (\d+)/.exec(conf)![1]);
    });
    assert.equal(new Set(priorities).size, NODES.length, `priorities ${priorities.join(', ')}`);
    assert.equal(Math.min(...priorities), priorities[NODES.indexOf('host')]);
  });

  it("is a configuration Debian's keepalived accepts, for every node", (t) => {
    if (!requireTool(installed('keepalived'), 'keepalived', t)) return;
    // keepalived also checks that the interface exists (and is not loopback): the nodes' bridge
    // and namespaces may not exist here, so their interface is one this machine has.
    const nic = readdirSync('/sys/class/net').find((n) => n !== 'lo');
    if (!requireTool(nic !== undefined, 'a network interface', t)) return;
    const here = (conf: string) => conf.replace(/\b(eth0|mnistswarm0)\b/g, nic!);
    for (const node of NODES) assert.equal(complaints(here(render(node))), '', node);
    // The check can fail: a misspelt keyword is named.
    assert.match(complaints(here(render('host')).replace('nopreempt', 'nopreemptx')), /Unknown keyword 'nopreemptx'/);
  });
});
