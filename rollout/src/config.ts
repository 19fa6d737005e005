/**
 * The rollout controller's configuration, read from the environment once at start-up and
 * validated like a replica's: a bad value stops it with a message naming the variable.
 */
import { z } from 'zod';
import { flag, parseEnvironment } from '../../service/src/config.ts';
import type { Bounds } from './judge.ts';

const ratio = z.coerce.number().min(0).max(1);

/** Each key is the environment variable's name; `describe` feeds docs/reference/configuration.md. */
export const rolloutSchema = z.object({
  ROLLOUT_STEPS: z
    .string()
    .default('5,25,50,100')
    .transform((v) => v.split(',').map((s) => Number(s.trim())))
    .pipe(
      z
        .array(z.number().int().min(1).max(100))
        .min(1)
        .refine(
          (xs) => xs.every((x, i) => i === 0 || x > xs[i - 1]!) && xs.at(-1) === 100,
          'rising percentages ending at 100',
        ),
    )
    .describe('the shares of traffic the candidate gets, in percent, one step each, rising to 100'),
  ROLLOUT_STEP_S: z.coerce.number().min(1).max(86_400).default(60).describe('seconds each share is held and judged'),
  ROLLOUT_INTERVAL_S: z.coerce.number().min(0.5).max(300).default(5).describe('seconds between judgements'),
  ROLLOUT_MIN_REQUESTS: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('requests each version needs in a window before it is judged'),
  ROLLOUT_MAX_ERROR_RATIO_INCREASE: ratio
    .default(0.01)
    .describe("how much higher than stable's the candidate's error ratio (5xx) may be"),
  ROLLOUT_MAX_LATENCY_RATIO: z.coerce
    .number()
    .min(1)
    .max(100)
    .default(1.5)
    .describe("how many times stable's p95 latency the candidate's may be (plus ROLLOUT_LATENCY_SLACK_MS)"),
  ROLLOUT_LATENCY_SLACK_MS: z.coerce.number().min(0).max(10_000).default(5).describe('latency allowed above the ratio'),
  ROLLOUT_MAX_CONFIDENCE_DROP: ratio
    .default(0.02)
    .describe("how much lower than stable's the candidate's mean answer confidence may be"),
  ROLLOUT_STICKY: flag
    .default(false)
    .describe('keep each client on one side (its key or address) while the share holds'),
  ROLLOUT_BALANCERS: z
    .string()
    .default('lb:9999')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[\w.-]+:\d+$/, 'host:port')).min(1))
    .describe("every balancer's runtime API, host:port, comma-separated"),
  ROLLOUT_CANARY_MAP: z
    .string()
    .default('/usr/local/etc/haproxy/canary.map')
    .describe("the canary map's path as the balancers know it (their LB_CANARY_MAP)"),
  ROLLOUT_PROMETHEUS_URL: z.url().default('http://prometheus:9090').describe('the Prometheus it asks'),
  ROLLOUT_PROMETHEUS_PASSWORD_FILE: z
    .string()
    .default('')
    .describe("a file holding the monitoring's password (user admin), when Prometheus asks for one"),
  ROLLOUT_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(9106)
    .describe('its port: /metrics, and the rollout API (GET, POST /rollout/<version>, DELETE /rollout)'),
});

export type RolloutConfig = z.infer<typeof rolloutSchema>;

export const parseRolloutConfig = (env: Record<string, string | undefined> = process.env): RolloutConfig =>
  parseEnvironment(rolloutSchema, env);

export const boundsOf = (c: RolloutConfig): Bounds => ({
  minRequests: c.ROLLOUT_MIN_REQUESTS,
  maxErrorRatioIncrease: c.ROLLOUT_MAX_ERROR_RATIO_INCREASE,
  maxLatencyRatio: c.ROLLOUT_MAX_LATENCY_RATIO,
  latencySlackSeconds: c.ROLLOUT_LATENCY_SLACK_MS / 1000,
  maxConfidenceDrop: c.ROLLOUT_MAX_CONFIDENCE_DROP,
});
