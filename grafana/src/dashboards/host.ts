/** The machines under the replicas, from node-exporter and, on a Swarm, each node's Docker engine. */
import { queryVariable, type DashboardSpec, type PanelSpec } from '../builder.ts';
import { FIRING, RATE } from './shared.ts';

const NET = 'device!~"lo|veth.*|docker.*|br-.*"';
/** A node-exporter expression with the node's name (`nodename`) added, kept to the nodes chosen. */
const onNode = (expr: string) => `(${expr}) * on (instance) group_left (nodename) node_uname_info{nodename=~"$node"}`;
const CORES = `count by (nodename) (${onNode('node_cpu_seconds_total{mode="idle"}')})`;

/** Host panels are half-width time series. */
const hostPanel = (
  title: string,
  description: string,
  unit: string,
  queries: PanelSpec['queries'],
  more: Pick<PanelSpec, 'stack' | 'thresholds' | 'swarmOnly'> = {},
): PanelSpec => ({ type: 'timeseries', title, description, unit, width: 12, queries, ...more });

export const host: DashboardSpec = {
  uid: 'mnist-cluster-host',
  title: 'mnist-cluster: host',
  description: 'The machines the cluster runs on, from node-exporter: one in compose, every node of a Swarm.',
  tags: ['mnist-cluster', 'host'],
  variables: [queryVariable('node', 'Node', 'label_values(node_uname_info, nodename)')],
  links: [
    { title: 'Replicas', url: '/d/mnist-cluster-overview', tooltip: 'The replica comparison' },
    { title: 'Alerts', url: 'http://localhost:9093', tooltip: 'Alertmanager: what fires, what is silenced' },
  ],
  annotations: [FIRING],
  rows: [
    {
      title: 'Host',
      panels: [
        hostPanel(
          'CPU by mode',
          'Share of all cores spent in each mode (user, system, iowait, ...), idle left out.',
          'percentunit',
          [
            {
              expr: `sum by (nodename, mode) (${onNode(`rate(node_cpu_seconds_total{mode!="idle"}[${RATE}])`)}) / on (nodename) group_left () ${CORES}`,
              legend: '{{nodename}} {{mode}}',
            },
          ],
          { stack: true },
        ),
        hostPanel(
          'Load average',
          'Runnable and waiting tasks averaged over 1, 5 and 15 minutes; compare with the core count.',
          'none',
          [
            { expr: onNode('node_load1'), legend: '{{nodename}} 1m' },
            { expr: onNode('node_load5'), legend: '{{nodename}} 5m' },
            { expr: onNode('node_load15'), legend: '{{nodename}} 15m' },
            { expr: CORES, legend: '{{nodename}} cores' },
          ],
        ),
        hostPanel(
          'Memory available',
          "Share of the host's memory available to new work (MemAvailable over MemTotal); the dashed line is where HostLowMemory fires (under 10% for 5 minutes).",
          'percentunit',
          [{ expr: onNode('node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes'), legend: '{{nodename}}' }],
          { thresholds: [{ value: 0.1, alert: 'HostLowMemory' }] },
        ),
        hostPanel(
          'Root filesystem free',
          'Share of the root filesystem still free; the dashed line is where HostLowDisk fires (under 10% for 5 minutes).',
          'percentunit',
          [
            {
              expr: onNode('node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"}'),
              legend: '{{nodename}} {{device}}',
            },
          ],
          { thresholds: [{ value: 0.1, alert: 'HostLowDisk' }] },
        ),
        hostPanel('Disk I/O', 'Bytes per second read and written, per disk.', 'Bps', [
          { expr: onNode(`rate(node_disk_read_bytes_total[${RATE}])`), legend: '{{nodename}} read {{device}}' },
          { expr: onNode(`rate(node_disk_written_bytes_total[${RATE}])`), legend: '{{nodename}} write {{device}}' },
        ]),
        hostPanel(
          'Network',
          "Bytes per second received and sent on the host's own interfaces: node-exporter runs in the host's network namespace (in compose; loopback, docker0, the cluster's bridge and containers' veth pairs left out).",
          'Bps',
          [
            {
              expr: onNode(`rate(node_network_receive_bytes_total{${NET}}[${RATE}])`),
              legend: '{{nodename}} in {{device}}',
            },
            {
              expr: onNode(`rate(node_network_transmit_bytes_total{${NET}}[${RATE}])`),
              legend: '{{nodename}} out {{device}}',
            },
          ],
        ),
      ],
    },
    {
      title: 'Swarm',
      panels: [
        hostPanel(
          'Engines answering',
          "Each Swarm node's Docker engine as Prometheus scrapes it (1 up, 0 unreachable), named by node and role; a node that stops answering stays listed. Empty in compose.",
          'none',
          [{ expr: 'up{job="docker"}', legend: '{{node}} ({{role}})' }],
          { swarmOnly: true },
        ),
        hostPanel(
          'Nodes by state',
          'Nodes the swarm counts in each state (ready, down, unknown, disconnected), as the managers that answer report it; SwarmNodeDown fires when any is not ready for 30 s.',
          'none',
          [{ expr: 'max by (state) (swarm_manager_nodes)', legend: '{{state}}' }],
          { swarmOnly: true },
        ),
        hostPanel(
          'Manager losses the quorum can take',
          'Managers answering minus the Raft majority of the managers known: how many more managers the swarm can lose and still schedule, scale and update. The dashed line is where SwarmQuorumAtRisk fires (under 1 for 30 s); The Raft leader is drawn as its own line, at 1, named by node.',
          'none',
          [
            {
              expr: '(count(up{job="docker",role="manager"} == 1) or vector(0)) - (floor(count(up{job="docker",role="manager"}) / 2) + 1)',
              legend: 'losses to spare',
            },
            { expr: 'swarm_manager_leader == 1', legend: 'leader: {{node}}' },
          ],
          { thresholds: [{ value: 1, alert: 'SwarmQuorumAtRisk' }], swarmOnly: true },
        ),
        hostPanel(
          'Replicas deployed and serving',
          'Tasks of the replica service the swarm wants running (deployed, starting and lost ones included) against those Prometheus scrapes; a gap that lasts is MnistReplicaDown. In compose, the named replicas.',
          'none',
          [
            { expr: 'count(up{job="mnist"})', legend: 'deployed' },
            { expr: 'count(up{job="mnist"} == 1)', legend: 'serving' },
          ],
        ),
      ],
    },
    {
      title: 'Monitoring',
      panels: [
        {
          type: 'stat',
          title: 'Answered by',
          description:
            "The Prometheus that answered this dashboard's queries (on a Swarm, the first of the pair that is ready, behind one address), and the replicas it counts up. In compose, the only one.",
          unit: 'none',
          width: 4,
          queries: [
            {
              expr: 'cluster:mnist_replicas_up:count{job="federate",from="self"}',
              legend: '{{prometheus_replica}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Replicas up, by Prometheus',
          description:
            "How many replicas each Prometheus of the pair scrapes as up (each federates the other's count): two lines that part for 2 minutes fire PrometheusReplicasDisagree. One line in compose.",
          unit: 'none',
          width: 6,
          queries: [
            {
              expr: 'max by (prometheus_replica) (cluster:mnist_replicas_up:count{job="federate"})',
              legend: '{{prometheus_replica}}',
            },
          ],
        },
        {
          type: 'timeseries',
          title: 'Alert delivery, by Prometheus',
          description:
            'Each Prometheus (every one scrapes every one): the share of the alerts it sent that failed to reach an Alertmanager, and how many Alertmanagers it finds. Over half failing, or none found, for a minute fires PrometheusAlertmanagersUnreachable.',
          unit: 'none',
          width: 8,
          queries: [
            {
              expr: `sum without (alertmanager) (rate(prometheus_notifications_errors_total{job="prometheus"}[${RATE}])) / sum without (alertmanager) (rate(prometheus_notifications_sent_total{job="prometheus"}[${RATE}]))`,
              legend: '{{instance}} failing',
            },
            {
              expr: 'prometheus_notifications_alertmanagers_discovered{job="prometheus"}',
              legend: '{{instance}} found',
            },
          ],
          thresholds: [{ value: 0.5, alert: 'PrometheusAlertmanagersUnreachable' }],
        },
        {
          type: 'timeseries',
          title: 'Alertmanager cluster',
          description:
            'Members each Alertmanager counts in its cluster, against the Alertmanagers deployed: fewer for a minute fires AlertmanagerClusterMembersMissing. Empty in compose (one Alertmanager, no cluster).',
          unit: 'none',
          width: 6,
          queries: [
            { expr: 'alertmanager_cluster_members{job="alertmanager"}', legend: '{{node}} counts' },
            { expr: 'count(up{job="alertmanager"})', legend: 'deployed' },
          ],
          swarmOnly: true,
        },
      ],
    },
  ],
};
