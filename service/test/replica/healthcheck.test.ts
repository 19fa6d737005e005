/**
 * The container's health check script (service/healthcheck.sh, what the image's HEALTHCHECK and
 * compose run) against a real replica: healthy when /readyz answers 200, unhealthy while the
 * replica drains (still listening, /readyz 503) and once nothing listens.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnReplica } from '../../../devkit/replica-process.ts';

const SCRIPT = fileURLToPath(new URL('../../healthcheck.sh', import.meta.url));
const check = (url: string) =>
  spawnSync('bash', [SCRIPT], { env: { ...process.env, PORT: new URL(url).port }, timeout: 5000 }).status;

describe('the container health check', () => {
  it('passes while the replica is ready, fails while it drains and once it is gone', async () => {
    const replica = await spawnReplica({ SHUTDOWN_DELAY_MS: '2000' });
    assert.equal(check(replica.url), 0, 'ready');
    const exited = replica.stop();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await fetch(`${replica.url}/readyz`)).status, 503, 'draining, still listening');
    assert.equal(check(replica.url), 1, 'draining');
    assert.equal(await exited, 0);
    assert.equal(check(replica.url), 1, 'gone');
  });
});
