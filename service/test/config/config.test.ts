import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config.ts';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = parseConfig({});
    assert.equal(config.PORT, 8000);
    assert.equal(config.METRICS_PORT, 18000);
    assert.equal(config.TRUST_PROXY, false);
    assert.equal(config.CLIENT_IP_LABEL_LIMIT, 100);
    assert.equal(config.MAX_BATCH_SIZE, 32);
  });

  it('reads and converts every kind of value', () => {
    const config = parseConfig({ PORT: '9000', TRUST_PROXY: 'yes', MAX_BATCH_DELAY_MS: '2.5', BACKEND: 'cpu' });
    assert.deepEqual(
      [config.PORT, config.TRUST_PROXY, config.MAX_BATCH_DELAY_MS, config.BACKEND],
      [9000, true, 2.5, 'cpu'],
    );
  });

  it('refuses bad values with a message naming each variable and value', () => {
    assert.throws(
      () => parseConfig({ PORT: 'eighty', MAX_QUEUE: '-3', BACKEND: 'gpu', TRUST_PROXY: 'maybe' }),
      (err: Error) =>
        err instanceof ConfigError &&
        /PORT="eighty"/.test(err.message) &&
        /MAX_QUEUE="-3"/.test(err.message) &&
        /BACKEND="gpu"/.test(err.message) &&
        /TRUST_PROXY="maybe"/.test(err.message),
    );
  });
});
