/**
 * The compose cluster's shape, read from compose.yaml with the host ports the environment sets:
 * which named replicas exist and where each service is reached from the host. Tests, scripts'
 * defaults and the consistency test take it from here instead of typing a list of their own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { parse } from 'yaml';

const COMPOSE_FILE = fileURLToPath(new URL('../compose.yaml', import.meta.url));

export type Env = Record<string, string | undefined>;

/** What Compose reads: the environment over the repository's .env, if there is one. */
export function composeEnv(): Env {
  const dotEnv = fileURLToPath(new URL('../.env', import.meta.url));
  return { ...(existsSync(dotEnv) ? parseEnv(readFileSync(dotEnv, 'utf8')) : {}), ...process.env };
}

interface ComposeService {
  environment?: Record<string, string>;
  ports?: string[];
  deploy?: { replicas?: number };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** compose.yaml as Compose reads it (merge keys applied), `${NAME:-default}` left as written. */
export function composeFile(path = COMPOSE_FILE): ComposeFile {
  return parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
}

/** `${NAME:-default}` and `${NAME}` with the environment's non-empty value, else the default. */
export function interpolate(text: string, env: Env = composeEnv()): string {
  return text.replaceAll(/\$\{([A-Z_][A-Z0-9_]*)(?::?-([^}]*))?\}/g, (_, name: string, fallback = '') =>
    env[name] ? env[name] : fallback,
  );
}

/** The host port that publishes `containerPort` of `service` ('BIND:HOST:CONTAINER' entries). */
export function hostPort(
  service: string,
  containerPort: number,
  env: Env = composeEnv(),
  file = composeFile(),
): number {
  for (const entry of file.services[service]?.ports ?? []) {
    const parts = interpolate(entry, env).split(':');
    if (Number(parts.at(-1)) === containerPort) return Number(parts.at(-2));
  }
  throw new Error(`compose.yaml publishes no port ${containerPort} of ${service}`);
}

/** The image's ports inside every replica container (service/src/config.ts's defaults). */
export const REPLICA_API_PORT = 8000;
export const REPLICA_METRICS_PORT = 18000;

export interface NamedReplica {
  /** The compose service, which is also the replica's name (REPLICA) in answers and series. */
  name: string;
  api: string;
  metrics: string;
  /** The .env variable that chooses its model. */
  modelDirVariable: string;
}

/** The replicas compose.yaml names one by one (the seed's two), each published on the host. */
export function namedReplicas(env: Env = composeEnv(), file = composeFile()): NamedReplica[] {
  return Object.entries(file.services)
    .filter(([, service]) => service.environment?.REPLICA && service.ports)
    .map(([name, service]) => ({
      name: service.environment!.REPLICA!,
      api: `http://127.0.0.1:${hostPort(name, REPLICA_API_PORT, env, file)}`,
      metrics: `http://127.0.0.1:${hostPort(name, REPLICA_METRICS_PORT, env, file)}/metrics`,
      modelDirVariable: /^\$\{([A-Z0-9_]+)/.exec(service.environment!.MODEL_DIR ?? '')?.[1] ?? '',
    }));
}

/** The service that `docker compose up --scale` grows: no fixed name, no host port. */
export const SCALABLE_REPLICAS = 'mnist';

/** Where a cluster service is reached from the host: `http://127.0.0.1:<its host port>`. */
export function serviceUrl(service: string, containerPort: number, env: Env = composeEnv()): string {
  return `http://127.0.0.1:${hostPort(service, containerPort, env)}`;
}
