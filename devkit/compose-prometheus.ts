/**
 * The compose cluster's Prometheus as the host's scripts and tests reach it: its published address
 * with the monitoring's credentials in it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { composeEnv, serviceUrl, type Env } from './compose-topology.ts';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));

/**
 * Prometheus's address on the host with the monitoring's credentials in it: MONITORING_PASSWORD
 * (environment or .env), else the password the running cluster generated (its
 * monitoring-credentials volume, read through the Prometheus container).
 */
export function prometheusUrl(env: Env = composeEnv()): string {
  let password = env.MONITORING_PASSWORD ?? '';
  if (!password) {
    try {
      password = execFileSync('docker', ['compose', 'exec', '-T', 'prometheus', 'cat', '/credentials/password'], {
        cwd: REPOSITORY,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      // No cluster running here, or no Docker: Prometheus's 401 will say what is missing.
    }
  }
  const url = new URL(serviceUrl('prometheus', 9090, env));
  if (password) [url.username, url.password] = ['admin', encodeURIComponent(password)];
  return url.href.replace(/\/$/, '');
}
