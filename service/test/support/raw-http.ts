/**
 * HTTP/1.1 by hand over one TCP connection, for requests no well-behaved client library will
 * send: malformed request lines, header floods, bodies trickled a byte at a time, uploads far
 * over the limit that keep coming after the answer.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Request bytes written before the answer arrived. */
  sentBeforeAnswer: number;
}

/**
 * Writes each part of the request in turn (waiting `gapMs` between parts, for a trickle), stops
 * as soon as an answer has arrived or the server closed, and resolves with the answer.
 */
export function rawExchange(url: string, parts: Iterable<Buffer | string>, gapMs = 0): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let sent = 0;
    let sentAtFirstByte: number | undefined;
    let done = false;

    const parse = (): RawAnswer | undefined => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = received.toString('latin1', 0, end).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const length = Number(headers['content-length'] ?? NaN);
      const body = received.subarray(end + 4);
      if (Number.isFinite(length) && body.length < length) return undefined;
      return {
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0),
        headers,
        body: body.toString('utf8'),
        sentBeforeAnswer: sentAtFirstByte ?? sent,
      };
    };
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      socket.destroy();
      const answer = parse();
      if (answer) resolve(answer);
      else reject(error ?? new Error(`the server closed without an answer (${received.length} bytes received)`));
    };

    socket.on('data', (chunk: Buffer) => {
      sentAtFirstByte ??= sent;
      received = Buffer.concat([received, chunk]);
      if (parse()) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // A reset after the answer is how a server refuses the rest of a large upload.
    socket.on('error', (err) => finish(err));
    socket.on('connect', async () => {
      for (const part of parts) {
        if (done || socket.destroyed) return;
        const chunk = typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
        sent += chunk.length;
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r).once('close', r));
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}
