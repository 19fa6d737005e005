/**
 * Prometheus's HTTP query API (instant queries, and the stored samples of a range), for the scripts and every test tier: one client,
 * whose failures read as sentences (nothing listening, something that is not Prometheus, a
 * refused query) instead of a fetch error or an object printed as text.
 */

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export class PrometheusError extends Error {}

/** The instant vector `expr` evaluates to at `time` (seconds since the epoch; default now). */
export function queryPrometheus(base: string, expr: string, time?: number): Promise<Sample[]> {
  return query<Sample>(base, expr, time);
}

/** The samples Prometheus holds for `selector` over the last `seconds`, each series with its timestamps. */
export function storedSamples(
  base: string,
  selector: string,
  seconds: number,
): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  return query(base, `${selector}[${Math.ceil(seconds)}s]`);
}

async function query<T>(base: string, expr: string, time?: number): Promise<T[]> {
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
  let body: { status?: string; error?: unknown; data?: { result: T[] } };
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
