/**
 * Uploads made by real HTTP clients rather than by hand-built bodies: each library frames its
 * multipart parts its own way (Python's requests sends a file part without a Content-Type).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { digits, encodeDigit, startTestReplica } from '../../../devkit/testing.ts';

const run = promisify(execFile);

interface Reply {
  status: number;
  body: { digit?: number; replica?: string; error?: { code: string } };
}

/** The first interpreter on this machine that has requests (Debian's python3-requests in CI). */
function pythonWithRequests(): string | undefined {
  return ['python3', '/usr/bin/python3'].find((python) => spawnSync(python, ['-c', 'import requests']).status === 0);
}

/** curl's answer as status and JSON, whatever the status. */
async function curl(args: string[]): Promise<Reply> {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  const lines = stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  return { status, body: JSON.parse(lines.join('\n')) as Reply['body'] };
}

describe('uploads from real HTTP clients', () => {
  let replica: Awaited<ReturnType<typeof startTestReplica>>;
  let dir: string;
  let png: string;
  let label: number;

  before(async () => {
    replica = await startTestReplica();
    dir = mkdtempSync(join(tmpdir(), 'mnist-clients-'));
    const [d] = digits(1, 3);
    label = d!.label;
    png = join(dir, 'digit.png');
    writeFileSync(png, await encodeDigit(d!.pixels));
  });
  after(async () => {
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const python = (t: TestContext, script: string): Promise<Reply> | undefined => {
    const interpreter = pythonWithRequests();
    if (!interpreter) {
      // CI installs python3-requests; only a developer machine without it may skip.
      assert.ok(!process.env.CI, "Python's requests is missing in CI");
      t.skip("Python's requests is not installed (apt-get install python3-requests)");
      return undefined;
    }
    const wrapped = `import json, sys, requests\nurl, path = sys.argv[1], sys.argv[2]\n${script}\nprint(json.dumps({"status": r.status_code, "body": r.json()}))`;
    return run(interpreter, ['-c', wrapped, `${replica.url}/predict`, png]).then(
      ({ stdout }) => JSON.parse(stdout) as Reply,
    );
  };

  it("answers Python requests' default upload, whose file part has no Content-Type", async (t) => {
    const reply = await python(t, 'r = requests.post(url, files={"file": open(path, "rb")})');
    if (!reply) return;
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.digit, label);
  });

  it('answers a single file sent by requests in a field not named "file"', async (t) => {
    for (const field of ['image', 'upload_file', 'uploaded_image']) {
      const reply = await python(t, `r = requests.post(url, files={"${field}": ("d.png", open(path, "rb"))})`);
      if (!reply) return;
      assert.equal(reply.status, 200, `${field}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.digit, label);
    }
  });

  it('refuses two files sent by requests with 400 too_many_files', async (t) => {
    const reply = await python(
      t,
      'r = requests.post(url, files={"file": open(path, "rb"), "image": open(path, "rb")})',
    );
    if (!reply) return;
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error?.code, 'too_many_files');
  });

  it('answers curl -F with its guessed part type, an explicit type, and application/octet-stream', async () => {
    for (const part of [`file=@${png}`, `file=@${png};type=image/png`, `file=@${png};type=application/octet-stream`]) {
      const reply = await curl(['-F', part, `${replica.url}/predict`]);
      assert.equal(reply.status, 200, `${part}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.digit, label);
      assert.equal(reply.body.replica, 'test-replica');
    }
  });

  it('answers the curl command that Swagger UI prints', async () => {
    const reply = await curl([
      '-X',
      'POST',
      `${replica.url}/predict`,
      '-H',
      'accept: application/json',
      '-H',
      'Content-Type: multipart/form-data',
      '-F',
      `file=@${png};type=image/png`,
    ]);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.digit, label);
  });

  it('answers curl --data-binary with a raw image/png body', async () => {
    const reply = await curl(['-H', 'Content-Type: image/png', '--data-binary', `@${png}`, `${replica.url}/predict`]);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.digit, label);
  });
});
