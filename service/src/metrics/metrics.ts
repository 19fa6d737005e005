/**
 * Every Prometheus metric of a replica, declared against an injected registry (tests build a
 * fresh one). Values that are cheap to read are read at scrape time in `collect()`.
 */
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { CgroupStats } from './cgroup.ts';
import { ClientIpLabels } from './client-ip-labels.ts';
import { registerContainerMetrics } from './container.ts';
import { inputFeatures } from './input-features.ts';
import type { RequestRecord, Telemetry } from './telemetry.ts';

/** From a cached 28x28 answer (~0.3 ms) to a large photo under overload (seconds). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];
const CONFIDENCE_BUCKETS = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999];

export interface MetricsOptions {
  registry: Registry;
  clientIpLimit: number;
  backend: string;
  /** The versions served now, the default first; read at every scrape. */
  versions: () => { version: string; model: string; build: string }[];
  build: { version: string };
  /** Read at every scrape; null or missing fields leave those series out. */
  readCgroup: () => CgroupStats | null;
  liveTensors: () => number;
  /** Inputs waiting for an inference batch. */
  queueDepth: () => number;
}

export function createMetrics(options: MetricsOptions): Telemetry {
  const registers = [options.registry];
  collectDefaultMetrics({ register: options.registry });
  // These three are gauges named like counters (promtool rejects them); their per-type twins
  // without "_total" (nodejs_active_handles{type}, ...) carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    options.registry.removeSingleMetric(name);
  }
  const clientIps = new ClientIpLabels(options.clientIpLimit);

  const httpRequests = new Counter({
    name: 'mnist_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const httpDuration = new Histogram({
    name: 'mnist_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its answer.',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const inflight = new Gauge({ name: 'mnist_inflight_requests', help: 'Requests being processed now.', registers });
  const received = new Counter({
    name: 'mnist_http_received_bytes_total',
    help: 'Bytes received on API connections per request, request line and headers included.',
    registers,
  });
  const sent = new Counter({
    name: 'mnist_http_sent_bytes_total',
    help: 'Bytes sent on API connections per request, status line and headers included.',
    registers,
  });
  const clientRequests = new Counter({
    name: 'mnist_client_requests_total',
    help: `API requests by client address; beyond ${options.clientIpLimit} distinct addresses the rest count as "other".`,
    labelNames: ['client_ip'],
    registers,
  });
  const apiRuntime = new Gauge({
    name: 'mnist_api_runtime_seconds',
    help: 'Run time of the last prediction request.',
    registers,
  });
  const timePerPixel = new Gauge({
    name: 'mnist_api_time_per_pixel_seconds',
    help: "Last prediction request's run time divided by its picture's pixel count.",
    registers,
  });
  const preprocess = new Histogram({
    name: 'mnist_preprocess_duration_seconds',
    help: 'Decoding and MNIST normalisation of one input.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'mnist_queue_wait_seconds',
    help: 'Time an input waited for its inference batch to start.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const inference = new Histogram({
    name: 'mnist_inference_duration_seconds',
    help: 'Model run time of one batch.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const batchSize = new Histogram({
    name: 'mnist_inference_batch_size',
    help: 'Inputs per model run.',
    buckets: BATCH_BUCKETS,
    registers,
  });
  const inferRows = new Histogram({
    name: 'mnist_infer_rows',
    help: 'Digits per Open Inference Protocol request (POST /v2/models/mnist/infer).',
    buckets: BATCH_BUCKETS,
    registers,
  });
  const predictions = new Counter({
    name: 'mnist_predictions_total',
    help: 'Answers by predicted digit and model version.',
    labelNames: ['digit', 'version'],
    registers,
  });
  const confidence = new Histogram({
    name: 'mnist_prediction_confidence',
    help: 'Probability of the predicted digit, by model version.',
    labelNames: ['version'],
    buckets: CONFIDENCE_BUCKETS,
    registers,
  });
  const versionRequests = new Counter({
    name: 'mnist_version_requests_total',
    help: 'Requests a model version took (/predict, /v2 inference), by outcome: ok, rejected (4xx), failed (5xx).',
    labelNames: ['version', 'outcome'],
    registers,
  });
  const versionDuration = new Histogram({
    name: 'mnist_version_request_duration_seconds',
    help: 'Time from receiving a request a model version took to sending its answer.',
    labelNames: ['version'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const inkFraction = new Histogram({
    name: 'mnist_input_ink_fraction',
    help: "Share of the model input's pixels that are ink (above 0.5): MNIST's training digits have 13% (5-95%: 7-21%).",
    buckets: [0.03, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4],
    registers,
  });
  const centreOffset = new Histogram({
    name: 'mnist_input_centre_offset_pixels',
    help: "Distance of the model input's ink centre of mass from the picture's centre: MNIST's training digits 0.8 px (5-95%: 0.25-1.2).",
    buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5],
    registers,
  });
  const payloadRecords = new Counter({
    name: 'mnist_payload_log_records_total',
    help: 'Records of the sampled payload log (PAYLOAD_LOG_DIR): written, or dropped while the disk was behind.',
    labelNames: ['outcome'],
    registers,
  });
  const modelLoads = new Counter({
    name: 'mnist_model_loads_total',
    help: 'Model versions loaded or refused by the admin endpoint since start.',
    labelNames: ['outcome'],
    registers,
  });
  const dropped = new Counter({
    name: 'mnist_dropped_connections_total',
    help: 'Connections closed as they arrived, before any request: MAX_CONNECTIONS were already open.',
    registers,
  });
  const rejected = new Counter({
    name: 'mnist_rejected_requests_total',
    help: 'Requests refused with a 4xx, by reason (the error code): bad input, overload, protocol errors, clients gone; and by how they came (via the load balancer or not).',
    labelNames: ['reason', 'via'],
    registers,
  });
  new Gauge({
    name: 'mnist_model_info',
    help: 'The default model version, which requests naming none get; always 1.',
    labelNames: ['model', 'version', 'backend'],
    registers,
    collect() {
      this.reset();
      for (const { model, version } of options.versions().slice(0, 1))
        this.set({ model, version, backend: options.backend }, 1);
    },
  });
  new Gauge({
    name: 'mnist_model_version_info',
    help: "Every model version served, its model and build (the card's version), and whether it is the default; always 1.",
    labelNames: ['version', 'model', 'build', 'default'],
    registers,
    collect() {
      this.reset();
      options.versions().forEach((v, i) => this.set({ ...v, default: String(i === 0) }, 1));
    },
  });
  new Gauge({
    name: 'mnist_build_info',
    help: 'Service version and Node.js runtime; always 1.',
    labelNames: ['version', 'node_version'],
    registers,
  }).set({ version: options.build.version, node_version: process.version }, 1);
  new Gauge({
    name: 'mnist_tfjs_tensors',
    help: 'Live tfjs tensors; flat over time unless something leaks.',
    registers,
    collect() {
      this.set(options.liveTensors());
    },
  });

  new Gauge({
    name: 'mnist_inference_queue_depth',
    help: 'Inputs waiting for their inference batch; at MAX_QUEUE new requests get 429.',
    registers,
    collect() {
      this.set(options.queueDepth());
    },
  });

  registerContainerMetrics(options.registry, options.readCgroup);

  return {
    requestStarted: () => inflight.inc(),
    requestFinished(r: RequestRecord) {
      inflight.dec();
      const status = String(r.status);
      httpRequests.inc({ method: r.method, route: r.route, status });
      httpDuration.observe({ method: r.method, route: r.route }, r.seconds);
      received.inc(r.receivedBytes);
      sent.inc(r.sentBytes);
      clientRequests.inc({ client_ip: clientIps.label(r.clientIp) });
      if (r.version !== undefined) {
        const outcome = r.status < 400 ? 'ok' : r.status < 500 ? 'rejected' : 'failed';
        versionRequests.inc({ version: r.version, outcome });
        versionDuration.observe({ version: r.version }, r.seconds);
      }
    },
    predictionServed(seconds, sourcePixels) {
      apiRuntime.set(seconds);
      // Stryker disable next-line ConditionalExpression,EqualityOperator: every input has pixels (784 for JSON); this only keeps a division by zero out
      if (sourcePixels > 0) timePerPixel.set(seconds / sourcePixels);
    },
    preprocessed: (seconds) => preprocess.observe(seconds),
    queueWaited: (seconds) => queueWait.observe(seconds),
    inferred(seconds, size) {
      inference.observe(seconds);
      batchSize.observe(size);
    },
    predicted(digit, p, version) {
      predictions.inc({ digit: String(digit), version });
      confidence.observe({ version }, p);
    },
    modelLoaded: (outcome) => modelLoads.inc({ outcome }),
    payloadLogged: (outcome) => payloadRecords.inc({ outcome }),
    inputSeen(input) {
      const features = inputFeatures(input);
      inkFraction.observe(features.inkFraction);
      centreOffset.observe(features.centreOffset);
    },
    rejected: (reason, via) => rejected.inc({ reason, via }),
    inferRows: (rows) => inferRows.observe(rows),
    connectionDropped: () => dropped.inc(),
  };
}
