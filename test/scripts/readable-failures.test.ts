/**
 * The scripts people run fail with a sentence that says what to do: no packages installed, an old
 * Node.js, an address where nothing listens, or one where something else than Prometheus answers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../../devkit/free-port.ts';

const run = promisify(execFile);
const failure = (command: string, args: string[], cwd?: string) =>
  run(command, args, { cwd }).then(
    () => assert.fail(`${command} ${args.join(' ')} succeeded`),
    (err: { code: number; stderr: string }) => err,
  );

describe('scripts that cannot run', () => {
  for (const script of ['load.sh', 'compare.sh', 'soak.sh']) {
    it(`${script} without npm ci says to run it`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mnist-bare-'));
      try {
        cpSync('scripts', join(dir, 'scripts'), { recursive: true });
        const { code, stderr } = await failure('bash', [join(dir, 'scripts', script), '--help']);
        assert.equal(code, 127);
        assert.equal(stderr, `${script} needs the project's packages: run npm ci in ${dir} first\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('compare.sh pointed at the wrong address', () => {
  it('says nothing listens there and what to check', async () => {
    const port = await freePort();
    const { code, stderr } = await failure('bash', ['scripts/compare.sh', '--prometheus', `http://127.0.0.1:${port}`]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]+\): is the cluster up/,
    );
  });

  it('says what answered when it is not Prometheus', async () => {
    const server = createServer((_, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"not_found","message":"no such endpoint"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const { code, stderr } = await failure('bash', ['scripts/compare.sh', '--prometheus', url]);
      assert.equal(code, 1);
      assert.doesNotMatch(stderr, /object Object/);
      assert.equal(
        stderr.trim(),
        `${url} is not Prometheus's API: HTTP 404, {"code":"not_found","message":"no such endpoint"}`,
      );
    } finally {
      server.close();
    }
  });
});
