/**
 * The replicas are one fact: compose.yaml names them, and every other place that lists them (the
 * load balancer's servers, Prometheus's targets, the settings in .env.example, the in-cluster load
 * generator) agrees with it; the replicas `--scale` adds are found by name through DNS in both.
 * A place that disagrees is named in the failure.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  composeFile,
  namedReplicas,
  REPLICA_API_PORT,
  REPLICA_METRICS_PORT,
  SCALABLE_REPLICAS,
  type ComposeFile,
} from '../../devkit/compose-topology.ts';

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  dns_sd_configs?: { names: string[]; port: number }[];
}

/** What each place says the named replicas are, for one compose file and its companions. */
export function replicaLists(
  compose: ComposeFile,
  haproxy: string,
  prometheus: string,
  envExample: string,
): Record<string, string[]> {
  const replicas = namedReplicas({}, compose);
  const job = (parseYaml(prometheus) as { scrape_configs: ScrapeConfig[] }).scrape_configs.find(
    (j) => j.job_name === 'mnist',
  );
  const load = compose.services.load?.environment?.LOAD_TARGETS ?? '';
  // The replicas it waits for (a list, or a map with conditions), not the one-shot jobs that write
  // its certificate and credentials.
  const dependsOn = (
    compose.services.lb as { depends_on?: string[] | Record<string, { condition?: string }> } | undefined
  )?.depends_on;
  const lb = Array.isArray(dependsOn)
    ? dependsOn
    : Object.entries(dependsOn ?? {})
        .filter(([, how]) => how.condition !== 'service_completed_successfully')
        .map(([name]) => name);
  return {
    'compose.yaml services': replicas.map((r) => r.name),
    'haproxy/compose.cfg servers': [...haproxy.matchAll(/^\s*server (\S+) (\S+):(\d+)/gm)]
      .filter((m) => m[1] === m[2] && Number(m[3]) === REPLICA_API_PORT)
      .map((m) => m[1]!),
    'prometheus/prometheus.yml mnist targets': (job?.static_configs ?? [])
      .filter((s) => s.targets[0] === `${s.labels?.replica}:${REPLICA_METRICS_PORT}`)
      .map((s) => s.labels!.replica!),
    '.env.example models': [...envExample.matchAll(/^(MNIST_\d+_MODEL_DIR)=/gm)].map(
      (m) => replicas.find((r) => r.modelDirVariable === m[1])?.name ?? m[1]!,
    ),
    'compose.yaml load targets': load.split(',').map((t) => new URL(t).hostname),
    'compose.yaml lb depends_on': lb.filter((s) => s !== SCALABLE_REPLICAS),
  };
}

const files = () => ({
  compose: composeFile(),
  haproxy: readFileSync('haproxy/compose.cfg', 'utf8'),
  prometheus: readFileSync('prometheus/prometheus.yml', 'utf8'),
  envExample: readFileSync('.env.example', 'utf8'),
});

/** The places that disagree with compose.yaml's list. */
function disagreements(lists: Record<string, string[]>): string[] {
  const truth = JSON.stringify(lists['compose.yaml services']);
  return Object.entries(lists)
    .filter(([, names]) => JSON.stringify(names) !== truth)
    .map(([place, names]) => `${place}: ${names.join(', ')}`);
}

describe('the replicas', () => {
  it('are the seed’s two, named in compose.yaml with their own host ports', () => {
    const replicas = namedReplicas({}, composeFile());
    assert.deepEqual(
      replicas.map((r) => [r.name, r.api, r.metrics]),
      [
        ['mnist-1', 'http://127.0.0.1:8000', 'http://127.0.0.1:18000/metrics'],
        ['mnist-2', 'http://127.0.0.1:9000', 'http://127.0.0.1:15000/metrics'],
      ],
    );
  });

  it('are listed alike by the load balancer, Prometheus, .env.example and the load generator', () => {
    const { compose, haproxy, prometheus, envExample } = files();
    assert.deepEqual(disagreements(replicaLists(compose, haproxy, prometheus, envExample)), []);
  });

  it('a replica added to one place only is named as a disagreement', () => {
    const { compose, haproxy, prometheus, envExample } = files();
    const third = structuredClone(compose);
    third.services['mnist-3'] = {
      ...structuredClone(compose.services['mnist-2']!),
      environment: {
        ...compose.services['mnist-2']!.environment,
        REPLICA: 'mnist-3',
        MODEL_DIR: '${MNIST_3_MODEL_DIR:-}',
      },
      ports: ['${API_BIND:-0.0.0.0}:${MNIST_3_PORT:-9100}:8000', '127.0.0.1:${MNIST_3_METRICS_PORT:-15100}:18000'],
    };
    const found = disagreements(replicaLists(third, haproxy, prometheus, envExample));
    assert.equal(found.length, 5, found.join('\n'));
    assert.match(found[0]!, /^haproxy\/compose\.cfg servers: mnist-1, mnist-2$/);
  });

  it('that --scale adds are found through DNS by the load balancer and by Prometheus', () => {
    const { compose, haproxy, prometheus } = files();
    assert.equal(compose.services[SCALABLE_REPLICAS]?.deploy?.replicas, 0, 'none by default');
    assert.equal(compose.services[SCALABLE_REPLICAS]?.ports, undefined, 'no host port to clash');
    assert.match(
      haproxy,
      new RegExp(`^\\s*server-template \\S+ \\d+-\\d+ ${SCALABLE_REPLICAS}:${REPLICA_API_PORT}\\b`, 'm'),
    );
    const job = (parseYaml(prometheus) as { scrape_configs: ScrapeConfig[] }).scrape_configs.find(
      (j) => j.job_name === 'mnist',
    );
    assert.deepEqual(
      job?.dns_sd_configs?.map((d) => [d.names, d.port]),
      [[[SCALABLE_REPLICAS], REPLICA_METRICS_PORT]],
    );
  });
});
