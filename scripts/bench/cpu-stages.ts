/**
 * The stages of a request's CPU time, read from a V8 CPU profile (`node --cpu-prof`): each sample
 * is charged to the stage of the nearest frame on its stack (leaf first) that belongs to one, so a
 * Buffer copy made by the multipart parser is the form's, and Node's stream machinery called from
 * a socket's read is HTTP's. Pure: the profile in, microseconds per stage out.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export const STAGES = [
  'http',
  'koa',
  'body',
  'decode',
  'normalise',
  'batcher',
  'inference',
  'metrics',
  'logging',
  'gc',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_NAMES: Record<Stage, string> = {
  http: "HTTP in and out (Node's parser, sockets, streams)",
  koa: "Koa, the router and the handler's own work (the JSON answer included)",
  body: 'body and form reading (raw-body, the multipart parser)',
  decode: 'image decode (PNG and the others)',
  normalise: 'normalisation to the 28x28 input',
  batcher: 'queue and batch bookkeeping',
  inference: 'inference (TensorFlow.js and its wasm kernels)',
  metrics: 'metrics (prom-client)',
  logging: 'logging (pino)',
  gc: 'garbage collection (main thread)',
  other: 'the rest (timers, promises, native code with no stage above it)',
};

/** Frames by the file they run in: the first rule that matches names the stage. */
const RULES: [Stage, RegExp][] = [
  ['inference', /@tensorflow\/|\/engine\/engine\.[jt]s$|wasm:\/\/|wasm-function/],
  ['batcher', /\/engine\/batcher\.[jt]s$/],
  ['logging', /\/node_modules\/(pino|sonic-boom|thread-stream|fast-redact|safe-stable-stringify|on-exit-leak-free)\//],
  ['metrics', /\/node_modules\/(prom-client|tdigest|bintrees)\/|\/service\/src\/metrics\//],
  [
    'decode',
    /\/imaging\/(decode|header|raster|tiff|offload|png-fast)\.[jt]s$|\/node_modules\/(pngjs|image-size|utif2|@jimp|sharp|jpeg-js)\/|^node:zlib$/,
  ],
  ['normalise', /\/imaging\/(normalise|to-model-input|grey-image)\.[jt]s$/],
  ['body', /\/http\/(payload|multipart)\.[jt]s$|\/node_modules\/(raw-body|@remix-run|koa-body|co-body|iconv-lite)\//],
  [
    'koa',
    /\/node_modules\/(koa|@koa|koa-compose|delegates|statuses|type-is|mime-types|mime-db|content-type|vary|on-finished|http-errors|cookies|accepts|fresh|encodeurl|escape-html|only|parseurl|path-to-regexp|negotiator)\/|\/service\/src\/(app|routes\/.*|http\/.*)\.[jt]s$/,
  ],
  // Node's HTTP and socket code; its generic streams, events and buffers take the stage of
  // whatever called them.
  ['http', /^node:(_http_|http$|net$|internal\/(http|stream_base_commons|net))/],
];

function stageOfFrame(frame: { functionName: string; url: string }): Stage | undefined {
  if (frame.functionName === '(garbage collector)') return 'gc';
  for (const [stage, rule] of RULES) if (rule.test(frame.url)) return stage;
  return undefined;
}

/**
 * Microseconds of CPU each stage took between `from` and `to` (the profile's clock, microseconds),
 * idle time left out, and the total.
 */
export function stageTimes(
  profile: CpuProfile,
  from: number,
  to: number,
): { byStage: Record<Stage, number>; total: number; frames: Map<string, { us: number; stage: Stage }> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stageOf = new Map<number, Stage | null>();
  const resolve = (id: number): Stage | null => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const up = parent.get(id);
    const stage = stageOfFrame(node.callFrame) ?? (up === undefined ? null : resolve(up));
    stageOf.set(id, stage);
    return stage;
  };
  const byStage = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  // Self time by function, for a look at what a stage is made of.
  const frames = new Map<string, { us: number; stage: Stage }>();
  let total = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i]!;
    // A sample stands for the interval up to the next one.
    const span = profile.timeDeltas[i + 1] ?? 0;
    if (time < from || time >= to) continue;
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)') continue;
    const stage = resolve(node.id) ?? 'other';
    byStage[stage] += span;
    total += span;
    const { functionName, url } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(service|dist)\//, '$1/')}`;
    const frame = frames.get(key) ?? { us: 0, stage };
    frame.us += span;
    frames.set(key, frame);
  }
  return { byStage, total, frames };
}
