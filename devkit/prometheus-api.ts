/**
 * Prometheus's HTTP query API (instant queries, and the stored samples of a range), for the scripts and every test tier: one client,
 * whose failures read as sentences (nothing listening, something that is not Prometheus, a
 * refused query, credentials missing) instead of a fetch error or an object printed as text.
 * Credentials go in the address (http://admin:PASSWORD@host:9090), sent as basic auth.
 */
import { basicAuthorization } from './basic-auth.ts';

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

/** `base` without its user and password, and the Authorization header they make (fetch refuses them in a URL). */
function splitCredentials(base: string): { base: string; headers: Record<string, string> } {
  const url = new URL(base);
  if (!url.username) return { base, headers: {} };
  const authorization = basicAuthorization(decodeURIComponent(url.username), decodeURIComponent(url.password));
  url.username = url.password = '';
  return { base: url.href.replace(/\/$/, ''), headers: { authorization } };
}

async function query<T>(address: string, expr: string, time?: number): Promise<T[]> {
  const { base, headers } = splitCredentials(address);
  const url = `${base}/api/v1/query?query=${encodeURIComponent(expr)}${time === undefined ? '' : `&time=${time}`}`;
  let res: Response;
  try {
    res = await fetch(url, { headers });
  } catch (err) {
    const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    throw new PrometheusError(
      `cannot reach Prometheus at ${base} (${reason}): is the cluster up (docker compose up -d), and is that its address?`,
    );
  }
  if (res.status === 401) {
    throw new PrometheusError(
      `Prometheus at ${base} asks for credentials (HTTP 401): ${headers.authorization ? 'the password given is not its password' : 'none were given'}; set MONITORING_PASSWORD, or give them in the address (http://admin:PASSWORD@host:port). The compose cluster's: docker compose logs monitoring-credentials`,
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
