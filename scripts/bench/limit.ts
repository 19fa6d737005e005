/**
 * The in-process limit: decode + normalise + infer per image at the best batch size, with no
 * HTTP. `npm run bench` runs it as a child under a 1-CPU quota of its own, like each replica's, so
 * both figures pay for one core, garbage-collector threads included, and points it at the same
 * compiled modules and node flags the replicas run. Prints one JSON line: the best batch and its
 * rate; or, with --serve, stays up and measures one slice per line read, to interleave with the
 * service's.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { mnistDigits } from '../../devkit/loadgen/payloads.ts';

const { values } = parseArgs({
  options: {
    /** The compiled service's public entry (…/service/src/index.js). */
    service: { type: 'string' },
    model: { type: 'string' },
    batches: { type: 'string', default: '1,8,16,32,64' },
    ms: { type: 'string', default: '2500' },
    serve: { type: 'boolean', default: false },
  },
});
const WARM_UP_MS = 3000;
const { createPipeline, imageToModelInput, parseConfig } = (await import(
  values.service!
)) as typeof import('../../service/src/index.ts');

const digits = await mnistDigits(512);
const { engine } = await createPipeline(parseConfig({ MODEL_DIR: values.model }));
/** One pass over the digits in batches of `batch`; returns the images done. */
async function pass(batch: number): Promise<number> {
  let done = 0;
  for (let i = 0; i + batch <= digits.length; i += batch) {
    const inputs = [];
    for (const d of digits.slice(i, i + batch)) inputs.push((await imageToModelInput(d.png, 1e8)).input);
    engine.predict(inputs);
    done += batch;
  }
  return done;
}

/** Images per second at `batch` over `ms`, under whatever CPU the process has. */
async function rate(batch: number, ms: number): Promise<number> {
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) images += await pass(batch);
  return images / ((performance.now() - t0) / 1000);
}
/** Warms up this batch shape and the JIT: under the quota, the rate settles after about 3 s. */
const warmUp = (batch: number) => rate(batch, WARM_UP_MS);

const batches = values.batches.split(',').map(Number);
if (values.serve) {
  // Interleaved with the service's own slices: each line on stdin asks for one slice of that many ms.
  await warmUp(batches[0]!);
  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    console.log(JSON.stringify({ batch: batches[0], perSecond: await rate(batches[0]!, Number(line)) }));
  }
} else {
  let best = { batch: 1, perSecond: 0 };
  for (const batch of batches) {
    await warmUp(batch);
    // Under a CFS quota the process runs in 100 ms slices: measure over many of them.
    const perSecond = await rate(batch, Number(values.ms));
    if (perSecond > best.perSecond) best = { batch, perSecond };
  }
  console.log(JSON.stringify(best));
}
engine.dispose();
