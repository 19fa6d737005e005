/** The replica comparison: every replica side by side, row by row, then one replica alone. */
import { queryVariable, UP_DOWN, type DashboardSpec, type PanelSpec } from '../builder.ts';
import { FIRING, R, RATE } from './shared.ts';

/** Where a request's time goes: waiting for its batch, decoding + normalising, the model run. */
const STAGES = [
  { expr: `replica:mnist_queue_wait_seconds:mean_rate1m{${R}}`, legend: 'queue {{replica}}' },
  { expr: `replica:mnist_preprocess_seconds:mean_rate1m{${R}}`, legend: 'preprocess {{replica}}' },
  { expr: `replica:mnist_inference_seconds:mean_rate1m{${R}}`, legend: 'inference {{replica}}' },
];

/** When a replica's process started again (a crash, a kill, a deploy), drawn across the panels. */
const RESTARTS = {
  name: 'Replica restarts',
  expr: 'changes(process_start_time_seconds{job="mnist"}[1m]) > 0',
  text: '{{replica}} restarted',
  color: 'orange',
};
/** The entry point's SLOs (prometheus/slo/slos.yaml), as their generated rules label them. */
const SLO = 'sloth_service="mnist-entry"';

const perReplica = (spec: Omit<PanelSpec, 'perReplica' | 'type'> & { type?: PanelSpec['type'] }): PanelSpec => ({
  type: 'timeseries',
  perReplica: true,
  ...spec,
});

/** The comparison table: one row per replica, one column per figure (instant queries merged). */
const comparisonTable: PanelSpec = {
  type: 'table',
  title: 'Replica comparison',
  description:
    'One row per replica: throughput, p95 latency, share of failed answers (5xx and 429), CPU used as a share of the limit, and resident memory, all over the last minute.',
  unit: 'none',
  width: 24,
  height: 6,
  perReplica: true,
  queries: [
    { expr: `replica:mnist_requests:rate1m{${R}}`, table: true },
    { expr: `replica:mnist_latency_seconds:p95_rate1m{${R}}`, table: true },
    { expr: `replica:mnist_errors:ratio_rate1m{${R}}`, table: true },
    { expr: `replica:mnist_cpu_limit:ratio_rate1m{${R}}`, table: true },
    { expr: `sum by (replica) (process_resident_memory_bytes{job="mnist",${R}})`, table: true },
  ],
  columns: [
    { field: 'replica', name: 'Replica', unit: 'string' },
    { field: 'Value #A', name: 'Throughput', unit: 'reqps' },
    { field: 'Value #B', name: 'p95 latency', unit: 's' },
    { field: 'Value #C', name: 'Error ratio', unit: 'percentunit' },
    { field: 'Value #D', name: 'CPU of limit', unit: 'percentunit' },
    { field: 'Value #E', name: 'Resident memory', unit: 'bytes' },
  ],
  decimals: 2,
};

