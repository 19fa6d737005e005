import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { memoryTrend } from '../../scripts/soak/trend.ts';
import { lastJsonLine } from '../../devkit/testing.ts';

const run = promisify(execFile);
/** Ten one-minute samples around 250 MiB with a little jitter, plus `perMinute` growth. */
const series = (perMinute: number, warmupJump = 0): [number, number][] =>
  Array.from({ length: 10 }, (_, i) => [i + 1, 250 + perMinute * i + (i % 2 ? 0.8 : -0.8) + (i < 2 ? 0 : warmupJump)]);

describe('soak: the memory verdict', () => {
  it('calls a series with jitter but no trend flat', () => {
    assert.equal(memoryTrend(series(0)).flat, true);
  });
  it('calls 5 MiB a minute of growth a leak', () => {
    const trend = memoryTrend(series(5));
    assert.equal(trend.flat, false);
    assert.ok(Math.abs(trend.slopePerMinute - 5) < 0.5, `slope ${trend.slopePerMinute}`);
  });
  it('ignores a step during the warm-up, and shrinking memory', () => {
    assert.equal(memoryTrend(series(0, 40)).flat, true);
    assert.equal(memoryTrend(series(-3)).flat, true);
  });
});

describe('scripts/soak.sh', () => {
  it('samples a replica it starts itself and prints the per-interval figures and a verdict', async () => {
    let stdout: string;
    let code = 0;
    try {
      ({ stdout } = await run('bash', [
        'scripts/soak.sh',
        '--duration',
        '6s',
        '--interval',
        '2s',
        '--rate',
        '50',
        '--json',
      ]));
    } catch (err) {
      ({ stdout, code } = err as { stdout: string; code: number });
    }
    const summary = lastJsonLine<{
      samples: { requests: number; ok: number; rss_mib: number; heap_mib: number; tensors: number }[];
      rss: { flat: boolean };
      tensors_constant: boolean;
      flat: boolean;
    }>(stdout);
    assert.equal(summary.samples.length, 3);
    for (const s of summary.samples) {
      assert.ok(s.requests >= 60 && s.ok > 0, `requests ${s.requests}, ok ${s.ok}`);
      assert.ok(s.rss_mib > s.heap_mib && s.heap_mib > 0, `rss ${s.rss_mib} MiB, heap ${s.heap_mib} MiB`);
      assert.ok(s.tensors > 0, 'the model weights are live tensors');
    }
    assert.equal(summary.tensors_constant, true, 'no tensor leak between samples');
    assert.equal(code, summary.flat ? 0 : 1, 'the exit code follows the verdict');
  });

  it('refuses bad options with exit code 2', async () => {
    await assert.rejects(
      run('bash', ['scripts/soak.sh', '--rate', 'fast']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /--rate/);
        return true;
      },
    );
  });
});
