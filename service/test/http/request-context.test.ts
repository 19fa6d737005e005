/**
 * The outermost middleware on a small Koa app of its own, over real HTTP: request ids, the JSON
 * answer for whatever was thrown or left unanswered, one log line at the level its outcome asks
 * for, one telemetry record per request under its route template, and the client-gone callback.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import pino from 'pino';
import { ApiError } from '../../src/http/errors.ts';
import { requestContext, type RequestState } from '../../src/http/request-context.ts';
import type { RequestRecord, Telemetry } from '../../src/metrics/telemetry.ts';

interface LogLine {
  level: number;
  msg: string;
  ms?: number;
  error_code?: string;
  route?: string;
  status?: number;
  request_id?: string;
  err?: { message: string };
}
const INFO = 30;
const ERROR = 50;
const DEBUG = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const seen = { lines: [] as LogLine[], records: [] as RequestRecord[], rejected: [] as string[], started: 0 };
const telemetry: Telemetry = {
  requestStarted: () => void seen.started++,
  requestFinished: (record) => void seen.records.push(record),
  rejected: (reason, via) => void seen.rejected.push(`${reason} ${via}`),
  predictionServed: () => {},
  preprocessed: () => {},
  queueWaited: () => {},
  inferred: () => {},
  predicted: () => {},
  inferRows: () => {},
  connectionDropped: () => {},
  modelLoaded: () => {},
  inputSeen: () => {},
  payloadLogged: () => {},
};
const gone: string[] = [];

async function serve(accessLogSample: number): Promise<{ url: string; close: () => Promise<void> }> {
  const logger = pino({ level: 'debug' }, { write: (line: string) => void seen.lines.push(JSON.parse(line)) });
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  router.get('/things/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  for (const probe of ['/healthz', '/readyz']) {
    router.get(probe, (ctx) => {
      ctx.body = { status: 'fine' };
    });
  }
  router.get('/busy', () => {
    throw new ApiError('overloaded', 'too busy right now', { 'Retry-After': '3' });
  });
  router.get('/broken', () => {
    throw new Error('a secret detail of the failure');
  });
  router.get('/wait', async (ctx) => {
    const { onClientGone } = ctx.state as RequestState;
    onClientGone(() => gone.push('while waiting'));
    await new Promise((r) => setTimeout(r, 300));
    onClientGone(() => gone.push('after it left'));
    ctx.body = { late: true };
  });
  app.use(requestContext({ logger, telemetry, trustProxy: false, accessLogSample }));
  app.use(router.routes());
  app.use(router.allowedMethods());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Waits until `count` requests have been reported (that happens once each answer has left). */
