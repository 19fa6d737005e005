/**
 * Grafana's entrypoint (grafana/entrypoint.sh), run by sh as the container runs it, with a data
 * directory of its own: a generated admin password is printed and kept on the first start, and a
 * restart reuses it rather than printing a new, wrong one. (/run.sh, Grafana's own start, exists
 * only in its image: here the script stops there.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

function start(data: string, env: Record<string, string> = {}) {
  const { stdout, stderr } = spawnSync('sh', ['grafana/entrypoint.sh'], {
    env: { PATH: process.env.PATH, GF_PATHS_DATA: data, ...env },
    encoding: 'utf8',
  });
  assert.match(stderr, /run\.sh/, 'it goes on to start Grafana');
  return stdout;
}

describe("Grafana's entrypoint", () => {
  it('generates the admin password once, keeps it private in the data volume, and reuses it on restarts', () => {
    const data = mkdtempSync(join(tmpdir(), 'grafana-data-'));
    try {
      const first = start(data);
      const generated = /generated Grafana admin password: (\S+)/.exec(first)?.[1];
      assert.ok(generated && generated.length >= 20, first);
      const kept = join(data, 'generated-admin-password');
      assert.equal(readFileSync(kept, 'utf8'), generated);
      assert.equal(statSync(kept).mode & 0o077, 0, 'readable by its owner only');
      const again = start(data);
      assert.doesNotMatch(again, /generated Grafana admin password/);
      assert.match(again, /the one generated on the first start/);
      assert.equal(readFileSync(kept, 'utf8'), generated, 'unchanged by a restart');
      const chosen = start(data, { GRAFANA_ADMIN_PASSWORD: 'chosen-in-env' });
      assert.doesNotMatch(chosen, /password/i, 'a password from .env is not printed');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
