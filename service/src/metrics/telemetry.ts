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
  /** The model version that took the request, if one did. */
  version: string | undefined;
}

/**
 * How a request reached the replica: through the load balancer (which always sets X-Forwarded-For),
 * to its own published port, or unknown (refused by the HTTP parser before any header was read).
 * The entry point's availability SLO counts the balancer's share of shedding.
 */
export type Via = 'load_balancer' | 'direct' | 'unknown';

export interface Telemetry {
  requestStarted(): void;
  requestFinished(record: RequestRecord): void;
  /** A prediction request's whole run time and the pixels its picture had. */
  predictionServed(seconds: number, sourcePixels: number): void;
  preprocessed(seconds: number): void;
  queueWaited(seconds: number): void;
  inferred(seconds: number, batchSize: number): void;
  /** One answer of the model `version`. */
  predicted(digit: number, confidence: number, version: string): void;
  /** A 4xx refusal, by its error code, and whether the request came through the load balancer. */
  rejected(reason: string, via: Via): void;
  /** The digits of one Open Inference Protocol request. */
  inferRows(rows: number): void;
  /** A connection closed as it arrived: MAX_CONNECTIONS were open. */
  connectionDropped(): void;
  /** An input given to the model (its drift features). */
  inputSeen(input: Float32Array): void;
  /** A record of the sampled payload log, written or dropped. */
  payloadLogged(outcome: 'written' | 'dropped'): void;
  /** A load asked of the model admin endpoint. */
  modelLoaded(outcome: 'loaded' | 'refused'): void;
}
