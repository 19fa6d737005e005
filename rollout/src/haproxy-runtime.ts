/**
 * HAProxy's runtime API, over TCP: one command per connection (its non-interactive mode), the
 * answer read to the end. The canary lives in a map file HAProxy reads at start (haproxy.cfg,
 * LB_CANARY_MAP); its entries are changed here in memory, effective from the next request, no reload.
 */
import { connect } from 'node:net';

export interface RuntimeApi {
  /** host:port of the runtime API. */
  address: string;
  /** The map file's path as HAProxy knows it. */
  map: string;
  timeoutMs?: number;
}

export function runtimeCommand(api: RuntimeApi, command: string): Promise<string> {
  const [host, port] = splitAddress(api.address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(api.timeoutMs ?? 3000, () =>
      socket.destroy(new Error(`HAProxy's runtime API at ${api.address} did not answer`)),
    );
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

export type CanaryEntries = Partial<Record<'share' | 'sticky' | 'canary' | 'stable', string>>;

/** The map's entries now (`show map`: one "<id> <key> <value>" line each). */
export async function readCanary(api: RuntimeApi): Promise<CanaryEntries> {
  const answer = await runtimeCommand(api, `show map ${api.map}`);
  const entries: CanaryEntries = {};
  for (const line of answer.split('\n')) {
    const match = /^0x[0-9a-f]+ (share|sticky|canary|stable) (\S+)$/.exec(line.trim());
    if (match) entries[match[1] as keyof CanaryEntries] = match[2];
    else if (line.trim() && !line.startsWith('0x')) throw new Error(`HAProxy: ${line.trim()}`);
  }
  return entries;
}

/**
 * Sets the given entries (a value of null removes one) and reads the map back. Each command is
 * atomic; the share is set last when it rises and first when it falls, so that no request meets a
 * share above zero without its canary version.
 */
export async function writeCanary(api: RuntimeApi, changes: Record<string, string | null>): Promise<CanaryEntries> {
  const current = await readCanary(api);
  const keys = Object.keys(changes).sort((a, b) => order(a, changes, current) - order(b, changes, current));
  for (const key of keys) {
    const value = changes[key];
    const exists = current[key as keyof CanaryEntries] !== undefined;
    const command =
      value === null
        ? exists
          ? `del map ${api.map} ${key}`
          : undefined
        : `${exists ? 'set' : 'add'} map ${api.map} ${key} ${value}`;
    if (!command) continue;
    const answer = (await runtimeCommand(api, command)).trim();
    if (answer) throw new Error(`HAProxy refused "${command}": ${answer}`);
  }
  return readCanary(api);
}

function order(key: string, changes: Record<string, string | null>, current: CanaryEntries): number {
  if (key !== 'share') return 0;
  const falling = Number(changes.share ?? 0) < Number(current.share ?? 0);
  return falling ? -1 : 1;
}
