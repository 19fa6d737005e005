/**
 * A canary rollout, step by step, as KServe and Seldon do it: the candidate version gets a share of
 * the traffic at the entry point (the HAProxy canary map), held for a step's time while its figures
 * stay within the bounds of the stable version's over the same window, then the next share; at the
 * last share passed it is promoted (it becomes the entry point's stable version). It is rolled back
 * at once (share 0) when a window judges it worse, when the canary map cannot be written, or when
 * asked. One rollout at a time; every step and reason is logged and counted.
 */
import type { Logger } from 'pino';
import type { PrometheusSource } from '../../autoscaler/src/prometheus-query.ts';
import { readCanary, writeCanary, type CanaryEntries, type RuntimeApi } from './haproxy-runtime.ts';
import { judge, type Bounds, type VersionFigures } from './judge.ts';
import type { RolloutMetrics } from './metrics.ts';
import { observeVersions, servedBy } from './observe.ts';

export interface RolloutOptions {
  /** Every balancer's runtime API: the canary is the same on each. */
  balancers: RuntimeApi[];
  prometheus: PrometheusSource;
  /** Shares in percent, rising, the last 100. */
  steps: number[];
  /** How long each share is held and judged. */
  stepSeconds: number;
  intervalSeconds: number;
  bounds: Bounds;
  sticky: boolean;
  metrics: RolloutMetrics;
  logger: Logger;
}

export type Phase = 'idle' | 'running' | 'promoted' | 'rolled_back';

export interface StepRecord {
  at: string;
  share: number;
  decision: 'started' | 'advanced' | 'promoted' | 'rolled_back';
  reason: string;
  stable?: VersionFigures;
  candidate?: VersionFigures;
}

export interface RolloutState {
  phase: Phase;
  stable?: string;
  candidate?: string;
  share: number;
  history: StepRecord[];
}

export class RolloutRefused extends Error {}

export class Rollout {
  private state: RolloutState = { phase: 'idle', share: 0, history: [] };
  private timer: NodeJS.Timeout | undefined;
  private stepStarted = 0;
  private stepIndex = 0;
  /** The stable version's figures of the last window it had traffic: the yardstick at 100%. */
  private lastStable: VersionFigures | undefined;
  private busy = false;

  constructor(private readonly options: RolloutOptions) {}

  get status(): RolloutState {
    return structuredClone(this.state);
  }

  /**
   * Starts rolling `candidate` out over the stable version (`stableVersion`, else the entry point's,
   * else the replicas' default), or refuses with the reason.
   */
  async start(candidate: string, stableVersion?: string): Promise<RolloutState> {
    if (this.state.phase === 'running') throw new RolloutRefused(`a rollout of ${this.state.candidate} is under way`);
    const served = await this.servedEverywhere(candidate);
    if (stableVersion) await this.servedEverywhere(stableVersion);
    const current = await readCanary(this.options.balancers[0]!);
    const stable = stableVersion ?? current.stable ?? (served.defaults.length === 1 ? served.defaults[0] : undefined);
    if (!stable)
      throw new RolloutRefused(`the replicas disagree on their default version (${served.defaults.join(', ')})`);
    if (stable === candidate) throw new RolloutRefused(`${candidate} is already the stable version`);
    this.state = { phase: 'running', stable, candidate, share: 0, history: [] };
    this.lastStable = undefined;
    this.stepIndex = 0;
    await this.setShare(this.options.steps[0]!, 'started', `rolling ${candidate} out over ${stable}`);
    this.timer = setInterval(() => void this.tick(), this.options.intervalSeconds * 1000);
    return this.status;
  }

  private async servedEverywhere(version: string) {
    const served = await servedBy(this.options.prometheus, version);
    if (served.replicas === 0 || served.serving < served.replicas) {
      throw new RolloutRefused(
        `${served.serving} of ${served.replicas} replicas up serve version ${version}: load it on every one first (PUT /admin/models/${version} on each metrics port)`,
      );
    }
    return served;
  }

