/**
 * The TIFF reader reads page one and nothing else, whatever the directory chain says: a second page
 * declaring a huge canvas, or a chain that points back to itself, is decoded from page one or
 * refused, in a thread whose memory is capped, so that a reader that follows the chain fails here
 * (out of memory) instead of taking the test process down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { encodeDigit, digits } from '../../../devkit/testing.ts';
import { tiffLoopingToItself, tiffWithSecondPage } from '../support/hostile-files.ts';

type Outcome = { ok: true; width: number; height: number; pixels: number } | { ok: false; message: string };

/** Decodes in a worker with 64 MB of heap; a worker that dies or runs 30 s is a failure. */
function decodeBounded(bytes: Buffer, width: number, height: number): Promise<Outcome> {
  const worker = new Worker(new URL('../support/tiff-worker.ts', import.meta.url), {
    workerData: { bytes, width, height },
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  });
  let stuck: NodeJS.Timeout | undefined;
  return new Promise<Outcome>((resolve, reject) => {
    stuck = setTimeout(() => reject(new Error('the decoder was still running after 30 s')), 30_000);
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the decoder's thread exited with ${code}`)));
  }).finally(() => {
    clearTimeout(stuck);
    void worker.terminate();
  });
}

describe('TIFF pages', async () => {
  const tiff = await encodeDigit(digits(1, 3)[0]!.pixels, 'image/tiff');

  it('decodes page one of a TIFF whose second page declares 30000x30000 pixels', async () => {
    const outcome = await decodeBounded(tiffWithSecondPage(tiff, 30000, 30000), 28, 28);
    assert.deepEqual(outcome, { ok: true, width: 28, height: 28, pixels: 784 });
  });

  it('decodes page one of a TIFF whose directory chain points back to itself', async () => {
    const outcome = await decodeBounded(tiffLoopingToItself(tiff), 28, 28);
    assert.deepEqual(outcome, { ok: true, width: 28, height: 28, pixels: 784 });
  });
});
