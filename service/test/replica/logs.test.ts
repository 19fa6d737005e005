/**
 * The replica's log lines as its process writes them (stdout, one JSON object per line): each
 * names the replica once, a request's line says what was served, and ACCESS_LOG_SAMPLE keeps a
 * share of the successful requests' lines while every refusal is still written.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort } from '../../../devkit/free-port.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/**
 * Starts a replica process with `env`, runs `requests` against it once it is ready, then asks for
 * /the-end (a 404, always logged) and returns every line written up to that one.
 */
async function logLines(env: Record<string, string>, requests: (api: string) => Promise<void>): Promise<string[]> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      HOST: '127.0.0.1',
      REPLICA: 'logs-1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const api = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  try {
    for await (const line of createInterface({ input: child.stdout! })) {
      lines.push(line);
      if (line.includes('"replica ready"')) {
        await requests(api);
        await fetch(`${api}/the-end`);
      }
      if (line.includes('"path":"/the-end"')) break;
    }
  } finally {
    child.kill('SIGTERM');
  }
  return lines;
}

const entries = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const times = async (n: number, request: () => Promise<unknown>) => {
  for (let i = 0; i < n; i++) await request();
};

describe('log lines', () => {
  it('name the replica once each, and give a request its id, route, status and time', { timeout: 60_000 }, async () => {
    // Every success written (the default keeps one in a hundred).
    const lines = await logLines({ ACCESS_LOG_SAMPLE: '1' }, async (api) => void (await fetch(`${api}/model`)));
    for (const line of lines) assert.equal(line.split('"replica":').length - 1, 1, line);
    const request = entries(lines).find((e) => e.msg === 'request')!;
    assert.equal(request.replica, 'logs-1');
    assert.equal(request.route, '/model');
    assert.equal(request.status, 200);
    assert.equal(typeof request.request_id, 'string');
    assert.equal(typeof request.ms, 'number');
  });

  it(
    'keep every refusal but only a sample of successes with ACCESS_LOG_SAMPLE, one in a hundred by default',
    { timeout: 90_000 },
    async () => {
      const run = (sample: string) =>
        logLines({ ACCESS_LOG_SAMPLE: sample }, async (api) => {
          await times(400, () => fetch(`${api}/model`).then((r) => r.arrayBuffer()));
          await times(20, () => fetch(`${api}/predict`, { method: 'POST', body: 'x' }).then((r) => r.arrayBuffer()));
        });
      const count = (lines: string[]) => {
        const all = entries(lines).filter((e) => e.route === '/model' || e.route === '/predict');
        return { ok: all.filter((e) => e.status === 200).length, refused: all.filter((e) => e.status === 415).length };
      };
      assert.deepEqual(count(await run('1')), { ok: 400, refused: 20 });
      assert.deepEqual(count(await run('0')), { ok: 0, refused: 20 });
      const half = count(await run('0.5'));
      assert.equal(half.refused, 20);
      // 400 draws at one half: 200 expected, a standard deviation of 10.
      assert.ok(half.ok > 140 && half.ok < 260, `${half.ok} of 400 logged at 0.5`);
      // The default (empty: unset) keeps one success in a hundred: 4 expected, a deviation of 2.
      const byDefault = count(await run(''));
      assert.equal(byDefault.refused, 20);
      assert.ok(byDefault.ok < 20, `${byDefault.ok} of 400 logged by default`);
    },
  );
});
