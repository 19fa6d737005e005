/**
 * `npm run bench:v2`: the Open Inference Protocol against /predict on one replica, built as the
 * image builds it, under a real 1-CPU quota. In interleaved slices, digits per second with one
 * multipart PNG per /predict request and with [1,28,28], [8,28,28] and [32,28,28] UINT8 tensors per
 * v2 request; then /predict's latency alone and beside a stream of 32-digit v2 batches; and the
 * bytes on the wire per digit of each form. Every answer must be a 200 at the model's accuracy.
 * The last line printed is one JSON object.
 */
import { Pool } from 'undici';
import { fail, parseCli } from '../../devkit/cli.ts';
import {
  goodPayload,
  inferPayload,
  mnistDigits,
  type EncodedDigit,
  type LoadRequest,
} from '../../devkit/loadgen/payloads.ts';
import { spawnReplica } from '../../devkit/replica-process.ts';
import { median, quantile } from '../../devkit/stats.ts';
import { HEADLINE_CONCURRENCY, inTurn, JIT_WARM_UP_SECONDS, settle, SLICE_SECONDS, slice } from './measure.ts';
import { quota } from './processes.ts';
import { buildService } from './shipped-build.ts';

const USAGE = `Usage: npm run bench:v2 [-- options]

Digits per second of one replica under a CPU quota with /predict (one multipart PNG per request)
and with Open Inference Protocol requests of 1, 8 and 32 digits, in interleaved slices of 2 s at
32 digits in flight; /predict's latency alone and beside 32-digit batches; bytes per digit of each
request form. Needs root and a cgroup hierarchy with a cpu controller. The last line printed is one
JSON object.

  --cpus N     CPU quota of the replica, in cores (default 1)
  --slices N   interleaved slices (default 6)
  --help       this text
`;
const values = parseCli(USAGE, { cpus: { type: 'string', default: '1' }, slices: { type: 'string', default: '6' } });
const [cpus, slices] = [Number(values.cpus), Number(values.slices)];
if (!(cpus > 0) || !(Number.isInteger(slices) && slices > 0)) fail(USAGE, '--cpus and --slices must be positive');

const ROWS = [1, 8, 32] as const;
type Rows = (typeof ROWS)[number];
const digits = await mnistDigits(512);

/** The v2 requests of `rows` digits each, over the whole set, built before the clock starts. */
function batches(rows: number): { request: LoadRequest; labels: number[] }[] {
  const out = [];
  for (let i = 0; i + rows <= digits.length; i += rows) {
    const batch = digits.slice(i, i + rows);
    out.push({ request: inferPayload(batch, 'UINT8'), labels: batch.map((d) => d.label) });
  }
  return out;
}
const requests = Object.fromEntries(ROWS.map((n) => [n, batches(n)])) as Record<Rows, ReturnType<typeof batches>>;

/**
 * Closed-loop v2 load for `seconds` with `concurrency` requests of `rows` digits in flight: digits
 * per second and per-request latency. About as many digits in flight as /predict's slices have.
 */
async function v2Slice(
  url: string,
  rows: Rows,
  seconds: number,
  concurrency = Math.max(2, HEADLINE_CONCURRENCY / rows),
) {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const latencies: number[] = [];
  let [done, correct, next] = [0, 0, 0];
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() - started < seconds * 1000) {
          const { request, labels } = requests[rows][next++ % requests[rows].length]!;
          const t0 = performance.now();
          const res = await pool.request({ path: '/v2/models/mnist/infer', method: 'POST', ...request });
          const text = await res.body.text();
          if (res.statusCode !== 200) throw new Error(`v2 [${rows}]: ${res.statusCode} ${text.slice(0, 200)}`);
          latencies.push(performance.now() - t0);
          const answer = JSON.parse(text) as { outputs: { name: string; data: number[] }[] };
          const predicted = answer.outputs.find((o) => o.name === 'digit')!.data;
          correct += predicted.filter((d, i) => d === labels[i]).length;
          done += rows;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  if (correct / done < 0.9) throw new Error(`v2 [${rows}]: accuracy ${correct / done}`);
  latencies.sort((a, b) => a - b);
  return { digitsPerS: done / ((performance.now() - started) / 1000), p99Ms: quantile(latencies, 0.99) };
}

