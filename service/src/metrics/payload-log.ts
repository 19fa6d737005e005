/**
 * A sampled log of what the model saw: for a share of the requests, one JSON line with the request
 * id, the version that answered, the 28x28 input it was given (784 bytes, base64), its
 * probabilities and timings, to rotated files in a directory. What the drift metrics summarise,
 * kept for a person to look at and to label for the next training.
 *
 * Appends go through one write stream; when the disk cannot keep up, records are dropped (and
 * counted) rather than queued without bound. A file that reaches its size is renamed
 * (inputs.jsonl -> inputs.1.jsonl -> ...) and the oldest beyond the kept count deleted.
 */
import { createWriteStream, existsSync, mkdirSync, openSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface PayloadRecord {
  requestId: string;
  version: string;
  input: Float32Array;
  digit: number;
  probabilities: number[];
  timings: { preprocess_ms: number; queue_ms: number; inference_ms: number };
}

export interface PayloadLogOptions {
  dir: string;
  /** Share of the records written, chosen at random. */
  sample: number;
  maxFileBytes: number;
  /** Rotated files kept beside the one being written. */
  keptFiles: number;
  onOutcome?: (outcome: 'written' | 'dropped') => void;
  random?: () => number;
}

export interface PayloadLog {
  offer(record: () => PayloadRecord): void;
  close(): Promise<void>;
}

const FILE = 'inputs.jsonl';
const rotated = (n: number) => `inputs.${n}.jsonl`;

export function encodeInput(input: Float32Array): string {
  const bytes = Buffer.allocUnsafe(input.length);
  for (let i = 0; i < input.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, input[i]!)) * 255);
  return bytes.toString('base64');
}

export function createPayloadLog(options: PayloadLogOptions): PayloadLog {
  const random = options.random ?? Math.random;
  mkdirSync(options.dir, { recursive: true });
  let stream: WriteStream = open();
  let written = 0;
  let congested = false;

  function open(): WriteStream {
    // Opened now, not on the stream's first tick: the file exists as soon as it is the current one.
    const s = createWriteStream('', { fd: openSync(join(options.dir, FILE), 'a') });
    s.on('drain', () => (congested = false));
    return s;
  }

  function rotate(): void {
    stream.end();
    rmSync(join(options.dir, rotated(options.keptFiles)), { force: true });
    for (let n = options.keptFiles - 1; n >= 1; n--) {
      const from = join(options.dir, rotated(n));
      if (existsSync(from)) renameSync(from, join(options.dir, rotated(n + 1)));
    }
    // The old stream keeps its descriptor: what it still holds lands in the renamed file.
    renameSync(join(options.dir, FILE), join(options.dir, rotated(1)));
    stream = open();
    written = 0;
    congested = false;
  }

  return {
    // The record is built only when sampled: most requests pay for one random number.
    offer(build) {
      if (!(random() < options.sample)) return;
      if (congested) {
        options.onOutcome?.('dropped');
        return;
      }
      const r = build();
      const line = `${JSON.stringify({
        time: new Date().toISOString(),
        request_id: r.requestId,
        version: r.version,
        digit: r.digit,
        probabilities: r.probabilities.map((p) => Number(p.toFixed(6))),
        ...r.timings,
        input: encodeInput(r.input),
      })}\n`;
      congested = !stream.write(line);
      written += Buffer.byteLength(line);
      options.onOutcome?.('written');
      if (written >= options.maxFileBytes) rotate();
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
