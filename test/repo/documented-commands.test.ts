/**
 * The commands the README and docs/ give work as written: the README's calls to /predict run
 * under `sh` with a POSIX-only sed against a real replica, and every documented `npm run train`
 * line passes its own checks (`--dry-run`: the options are valid and no shipped model is
 * overwritten without `--force`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { haveHaproxy, startBalancer } from '../../devkit/haproxy.ts';
import { startTestReplica } from '../../devkit/testing.ts';
import { shellCommands, words } from '../support/docs.ts';

const run = promisify(execFile);

const DOCUMENTED_PAGES = ['README.md', 'docs/model.md', 'docs/api.md', 'docs/operations.md', 'docs/scaling.md'];

describe("the README's calls to /predict", () => {
  let replica: Awaited<ReturnType<typeof startTestReplica>>;
  let dir: string;

  before(async () => {
    replica = await startTestReplica();
    dir = mkdtempSync(join(tmpdir(), 'mnist-readme-'));
    // sed that knows only POSIX (GNU's \+ is not in it), as on macOS and the BSDs.
    const bin = join(dir, 'bin');
    await run('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'sed'), '#!/bin/sh\nexec /bin/sed --posix "$@"\n');
    chmodSync(join(bin, 'sed'), 0o755);
  });
  after(async () => {
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const readme = shellCommands('README.md');
  const local = (command: string) => command.replaceAll(/http:\/\/localhost:\d+/g, replica.url);
  const sh = (command: string) =>
    run('sh', ['-c', local(command)], { cwd: dir, env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` } });

  it('write the fixtures, then answer each form as the comments say', async () => {
    const fixtures = readme.find((c) => c.startsWith('npm run fixtures'));
    assert.ok(fixtures, 'the README writes its fixtures with npm run fixtures');
    await run('sh', ['-c', fixtures.replace('--out ', `--out ${dir}/`)]);
    const curls = readme.filter((c) => c.startsWith('curl ') && c.includes('/predict'));
    assert.equal(curls.length, 3, 'multipart, raw body and JSON');
    const answers = await Promise.all(
      curls.map(async (c) => JSON.parse((await sh(c)).stdout) as { digit?: number; error?: { code: string } }),
    );
    assert.equal(answers[0]!.digit, 7, 'fixtures/digits/0_7.png is a 7');
    assert.equal(answers[1]!.digit, 7);
    assert.equal(answers[2]!.error?.code, 'blank_image', JSON.stringify(answers[2]));
  });

  it("run the Python snippet as written (with Python's requests)", async (t) => {
    const snippet = /```python\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))?.[1];
    assert.ok(snippet);
    const python = await run('python3', ['-c', 'import requests']).then(
      () => true,
      () => false,
    );
    if (!python) {
      assert.ok(!process.env.CI, "Python's requests is missing in CI");
      return t.skip("Python's requests is not installed");
    }
    const { stdout } = await run('python3', ['-c', local(snippet)], { cwd: dir });
    assert.equal(stdout.trim(), '7 test-replica');
  });
});

describe("docs/api.md's Open Inference Protocol snippet", () => {
  it('classifies one digit, then 32 in one request, through the load balancer (Python, requests only)', async (t) => {
    const snippet = /```python\n(# Open Inference Protocol[\s\S]*?)```/.exec(readFileSync('docs/api.md', 'utf8'))?.[1];
    assert.ok(snippet, 'the snippet is in docs/api.md');
    const python = await run('python3', ['-c', 'import requests']).then(
      () => true,
      () => false,
    );
    if (!python || !haveHaproxy()) {
      assert.ok(!process.env.CI, "Python's requests and HAProxy are in CI");
      return t.skip("Python's requests or HAProxy is not installed");
    }
    const dir = mkdtempSync(join(tmpdir(), 'mnist-oip-'));
    const replica = await startTestReplica();
    const lb = await startBalancer({ 'mnist-1': replica.url.replace('http://', '') });
    try {
      await run('npm', ['run', '-s', 'fixtures', '--', '--count', '32', '--out', join(dir, 'fixtures/digits')]);
      const { stdout } = await run('python3', ['-c', snippet.replaceAll('http://localhost:8080', lb.url)], {
        cwd: dir,
      });
      const [one, batch] = stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ').map(Number));
      // The fixtures are named <index>_<label>.png, read in name order by the snippet.
      const labels = (await run('ls', [join(dir, 'fixtures/digits')])).stdout
        .trim()
        .split('\n')
        .sort()
        .map((name) => Number(/_(\d)\.png$/.exec(name)![1]));
      assert.equal(one!.length, 1);
      assert.equal(batch!.length, 32);
      assert.equal(one![0], batch![0]);
      const right = batch!.filter((digit, i) => digit === labels[i]).length;
      assert.ok(right >= 30, `${right} of 32 as labelled`);
    } finally {
      await lb.stop();
      await replica.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every documented npm run train', () => {
  const commands = DOCUMENTED_PAGES.flatMap(shellCommands).filter((c) => c.startsWith('npm run train'));

  it('is documented at all', () => assert.ok(commands.length >= 3));
  for (const command of commands) {
    it(`passes its checks: ${command.replace(/\s+#.*/, '')}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mnist-train-'));
      try {
        // Scratch directories of the docs go to a fresh one, so nothing on this machine decides.
        const args = words(command.replaceAll('/tmp/', `${dir}/`)).slice(3);
        const { stdout } = await run('npm', ['run', '-s', 'train', ...(args.length ? args : ['--']), '--dry-run']);
        const plan = JSON.parse(stdout.trim().split('\n').at(-1)!) as { dry_run: boolean; out: string };
        assert.equal(plan.dry_run, true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('npm run train', () => {
  const train = (...args: string[]) =>
    run('npm', ['run', '-s', 'train', '--', ...args, '--dry-run']).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  it('writes a new directory under training/runs by default', async () => {
    const { code, stdout } = await train();
    assert.equal(code, 0);
    assert.match(stdout, /"out":"training\/runs\/wide-bn-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d"/);
  });

  it('refuses a directory that holds a model unless --force says so', async () => {
    const refused = await train('--out', 'service/models/v2');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--out service\/models\/v2 already holds a model; .* --force/);
    assert.equal((await train('--out', 'service/models/v2', '--force')).code, 0);
  });

  it('trains a run shorter than the clean tail clean throughout, and says so', async () => {
    const { code, stdout } = await train('--epochs', '2');
    assert.equal(code, 0);
    assert.match(stdout, /recipe ends on 3 clean epochs; with --epochs 2 all 2 are clean/);
    assert.match(stdout, /"cleanEpochs":2/);
    const refused = await train('--epochs', '2', '--clean-epochs', '3');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--clean-epochs must be a whole number from 0 to the 2 epochs trained, got "3"/);
  });
});
