/** Command-line options of scripts/load.sh, parsed and validated once; scenarios set defaults. */
import { parseArgs } from 'node:util';
import { namedReplicas } from '../../devkit/compose-topology.ts';
import type { LoadPlan } from '../../devkit/loadgen/driver.ts';
import { INPUT_FORMS, type InputForm } from '../../devkit/loadgen/payloads.ts';
import type { Summary } from '../../devkit/loadgen/tally.ts';

export const SCENARIOS = ['steady', 'ramp', 'spike', 'skewed', 'bad-storm'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const USAGE = `Usage: scripts/load.sh [options]

Sends real MNIST test digits to the replicas and prints a summary per target.

Targets
  --target URL          a replica's API (repeatable; default: $LOAD_TARGETS, comma-separated,
                        else the API of each replica compose.yaml names, on the host ports
                        .env or the environment set: http://127.0.0.1:8000 and :9000 by default)
  --weights A,B,...     share of requests per target, e.g. 70,30 (default: equal)
How much
  --duration SECONDS    run time, e.g. 30, 30s or 2m (default 30s); Ctrl-C ends it early, with the summary
  --requests N          stop after N requests (with --duration: whichever comes first)
  --rate R              fixed rate in requests/s over all targets (open loop)
  --concurrency C       fixed concurrency: C requests in flight (closed loop, default 8);
                        with --rate, the cap on requests in flight (default 256)
What
  --mix F=W,...         input forms and their weights: multipart, raw, json (default multipart=1,raw=1,json=1)
  --bad SHARE           share of deliberately bad requests, 0..1: undecodable bytes (422),
                        a PNG declaring 20000x20000 pixels (413), a text body (415) (default 0)
  --digits N            how many MNIST test digits to cycle through (default 500)
  --fixtures DIR        send the <index>_<label>.png files of DIR instead (npm run fixtures)
  --scenario NAME       a named scenario: ${SCENARIOS.join(', ')} (options given override it)
  --seed N              seed of the request sequence (default 1)
  --retry-refused       retry a refused connection (the request was never sent) every 100 ms,
                        as a client's retry policy would; counted as refused_connections
Output
  --max-error-rate R    exit 1 when more than this share of good requests fail (default 0.01)
  --json                print the summary as one JSON line last
  --quiet               no live progress
  --help                this text

Scenarios
  steady     8 concurrent requests for 60 s
  ramp       from 50 req/s, +50 every 5 s, until good requests fail or p95 exceeds 500 ms (max 120 s)
  spike      50 req/s with a 10 s burst of 500 req/s in the middle (45 s)
  skewed     70/30 split between the first two targets, 8 concurrent, 60 s
  bad-storm  half of the requests bad, 16 concurrent, 30 s
`;

export interface CliOptions {
  plan: LoadPlan;
  digits: number;
  fixtures: string | null;
  maxErrorRate: number;
  json: boolean;
  quiet: boolean;
}

export class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

/** Seconds from "30", "30s" or "2m". */
export function parseDuration(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text);
  if (!m) fail(`--${name} must look like 30, 30s or 2m, got "${text}"`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

function positive(name: string, text: string, integer = true): number {
  const n = Number(text);
  if (!(n > 0) || (integer && !Number.isInteger(n)))
    fail(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return n;
}

function share(name: string, text: string): number {
  const n = Number(text);
  if (!(n >= 0 && n <= 1)) fail(`--${name} must be a number from 0 to 1, got "${text}"`);
  return n;
}

function scenarioDefaults(name: Scenario): Partial<LoadPlan> {
  switch (name) {
    case 'steady':
      return { durationSeconds: 60, concurrency: 8 };
    case 'ramp':
      return {
        durationSeconds: 120,
        concurrency: 256,
        rateAt: (t) => 50 + 50 * Math.floor(t / 5),
        stopWhen: (s: Summary['total']) => s.good_error_rate > 0.01 || s.latency_ms.p95 > 500,
      };
    case 'spike':
      return { durationSeconds: 45, concurrency: 256, rateAt: (t) => (t >= 20 && t < 30 ? 500 : 50) };
    case 'skewed':
      return { durationSeconds: 60, concurrency: 8, weights: [70, 30] };
    case 'bad-storm':
      return { durationSeconds: 30, concurrency: 16, badShare: 0.5 };
  }
}

export function parseOptions(argv: string[]): CliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', multiple: true },
      weights: { type: 'string' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      mix: { type: 'string' },
      bad: { type: 'string' },
      digits: { type: 'string' },
      fixtures: { type: 'string' },
      scenario: { type: 'string' },
      seed: { type: 'string' },
      'max-error-rate': { type: 'string' },
      'retry-refused': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.scenario !== undefined && !SCENARIOS.includes(values.scenario as Scenario)) {
    fail(`--scenario must be one of ${SCENARIOS.join(', ')}, got "${values.scenario}"`);
  }
  const preset = values.scenario ? scenarioDefaults(values.scenario as Scenario) : {};

  const fromEnv = process.env.LOAD_TARGETS?.split(',').filter(Boolean);
  const targets = (values.target ?? fromEnv ?? namedReplicas().map((r) => r.api)).map((t) => {
    try {
      return new URL(t).origin;
    } catch {
      return fail(`--target must be a URL like http://localhost:8000, got "${t}"`);
    }
  });
  let weights = preset.weights?.slice(0, targets.length) ?? targets.map(() => 1);
  if (values.weights !== undefined)
    weights = values.weights.split(',').map((w) => positive('weights', w.trim(), false));
  if (weights.length !== targets.length) fail(`--weights needs ${targets.length} values, one per target`);

  const mix: Record<InputForm, number> = { multipart: 1, raw: 1, json: 1 };
  if (values.mix !== undefined) {
    for (const form of INPUT_FORMS) mix[form] = 0;
    for (const part of values.mix.split(',')) {
      const [form, weight] = part.split('=');
      if (!INPUT_FORMS.includes(form as InputForm)) fail(`--mix forms are ${INPUT_FORMS.join(', ')}, got "${form}"`);
      mix[form as InputForm] = weight === undefined ? 1 : Number(weight);
      if (!(mix[form as InputForm] >= 0)) fail(`--mix weight of ${form} must be a number >= 0`);
    }
    if (INPUT_FORMS.every((f) => mix[f] === 0)) fail('--mix gives every form weight 0');
  }

  const rate = values.rate !== undefined ? positive('rate', values.rate, false) : null;
  const requests = values.requests !== undefined ? positive('requests', values.requests) : null;
  let durationSeconds =
    values.duration !== undefined ? parseDuration('duration', values.duration) : (preset.durationSeconds ?? null);
  if (durationSeconds === null && requests === null) durationSeconds = 30;
  const rateAt = rate !== null ? () => rate : (preset.rateAt ?? null);
  const concurrency =
    values.concurrency !== undefined
      ? positive('concurrency', values.concurrency)
      : rateAt
        ? 256
        : (preset.concurrency ?? 8);

  return {
    plan: {
      targets,
      weights,
      durationSeconds: values.requests !== undefined && values.duration === undefined ? null : durationSeconds,
      requests,
      rateAt,
      concurrency,
      mix,
      badShare: values.bad !== undefined ? share('bad', values.bad) : (preset.badShare ?? 0),
      seed: values.seed !== undefined ? positive('seed', values.seed) : 1,
      retryRefused: values['retry-refused'],
      ...(preset.stopWhen && rate === null ? { stopWhen: preset.stopWhen } : {}),
    },
    digits: values.digits !== undefined ? positive('digits', values.digits) : 500,
    fixtures: values.fixtures ?? null,
    maxErrorRate: values['max-error-rate'] !== undefined ? share('max-error-rate', values['max-error-rate']) : 0.01,
    json: values.json,
    quiet: values.quiet,
  };
}
