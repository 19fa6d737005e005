/**
 * The CPU budget's attribution (scripts/bench/cpu-stages.ts) on a profile made by hand: a sample
 * is charged to the nearest frame of a stage on its stack, Node's generic code takes its caller's
 * stage, idle time and samples outside the window count nowhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stageTimes, type CpuProfile } from '../../scripts/bench/cpu-stages.ts';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url },
  children,
});

// (root) -> onStreamRead (node:net) -> predict (routes) -> fileFromForm (multipart) -> concat (node:buffer)
//                                                     -> inflate (png-fast) -> processChunkSync (node:zlib)
//        -> (garbage collector), (idle), (program)
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 7, 8, 9]),
    frame(2, 'onStreamRead', 'node:net', [3]),
    frame(3, 'predict', 'file:///app/dist/service/src/routes/predict.js', [4, 6]),
    frame(4, 'fileFromForm', 'file:///app/dist/service/src/http/multipart.js', [5]),
    frame(5, 'concat', 'node:buffer'),
    frame(6, 'processChunkSync', 'node:zlib'),
    frame(7, '(garbage collector)', ''),
    frame(8, '(idle)', ''),
    frame(9, '(program)', ''),
  ],
  startTime: 1000,
  // One sample per node of interest, 10 us apart; the last two fall outside the window.
  samples: [5, 6, 3, 2, 7, 8, 9, 5, 5],
  timeDeltas: [0, 10, 10, 10, 10, 10, 10, 10, 10],
};

describe('stageTimes', () => {
  it('charges each sample to the nearest stage on its stack, inside the window, idle left out', () => {
    const { byStage, total } = stageTimes(profile, 1000, 1070);
    assert.equal(byStage.body, 10, "the multipart parser's Buffer.concat");
    assert.equal(byStage.decode, 10, 'zlib is the decoder');
    assert.equal(byStage.koa, 10, "the handler's own time");
    assert.equal(byStage.http, 10, "a socket's read");
    assert.equal(byStage.gc, 10);
    assert.equal(byStage.other, 10, 'native code with no stage above it');
    assert.equal(total, 60, 'the idle sample and the two after the window count nowhere');
  });
});