export const clusterOverview: DashboardSpec = {
  uid: 'mnist-cluster-overview',
  title: 'mnist-cluster: replica comparison',
  description: 'The two CPU-limited inference replicas side by side and on shared panels, one line per replica.',
  tags: ['mnist-cluster'],
  variables: [queryVariable('replica', 'Replica', 'label_values(mnist_model_info, replica)')],
  links: [
    { title: 'Host', url: '/d/mnist-cluster-host', tooltip: 'The machines under the replicas (node-exporter)' },
    { title: 'Alerts', url: 'http://localhost:9093', tooltip: 'Alertmanager: what fires, what is silenced' },
    { title: 'Prometheus', url: 'http://localhost:9090/alerts', tooltip: 'The alert rules and their state' },
  ],
  annotations: [RESTARTS, FIRING],
  rows: [
    {
      title: 'Status',
      panels: [
        {
          type: 'stat',
          title: 'Targets up',
          description:
            "1 (UP) when Prometheus's last scrape of the target succeeded: the replicas, the load balancer, node-exporter, Prometheus.",
          unit: 'none',
          width: 12,
          height: 5,
          queries: [{ expr: 'up', legend: '{{job}} {{replica}}' }],
          mappings: UP_DOWN,
        },
        {
          type: 'table',
          title: 'Model per replica',
          description: 'The model name, version and tfjs backend each replica serves (mnist_model_info).',
          unit: 'none',
          width: 12,
          height: 5,
          perReplica: true,
          queries: [{ expr: `mnist_model_info{${R}}`, table: true }],
          columns: [
            { field: 'replica', name: 'Replica', unit: 'string' },
            { field: 'model', name: 'Model', unit: 'string' },
            { field: 'version', name: 'Version', unit: 'string' },
            { field: 'backend', name: 'Backend', unit: 'string' },
          ],
        },
        comparisonTable,
      ],
    },
    {
      title: 'Entry point (load balancer)',
      panels: [
        perReplica({
          title: 'Requests: the balancer sends, the replica answers',
          description:
            "Requests per second the load balancer sent each replica (HAProxy's count), beside the POST /predict requests the replica itself answered: the two lines of a replica should match; a gap is traffic that went to the replica directly, or was lost between them.",
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: `sum by (replica) (rate(haproxy_server_http_responses_total{job="lb",${R}}[${RATE}]))`,
              legend: 'via lb {{replica}}',
            },
            { expr: `replica:mnist_requests:rate1m{${R}}`, legend: 'answered {{replica}}' },
          ],
        }),
        perReplica({
          title: 'Response time at the balancer',
          description:
            "HAProxy's average time to the replica's answer and total time of a request, over its last 1024 requests to each replica.",
          unit: 's',
          width: 8,
          queries: [
            {
              expr: `max by (replica) (haproxy_server_response_time_average_seconds{job="lb",${R}})`,
              legend: 'response {{replica}}',
            },
            {
              expr: `max by (replica) (haproxy_server_total_time_average_seconds{job="lb",${R}})`,
              legend: 'total {{replica}}',
            },
          ],
        }),
        perReplica({
          title: 'Retries and redispatches',
          description:
            'Requests per second the balancer retried because a replica refused the connection or gave no answer, and those it then sent to another replica. Any value means a replica failed a request that a client did not see fail.',
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: `sum by (replica) (rate(haproxy_server_retry_warnings_total{job="lb",${R}}[${RATE}]))`,
              legend: 'retried {{replica}}',
            },
            {
              expr: `sum by (replica) (rate(haproxy_server_redispatch_warnings_total{job="lb",${R}}[${RATE}]))`,
              legend: 'redispatched {{replica}}',
            },
          ],
        }),
        {
          type: 'stat',
          title: 'Health check state',
          description:
            "UP when the replica's /readyz answered 200 on the last two checks (every second); DOWN while it is starting, draining or gone, and then it gets no new requests.",
          unit: 'none',
          width: 8,
          perReplica: true,
          queries: [
            { expr: `max by (replica) (haproxy_server_status{job="lb",state="UP",${R}})`, legend: '{{replica}}' },
          ],
          mappings: UP_DOWN,
        },
        perReplica({
          title: 'Connections and queue at the balancer',
          description:
            "Requests the balancer has open with each replica, and requests waiting in the balancer's queue for a replica (none should wait: the replicas queue their own inputs for batching).",
          unit: 'none',
          width: 8,
          queries: [
            {
              expr: `max by (replica) (haproxy_server_current_sessions{job="lb",${R}})`,
              legend: 'open {{replica}}',
            },
            { expr: `max by (replica) (haproxy_server_current_queue{job="lb",${R}})`, legend: 'queued {{replica}}' },
          ],
        }),
        {
          type: 'timeseries',
          title: 'Answers of the entry point by status class',
          description:
            "Responses per second the clients of the entry point got, by HTTP status class: 5xx here that the replicas did not send are the balancer's own (no replica available, timeouts).",
          unit: 'reqps',
          width: 8,
          stack: true,
          queries: [
            {
              expr: `sum by (code) (rate(haproxy_frontend_http_responses_total{job="lb",proxy="api"}[${RATE}]))`,
              legend: '{{code}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Clients over their limits',
          description:
            'Clients (source addresses, or API keys when keys are required) that went over their request rate or open connections at the entry point within the last 10 s, and the requests it refused per second (429 of the limits, 401 without a valid key).',
          unit: 'short',
          width: 8,
          queries: [
            { expr: 'sum(haproxy_sticktable_used{job="lb",name="limited_clients"})', legend: 'clients limited' },
            {
              expr: `sum(rate(haproxy_frontend_requests_denied_total{job="lb",proxy="api"}[${RATE}]))`,
              legend: 'refused per second',
            },
          ],
        },
      ],
    },
    {
      title: 'Entry point SLOs',
      panels: [
        {
          type: 'stat',
          title: 'Error budget left (30 days)',
          description:
            "The share of each SLO's error budget left over the rolling 30 days (prometheus/slo/slos.yaml): 100% is untouched, 0% spent, below 0 the objective is missed.",
          unit: 'percentunit',
          width: 6,
          queries: [{ expr: `slo:period_error_budget_remaining:ratio{${SLO}}`, legend: '{{sloth_slo}}' }],
          decimals: 1,
        },
        {
          type: 'timeseries',
          title: 'Burn rate per window',
          description:
            "How fast each SLO's budget burns, over each window the alerts read: 1 spends it in exactly 30 days. A page needs 14.4 over 1 h and 5 min, or 6 over 6 h and 30 min; a ticket 3 over a day and 2 h, or 1 over 3 days and 6 h.",
          unit: 'none',
          width: 9,
          queries: [
            {
              expr: `{__name__=~"slo:sli_error:ratio_rate(5m|1h|6h|1d|3d)", ${SLO}} / on (sloth_id) group_left slo:error_budget:ratio{${SLO}}`,
              legend: '{{sloth_slo}} {{sloth_window}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'SLIs: good events over 5 minutes',
          description:
            'The share of requests through the balancer answered without a server error or shedding (availability), of predictions answered within 250 ms (latency), and of probes through the published addresses that passed (reachability), over the last 5 minutes.',
          unit: 'percentunit',
          width: 9,
          queries: [{ expr: `1 - slo:sli_error:ratio_rate5m{${SLO}}`, legend: '{{sloth_slo}}' }],
        },
      ],
    },
    {
      title: 'Autoscaling (Swarm)',
      panels: [
        {
          type: 'timeseries',
          swarmOnly: true,
          title: 'Load per replica against the target',
          description:
            'Requests in flight per replica as the autoscaler read it at each decision (averaged over AUTOSCALE_WINDOW_S), and its target: it adds replicas above target x (1 + tolerance), removes them below target x (1 - tolerance). Empty in compose, which has no autoscaler, and while Prometheus does not answer it.',
          unit: 'none',
          width: 8,
          queries: [
            { expr: 'max(mnist_autoscaler_load_per_replica)', legend: 'load per replica' },
            { expr: 'max(mnist_autoscaler_policy{setting="target"})', legend: 'target' },
          ],
        },
        {
          type: 'timeseries',
          swarmOnly: true,
          title: 'Replicas: wanted, set, answering',
          description:
            "The count the autoscaler's last decision wanted, the count the service was set to, the replicas Prometheus scrapes, and the autoscaler's bounds.",
          unit: 'none',
          width: 8,
          queries: [
            { expr: 'max(mnist_autoscaler_desired_replicas)', legend: 'wanted' },
            { expr: 'max(mnist_autoscaler_current_replicas)', legend: 'set' },
            { expr: 'count(up{job="mnist"} == 1)', legend: 'answering' },
            { expr: 'max by (setting) (mnist_autoscaler_policy{setting=~"min|max"})', legend: '{{setting}}' },
          ],
        },
        {
          type: 'timeseries',
          swarmOnly: true,
          title: 'Decisions by reason',
          description:
            'Decisions per minute by reason: scale_up, scale_down, into_bounds, or why it held (in tolerance, a cooldown, at a bound, Prometheus unavailable, a stale sample, missing series).',
          unit: 'none',
          width: 5,
          queries: [
            {
              expr: `sum by (reason) (rate(mnist_autoscaler_decisions_total[${RATE}])) * 60 > 0`,
              legend: '{{reason}}',
            },
          ],
        },
        {
          type: 'stat',
          swarmOnly: true,
          title: 'Since the last scaling',
          description: 'Time since the replicas service was last changed, by the autoscaler or anyone.',
          unit: 's',
          width: 3,
          queries: [{ expr: 'time() - max(mnist_autoscaler_last_scale_timestamp_seconds)', legend: 'since' }],
        },
      ],
    },
    {
      title: 'Traffic',
      panels: [
        perReplica({
          title: 'Request rate',
          description: 'Answered POST /predict requests per second, whatever their status.',
          unit: 'reqps',
          width: 8,
          queries: [{ expr: `replica:mnist_requests:rate1m{${R}}`, legend: '{{replica}}' }],
        }),
        perReplica({
          title: 'Error ratio',
          description:
            'Share of /predict answers that failed on the server side (5xx, 429) and that the client got wrong (other 4xx); the dashed line is where MnistHighErrorRatio fires (server errors over 5% for a minute).',
          unit: 'percentunit',
          thresholds: [{ value: 0.05, alert: 'MnistHighErrorRatio' }],
          width: 8,
          queries: [
            { expr: `replica:mnist_errors:ratio_rate1m{${R}}`, legend: 'server {{replica}}' },
            { expr: `replica:mnist_client_errors:ratio_rate1m{${R}}`, legend: 'client {{replica}}' },
          ],
        }),
        perReplica({
          title: 'In-flight requests and queue depth',
          description:
            'Requests being processed right now, and inputs waiting for their inference batch (429 when the queue is full).',
          unit: 'none',
          width: 8,
          queries: [
            { expr: `mnist_inflight_requests{${R}}`, legend: 'in flight {{replica}}' },
            { expr: `mnist_inference_queue_depth{${R}}`, legend: 'queued {{replica}}' },
          ],
        }),
        {
          type: 'bargauge',
          title: 'Requests by client IP (top 10)',
          description:
            'API requests per second by client address over the selected replicas (the label is capped; the rest count as "other").',
          unit: 'reqps',
          width: 12,
          queries: [
            {
              expr: `topk(10, sum by (client_ip) (rate(mnist_client_requests_total{${R}}[${RATE}])))`,
              legend: '{{client_ip}}',
            },
          ],
        },
        perReplica({
          title: 'Rejected requests by reason',
          description: 'Refused /predict requests per second by error code (bad images, wrong pixels, overload ...).',
          unit: 'reqps',
          width: 12,
          stack: true,
          queries: [
            {
              expr: `sum by (replica, reason) (rate(mnist_rejected_requests_total{${R}}[${RATE}]))`,
              legend: '{{replica}} {{reason}}',
            },
          ],
        }),
      ],
    },
    {
      title: 'Latency',
      panels: [
        perReplica({
          title: 'Latency p50 / p95 / p99',
          description:
            'Quantiles of /predict latency from the request-duration histogram, per replica; the dashed line is where MnistHighLatencyP99 fires (p99 over 0.5 s for a minute).',
          unit: 's',
          thresholds: [{ value: 0.5, alert: 'MnistHighLatencyP99' }],
          width: 12,
          queries: [
            { expr: `replica:mnist_latency_seconds:p50_rate1m{${R}}`, legend: 'p50 {{replica}}' },
            { expr: `replica:mnist_latency_seconds:p95_rate1m{${R}}`, legend: 'p95 {{replica}}' },
            { expr: `replica:mnist_latency_seconds:p99_rate1m{${R}}`, legend: 'p99 {{replica}}' },
          ],
        }),
        perReplica({
          title: 'Queue wait vs preprocessing vs inference',
          description:
            "Mean time of each stage: waiting for the input's batch, decoding + MNIST normalisation, and the model run of its batch.",
          unit: 's',
          width: 12,
          stack: true,
          queries: STAGES,
        }),
        perReplica({
          title: 'Batch size',
          description: 'Mean number of inputs per model run: micro-batching grows it under concurrent load.',
          unit: 'none',
          width: 6,
          queries: [{ expr: `replica:mnist_batch_size:mean_rate1m{${R}}`, legend: '{{replica}}' }],
        }),
        perReplica({
          title: 'Digits per inference request',
          description:
            'Mean digits per Open Inference Protocol request (POST /v2/models/mnist/infer): each enters the batcher as one input. Empty while no such request arrives.',
          unit: 'none',
          width: 6,
          queries: [
            {
              expr: `sum by (replica) (rate(mnist_infer_rows_sum{${R}}[${RATE}])) / sum by (replica) (rate(mnist_infer_rows_count{${R}}[${RATE}]))`,
              legend: '{{replica}}',
            },
          ],
        }),
        perReplica({
          title: 'Last request run time and time per pixel',
          description:
            "The last prediction request's run time, and that divided by its picture's pixels (prometheus_client-style gauges).",
          unit: 's',
          width: 12,
          queries: [
            { expr: `mnist_api_runtime_seconds{${R}}`, legend: 'run time {{replica}}' },
            { expr: `mnist_api_time_per_pixel_seconds{${R}}`, legend: 'per pixel {{replica}}' },
          ],
        }),
      ],
    },
    {
      title: 'Resources',
      panels: [
        perReplica({
          title: 'CPU use as share of the limit',
          description: "Process CPU seconds per second divided by the container's CPU limit (1.0 = the whole quota).",
          unit: 'percentunit',
          width: 8,
          queries: [{ expr: `replica:mnist_cpu_limit:ratio_rate1m{${R}}`, legend: '{{replica}}' }],
        }),
        perReplica({
          title: 'CPU throttling',
          description:
            'Share of CFS periods in which the CPU limit stopped the container: how often the limit bites; the dashed line is where MnistCpuThrottled fires (over half of the periods for 2 minutes).',
          unit: 'percentunit',
          thresholds: [{ value: 0.5, alert: 'MnistCpuThrottled' }],
          width: 8,
          queries: [{ expr: `replica:mnist_cpu_throttled_periods:ratio_rate1m{${R}}`, legend: '{{replica}}' }],
        }),
        perReplica({
          title: 'Event-loop lag p99',
          description:
            '99th percentile of Node.js event-loop delay: high values mean something blocks the loop; the dashed line is where MnistEventLoopLagHigh fires (over 0.1 s for a minute).',
          unit: 's',
          thresholds: [{ value: 0.1, alert: 'MnistEventLoopLagHigh' }],
          width: 8,
          queries: [{ expr: `nodejs_eventloop_lag_p99_seconds{job="mnist",${R}}`, legend: '{{replica}}' }],
        }),
        perReplica({
          title: 'Resident memory and limit',
          description:
            "The process's resident memory, and the container's memory limit (the line it must stay under: over it the kernel kills the replica).",
          unit: 'bytes',
          width: 8,
          queries: [
            { expr: `process_resident_memory_bytes{job="mnist",${R}}`, legend: 'resident {{replica}}' },
            { expr: `mnist_container_memory_limit_bytes{${R}}`, legend: 'limit {{replica}}' },
          ],
        }),
        perReplica({
          title: 'Heap used',
          description: 'V8 heap in use; a steady climb under steady load would be a leak.',
          unit: 'bytes',
          width: 8,
          queries: [{ expr: `nodejs_heap_size_used_bytes{job="mnist",${R}}`, legend: '{{replica}}' }],
        }),
        perReplica({
          title: 'Network bytes in / out',
          description: "Bytes per second moved on the API's connections, headers included.",
          unit: 'Bps',
          width: 8,
          queries: [
            { expr: `rate(mnist_http_received_bytes_total{${R}}[${RATE}])`, legend: 'in {{replica}}' },
            { expr: `rate(mnist_http_sent_bytes_total{${R}}[${RATE}])`, legend: 'out {{replica}}' },
          ],
        }),
      ],
    },
    {
      title: 'Predictions',
      panels: [
        {
          type: 'timeseries',
          title: 'Predictions per digit',
          description:
            'Answers per second by predicted digit over the selected replicas: a shift shows a change in what users send.',
          unit: 'reqps',
          width: 8,
          stack: true,
          queries: [{ expr: `sum by (digit) (rate(mnist_predictions_total{${R}}[${RATE}]))`, legend: '{{digit}}' }],
        },
        perReplica({
          title: 'Confidence: median and share below 0.9',
          description:
            'Median probability of the predicted digit, and the share of answers whose confidence is under 0.9.',
          unit: 'percentunit',
          width: 8,
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (replica, le) (rate(mnist_prediction_confidence_bucket{${R}}[${RATE}])))`,
              legend: 'median {{replica}}',
            },
            {
              expr: `sum by (replica) (rate(mnist_prediction_confidence_bucket{le="0.9",${R}}[${RATE}])) / sum by (replica) (rate(mnist_prediction_confidence_count{${R}}[${RATE}]))`,
              legend: 'below 0.9 {{replica}}',
            },
          ],
        }),
        perReplica({
          title: 'Live tfjs tensors',
          description: 'Tensors alive in the engine: flat unless something leaks.',
          unit: 'none',
          width: 8,
          queries: [{ expr: `mnist_tfjs_tensors{${R}}`, legend: '{{replica}}' }],
        }),
      ],
    },
    {
      title: 'Model versions and rollout',
      panels: [
        {
          type: 'stat',
          title: 'Canary share in effect',
          description:
            "The share of the requests naming no version that the entry point sends to the canary version, read back from the balancer's canary map by the rollout controller (npm run rollout); 0 between rollouts.",
          unit: 'percent',
          width: 4,
          queries: [{ expr: 'max(mnist_rollout_share_percent)', legend: 'share' }],
        },
        {
          type: 'timeseries',
          title: 'Requests by model version',
          description:
            'Requests each model version answered per second over the selected replicas: during a rollout, the canary and the stable version side by side.',
          unit: 'reqps',
          width: 5,
          queries: [
            {
              expr: `sum by (version) (rate(mnist_version_requests_total{outcome="ok",${R}}[${RATE}]))`,
              legend: '{{version}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Latency p95 by model version',
          description:
            "The 95th percentile of each version's request latency: what the rollout controller holds the canary's to (at most ROLLOUT_MAX_LATENCY_RATIO times stable's).",
          unit: 's',
          width: 5,
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (version, le) (rate(mnist_version_request_duration_seconds_bucket{${R}}[${RATE}])))`,
              legend: '{{version}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Mean confidence by model version',
          description:
            "The mean probability of the digits each version answered: the rollout controller rolls a canary back when its mean falls ROLLOUT_MAX_CONFIDENCE_DROP below stable's.",
          unit: 'percentunit',
          width: 5,
          queries: [
            {
              expr: `sum by (version) (rate(mnist_prediction_confidence_sum{${R}}[${RATE}])) / sum by (version) (rate(mnist_prediction_confidence_count{${R}}[${RATE}]))`,
              legend: '{{version}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Failed requests by model version',
          description:
            "The share of each version's requests that failed (5xx): the rollout controller's third bound (ROLLOUT_MAX_ERROR_RATIO_INCREASE over stable's).",
          unit: 'percentunit',
          width: 5,
          queries: [
            {
              // A version without failures has no "failed" series: 0 from its others.
              expr: `(sum by (version) (rate(mnist_version_requests_total{outcome="failed",${R}}[${RATE}])) or sum by (version) (rate(mnist_version_requests_total{${R}}[${RATE}])) * 0) / sum by (version) (rate(mnist_version_requests_total{${R}}[${RATE}]))`,
              legend: '{{version}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Input drift',
      panels: [
        {
          type: 'timeseries',
          title: 'Predicted class mix against training',
          description:
            "Each digit's share of the answers over 30 minutes (cluster:mnist_class_share:ratio_rate30m) minus its share of MNIST's training set: above zero, sent more often than in training.",
          unit: 'percentunit',
          width: 8,
          queries: [
            {
              expr: 'cluster:mnist_class_share:ratio_rate30m - on (digit) training:mnist_class_share:ratio',
              legend: '{{digit}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Class-mix distance from training',
          description:
            "How far the last 30 minutes' mix of predicted digits is from the training set's (total variation distance: 0 the same, 1 nothing in common); MnistInputDrift fires above 0.25.",
          unit: 'none',
          width: 6,
          thresholds: [{ value: 0.25, alert: 'MnistInputDrift' }],
          queries: [{ expr: 'cluster:mnist_class_mix_drift:distance30m', legend: 'distance' }],
        },
        {
          type: 'timeseries',
          title: 'Ink share: live against training',
          description:
            "The mean share of ink pixels in what the model was given over 30 minutes, and MNIST's training digits' (13%): thicker or thinner strokes, larger or smaller digits show here.",
          unit: 'percentunit',
          width: 5,
          queries: [
            { expr: 'cluster:mnist_input_ink_fraction:mean_rate30m', legend: 'live' },
            { expr: 'training:mnist_input_ink_fraction:mean', legend: 'training' },
          ],
        },
        {
          type: 'timeseries',
          title: 'Ink centre offset: live against training',
          description:
            "The mean distance in pixels of the ink's centre of mass from the middle of what the model was given, and MNIST's training digits' (0.8 px).",
          unit: 'none',
          width: 5,
          queries: [
            { expr: 'cluster:mnist_input_centre_offset_pixels:mean_rate30m', legend: 'live' },
            { expr: 'training:mnist_input_centre_offset_pixels:mean', legend: 'training' },
          ],
        },
      ],
    },
    {
      title: 'Replica $replica',
      repeat: 'replica',
      panels: [
        perReplica({
          title: 'Throughput and errors',
          description: 'This replica alone: answered requests per second and failed ones per second.',
          unit: 'reqps',
          width: 12,
          queries: [
            { expr: `replica:mnist_requests:rate1m{${R}}`, legend: 'answered {{replica}}' },
            {
              expr: `replica:mnist_requests:rate1m{${R}} * replica:mnist_errors:ratio_rate1m{${R}}`,
              legend: 'failed {{replica}}',
            },
          ],
        }),
        perReplica({
          title: 'Where the time goes',
          description: 'This replica alone: queue wait, preprocessing and inference, stacked.',
          unit: 's',
          width: 12,
          stack: true,
          queries: STAGES,
        }),
      ],
    },
  ],
};
