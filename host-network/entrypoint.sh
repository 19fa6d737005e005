#!/bin/sh
# node-exporter runs in the host's network namespace (network_mode: host in compose.yaml), so that
# its network metrics are the host's interfaces, not a container's eth0. It listens where the
# monitoring ports bind (MONITORING_BIND, loopback by default) and on the cluster network's
# gateway, the host address Prometheus reaches from that network; a wildcard bind covers both.
# NODE_EXPORTER_PORT moves the host-side port only: Prometheus always finds it on the gateway's 9100.
set -eu
bind=${MONITORING_BIND:-127.0.0.1}
port=${NODE_EXPORTER_PORT:-9100}
gateway="--web.listen-address=$CLUSTER_GATEWAY:9100"
case "$bind" in
  0.0.0.0 | :: | '[::]')
    if [ "$port" = 9100 ]; then gateway=''; fi
    set -- --web.listen-address=":$port" ${gateway:+"$gateway"} "$@"
    ;;
  *:*) set -- --web.listen-address="[$bind]:$port" "$gateway" "$@" ;;
  *) set -- --web.listen-address="$bind:$port" "$gateway" "$@" ;;
esac
exec ${NODE_EXPORTER_BIN:-/bin/node_exporter} "$@"
