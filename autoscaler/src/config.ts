/**
 * The autoscaler's configuration, read from the environment once at start-up and validated like a
 * replica's (service/src/config.ts): a bad value stops it with a message naming the variable.
 */
import { z } from 'zod';
import { flag, parseEnvironment } from '../../service/src/config.ts';
import type { Policy } from './policy.ts';

const positiveInt = z.coerce.number().int().positive();
const seconds = z.coerce.number().min(0).max(3600);

/** Each key is the environment variable's name; `describe` feeds docs/reference/configuration.md. */
export const autoscalerSchema = z
  .object({
    AUTOSCALE_SERVICE: z.string().min(1).default('mnist_mnist').describe('the Swarm service it scales'),
    AUTOSCALE_MIN: positiveInt.max(100).default(2).describe('fewest replicas'),
    AUTOSCALE_MAX: positiveInt.max(100).default(8).describe('most replicas'),
    AUTOSCALE_STEP: positiveInt.max(100).default(2).describe('most replicas added or removed in one decision'),
    AUTOSCALE_TARGET: z.coerce
      .number()
      .positive()
      .max(10_000)
      .default(8)
      .describe(
        'requests in flight per replica aimed at (mnist_inflight_requests averaged over AUTOSCALE_WINDOW_S): the count is ceil(replicas x load / target)',
      ),
    AUTOSCALE_TOLERANCE: z.coerce
      .number()
      .min(0)
      .max(0.9)
      .default(0.2)
      .describe('hysteresis: no change while the load per replica is within target x (1 ± tolerance)'),
    AUTOSCALE_UP_COOLDOWN_S: seconds.default(30).describe('seconds after any scaling before it adds replicas'),
    AUTOSCALE_DOWN_COOLDOWN_S: seconds
      .default(180)
      .describe(
        'seconds after any scaling before it removes replicas; also the span whose highest load a removal must still serve',
      ),
    AUTOSCALE_INTERVAL_S: z.coerce.number().min(1).max(300).default(5).describe('seconds between decisions'),
    AUTOSCALE_WINDOW_S: positiveInt.max(600).default(30).describe('seconds of samples the load is averaged over'),
    AUTOSCALE_MAX_SAMPLE_AGE_S: positiveInt
      .max(600)
      .default(20)
      .describe('a sample older than this is stale and the count held'),
    AUTOSCALE_DRY_RUN: flag.default(false).describe('decide and report, never scale'),
    AUTOSCALE_PROMETHEUS_URL: z.url().default('http://prometheus:9090').describe('the Prometheus it asks'),
    AUTOSCALE_PROMETHEUS_PASSWORD_FILE: z
      .string()
      .default('')
      .describe("a file holding the monitoring's password (user admin), when Prometheus asks for one"),
    AUTOSCALE_DOCKER_URL: z
      .url()
      .default('http://docker-scale:2375')
      .describe('the Docker Engine API it scales through (in the stack, a proxy that allows only that)'),
    AUTOSCALE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9105).describe('its /metrics port'),
  })
  .refine((c) => c.AUTOSCALE_MIN <= c.AUTOSCALE_MAX, {
    message: 'AUTOSCALE_MIN must not exceed AUTOSCALE_MAX',
    path: ['AUTOSCALE_MIN'],
  });

export type AutoscalerConfig = z.infer<typeof autoscalerSchema>;

export const parseAutoscalerConfig = (env: Record<string, string | undefined> = process.env): AutoscalerConfig =>
  parseEnvironment(autoscalerSchema, env);

export const policyOf = (c: AutoscalerConfig): Policy => ({
  min: c.AUTOSCALE_MIN,
  max: c.AUTOSCALE_MAX,
  step: c.AUTOSCALE_STEP,
  target: c.AUTOSCALE_TARGET,
  tolerance: c.AUTOSCALE_TOLERANCE,
  upCooldownS: c.AUTOSCALE_UP_COOLDOWN_S,
  downCooldownS: c.AUTOSCALE_DOWN_COOLDOWN_S,
  maxSampleAgeS: c.AUTOSCALE_MAX_SAMPLE_AGE_S,
});
