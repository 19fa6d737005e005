/**
 * Entry point of scripts/compare.sh: asks Prometheus for each replica's figures over a window and
 * prints them side by side (or as JSON).
 */
import { fail, parseCli } from '../../devkit/cli.ts';
import { prometheusUrl } from '../../devkit/compose-prometheus.ts';
import { queryPrometheus, type Sample } from '../../devkit/prometheus-api.ts';

const USAGE = `Usage: scripts/compare.sh [--prometheus URL] [--window 5m] [--json]

Prints the replicas side by side over the last WINDOW, from Prometheus: the model each serves,
throughput, latency p50/p95/p99, error ratio (5xx and 429), CPU use as a share of the limit,
share of throttled CPU periods, peak resident memory, mean batch size, inference time per image,
median confidence and the share of answers below 0.9 confidence (a canary's figures).

  --prometheus URL   Prometheus's address, credentials included (http://admin:PASSWORD@host:port;
                     default: the compose cluster's, on PROMETHEUS_PORT or 9090, with
                     MONITORING_PASSWORD or the password the cluster generated)
  --window W         a PromQL duration such as 1m, 5m, 1h (default 5m)
  --json             one JSON object instead of the table
  --help             this text
`;

const values = parseCli(USAGE, {
  prometheus: { type: 'string', default: prometheusUrl() },
  window: { type: 'string', default: '5m' },
  json: { type: 'boolean', default: false },
});
if (!/^\d+[smhd]$/.test(values.window))
  fail(USAGE, `--window must be a duration like 30s, 5m or 1h, got "${values.window}"`);

const W = values.window;
const P = 'job="mnist",route="/predict"';
const throughput = `sum by (replica) (rate(mnist_http_requests_total{${P}}[${W}]))`;
const quantile = (q: number) =>
  `histogram_quantile(${q}, sum by (replica, le) (rate(mnist_http_request_duration_seconds_bucket{${P}}[${W}])))`;
const mean = (m: string) =>
  `sum by (replica) (rate(${m}_sum{job="mnist"}[${W}])) / sum by (replica) (rate(${m}_count{job="mnist"}[${W}]))`;

/** Column name -> PromQL giving one value per replica. */
const FIGURES: Record<string, string> = {
  throughput_per_s: throughput,
  p50_seconds: quantile(0.5),
  p95_seconds: quantile(0.95),
  p99_seconds: quantile(0.99),
  error_ratio: `(sum by (replica) (rate(mnist_http_requests_total{${P},status=~"5..|429"}[${W}])) or ${throughput} * 0) / ${throughput}`,
  cpu_of_limit: `sum by (replica) (rate(process_cpu_seconds_total{job="mnist"}[${W}])) / sum by (replica) (mnist_container_cpu_limit_cores{job="mnist"})`,
  throttled_ratio: `sum by (replica) (rate(mnist_container_cpu_throttled_periods_total{job="mnist"}[${W}])) / sum by (replica) (rate(mnist_container_cpu_periods_total{job="mnist"}[${W}]))`,
  peak_memory_bytes: `max by (replica) (max_over_time(process_resident_memory_bytes{job="mnist"}[${W}]))`,
  mean_batch_size: mean('mnist_inference_batch_size'),
  // The batch-size histogram's sum counts images.
  inference_per_image_seconds: `sum by (replica) (rate(mnist_inference_duration_seconds_sum{job="mnist"}[${W}])) / sum by (replica) (rate(mnist_inference_batch_size_sum{job="mnist"}[${W}]))`,
  confidence_p50: `histogram_quantile(0.5, sum by (replica, le) (rate(mnist_prediction_confidence_bucket{job="mnist"}[${W}])))`,
  low_confidence_ratio: `sum by (replica) (rate(mnist_prediction_confidence_bucket{job="mnist",le="0.9"}[${W}])) / sum by (replica) (rate(mnist_prediction_confidence_count{job="mnist"}[${W}]))`,
};
/** Which model each replica serves: `name@version`, from its info series. */
const MODELS = 'mnist_model_info{job="mnist"}';

const query = (expr: string) => queryPrometheus(values.prometheus, expr);

const byReplica = <T>(series: Sample[], value: (s: Sample) => T) =>
  new Map(series.map((s) => [s.metric.replica ?? '?', value(s)]));
const columns = Object.keys(FIGURES);
const [models, ...results] = await Promise.all([
  query(MODELS).then((series) => byReplica(series, (s) => `${s.metric.model}@${s.metric.version}`)),
  ...columns.map((c) => query(FIGURES[c]!).then((series) => byReplica(series, (s) => Number(s.value[1])))),
]).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
const replicas = [...new Set(results.flatMap((r) => [...r.keys()]))].sort();
const table = Object.fromEntries(
  replicas.map((replica) => [
    replica,
    Object.fromEntries(columns.map((c, i) => [c, results[i]!.get(replica) ?? null])),
  ]),
);

if (values.json) {
  console.log(JSON.stringify({ window: W, models: Object.fromEntries(models), replicas: table }));
} else {
  const fmt = (column: string, v: number | null): string => {
    if (v === null || Number.isNaN(v)) return '-';
    if (column.endsWith('_seconds')) return `${(v * 1000).toFixed(1)} ms`;
    if (column.endsWith('_ratio') || column === 'cpu_of_limit') return `${(v * 100).toFixed(1)}%`;
    if (column.startsWith('confidence')) return v.toFixed(3);
    if (column.endsWith('_bytes')) return `${(v / 2 ** 20).toFixed(1)} MiB`;
    return v.toFixed(1);
  };
  const width = Math.max(...columns.map((c) => c.length));
  console.log(`over the last ${W}`);
  const cellWidth = Math.max(12, ...[...models.values()].map((m) => m.length));
  console.log(['figure'.padEnd(width), ...replicas.map((r) => r.padStart(cellWidth))].join('  '));
  console.log(['model'.padEnd(width), ...replicas.map((r) => (models.get(r) ?? '-').padStart(cellWidth))].join('  '));
  for (const c of columns)
    console.log([c.padEnd(width), ...replicas.map((r) => fmt(c, table[r]![c]!).padStart(cellWidth))].join('  '));
  if (replicas.length === 0) console.log('(no replica has data in this window)');
}
