/** What the bench prints: the sweep's table, the slices with their ratios, and the JSON summary. */
import { median } from '../../devkit/stats.ts';
import type { Compared, Comparison } from './options.ts';
import { HEADLINE_CONCURRENCY, type Batching, type Run } from './measure.ts';

/** Requests (or, for the limit, images) per second in one slice; multipart unless named. */
export type Slice = {
  limit_per_s: number;
  limit_beside_load_per_s: number;
  off_per_s: number;
  on_per_s: number;
  on_raw_per_s: number;
  on_json_per_s: number;
  ceiling_per_s: number;
  ceiling_raw_per_s: number;
  /** The batching replica with multipart, directly and through HAProxy, in turns. */
  lb_direct_per_s: number;
  lb_per_s: number;
  lb_direct_p50_ms: number;
  lb_p50_ms: number;
  /** The same balancer over HTTPS (TLS 1.3, its self-signed certificate), in turns with the two above. */
  lb_https_per_s: number;
  lb_https_p50_ms: number;
  /** With --compare-node / --compare-model: the batching replica as it is and changed, in turns. */
  compared?: Partial<
    Record<Compared, { this_per_s: number; other_per_s: number; this_p99_ms: number; other_p99_ms: number }>
  >;
};

type Pick = (p: Slice) => number;

/** The headline ratios, each a per-slice ratio reported as its median and its min-max spread. */
function ratios(comparisons: Comparison[]): [name: string, header: string, pick: Pick][] {
  return [
    ['served_per_s_over_limit_per_s', 'on/limit', (p) => p.on_per_s / p.limit_per_s],
    ['ceiling_over_limit', 'ceiling/limit', (p) => p.ceiling_per_s / p.limit_per_s],
    ['served_over_ceiling', 'on/ceiling', (p) => p.on_per_s / p.ceiling_per_s],
    ['served_raw_over_ceiling_raw', 'raw on/ceiling', (p) => p.on_raw_per_s / p.ceiling_raw_per_s],
    ['multipart_over_raw', 'mp/raw', (p) => p.on_per_s / p.on_raw_per_s],
    ['json_over_raw', 'json/raw', (p) => p.on_json_per_s / p.on_raw_per_s],
    ['batching_speedup_c32', 'on/off', (p) => p.on_per_s / p.off_per_s],
    ['limit_beside_load_over_limit', 'beside/limit', (p) => p.limit_beside_load_per_s / p.limit_per_s],
    ['lb_over_direct', 'lb/direct', (p) => p.lb_per_s / p.lb_direct_per_s],
    ['lb_p50_over_direct_p50', 'lb p50/direct', (p) => p.lb_p50_ms / p.lb_direct_p50_ms],
    ['https_over_http', 'https/http', (p) => p.lb_https_per_s / p.lb_per_s],
    ['https_p50_over_http_p50', 'https p50/http', (p) => p.lb_https_p50_ms / p.lb_p50_ms],
    ...comparisons.flatMap(({ what }): [string, string, Pick][] => {
      const of = (p: Slice) => p.compared![what]!;
      // A build is compared the other way round: how much faster this tree is than the older one.
      if (what === 'build') {
        return [
          ['this_build_over_other_build', 'build this/other', (p) => of(p).this_per_s / of(p).other_per_s],
          ['this_build_p99_over_other_build_p99', 'p99 this/other', (p) => of(p).this_p99_ms / of(p).other_p99_ms],
        ];
      }
      const name = what === 'node' ? 'other_node_over_this_node' : 'other_model_over_default_model';
      return [[name, `${what} other/this`, (p) => of(p).other_per_s / of(p).this_per_s]];
    }),
  ];
}
const RATES: [header: string, pick: Pick][] = [
  ['limit/s', (p) => p.limit_per_s],
  ['beside load', (p) => p.limit_beside_load_per_s],
  ['off', (p) => p.off_per_s],
  ['on', (p) => p.on_per_s],
  ['on raw', (p) => p.on_raw_per_s],
  ['on json', (p) => p.on_json_per_s],
  ['ceiling', (p) => p.ceiling_per_s],
  ['ceiling raw', (p) => p.ceiling_raw_per_s],
  ['direct', (p) => p.lb_direct_per_s],
  ['via lb', (p) => p.lb_per_s],
  ['p50 direct', (p) => p.lb_direct_p50_ms],
  ['p50 lb', (p) => p.lb_p50_ms],
  ['via https', (p) => p.lb_https_per_s],
];

const round3 = (x: number) => Number(x.toFixed(3));

