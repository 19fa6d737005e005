/**
 * The in-process limit: decode + normalise + infer per image at the best batch size, with no
 * HTTP. `npm run bench` runs it as a child inside the same CPU quota as the replica, so both
 * figures pay for the same single core, garbage-collector threads included. Prints one JSON line.
 */
import { createEngine } from '../../service/src/engine/engine.ts';
import { DEFAULT_MODEL_DIR } from '../../service/src/engine/model-card.ts';
import { imageToModelInput } from '../../service/src/imaging/model-input.ts';
import { mnistDigits } from '../load/payloads.ts';

const MEASURE_MS = 2500;

const digits = await mnistDigits(512);
const engine = await createEngine({ modelDir: DEFAULT_MODEL_DIR, backend: 'auto' });
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

let best = { batch: 1, perSecond: 0 };
for (const batch of [1, 8, 16, 32, 64]) {
  await pass(batch); // warms up this batch shape
  // Under a CFS quota the process runs in 100 ms slices: measure over many of them.
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MEASURE_MS) images += await pass(batch);
  const perSecond = images / ((performance.now() - t0) / 1000);
  if (perSecond > best.perSecond) best = { batch, perSecond };
}
engine.dispose();
console.log(JSON.stringify(best));