  /** Rolls the running rollout back at once. */
  async abort(reason = 'asked to'): Promise<RolloutState> {
    if (this.state.phase !== 'running') throw new RolloutRefused('no rollout is under way');
    await this.rollBack(reason);
    return this.status;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.state.phase !== 'running') return;
    this.busy = true;
    try {
      await this.decide();
    } catch (error) {
      // A judgement that cannot be made holds the step; the entry point keeps the share it has.
      this.options.metrics.failure();
      this.options.logger.warn({ err: (error as Error).message }, 'could not judge the canary; holding');
    } finally {
      this.busy = false;
    }
  }

  private async decide(): Promise<void> {
    const { stable, candidate } = this.state as Required<RolloutState>;
    const elapsed = (Date.now() - this.stepStarted) / 1000;
    const figures = await observeVersions(this.options.prometheus, [stable, candidate], elapsed);
    let stableFigures = figures[stable]!;
    if (stableFigures.requests >= this.options.bounds.minRequests) this.lastStable = stableFigures;
    else if (this.lastStable) stableFigures = this.lastStable;
    const verdict = judge(stableFigures, figures[candidate]!, this.options.bounds);
    this.options.metrics.observed(stable, candidate, stableFigures, figures[candidate]!);
    this.options.metrics.judged(verdict.kind);
    if (verdict.kind === 'fail') {
      await this.rollBack(verdict.reason, stableFigures, figures[candidate]);
      return;
    }
    if (elapsed < this.options.stepSeconds || verdict.kind === 'wait') return;
    const next = this.options.steps[this.stepIndex + 1];
    if (next === undefined) {
      await this.promote(verdict.reason, stableFigures, figures[candidate]!);
      return;
    }
    this.stepIndex++;
    await this.setShare(next, 'advanced', verdict.reason, stableFigures, figures[candidate]);
  }

  private async setShare(
    share: number,
    decision: StepRecord['decision'],
    reason: string,
    stable?: VersionFigures,
    candidate?: VersionFigures,
  ): Promise<void> {
    const { stable: stableVersion, candidate: candidateVersion } = this.state;
    try {
      await this.writeAll({
        stable: stableVersion!,
        canary: candidateVersion!,
        sticky: this.options.sticky ? '1' : '0',
        share: String(share),
      });
    } catch (error) {
      await this.rollBack(`the canary map could not be written: ${(error as Error).message}`);
      return;
    }
    this.stepStarted = Date.now();
    this.state.share = share;
    this.record({ share, decision, reason, stable, candidate });
  }

  private async promote(reason: string, stable: VersionFigures, candidate: VersionFigures): Promise<void> {
    await this.writeAll({ share: '0', stable: this.state.candidate!, canary: null });
    this.state.phase = 'promoted';
    this.state.share = 0;
    this.stop();
    this.record({ share: 100, decision: 'promoted', reason, stable, candidate });
  }

  private async rollBack(reason: string, stable?: VersionFigures, candidate?: VersionFigures): Promise<void> {
    this.stop();
    this.state.phase = 'rolled_back';
    const failedAt = this.state.share;
    this.state.share = 0;
    this.record({ share: failedAt, decision: 'rolled_back', reason, stable, candidate });
    // Share first: from this command on no request goes to the candidate.
    await this.writeAll({ share: '0', canary: null }).catch((error: Error) =>
      this.options.logger.error({ err: error.message }, 'the rollback could not reset every balancer'),
    );
  }

  private async writeAll(changes: Record<string, string | null>): Promise<CanaryEntries[]> {
    const written = await Promise.all(this.options.balancers.map((api) => writeCanary(api, changes)));
    this.options.metrics.share(Number(written[0]?.share ?? 0), written[0]?.canary);
    return written;
  }

  private record(step: Omit<StepRecord, 'at'>): void {
    const entry = { at: new Date().toISOString(), ...step };
    this.state.history.push(entry);
    this.options.metrics.step(step.decision);
    this.options.logger.info(
      { stable_version: this.state.stable, candidate: this.state.candidate, ...step },
      `rollout ${step.decision} at ${step.share}%`,
    );
  }
}