/** Mean bytes of request body per digit over the set, for a form of request. */
const perDigit = (body: (batch: EncodedDigit[]) => LoadRequest, rows: number) => {
  let bytes = 0;
  for (let i = 0; i + rows <= digits.length; i += rows)
    bytes += Buffer.byteLength(body(digits.slice(i, i + rows)).body);
  return Math.round(bytes / (Math.floor(digits.length / rows) * rows));
};
const wire_bytes_per_digit = {
  predict_multipart_png: perDigit(([d]) => goodPayload(d!, 'multipart'), 1),
  predict_raw_png: perDigit(([d]) => goodPayload(d!, 'raw'), 1),
  predict_json_pixels: perDigit(([d]) => goodPayload(d!, 'json'), 1),
  v2_uint8_1: perDigit((b) => inferPayload(b, 'UINT8'), 1),
  v2_uint8_32: perDigit((b) => inferPayload(b, 'UINT8'), 32),
  v2_fp32_nested_1: perDigit((b) => inferPayload(b, 'FP32'), 1),
  v2_bytes_png_32: perDigit((b) => inferPayload(b, 'BYTES'), 32),
};

const build = buildService();
const group = quota('v2', cpus);
const replica = await spawnReplica(
  { ...build.env, REPLICA: 'bench-v2', LOG_LEVEL: 'info' },
  { command: build.command, onSpawn: (pid) => group.add(pid) },
);
type Turn = 'predict' | `v2_${Rows}`;
const TURNS: Turn[] = ['predict', ...ROWS.map((n) => `v2_${n}` as const)];
const rates: Record<Turn, number>[] = [];
const latency: { alone_p99_ms: number; beside_v2_p99_ms: number; alone_per_s: number; beside_v2_per_s: number }[] = [];
try {
  console.error(`warming the replica up for ${JIT_WARM_UP_SECONDS} s with /predict and v2 batches`);
  for (let t = 0; t < JIT_WARM_UP_SECONDS; t += 4 * SLICE_SECONDS) {
    for (const turn of TURNS) await rate(turn);
  }
  for (let s = 0; s < slices; s++) {
    rates.push(await inTurn(s, TURNS, rate));
    // /predict's latency alone, then with two 32-digit v2 requests in flight beside it.
    const alone = await slice(replica, digits);
    await settle();
    const [beside] = await Promise.all([slice(replica, digits), v2Slice(replica.url, 32, SLICE_SECONDS + 0.5, 2)]);
    latency.push({
      alone_p99_ms: alone.latency_ms.p99,
      beside_v2_p99_ms: beside.latency_ms.p99,
      alone_per_s: Math.round(alone.throughput_per_s),
      beside_v2_per_s: Math.round(beside.throughput_per_s),
    });
    console.error(`slice ${s + 1}: ${JSON.stringify(rates.at(-1))} ${JSON.stringify(latency.at(-1))}`);
  }
} finally {
  await replica.stop();
  group.remove();
}

async function rate(turn: Turn): Promise<number> {
  if (turn === 'predict') return Math.round((await slice(replica, digits)).throughput_per_s);
  await settle();
  return Math.round((await v2Slice(replica.url, Number(turn.slice(3)) as Rows, SLICE_SECONDS)).digitsPerS);
}

const round3 = (x: number) => Number(x.toFixed(3));
/** A per-slice figure's median and its min-max spread. */
const summary = <T>(rows: T[], pick: (row: T) => number) => {
  const all = rows.map(pick);
  return { median: round3(median(all)), range: [round3(Math.min(...all)), round3(Math.max(...all))] };
};
console.log('slice  ' + TURNS.map((t) => t.padStart(8)).join('') + '   p99 alone  p99 beside v2');
rates.forEach((r, i) =>
  console.log(
    `${String(i + 1).padStart(5)}  ${TURNS.map((t) => String(r[t]).padStart(8)).join('')}   ${latency[i]!.alone_p99_ms.toFixed(1).padStart(9)}  ${latency[i]!.beside_v2_p99_ms.toFixed(1).padStart(13)}`,
  ),
);
console.log(
  JSON.stringify({
    cpus,
    slices,
    digits_per_s: Object.fromEntries(TURNS.map((t) => [t, summary(rates, (r) => r[t]).median])),
    ...Object.fromEntries(ROWS.map((n) => [`v2_${n}_over_predict`, summary(rates, (r) => r[`v2_${n}`] / r.predict)])),
    predict_p99_beside_v2_over_alone: summary(latency, (l) => l.beside_v2_p99_ms / l.alone_p99_ms),
    predict_per_s_beside_v2_over_alone: summary(latency, (l) => l.beside_v2_per_s / l.alone_per_s),
    latency,
    wire_bytes_per_digit,
  }),
);
