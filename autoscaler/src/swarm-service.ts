/**
 * The scaled service, through the Docker Engine API (plain fetch, the answers checked against a
 * schema; two calls do not justify dockerode, which would bring gRPC, protobuf and ssh2 into the
 * replicas' image). In the stack the API is a proxy that passes only these two calls for the
 * service `*_mnist` (swarm/docker-scale.cfg).
 *
 * The service's own record decides the cooldowns: `UpdatedAt` is when anyone last changed it (this
 * autoscaler, another one, or an operator), and an update names the `Version` it was decided on,
 * so that of two autoscalers deciding on the same state only the first one's update applies; the
 * other's is refused as out of sequence, and its next decision starts from the new state.
 */
import { z } from 'zod';
import type { ServiceState } from './policy.ts';

const service = z.object({
  Version: z.object({ Index: z.number().int() }),
  UpdatedAt: z.string(),
  Spec: z.looseObject({ Mode: z.looseObject({ Replicated: z.object({ Replicas: z.number().int().min(0) }) }) }),
});

export interface SwarmService extends ServiceState {
  version: number;
  spec: z.infer<typeof service>['Spec'];
}

const endpoint = (api: string, path: string) => new URL(path, api.endsWith('/') ? api : `${api}/`);

/** The engine's `{"message": ...}`, or the start of whatever else answered (the proxy's 403 page). */
async function failure(response: Response): Promise<Error> {
  const text = await response.text();
  let message = text.slice(0, 200);
  try {
    const parsed = z.object({ message: z.string() }).safeParse(JSON.parse(text));
    if (parsed.success) message = parsed.data.message;
  } catch {
    // Not JSON: the text itself says it.
  }
  return new Error(`the Docker API answered ${response.status}: ${message}`);
}

export async function inspectService(api: string, name: string): Promise<SwarmService> {
  const response = await fetch(endpoint(api, `services/${encodeURIComponent(name)}`), {
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw await failure(response);
  const found = service.parse(await response.json());
  return {
    replicas: found.Spec.Mode.Replicated.Replicas,
    lastScaledAt: Date.parse(found.UpdatedAt),
    version: found.Version.Index,
    spec: found.Spec,
  };
}

/** Sets the replica count, on the condition that the service is still at `from.version`. */
export async function scaleService(api: string, name: string, from: SwarmService, replicas: number): Promise<void> {
  const url = endpoint(api, `services/${encodeURIComponent(name)}/update`);
  url.searchParams.set('version', String(from.version));
  const spec = { ...from.spec, Mode: { ...from.spec.Mode, Replicated: { Replicas: replicas } } };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw await failure(response);
}
