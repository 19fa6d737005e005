/**
 * The canary recipe of docs/model.md in process: one replica on v1, one on the default model, the
 * same labelled load over both; the metrics and the load summary must tell the two models apart.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runLoad } from '../../devkit/loadgen/driver.ts';
import { mnistDigits, type EncodedDigit } from '../../devkit/loadgen/payloads.ts';
import { sample, startTestReplica } from '../../devkit/testing.ts';
import { DEFAULT_MODEL, DEFAULT_MODEL_DIR, imageToModelInput, SHIPPED_MODELS_DIR } from '../../service/src/index.ts';

type Replica = Awaited<ReturnType<typeof startTestReplica>>;

describe('a canary: v1 and the default model side by side', () => {
  let replicas: Replica[];
  let candidates: EncodedDigit[];
  before(async () => {
    replicas = [
      await startTestReplica({ REPLICA: 'canary-v1', MODEL_DIR: join(SHIPPED_MODELS_DIR, 'v1') }),
      await startTestReplica({ REPLICA: 'canary-default', MODEL_DIR: DEFAULT_MODEL_DIR }),
    ];
    candidates = await mnistDigits(3000);
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  it('serves two different models', () => {
    assert.notEqual(DEFAULT_MODEL, 'v1');
    const [v1, next] = replicas.map((r) => `${r.engine.card.name}@${r.versions.defaultVersion}`);
    assert.notEqual(v1, next);
  });

  it('tells the models apart in the metrics and in the load summary', async () => {
    // The digits v1 gets wrong and the default model right, each through the service's own
    // preprocessing: whichever replica answers one, its model's accuracy is known in advance.
    const right = async (replica: Replica, d: EncodedDigit) => {
      const { input } = await imageToModelInput(d.png, 1e8);
      return replica.engine.predict([input])[0]!.digit === d.label;
    };
    const telling: EncodedDigit[] = [];
    for (const d of candidates) {
      if (!(await right(replicas[0]!, d)) && (await right(replicas[1]!, d))) telling.push(d);
    }
    assert.ok(telling.length >= 3, `only ${telling.length} digits that v1 misses and the default model gets`);

    const summary = await runLoad(
      {
        targets: replicas.map((r) => r.url),
        weights: [50, 50],
        durationSeconds: null,
        requests: 200,
        rateAt: null,
        concurrency: 8,
        mix: { multipart: 1, raw: 1, json: 1 },
        badShare: 0,
        seed: 11,
      },
      telling,
    );
    assert.equal(summary.total.good_error_rate, 0);

    const key = (r: Replica) => `${r.engine.card.name}@${r.versions.defaultVersion}`;
    assert.deepEqual(summary.total.by_model, {
      [key(replicas[0]!)]: { answered: summary.targets[0]!.good_requests, accuracy: 0 },
      [key(replicas[1]!)]: { answered: summary.targets[1]!.good_requests, accuracy: 1 },
    });

    for (const [i, replica] of replicas.entries()) {
      const text = await (await fetch(replica.metricsUrl)).text();
      const { name } = replica.engine.card;
      const version = replica.versions.defaultVersion;
      assert.equal(sample(text, 'mnist_model_info', { model: name, version }), 1, `${name}@${version} on ${i}`);
      assert.equal(
        sample(text, 'mnist_prediction_confidence_count'),
        summary.targets[i]!.good_requests,
        `answers counted by replica ${i}`,
      );
    }
  });
});
