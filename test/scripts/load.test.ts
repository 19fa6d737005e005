import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runLoad, type LoadPlan } from '../../devkit/loadgen/driver.ts';
import { mnistDigits, type EncodedDigit } from '../../devkit/loadgen/payloads.ts';
import { imageToModelInput } from '../../service/src/index.ts';
import { freePort } from '../../devkit/free-port.ts';
import { sample, SMOKE_LOAD_ARGS, startTestReplica } from '../../devkit/testing.ts';

type Replica = Awaited<ReturnType<typeof startTestReplica>>;
const run = promisify(execFile);

async function predictCount(replica: Replica, status?: string): Promise<number> {
  const text = await (await fetch(replica.metricsUrl)).text();
  const statuses = status ? [status] : ['200', '400', '413', '415', '422', '429', '500'];
  return statuses.reduce(
    (sum, s) => sum + (sample(text, 'mnist_http_requests_total', { route: '/predict', status: s }) ?? 0),
    0,
  );
}

describe('scripts/load.sh against two real replicas', () => {
  let replicas: Replica[];
  let digits: EncodedDigit[];
  before(async () => {
    replicas = [await startTestReplica({ REPLICA: 'load-a' }), await startTestReplica({ REPLICA: 'load-b' })];
    digits = await mnistDigits(150);
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('counts what the replicas count, skews as asked, and reports the right accuracy', async () => {
    const before = await Promise.all(replicas.map((r) => predictCount(r)));
    const plan: LoadPlan = {
      targets: replicas.map((r) => r.url),
      weights: [80, 20],
      durationSeconds: null,
      requests: 600,
      rateAt: null,
      concurrency: 8,
      mix: { multipart: 1, raw: 1, json: 1 },
      badShare: 0.1,
      seed: 3,
    };
    const summary = await runLoad(plan, digits);
    assert.equal(summary.total.requests, 600);

    // Every request the driver saw is one the replica counted, status by status.
    await new Promise((r) => setTimeout(r, 100));
    for (const [i, replica] of replicas.entries()) {
      const target = summary.targets[i]!;
      assert.equal((await predictCount(replica)) - before[i]!, target.requests, `${target.target} total`);
      for (const [status, count] of Object.entries(target.by_status)) {
        assert.equal(await predictCount(replica, status), count, `${target.target} status ${status}`);
      }
    }

    // 80/20 over 600 requests: the first target gets 480 give or take sampling noise.
    const share = summary.targets[0]!.requests / 600;
    assert.ok(share > 0.74 && share < 0.86, `first target got ${share}`);

    // Bad requests are refused, good ones answered.
    assert.equal(summary.total.good_error_rate, 0);
    for (const status of ['413', '415', '422']) assert.ok((summary.total.by_status[status] ?? 0) > 0, `no ${status}`);

    // The accuracy figure: the driver sends good digits in order, cycling; recompute it from
    // the same digits classified through the service's own preprocessing and engine.
    const correct = await Promise.all(
      digits.map(async (d) => {
        const { input } = await imageToModelInput(d.png, 1e8);
        return replicas[0]!.engine.predict([input])[0]!.digit === d.label;
      }),
    );
    const good = summary.total.good_requests;
    let expected = 0;
    for (let j = 0; j < good; j++) expected += correct[j % digits.length] ? 1 : 0;
    assert.equal(summary.total.accuracy, Number((expected / good).toFixed(4)));
    // Both replicas serve the same model: one entry, every good answer, the same accuracy.
    const { name } = replicas[0]!.engine.card;
    assert.deepEqual(summary.total.by_model, {
      [`${name}@${replicas[0]!.versions.defaultVersion}`]: { answered: good, accuracy: summary.total.accuracy },
    });
  });

  it('with retryRefused waits for a target that is not listening yet; without it, those requests fail', async () => {
    const port = await freePort();
    const late = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"digit":7}'),
    );
    const plan: LoadPlan = {
      targets: [`http://127.0.0.1:${port}`],
      weights: [1],
      durationSeconds: 1.5,
      requests: null,
      rateAt: null,
      concurrency: 4,
      mix: { multipart: 1, raw: 1, json: 1 },
      badShare: 0,
      seed: 1,
    };
    const listening = new Promise((r) => setTimeout(() => late.listen(port, '127.0.0.1', () => r(undefined)), 500));
    const retried = await runLoad({ ...plan, retryRefused: true }, digits);
    await listening;
    await new Promise((r) => late.close(r));
    assert.ok(retried.refused_connections >= 4, `refused ${retried.refused_connections}`);
    assert.ok(retried.total.requests > 0);
    assert.deepEqual(retried.total.by_status, { 200: retried.total.requests });

    const failed = await runLoad({ ...plan, durationSeconds: 0.3 }, digits);
    assert.equal(failed.refused_connections, 0);
    assert.equal(failed.total.by_status.ECONNREFUSED, failed.total.requests);
  });

  it('runs as a shell script: --json prints only the JSON summary on stdout, exit 0; exit 1 when good requests fail', async () => {
    const { stdout, stderr } = await run('scripts/load.sh', [
      ...replicas.flatMap((r) => ['--target', r.url]),
      ...SMOKE_LOAD_ARGS,
    ]);
    const summary = JSON.parse(stdout) as { total: { requests: number; ok: number } };
    assert.match(stderr, /p50/, 'the table goes to stderr');
    assert.equal(summary.total.requests, 60);
    assert.equal(summary.total.ok, 60);

    const refused = await run('scripts/load.sh', [
      '--target',
      'http://127.0.0.1:9',
      '--requests',
      '5',
      '--digits',
      '5',
      '--quiet',
    ]).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
    assert.equal(refused, 1);
    const usage = await run('scripts/load.sh', ['--bad', '2']).then(
      () => 0,
      (err: { code: number; stderr: string }) =>
        /--bad must be a number from 0 to 1/.test(err.stderr) ? err.code : -1,
    );
    assert.equal(usage, 2);
  });
});
