/**
 * The load driver: sends a seeded sequence of good and bad prediction requests to one or more
 * replicas, over pooled keep-alive connections (undici), at a fixed rate (open loop) or a fixed
 * concurrency (closed loop), and tallies what came back per target.
 */
import { Pool } from 'undici';
import { seededRandom, type Random } from '../random.ts';
import {
  BAD_KINDS,
  INPUT_FORMS,
  badPayload,
  goodPayload,
  type BadKind,
  type EncodedDigit,
  type InputForm,
} from './payloads.ts';
import { TargetTally, type Summary, summarize } from './tally.ts';

export interface LoadPlan {
  targets: string[];
  /** Relative share of requests per target (same length as targets). */
  weights: number[];
  /** Stop after this many seconds, or this many requests, whichever is set (both: first reached). */
  durationSeconds: number | null;
  requests: number | null;
  /** Requests per second at time t (open loop); null runs `concurrency` closed-loop workers. */
  rateAt: ((seconds: number) => number) | null;
  /** Closed loop: workers. Open loop: the most requests in flight at once. */
  concurrency: number;
  mix: Record<InputForm, number>;
  badShare: number;
  seed: number;
  /**
   * Retry a connection the target refuses (nothing listens there: the request never left), after
   * a short pause, as clients' retry policies do; an entry point that moves elsewhere is then a
   * pause to them, not an error.
   */
  retryRefused?: boolean;
  /** The certificate (PEM) to trust for https:// targets, instead of the system's (a self-signed entry point). */
  ca?: string;
  /** Stop early when this returns true for the last second's figures (the ramp scenario). */
  stopWhen?: (lastSecond: Summary['total']) => boolean;
  /** Stop early when aborted (SIGINT, SIGTERM): no new request, those in flight answered, the summary. */
  signal?: AbortSignal;
}

export interface Progress {
  seconds: number;
  sent: number;
  answered: number;
  errors: number;
  ratePerSecond: number;
}

const REFUSED_PAUSE_MS = 100;

function pick<T>(items: readonly T[], weights: readonly number[], random: Random): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = random() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

export async function runLoad(
  plan: LoadPlan,
  digits: EncodedDigit[],
  onProgress: (p: Progress) => void = () => {},
): Promise<Summary> {
  if (digits.length === 0) throw new Error('no digits to send');
  const random = seededRandom(plan.seed);
  const pools = plan.targets.map(
    (t) =>
      new Pool(t, { connections: plan.concurrency, pipelining: 1, ...(plan.ca ? { connect: { ca: plan.ca } } : {}) }),
  );
  const tallies = plan.targets.map((t) => new TargetTally(t));
  let window = new TargetTally('last second');
  const formWeights = INPUT_FORMS.map((f) => plan.mix[f]);
  let goodSeq = 0;
  let badSeq = 0;
  let sent = 0;
  let refused = 0;
  let stopped = false;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const finished = () =>
    stopped ||
    plan.signal?.aborted === true ||
    (plan.requests !== null && sent >= plan.requests) ||
    (plan.durationSeconds !== null && elapsed() >= plan.durationSeconds);

  async function sendOne(): Promise<void> {
    sent++;
    const target = pick([...tallies.keys()], plan.weights, random);
    const bad = random() < plan.badShare;
    let kind: BadKind | undefined;
    let digit: EncodedDigit | undefined;
    let form: InputForm | undefined;
    if (bad) kind = BAD_KINDS[badSeq++ % BAD_KINDS.length];
    else {
      digit = digits[goodSeq++ % digits.length];
      form = pick(INPUT_FORMS, formWeights, random);
    }
    const payload = kind ? badPayload(kind) : goodPayload(digit!, form!);
    const t0 = performance.now();
    let status: number | string;
    let answer: number | undefined;
    let replica: string | undefined;
    let model: string | undefined;
    for (;;) {
      try {
        const res = await pools[target]!.request({
          path: '/predict',
          method: 'POST',
          headers: payload.headers,
          body: payload.body,
        });
        status = res.statusCode;
        const text = await res.body.text();
        if (status === 200) {
          const body = JSON.parse(text) as { digit: number; replica?: string; model?: string; model_version?: string };
          ({ digit: answer, replica } = body);
          if (body.model !== undefined) model = `${body.model}@${body.model_version}`;
        }
      } catch (err) {
        status = (err as { code?: string }).code ?? 'network_error';
        if (status === 'ECONNREFUSED' && plan.retryRefused && !finished()) {
          refused++;
          await new Promise((r) => setTimeout(r, REFUSED_PAUSE_MS));
          continue;
        }
      }
      break;
    }
    const ms = performance.now() - t0;
    const record = { good: !bad, status, ms, correct: digit !== undefined && answer === digit.label, replica, model };
    tallies[target]!.add(record);
    window.add(record);
  }

  const ticker = setInterval(() => {
    const s = summarize([window], 1).total;
    const total = summarize(tallies, elapsed()).total;
    onProgress({
      seconds: elapsed(),
      sent,
      answered: total.requests,
      errors: total.requests - total.ok,
      ratePerSecond: s.requests,
    });
    if (plan.stopWhen && s.requests > 0 && plan.stopWhen(s)) stopped = true;
    window = new TargetTally('last second');
  }, 1000);

  try {
    if (plan.rateAt === null) {
      await Promise.all(
        Array.from({ length: plan.concurrency }, async () => {
          while (!finished()) await sendOne();
        }),
      );
    } else {
      // Open loop: release requests on schedule (the integral of the rate), a few ms at a time,
      // never more than `concurrency` in flight.
      const rateAt = plan.rateAt;
      const inflight = new Set<Promise<void>>();
      let due = 0;
      let last = elapsed();
      while (!finished()) {
        const now = elapsed();
        due += rateAt(now) * (now - last);
        last = now;
        while (due >= 1 && inflight.size < plan.concurrency && !finished()) {
          due -= 1;
          const p = sendOne().finally(() => inflight.delete(p));
          inflight.add(p);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      await Promise.all(inflight);
    }
  } finally {
    clearInterval(ticker);
    await Promise.all(pools.map((p) => p.close()));
  }
  return summarize(tallies, elapsed(), refused);
}
