/** Per-target counts and latencies of a load run, and the summary computed from them. */
import { quantile } from '../stats.ts';

export interface Outcome {
  /** A request the replica should answer 200 (a real digit), as opposed to a deliberate bad one. */
  good: boolean;
  status: number | string;
  ms: number;
  correct: boolean;
  /** The `replica` named by a 200 answer: behind a load balancer, who served it. */
  replica?: string;
  /** The model (`name@version`) a 200 answer names: replicas may serve different ones. */
  model?: string;
}

export class TargetTally {
  readonly latencies: number[] = [];
  readonly statuses = new Map<string, number>();
  readonly replicas = new Map<string, number>();
  /** Good requests answered 200 by each model, and how many of them correctly. */
  readonly models = new Map<string, { answered: number; correct: number }>();
  good = 0;
  goodFailed = 0;
  ok = 0;
  correct = 0;

  constructor(readonly target: string) {}

  add(r: Outcome): void {
    this.latencies.push(r.ms);
    const key = String(r.status);
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
    if (r.status === 200) this.ok++;
    if (r.replica !== undefined) this.replicas.set(r.replica, (this.replicas.get(r.replica) ?? 0) + 1);
    if (r.good) {
      this.good++;
      if (r.status !== 200) this.goodFailed++;
      if (r.correct) this.correct++;
      if (r.model !== undefined && r.status === 200) {
        const m = this.models.get(r.model) ?? { answered: 0, correct: 0 };
        this.models.set(r.model, { answered: m.answered + 1, correct: m.correct + Number(r.correct) });
      }
    }
  }
}

export interface TargetSummary {
  target: string;
  requests: number;
  ok: number;
  by_status: Record<string, number>;
  /** 200 answers by the replica each names. */
  by_replica: Record<string, number>;
  good_requests: number;
  good_error_rate: number;
  /** Correct digits among the good requests that were answered 200. */
  accuracy: number | null;
  /** The same per model that answered (`name@version`): a canary against the current model. */
  by_model: Record<string, { answered: number; accuracy: number }>;
  throughput_per_s: number;
  latency_ms: { p50: number; p95: number; p99: number; max: number };
}

export interface Summary {
  seconds: number;
  targets: TargetSummary[];
  total: TargetSummary;
  /** Connections refused and retried (--retry-refused): requests that had not been sent yet. */
  refused_connections: number;
}

const round = (v: number, digits = 3) => Number(v.toFixed(digits));

function summarizeOne(target: string, tallies: TargetTally[], seconds: number): TargetSummary {
  const latencies = tallies.flatMap((t) => t.latencies).sort((a, b) => a - b);
  const counts = (of: (t: TargetTally) => Map<string, number>) => {
    const out: Record<string, number> = {};
    for (const t of tallies) for (const [k, v] of of(t)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const sum = (f: (t: TargetTally) => number) => tallies.reduce((a, t) => a + f(t), 0);
  const good = sum((t) => t.good);
  const answeredGood = good - sum((t) => t.goodFailed);
  return {
    target,
    requests: latencies.length,
    ok: sum((t) => t.ok),
    by_status: counts((t) => t.statuses),
    by_replica: Object.fromEntries(Object.entries(counts((t) => t.replicas)).sort(([a], [b]) => a.localeCompare(b))),
    good_requests: good,
    good_error_rate: good === 0 ? 0 : round(sum((t) => t.goodFailed) / good, 4),
    accuracy: answeredGood === 0 ? null : round(sum((t) => t.correct) / answeredGood, 4),
    by_model: byModel(tallies),
    throughput_per_s: seconds > 0 ? round(latencies.length / seconds, 1) : 0,
    latency_ms: {
      p50: round(quantile(latencies, 0.5)),
      p95: round(quantile(latencies, 0.95)),
      p99: round(quantile(latencies, 0.99)),
      max: round(latencies[latencies.length - 1] ?? 0),
    },
  };
}

function byModel(tallies: TargetTally[]): TargetSummary['by_model'] {
  const all = new Map<string, { answered: number; correct: number }>();
  for (const [model, m] of tallies.flatMap((t) => [...t.models])) {
    const sum = all.get(model) ?? { answered: 0, correct: 0 };
    all.set(model, { answered: sum.answered + m.answered, correct: sum.correct + m.correct });
  }
  return Object.fromEntries(
    [...all]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, m]) => [model, { answered: m.answered, accuracy: round(m.correct / m.answered, 4) }]),
  );
}

export function summarize(tallies: TargetTally[], seconds: number, refusedConnections = 0): Summary {
  return {
    seconds: round(seconds, 1),
    targets: tallies.map((t) => summarizeOne(t.target, [t], seconds)),
    total: summarizeOne('all', tallies, seconds),
    refused_connections: refusedConnections,
  };
}

export function formatSummary(s: Summary): string {
  const header = [
    'target',
    'requests',
    'ok',
    'by status',
    'by replica',
    'good err',
    'accuracy',
    'by model',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
  ];
  const rows = [...s.targets, s.total].map((t) => [
    t.target,
    String(t.requests),
    String(t.ok),
    ...[t.by_status, t.by_replica].map((counts) =>
      Object.entries(counts)
        .map(([k, v]) => `${k}:${v}`)
        .join(' '),
    ),
    `${(t.good_error_rate * 100).toFixed(2)}%`,
    t.accuracy === null ? '-' : `${(t.accuracy * 100).toFixed(2)}%`,
    Object.entries(t.by_model)
      .map(([model, m]) => `${model}:${(m.accuracy * 100).toFixed(2)}%`)
      .join(' '),
    String(t.throughput_per_s),
    ...[t.latency_ms.p50, t.latency_ms.p95, t.latency_ms.p99, t.latency_ms.max].map((v) => v.toFixed(1)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === 3 || i === 4 || i === 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
