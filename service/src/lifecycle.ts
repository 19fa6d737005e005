/** Listening, graceful draining and shutdown signals for the HTTP servers. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StartupError } from './config.ts';

/** Listens on `port`, or fails with a sentence naming `setting` (a busy port is a user's mistake). */
export function listen(
  server: Server,
  port: number,
  host: string,
  setting: 'PORT' | 'METRICS_PORT',
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const problems: Record<string, string> = {
        EADDRINUSE: `address ${host}:${port} is already in use; stop what listens there or choose another port`,
        EACCES: `no permission to listen on ${host}:${port} (ports below 1024 need privileges)`,
        EADDRNOTAVAIL: `${host} is not an address of this machine (see HOST)`,
      };
      reject(new StartupError(setting, port, problems[err.code ?? ''] ?? err.message));
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Stops accepting connections and resolves once every in-flight request has been answered
 * (true), or after `timeoutMs` with the stragglers cut off (false). Idle keep-alive connections
 * are closed at once so they cannot hold the process open.
 */
export function closeGracefully(server: Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve(true);
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      resolve(false);
    }, timeoutMs);
    server.close(() => {
      clearTimeout(deadline);
      resolve(true);
    });
    server.closeIdleConnections();
  });
}

/** Runs `shutdown` once on the first SIGTERM or SIGINT; a second signal exits at once. */
export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      void shutdown(signal);
    });
  }
}
