/**
 * An idle kept-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS, its own setting: not
 * Node.js's default (5 s), not the request deadline. The load balancer's pool relies on it
 * (haproxy.cfg's pool-purge-delay is shorter).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { startTestReplica } from '../../../devkit/testing.ts';

describe('idle connections', () => {
  it('are closed after KEEP_ALIVE_TIMEOUT_MS once their last answer has left', async () => {
    const replica = await startTestReplica({ KEEP_ALIVE_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '120000' });
    try {
      const socket = connect(replica.apiPort, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const [answer] = (await once(socket, 'data')) as [Buffer];
      assert.match(answer.toString(), /^HTTP\/1\.1 200 /);
      assert.match(answer.toString(), /keep-alive/i);
      // A bound far above the setting and below every other deadline (Node's default is 5 s).
      let timer: NodeJS.Timeout | undefined;
      const open = new Promise((resolve) => (timer = setTimeout(resolve, 3000, 'still open')));
      const outcome = await Promise.race([once(socket, 'close').then(() => 'closed'), open]);
      clearTimeout(timer);
      socket.destroy();
      assert.equal(outcome, 'closed');
    } finally {
      await replica.stop();
    }
  });
});
