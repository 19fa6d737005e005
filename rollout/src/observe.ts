/**
 * The two versions' figures over a window, from the replicas' own series in Prometheus, summed
 * over every replica: requests and failures (mnist_version_requests_total), latency
 * (mnist_version_request_duration_seconds) and confidence (mnist_prediction_confidence), by version.
 */
import { instantVector, type PrometheusSource } from '../../autoscaler/src/prometheus-query.ts';
import type { VersionFigures } from './judge.ts';

const JOB = 'job="mnist"';

export function figureQueries(versions: readonly string[], windowS: number) {
  const selector = `${JOB},version=~"${versions.map((v) => v.replaceAll('.', '\\\\.')).join('|')}"`;
  const w = `[${Math.max(1, Math.round(windowS))}s]`;
  return {
    served: `sum by (version) (increase(mnist_version_requests_total{${selector},outcome=~"ok|failed"}${w}))`,
    failed: `sum by (version) (increase(mnist_version_requests_total{${selector},outcome="failed"}${w}))`,
    p95: `histogram_quantile(0.95, sum by (version, le) (increase(mnist_version_request_duration_seconds_bucket{${selector}}${w})))`,
    confidence: `sum by (version) (increase(mnist_prediction_confidence_sum{${selector}}${w})) / sum by (version) (increase(mnist_prediction_confidence_count{${selector}}${w}))`,
  };
}

export async function observeVersions(
  source: PrometheusSource,
  versions: readonly string[],
  windowS: number,
): Promise<Record<string, VersionFigures>> {
  const queries = figureQueries(versions, windowS);
  const [served, failed, p95, confidence] = await Promise.all(
    [queries.served, queries.failed, queries.p95, queries.confidence].map(async (q) => {
      const byVersion = new Map<string, number>();
      for (const s of await instantVector(source, q)) byVersion.set(s.labels.version ?? '', s.value);
      return byVersion;
    }),
  );
  return Object.fromEntries(
    versions.map((v) => {
      const requests = served!.get(v) ?? 0;
      return [
        v,
        {
          requests,
          errorRatio: requests > 0 ? (failed!.get(v) ?? 0) / requests : 0,
          p95Seconds: p95!.get(v) ?? Number.NaN,
          meanConfidence: confidence!.get(v) ?? Number.NaN,
        },
      ];
    }),
  );
}

/** The replicas' default version and how many replicas serve `version`, from their info series. */
export async function servedBy(source: PrometheusSource, version: string) {
  const [defaults, serving, replicas] = await Promise.all([
    instantVector(source, `count by (version) (mnist_model_info{${JOB}} and on (instance) up{${JOB}} == 1)`),
    instantVector(
      source,
      `count(mnist_model_version_info{${JOB},version="${version}"} and on (instance) up{${JOB}} == 1)`,
    ),
    instantVector(source, `count(up{${JOB}} == 1)`),
  ]);
  return {
    defaults: defaults.map((s) => s.labels.version ?? ''),
    serving: serving[0]?.value ?? 0,
    replicas: replicas[0]?.value ?? 0,
  };
}
