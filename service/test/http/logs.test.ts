/**
 * The replica's log lines as its process writes them (stdout, one JSON object per line): each
 * names the replica once, and a request's line says what was served.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort } from '../../../devkit/free-port.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('log lines', () => {
  it('name the replica once each, and give a request its id, route, status and time', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        ...process.env,
        PORT: String(port),
        METRICS_PORT: String(await freePort()),
        HOST: '127.0.0.1',
        REPLICA: 'logs-1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    try {
      for await (const line of createInterface({ input: child.stdout! })) {
        lines.push(line);
        if (line.includes('"replica ready"')) {
          await fetch(`http://127.0.0.1:${port}/model`);
        }
        if (line.includes('"msg":"request"')) break;
      }
    } finally {
      child.kill('SIGTERM');
    }
    for (const line of lines) assert.equal(line.split('"replica":').length - 1, 1, line);
    const request = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    assert.equal(request.replica, 'logs-1');
    assert.equal(request.route, '/model');
    assert.equal(request.status, 200);
    assert.equal(typeof request.request_id, 'string');
    assert.equal(typeof request.ms, 'number');
  });
});
