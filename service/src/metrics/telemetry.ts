/**
 * What the HTTP layer and the engine report, as a small interface: they never touch metric
 * objects, and tests or other sinks can implement it.
 */
export interface RequestRecord {
  method: string;
  /** The route template ("/predict"), or "unmatched": never the raw URL, which is unbounded. */
  route: string;
  status: number;
  seconds: number;
  receivedBytes: number;
  sentBytes: number;
  clientIp: string;
}

export interface Telemetry {
  requestStarted(): void;
  requestFinished(record: RequestRecord): void;
  /** A prediction request's whole run time and the pixels its picture had. */
  predictionServed(seconds: number, sourcePixels: number): void;
  preprocessed(seconds: number): void;
  queueWaited(seconds: number): void;
  inferred(seconds: number, batchSize: number): void;
  predicted(digit: number, confidence: number): void;
  rejected(reason: string): void;
  /** The digits of one Open Inference Protocol request. */
  inferRows(rows: number): void;
}
