/**
 * What the compose and Swarm tiers (and the monitoring pair's test) share: polling until a
 * condition holds, and scripts/load.sh run in the background while a test changes the cluster
 * under it.
 */
import { spawn } from 'node:child_process';
import type { Summary } from '../../devkit/loadgen/tally.ts';
import { lastJsonLine } from '../../devkit/testing.ts';

export async function waitFor<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export type { Summary as LoadSummary } from '../../devkit/loadgen/tally.ts';

/**
 * scripts/load.sh with `args` in the background; resolves with its JSON summary whatever its exit
 * code. `stop()` ends it before its duration (SIGTERM: the requests in flight answered, then the summary).
 */
export function backgroundLoad(args: string[]): Promise<Summary> & { stop(): void } {
  const child = spawn('scripts/load.sh', [...args, '--quiet', '--json', '--max-error-rate', '1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const summary = new Promise<Summary>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(lastJsonLine<Summary>(stdout));
      } catch (err) {
        reject(new Error(`the load script printed no summary: ${String(err)}`));
      }
    });
  });
  return Object.assign(summary, { stop: () => void child.kill('SIGTERM') });
}
