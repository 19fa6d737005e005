/**
 * A replica that cannot start says why in one line naming the setting, and exits non-zero: no
 * stack trace, none of the wasm glue's bundled source that an uncaught error would print.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { freePort, freePorts } from '../../../devkit/free-port.ts';

/** PORT and METRICS_PORT, two distinct free ports. */
const bothPorts = async () => {
  const [port, metricsPort] = await freePorts(2);
  return { PORT: String(port), METRICS_PORT: String(metricsPort) };
};

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const canResolve = (name: string) => {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
};

/** Runs the replica's process until it exits or says it is ready (then stops it). */
function start(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let [stdout, stderr] = ['', ''];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('"replica ready"')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('start-up', () => {
  let busy: Server;
  let busyPort: number;
  before(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  after(() => busy.close());

  const oneLine = (stderr: string) => {
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr.slice(0, 2000));
    assert.doesNotMatch(stderr, /\n\s+at |Module=/);
  };

  for (const setting of ['PORT', 'METRICS_PORT'] as const) {
    it(`on a busy ${setting} names it and the address in one line, exit 1`, { timeout: 60_000 }, async () => {
      const other = setting === 'PORT' ? 'METRICS_PORT' : 'PORT';
      const { code, stderr } = await start({ [setting]: String(busyPort), [other]: String(await freePort()) });
      assert.equal(code, 1);
      oneLine(stderr);
      assert.match(
        stderr,
        new RegExp(`^${setting}=${busyPort}: address 127\\.0\\.0\\.1:${busyPort} is already in use`),
      );
    });
  }

  for (const dir of ['/nonexistent', 'service']) {
    it(`with MODEL_DIR=${dir} says what is missing there in one line, exit 1`, { timeout: 60_000 }, async () => {
      const { code, stderr } = await start({
        MODEL_DIR: dir,
        ...(await bothPorts()),
      });
      assert.equal(code, 1);
      oneLine(stderr);
      assert.match(stderr, new RegExp(`^MODEL_DIR=${dir}: no model there: .*(metadata|model)\\.json is missing`));
    });
  }

  it(
    'with a BACKEND that cannot load names BACKEND, not the model, in one line, exit 1',
    { timeout: 60_000 },
    async (t) => {
      if (canResolve('@tensorflow/tfjs-node'))
        return t.skip('tfjs-node is installed here: the tensorflow backend loads');
      const { code, stderr } = await start({
        BACKEND: 'tensorflow',
        ...(await bothPorts()),
      });
      assert.equal(code, 1);
      oneLine(stderr);
      assert.equal(stderr.trim(), 'BACKEND=tensorflow: no tfjs backend could be loaded (tried tensorflow)');
    },
  );

  it('says where to open the page, the API docs and the metrics when ready', { timeout: 60_000 }, async () => {
    const [port, metricsPort] = (await freePorts(2)) as [number, number];
    const { stdout } = await start({ PORT: String(port), METRICS_PORT: String(metricsPort) });
    const ready = JSON.parse(stdout.split('\n').find((l) => l.includes('"replica ready"'))!) as Record<string, string>;
    assert.equal(ready.page, `http://127.0.0.1:${port}/`);
    assert.equal(ready.api_docs, `http://127.0.0.1:${port}/docs`);
    assert.equal(ready.metrics, `http://127.0.0.1:${metricsPort}/metrics`);
  });
});
