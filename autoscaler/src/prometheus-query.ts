/**
 * Prometheus's HTTP API, instant queries only: plain fetch, the answer checked against a schema.
 * The autoscaler and the rollout controller both read the replicas' series through it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const vector = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});

export interface PrometheusSource {
  url: string;
  /** Sent as the Authorization header when set. */
  authorization?: string | undefined;
  timeoutMs?: number;
}

/** Prometheus at `url`, asked as the monitoring's user when `passwordFile` (its password) is given. */
export function prometheusSource(url: string, passwordFile: string): PrometheusSource {
  if (!passwordFile) return { url };
  const password = readFileSync(passwordFile, 'utf8').trim();
  return { url, authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export async function instantVector(source: PrometheusSource, query: string): Promise<Sample[]> {
  const url = new URL('api/v1/query', source.url.endsWith('/') ? source.url : `${source.url}/`);
  url.searchParams.set('query', query);
  const response = await fetch(url, {
    headers: source.authorization ? { authorization: source.authorization } : {},
    signal: AbortSignal.timeout(source.timeoutMs ?? 3000),
  });
  if (!response.ok) throw new Error(`Prometheus answered ${response.status}`);
  return vector.parse(await response.json()).data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}
