#!/bin/sh
# Starts an exporter of the host's network namespace (network_mode: host in compose.yaml):
# node-exporter, so that its network metrics are the host's interfaces, not a container's eth0;
# the blackbox exporter, so that it calls the published ports as a client on this host does. It
# listens where the monitoring ports bind (MONITORING_BIND, loopback by default) and on the cluster
# network's gateway, the host address Prometheus reaches from that network; a wildcard bind covers
# both. EXPORTER_HOST_PORT moves the host-side port only: Prometheus always finds the exporter on
# the gateway's EXPORTER_PORT.
set -eu
bind=${MONITORING_BIND:-127.0.0.1}
port=$EXPORTER_PORT
host_port=${EXPORTER_HOST_PORT:-$port}
gateway="--web.listen-address=$CLUSTER_GATEWAY:$port"
case "$bind" in
  0.0.0.0 | :: | '[::]')
    if [ "$host_port" = "$port" ]; then gateway=''; fi
    set -- --web.listen-address=":$host_port" ${gateway:+"$gateway"} "$@"
    ;;
  *:*) set -- --web.listen-address="[$bind]:$host_port" "$gateway" "$@" ;;
  *) set -- --web.listen-address="$bind:$host_port" "$gateway" "$@" ;;
esac
exec "$EXPORTER_BIN" "$@"
