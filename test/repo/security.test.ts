/**
 * The shipped configuration's security claims (SECURITY.md), checked from the files themselves so
 * that an edit which weakens one fails here.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';

interface Service {
  image?: string;
  network_mode?: string;
  entrypoint?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}
const compose = parseYaml(readFileSync('compose.yaml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = Object.entries(compose.services);
/** Grafana writes its plugins and sessions under its own paths; it is the one exception, named in SECURITY.md. */
const WRITABLE_ROOT = new Set(['grafana']);

describe('security of the shipped configuration', () => {
  it('drops every capability and forbids privilege escalation in every container', () => {
    for (const [name, s] of services) {
      assert.deepEqual(s.cap_drop, ['ALL'], `${name}: cap_drop`);
      assert.ok(s.security_opt?.includes('no-new-privileges:true'), `${name}: no-new-privileges`);
      if (!WRITABLE_ROOT.has(name)) assert.equal(s.read_only, true, `${name}: read-only root filesystem`);
    }
  });

  it('binds every monitoring port to loopback by default; only the APIs listen on all interfaces', () => {
    for (const [name, s] of services) {
      for (const port of s.ports ?? []) {
        const container = Number(port.split(':').pop());
        const bind = /^\$\{(\w+):-([^}]*)\}:/.exec(port);
        assert.ok(bind, `${name}: port ${port} names its bind address`);
        // The replicas' API, and the load balancer's entry point in front of them (HTTP and HTTPS).
        const api = container === 8000 || (name === 'lb' && (container === 8080 || container === 8443));
        if (api) assert.equal(bind[1], 'API_BIND', `${name}: API port`);
        else assert.deepEqual([bind[1], bind[2]], ['MONITORING_BIND', '127.0.0.1'], `${name}: port ${port}`);
      }
    }
  });

  it("puts only the exporters in the host's network, listening on the monitoring bind and the cluster gateway", () => {
    const hostNetworked = services.filter(([, s]) => s.network_mode === 'host').map(([name]) => name);
    assert.deepEqual(hostNetworked.sort(), ['blackbox', 'node-exporter']);
    for (const name of hostNetworked) {
      const exporter = compose.services[name]!;
      assert.deepEqual(exporter.entrypoint, ['/bin/sh', '/etc/host-network/entrypoint.sh'], name);
      assert.equal(exporter.environment?.MONITORING_BIND, '${MONITORING_BIND:-127.0.0.1}', name);
    }
    const listens = (bind: string) =>
      execFileSync('sh', ['host-network/entrypoint.sh', '--x'], {
        env: {
          PATH: process.env.PATH,
          MONITORING_BIND: bind,
          CLUSTER_GATEWAY: '172.29.86.1',
          EXPORTER_BIN: 'echo',
          EXPORTER_PORT: '9100',
        },
        encoding: 'utf8',
      }).trim();
    assert.equal(listens('127.0.0.1'), '--web.listen-address=127.0.0.1:9100 --web.listen-address=172.29.86.1:9100 --x');
    assert.equal(listens('::1'), '--web.listen-address=[::1]:9100 --web.listen-address=172.29.86.1:9100 --x');
    // A wildcard already covers the gateway (binding both would fail: address in use).
    assert.equal(listens('0.0.0.0'), '--web.listen-address=:9100 --x');
  });

  it('gives Grafana no default admin password', () => {
    const env = compose.services.grafana!.environment ?? {};
    assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, undefined, 'no password in compose.yaml');
    assert.equal(env.GRAFANA_ADMIN_PASSWORD, '${GRAFANA_ADMIN_PASSWORD:-}', 'only what the user sets');
    assert.equal(env.GF_AUTH_ANONYMOUS_ORG_ROLE, 'Viewer', 'anonymous users can only view');
    assert.equal(env.GF_USERS_ALLOW_SIGN_UP, 'false');
  });

  it('puts Prometheus, Alertmanager and the stats page behind the credentials job, with no default password', () => {
    const job = compose.services['monitoring-credentials'] as Service & { command?: string[]; volumes?: string[] };
    assert.equal(job.environment?.MONITORING_PASSWORD, '${MONITORING_PASSWORD:-}', 'only what the user sets');
    const mounts = (name: string) =>
      ((compose.services[name] as { volumes?: string[] }).volumes ?? []).filter((v) =>
        v.startsWith('monitoring-credentials:'),
      );
    const readers = services.filter(([name]) => mounts(name).length > 0).map(([name]) => name);
    assert.deepEqual(readers.sort(), [
      'alertmanager',
      'grafana',
      'lb',
      'monitoring-credentials',
      'prometheus',
      'rollout',
    ]);
    for (const name of readers.filter((n) => n !== 'monitoring-credentials')) {
      assert.ok(
        mounts(name).every((v) => v.endsWith(':ro')),
        `${name} mounts the credentials read-only`,
      );
    }
    const args = (name: string) => (compose.services[name] as { command?: string[] }).command ?? [];
    for (const name of ['prometheus', 'alertmanager']) {
      assert.ok(args(name).includes('--web.config.file=/credentials/web.yml'), `${name}: --web.config.file`);
    }
    assert.ok(args('lb').includes('/credentials/haproxy-userlist.cfg'), 'the balancer reads the userlist');
    assert.equal(compose.services.lb!.environment?.LB_STATS_AUTH, '1', 'and asks for it on the stats page');
  });

  it('runs the service image as the unprivileged node user, with no secrets in its environment', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(finalStage, /\nUSER node\n/, 'the runtime stage switches to node');
    assert.doesNotMatch(dockerfile, /^(ENV|ARG)\s+\S*(PASSWORD|SECRET|TOKEN|KEY)/im);
  });

  it('keeps secrets out of the repository', (t) => {
    if (spawnSync('git', ['rev-parse', '--is-inside-work-tree']).status !== 0) {
      t.skip('not a git checkout: nothing is tracked');
      return;
    }
    const files = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n');
    assert.ok(!files.includes('.env'), '.env is not committed (.env.example is)');
    const keys = spawnSync('git', ['grep', '-l', '-I', '-E', 'BEGIN [A-Z ]*PRIVATE KEY'], { encoding: 'utf8' });
    assert.equal(keys.stdout.trim(), '', 'no private keys in tracked files');
  });
});