export interface BenchResult {
  cpus: number;
  limitBestBatch: number;
  runs: Run[];
  interleaved: Slice[];
  comparisons: Comparison[];
  nodes?: { this: string; other: string };
  models?: { this: string; other: string };
  builds?: { this: string; other: string };
}

/** Prints the sweep's table, then every slice with its ratios and their medians and spreads, then the JSON line. */
export function report(result: BenchResult): void {
  const { runs, interleaved } = result;
  console.log('batching  concurrency   req/s   p50 ms   p95 ms   p99 ms  mean batch  non-200');
  for (const r of runs) {
    console.log(
      `${r.batching.padEnd(8)}  ${String(r.concurrency).padStart(11)}  ${String(r.requests_per_s).padStart(6)}  ${r.p50_ms.toFixed(2).padStart(7)}  ${r.p95_ms.toFixed(2).padStart(7)}  ${r.p99_ms.toFixed(2).padStart(7)}  ${r.mean_batch.toFixed(2).padStart(10)}  ${String(r.non_200).padStart(7)}`,
    );
  }
  // Medians of the per-slice ratios: a slice that a burst of the machine's noise hits alone (one
  // of its parts) moves a median less than it moves a ratio of sums.
  const medianOf = (pick: Pick) => median(interleaved.map(pick));
  const spread = (pick: Pick) => {
    const values = interleaved.map(pick);
    return [Math.min(...values), Math.max(...values)] as const;
  };
  const RATIOS = ratios(result.comparisons);
  // Per-slice rates, then per-slice ratios; below them each ratio's median and spread.
  const cell = (header: string, v: number | null) =>
    (v === null ? '' : Number.isInteger(v) ? String(v) : v.toFixed(3)).padStart(header.length);
  const headers = [...RATES.map(([header]) => header), ...RATIOS.map(([, header]) => header)];
  console.log(`\nc=${HEADLINE_CONCURRENCY}, multipart unless named`);
  console.log(`slice   ${headers.join('  ')}`);
  interleaved.forEach((p, i) =>
    console.log(
      `${String(i + 1).padStart(6)}  ${[...RATES.map(([h, pick]) => cell(h, pick(p))), ...RATIOS.map(([, h, pick]) => cell(h, pick(p)))].join('  ')}`,
    ),
  );
  const summaryRow = (label: string, of: (pick: Pick) => number) =>
    console.log(
      `${label.padEnd(6)}  ${[...RATES.map(([h]) => cell(h, null)), ...RATIOS.map(([, h, pick]) => cell(h, of(pick)))].join('  ')}`,
    );
  summaryRow('median', medianOf);
  summaryRow('min', (pick) => spread(pick)[0]);
  summaryRow('max', (pick) => spread(pick)[1]);
  const find = (batching: Batching, c: number) => runs.find((r) => r.batching === batching && r.concurrency === c);
  const [on1, off1] = [find('on', 1), find('off', 1)];
  console.log(
    JSON.stringify({
      cpus: result.cpus,
      limit_best_batch: result.limitBestBatch,
      runs,
      interleaved,
      limit_per_s: Math.round(medianOf((p) => p.limit_per_s)),
      served_per_s: Math.round(medianOf((p) => p.on_per_s)),
      served_raw_per_s: Math.round(medianOf((p) => p.on_raw_per_s)),
      served_json_per_s: Math.round(medianOf((p) => p.on_json_per_s)),
      limit_beside_load_per_s: Math.round(medianOf((p) => p.limit_beside_load_per_s)),
      ceiling_per_s: Math.round(medianOf((p) => p.ceiling_per_s)),
      ceiling_raw_per_s: Math.round(medianOf((p) => p.ceiling_raw_per_s)),
      lb_per_s: Math.round(medianOf((p) => p.lb_per_s)),
      lb_p50_ms: round3(medianOf((p) => p.lb_p50_ms)),
      lb_direct_p50_ms: round3(medianOf((p) => p.lb_direct_p50_ms)),
      lb_https_per_s: Math.round(medianOf((p) => p.lb_https_per_s)),
      ...Object.fromEntries(RATIOS.map(([name, , pick]) => [name, round3(medianOf(pick))])),
      ranges: Object.fromEntries(RATIOS.map(([name, , pick]) => [name, spread(pick).map(round3)])),
      p50_delta_c1_ms: on1 && off1 ? round3(on1.p50_ms - off1.p50_ms) : null,
      ...(result.nodes ? { nodes: result.nodes } : {}),
      ...(result.models ? { models: result.models } : {}),
      ...(result.builds ? { builds: result.builds } : {}),
    }),
  );
}
