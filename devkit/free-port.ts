import { createServer, type Server } from 'node:net';

/** A TCP port free on loopback right now (for child processes that cannot report theirs). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * `count` distinct TCP ports free on loopback right now: all held open until every one is known,
 * since a port closed and asked for again can come back (two listeners of one HAProxy on the same
 * port then share it, SO_REUSEPORT, and the test talks to the wrong one).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.on('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
