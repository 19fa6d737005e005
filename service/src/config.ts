/**
 * All configuration, read from the environment once at start-up and validated: a bad value stops
 * the process with a message naming the variable, instead of surfacing later as odd behaviour.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { BACKENDS } from './engine/backend.ts';
import { DEFAULT_MODEL_DIR, SHIPPED_MODELS_DIR, VERSION_NAME } from './engine/model-card.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
export const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Each key is the environment variable's name; `describe` feeds docs/reference/configuration.md. */
export const configSchema = z.object({
  PORT: port.default(8000).describe('API port'),
  METRICS_PORT: port.default(18000).describe('Prometheus metrics port (GET /metrics)'),
  HOST: z.string().min(1).default('0.0.0.0').describe('address both listeners bind to'),
  MODEL_DIR: z
    .string()
    .min(1)
    .default(DEFAULT_MODEL_DIR)
    .describe(
      'the default version of the model, which requests naming no version get: a directory with model.json, weights.bin and metadata.json, relative to the working directory, its name the version name; the shipped ones are service/models/<version>',
    ),
  MODEL_REPOSITORY: z
    .string()
    .min(1)
    .default(SHIPPED_MODELS_DIR)
    .describe(
      'the model repository: a directory of versions, one directory each, named by its version; MODEL_VERSIONS and the admin endpoint load from it',
    ),
  MODEL_VERSIONS: z
    .string()
    .default('v1,v2')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(VERSION_NAME, 'version names are letters, digits, ".", "_" and "-"')))
    .describe(
      "versions served beside MODEL_DIR's, comma-separated names of directories in MODEL_REPOSITORY; MODEL_DIR's version is served whatever this says",
    ),
  MODEL_MIN_ACCURACY: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.9)
    .describe(
      'least share of 100 known MNIST digits a version must classify right before it serves, at start and on a load',
    ),
  MAX_MODEL_VERSIONS: positiveInt.max(16).default(4).describe('most versions loaded at once'),
  PAYLOAD_LOG_DIR: z
    .string()
    .default('')
    .describe(
      'a directory for the sampled log of what the model saw (request id, version, the 28x28 input, probabilities, timings; rotated JSON-lines files); empty: no log',
    ),
  PAYLOAD_LOG_SAMPLE: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.01)
    .describe('share of the predictions written to the payload log, chosen at random'),
  PAYLOAD_LOG_MAX_BYTES: positiveInt.default(10 * 1024 * 1024).describe('size at which a payload log file is rotated'),
  PAYLOAD_LOG_FILES: positiveInt.max(100).default(5).describe('rotated payload log files kept beside the current one'),
  BACKEND: z
    .enum(['auto', ...BACKENDS])
    .default('auto')
    .describe('tfjs backend: auto tries tensorflow, wasm, cpu'),
  REPLICA: z.string().min(1).max(64).default(hostname()).describe('name reported in answers and metrics'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe(
      'log level: info writes the access log (every refusal and failure, ACCESS_LOG_SAMPLE of the successes), warn only server failures',
    ),
  ACCESS_LOG_SAMPLE: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.01)
    .describe(
      'share of successful requests written to the access log at info, chosen at random (refusals and failures are always written): 1 writes every one',
    ),
  MAX_BODY_BYTES: positiveInt.default(8 * 1024 * 1024).describe('largest request body accepted (413 above)'),
  MAX_IMAGE_PIXELS: positiveInt
    .default(4096 * 4096)
    .describe('largest image, width x height, from its header (413 above)'),
  DECODE_WORKER_PIXELS: positiveInt
    .default(256 * 256)
    .describe('images with more pixels are decoded in a worker thread, smaller ones inline'),
  DECODE_THREADS: positiveInt.max(16).default(1).describe('worker threads for large images'),
  MAX_BATCH_SIZE: positiveInt.default(32).describe('most inputs per model run; 1 turns batching off'),
  MAX_BATCH_DELAY_MS: z.coerce
    .number()
    .min(0)
    .max(1000)
    .default(0)
    .describe('longest an input waits for its batch to fill; 0 batches what arrived in the same event-loop turn'),
  MAX_QUEUE: positiveInt.default(256).describe('inputs waiting for inference before 429'),
  MAX_INFER_ROWS: positiveInt
    .default(64)
    .describe('most digits in one Open Inference Protocol request (POST /v2/models/mnist/infer)'),
  TRUST_PROXY: flag.default(false).describe('take the client address from X-Forwarded-For'),
  CLIENT_IP_LABEL_LIMIT: positiveInt.default(100).describe('distinct client_ip label values before "other"'),
  SHUTDOWN_DELAY_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(0)
    .describe(
      'how long SIGTERM keeps serving, /readyz at 503, before it stops listening: time for a load balancer to take the replica out',
    ),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000).describe('how long SIGTERM waits for in-flight requests'),
  KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000).describe('idle keep-alive connection lifetime'),
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000).describe('longest time to receive a whole request'),
  MAX_CONNECTIONS: positiveInt
    .default(2048)
    .describe(
      'connections the API port holds open at once, idle and slow ones included; a new one beyond is closed at once, so that a flood of connections exhausts neither this process nor the host side of the published port',
    ),
});

export type Config = z.infer<typeof configSchema>;

/**
 * Variables the image or the deployment sets for each replica (ports, bind address, name, model);
 * every other one is a user's setting, which compose.yaml and swarm/stack.yaml pass through from
 * .env and .env.example lists.
 */
export const SET_BY_DEPLOYMENT = ['PORT', 'METRICS_PORT', 'HOST', 'MODEL_DIR', 'REPLICA'] as const;

export const userSettings = (schema: z.ZodObject = configSchema): string[] =>
  Object.keys(schema.shape).filter((k) => !(SET_BY_DEPLOYMENT as readonly string[]).includes(k));

export class ConfigError extends Error {}

/** A setting whose value was valid but did not work at start-up (a busy port, no model there). */
export class StartupError extends Error {
  constructor(setting: keyof Config, value: unknown, problem: string) {
    super(`${setting}=${String(value)}: ${problem}`);
  }
}

/** Reads `schema`'s variables from `env` (an empty value counts as unset), or throws naming each bad one. */
export function parseEnvironment<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const known = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const result = schema.safeParse(known);
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `  ${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** `parse()`, or its message on stderr and exit code 2: a process's first step. */
export function configOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

export const parseConfig = (env: Record<string, string | undefined> = process.env): Config =>
  parseEnvironment(configSchema, env);
