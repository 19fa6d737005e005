#!/bin/sh
# node-exporter runs in the host's network namespace (network_mode: host in compose.yaml), so that
# its network metrics are the host's interfaces, not a container's eth0. It listens where the
# monitoring ports bind (MONITORING_BIND, loopback by default) and on the cluster network's
# gateway, the host address Prometheus reaches from that network; a wildcard bind covers both.
set -eu
bind=${MONITORING_BIND:-127.0.0.1}
case "$bind" in
  0.0.0.0 | :: | '[::]') set -- --web.listen-address=":9100" "$@" ;;
  *:*) set -- --web.listen-address="[$bind]:9100" --web.listen-address="$CLUSTER_GATEWAY:9100" "$@" ;;
  *) set -- --web.listen-address="$bind:9100" --web.listen-address="$CLUSTER_GATEWAY:9100" "$@" ;;
esac
exec ${NODE_EXPORTER_BIN:-/bin/node_exporter} "$@"
