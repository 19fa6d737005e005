/**
 * A webhook receiver as Alertmanager posts to one: every notification it gets, kept in order with
 * the time it arrived, for the tests of alert delivery (tier 1 against a real Alertmanager, tier 2
 * through the compose cluster).
 */
import { createServer } from 'node:http';

/** The fields of Alertmanager's webhook payload (version 4) the tests read. */
export interface Notification {
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
  }[];
  receivedAt: number;
  /** The address the notification came from: which Alertmanager of a cluster sent it. */
  sender: string;
}

export interface AlertReceiver {
  url: string;
  notifications: Notification[];
  /** The first notification (in arrival order) that `match` accepts, waiting up to `seconds`. */
  next(match: (n: Notification) => boolean, seconds: number): Promise<Notification>;
  close(): Promise<void>;
}

export function startAlertReceiver(host = '127.0.0.1', path = '/alerts'): Promise<AlertReceiver> {
  const notifications: Notification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === path) {
        notifications.push({
          ...(JSON.parse(Buffer.concat(chunks).toString()) as Notification),
          receivedAt: Date.now(),
          sender: req.socket.remoteAddress ?? '',
        });
        res.writeHead(200).end();
      } else res.writeHead(404).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
        notifications,
        async next(match, seconds) {
          const deadline = Date.now() + seconds * 1000;
          for (;;) {
            const found = notifications.find(match);
            if (found) return found;
            if (Date.now() > deadline) {
              throw new Error(`no matching notification in ${seconds}s; got ${JSON.stringify(notifications)}`);
            }
            await new Promise((r) => setTimeout(r, 200));
          }
        },
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

/** Whether a notification carries a `status` alert with these labels. */
export const carries =
  (status: 'firing' | 'resolved', labels: Record<string, string>) =>
  (n: Notification): boolean =>
    n.alerts.some((a) => a.status === status && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