async function reported(count: number): Promise<void> {
  for (let i = 0; i < 200 && seen.records.length < count; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(seen.records.length, count, 'requests reported');
}

describe('the request context', () => {
  let app: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    app = await serve(1);
  });
  after(() => app.close());
  beforeEach(() => {
    Object.assign(seen, { lines: [], records: [], rejected: [], started: 0 });
  });

  async function error(res: Response, status: number, code: string, message: string | RegExp) {
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    assert.equal(res.status, status);
    assert.equal(body.error.code, code);
    if (typeof message === 'string') assert.equal(body.error.message, message);
    else assert.match(body.error.message, message);
    assert.equal(body.error.request_id, res.headers.get('x-request-id'), 'the body names the request id sent back');
    return res;
  }

  it('answers a request no route took: 404, 405 with what is allowed, 501 for an unknown method', async () => {
    await error(
      await fetch(`${app.url}/nothing`),
      404,
      'not_found',
      'no route for GET /nothing; see GET / for the endpoints',
    );
    const wrong = await error(
      await fetch(`${app.url}/things/7`, { method: 'PUT' }),
      405,
      'method_not_allowed',
      'PUT is not allowed on /things/7; use HEAD, GET',
    );
    assert.equal(wrong.headers.get('allow'), 'HEAD, GET');
    await error(
      await fetch(`${app.url}/things/7`, { method: 'SEARCH' }),
      501,
      'not_implemented',
      'method SEARCH is not implemented',
    );
  });

  it('answers a thrown ApiError with its status, headers and words, and counts it as refused', async () => {
    const res = await error(await fetch(`${app.url}/busy`), 429, 'overloaded', 'too busy right now');
    assert.equal(res.headers.get('retry-after'), '3');
    await reported(1);
    assert.deepEqual(seen.rejected, ['overloaded direct']);
    const line = seen.lines.find((l) => l.route === '/busy')!;
    assert.deepEqual(
      [line.level, line.msg, line.error_code, line.status],
      [INFO, 'too busy right now', 'overloaded', 429],
    );
  });

  it('counts a refusal that came through the load balancer (X-Forwarded-For) as such', async () => {
    await error(
      await fetch(`${app.url}/busy`, { headers: { 'x-forwarded-for': '192.0.2.7' } }),
      429,
      'overloaded',
      'too busy right now',
    );
    await reported(1);
    assert.deepEqual(seen.rejected, ['overloaded load_balancer']);
  });

  it('answers anything else with a 500 that tells nothing, logged as an error with its cause, not counted as refused', async () => {
    const res = await fetch(`${app.url}/broken`);
    const text = await res.text();
    assert.equal(res.status, 500);
    assert.doesNotMatch(text, /secret/);
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'internal_error');
    await reported(1);
    assert.deepEqual(seen.rejected, []);
    const line = seen.lines.find((l) => l.route === '/broken')!;
    assert.deepEqual(
      [line.level, line.error_code, line.err?.message],
      [ERROR, 'internal_error', 'a secret detail of the failure'],
    );
  });

  it('echoes a request id of 1 to 128 word characters, dots, colons and dashes, and makes up one otherwise', async () => {
    const id = async (sent?: string) =>
      (await fetch(`${app.url}/healthz`, { headers: sent === undefined ? {} : { 'x-request-id': sent } })).headers.get(
        'x-request-id',
      )!;
    for (const good of ['a', 'trace-1.2:3_x', 'A'.repeat(128)]) assert.equal(await id(good), good);
    const made = [];
    for (const bad of [undefined, '', 'A'.repeat(129), 'has space', 'semi;colon', 'slash/', 'ünïcode']) {
      const answer = await id(bad);
      assert.match(answer, UUID, `for ${String(bad)}`);
      made.push(answer);
    }
    assert.equal(new Set(made).size, made.length, 'a new id each time');
  });

  it('reports each request once, under its route template, with its status, time, bytes and client', async () => {
    const wall = performance.now();
    await (await fetch(`${app.url}/things/42`)).arrayBuffer();
    await (await fetch(`${app.url}/nowhere/at/all`)).arrayBuffer();
    const elapsed = (performance.now() - wall) / 1000;
    await reported(2);
    assert.equal(seen.started, 2);
    const [thing, nowhere] = seen.records;
    assert.deepEqual(
      [thing!.method, thing!.route, thing!.status, thing!.clientIp],
      ['GET', '/things/:id', 200, '127.0.0.1'],
    );
    assert.deepEqual([nowhere!.route, nowhere!.status], ['unmatched', 404]);
    for (const [i, r] of seen.records.entries()) {
      assert.ok(r.seconds > 0 && r.seconds < elapsed, `${r.seconds} s within the ${elapsed} s the client waited`);
      assert.ok(Math.abs(seen.lines[i]!.ms! - r.seconds * 1000) < 0.001, 'the log line says the same time in ms');
      assert.ok(r.receivedBytes > 30 && r.sentBytes > 100, `${r.receivedBytes} in, ${r.sentBytes} out`);
    }
    assert.deepEqual(
      seen.lines.map((l) => [l.level, l.msg, l.route]),
      [
        [INFO, 'request', '/things/:id'],
        [INFO, 'no route for GET /nowhere/at/all; see GET / for the endpoints', 'unmatched'],
      ],
    );
  });

  it('writes health probes at debug', async () => {
    await (await fetch(`${app.url}/healthz`)).arrayBuffer();
    await (await fetch(`${app.url}/readyz`)).arrayBuffer();
    await reported(2);
    assert.deepEqual(
      seen.lines.map((l) => [l.level, l.msg, l.route]),
      [
        [DEBUG, 'probe', '/healthz'],
        [DEBUG, 'probe', '/readyz'],
      ],
    );
  });

  it('tells the handler when its client leaves, at once if it already has', async () => {
    gone.length = 0;
    await assert.rejects(fetch(`${app.url}/wait`, { signal: AbortSignal.timeout(100) }));
    for (let i = 0; i < 100 && gone.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(gone, ['while waiting', 'after it left']);
    await reported(1);
  });

  it('leaves successes out of the log at a sample of 0, never refusals', async () => {
    const quiet = await serve(0);
    try {
      await (await fetch(`${quiet.url}/things/1`)).arrayBuffer();
      await (await fetch(`${quiet.url}/busy`)).arrayBuffer();
      await reported(2);
      assert.deepEqual(
        seen.lines.map((l) => l.route),
        ['/busy'],
      );
    } finally {
      await quiet.close();
    }
  });
});
