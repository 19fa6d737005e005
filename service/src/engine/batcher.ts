/**
 * Dynamic micro-batching in front of the engine (the idea of Triton and TF Serving): concurrent
 * inputs wait in a bounded queue and run together when the batch is full or the oldest has
 * waited `maxDelayMs`, whichever comes first. One model run over 32 inputs costs far less than
 * 32 runs over one. Each caller gets its own answer; a failing input fails only its own caller.
 */
import type { Engine, Prediction } from './engine.ts';

export interface BatcherOptions {
  maxBatchSize: number;
  maxDelayMs: number;
  maxQueue: number;
  onBatch?: (batchSize: number, inferenceSeconds: number) => void;
}

export interface BatchedPrediction {
  prediction: Prediction;
  queueSeconds: number;
  inferenceSeconds: number;
  batchSize: number;
}

/** The queue is full: the caller should shed the request (HTTP 429) rather than wait. */
export class QueueFullError extends Error {
  // Stryker disable next-line StringLiteral: the name shows only in a stack trace, never to a client or in a metric
  override name = 'QueueFullError';
  constructor(readonly retryAfterSeconds: number) {
    super('the inference queue is full; retry shortly');
  }
}

/** The client disconnected while its input waited: it was never inferred. */
export class ClientGoneError extends Error {
  // Stryker disable next-line StringLiteral: the name shows only in a stack trace, never to a client or in a metric
  override name = 'ClientGoneError';
  constructor() {
    super('the client went away before its input was inferred');
  }
}

/**
 * How a caller reports that its client is gone: it keeps the callback it is handed and runs it
 * when its client disconnects (at once if the client already has). A plain callback, because an
 * AbortController per request (an EventTarget with its listeners) costs each request measurably.
 */
export type OnClientGone = (dropInput: () => void) => void;

interface Pending {
  input: Float32Array;
  enqueued: number;
  resolve: (s: BatchedPrediction) => void;
  reject: (e: unknown) => void;
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  private idle: (() => void)[] = [];

  constructor(
    private engine: Pick<Engine, 'predict'>,
    private readonly options: BatcherOptions,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  /**
   * Runs the next batches on `engine`. A batch runs synchronously, so a swap always falls between
   * two: the queue carries over, nothing is run twice or lost.
   */
  useEngine(engine: Pick<Engine, 'predict'>): void {
    this.engine = engine;
  }

  /** Resolves once the queue is empty (at once if it is). */
  drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Queues one input. A caller whose client may leave passes `onClientGone`: it receives a callback
   * to run once, when its client disconnects, which takes the input out of the queue at once, so that
   * under overload the queue's places and the model's time go to clients still waiting.
   */
  predict(input: Float32Array, onClientGone?: OnClientGone): Promise<BatchedPrediction> {
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new QueueFullError(1));
    return new Promise<BatchedPrediction>((resolve, reject) => {
      const pending: Pending = { input, enqueued: performance.now(), resolve, reject };
      this.queue.push(pending);
      this.schedule();
      onClientGone?.(() => {
        const at = this.queue.indexOf(pending);
        if (at < 0) return; // already taken into a batch: its answer comes anyway
        this.queue.splice(at, 1);
        reject(new ClientGoneError());
      });
    });
  }

  /**
   * Queues several inputs of one request together: all of them, or none when they do not all fit
   * (QueueFullError: the request is shed as a whole). Its client leaving drops every one still
   * waiting.
   */
  predictAll(inputs: Float32Array[], onClientGone?: OnClientGone): Promise<BatchedPrediction[]> {
    if (this.queue.length + inputs.length > this.options.maxQueue) return Promise.reject(new QueueFullError(1));
    const droppers: (() => void)[] = [];
    const all = Promise.all(inputs.map((input) => this.predict(input, (drop) => droppers.push(drop))));
    onClientGone?.(() => {
      for (const drop of droppers) drop();
    });
    return all;
  }

  private schedule(): void {
    if (this.immediate) return;
    if (this.queue.length >= this.options.maxBatchSize || this.options.maxDelayMs <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      // Run after the current I/O callbacks, so requests already read join this batch.
      this.immediate = setImmediate(() => this.flush());
      return;
    }
    // Stryker disable next-line ConditionalExpression: speed only; another timer would fire at the same deadline (the oldest input's)
    if (this.timer) return;
    const oldest = this.queue[0]!.enqueued;
    const wait = Math.max(0, oldest + this.options.maxDelayMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Runs from the immediate (the timer is already cleared) or from the timer itself. */
  private flush(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    if (batch.length > 0) this.run(batch);
    if (this.queue.length > 0) this.schedule();
    else for (const resolve of this.idle.splice(0)) resolve();
  }

  private run(batch: Pending[]): void {
    const start = performance.now();
    let predictions: Prediction[];
    try {
      predictions = this.engine.predict(batch.map((p) => p.input));
    } catch {
      // Isolate the culprit: run each input alone so only the bad one fails.
      for (const p of batch) this.runAlone(p, start);
      return;
    }
    const seconds = (performance.now() - start) / 1000;
    this.options.onBatch?.(batch.length, seconds);
    batch.forEach((p, i) =>
      p.resolve({
        prediction: predictions[i]!,
        queueSeconds: (start - p.enqueued) / 1000,
        inferenceSeconds: seconds,
        batchSize: batch.length,
      }),
    );
  }

  private runAlone(p: Pending, batchStart: number): void {
    const start = performance.now();
    try {
      const [prediction] = this.engine.predict([p.input]);
      const seconds = (performance.now() - start) / 1000;
      this.options.onBatch?.(1, seconds);
      p.resolve({
        prediction: prediction!,
        queueSeconds: (batchStart - p.enqueued) / 1000,
        inferenceSeconds: seconds,
        batchSize: 1,
      });
    } catch (err) {
      p.reject(err);
    }
  }
}
