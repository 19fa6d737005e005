/**
 * Prometheus's HTTP query API (instant queries), for the scripts and every test tier: one client,
 * whose failures read as sentences (nothing listening, something that is not Prometheus, a
 * refused query) instead of a fetch error or an object printed as text.
 */

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export class PrometheusError extends Error {}

/** The instant vector `expr` evaluates to at `time` (seconds since the epoch; default now). */
export async function queryPrometheus(base: string, expr: string, time?: number): Promise<Sample[]> {
  const url = `${base}/api/v1/query?query=${encodeURIComponent(expr)}${time === undefined ? '' : `&time=${time}`}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new PrometheusError(
      `cannot reach Prometheus at ${base} (${reason}): is the cluster up (docker compose up -d), and is that its address?`,
    );
  }
  const text = await res.text();
  let body: { status?: string; error?: unknown; data?: { result: Sample[] } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new PrometheusError(
      `${base} is not Prometheus's API: HTTP ${res.status}, ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  if (body.status !== 'success' || !body.data) {
    const said = typeof body.error === 'string' ? body.error : JSON.stringify(body.error ?? body).slice(0, 200);
    const what = body.status === 'error' ? `Prometheus refused ${expr}` : `${base} is not Prometheus's API`;
    throw new PrometheusError(`${what}: HTTP ${res.status}, ${said}`);
  }
  return body.data.result;
}
