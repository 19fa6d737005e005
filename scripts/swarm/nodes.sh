#!/usr/bin/env bash
# A Docker Swarm of several machines on this one: the host's engine is the manager, and each worker
# is another dockerd in its own network namespace, joined to the host by a bridge (a LAN of its
# own), with its own data root, so that stopping it, or cutting its link, is a real node failure.
#
#   scripts/swarm/nodes.sh up [WORKERS]     create the workers (default 2) and join them
#   scripts/swarm/nodes.sh load IMAGE...    copy images from the host's engine to every worker
#   scripts/swarm/nodes.sh stop NODE        stop a worker's dockerd (a machine lost)
#   scripts/swarm/nodes.sh start NODE       start it again (it rejoins)
#   scripts/swarm/nodes.sh cut NODE         take its link down (a partition: it runs on, unreachable)
#   scripts/swarm/nodes.sh mend NODE        bring the link back
#   scripts/swarm/nodes.sh down             leave the swarm, remove workers, namespaces, bridge
#
# Needs root, dockerd on the host, iproute2 and nsenter. Workers are named mnist-node-2, -3, ...
set -euo pipefail

BRIDGE=mnistswarm0
NET=10.77.0
STATE=${SWARM_STATE:-/var/lib/mnist-swarm}

node_names() { ls "$STATE" 2>/dev/null | grep -E '^mnist-node-[0-9]+$' || true; }
node_ip() { echo "$NET.${1##*-}"; }
node_docker() { local n=$1; shift; docker -H "unix://$STATE/$n/docker.sock" "$@"; }

start_node() {
  local n=$1 dir="$STATE/$1"
  mkdir -p "$dir"
  # nsenter, not `ip netns exec`: the latter remounts /sys and hides the cgroup mounts dockerd needs.
  # A hostname of its own (a UTS namespace), which Swarm uses as the node's name.
  nsenter --net="/var/run/netns/$n" unshare --uts sh -c "hostname $n && exec dockerd \"\$@\"" dockerd \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    -H "unix://$dir/docker.sock" --bip "172.$((30 + ${n##*-})).0.1/24" \
    --iptables=false --ip-masq=false >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    node_docker "$n" info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "dockerd of $n did not start: $dir/dockerd.log" >&2
  return 1
}

stop_node() {
  local pidfile="$STATE/$1/docker.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

up() {
  local workers=${1:-2}
  mkdir -p "$STATE"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  if [ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker swarm init --advertise-addr "$NET.1" >/dev/null
  fi
  local token
  token=$(docker swarm join-token -q worker)
  for i in $(seq 2 $((workers + 1))); do
    local n="mnist-node-$i"
    if [ ! -e "/var/run/netns/$n" ]; then
      ip netns add "$n"
      ip link add "veth-$i" type veth peer name eth0 netns "$n"
      ip link set "veth-$i" master "$BRIDGE" up
      ip -n "$n" addr add "$(node_ip "$n")/24" dev eth0
      ip -n "$n" link set eth0 up
      ip -n "$n" link set lo up
    fi
    node_docker "$n" info >/dev/null 2>&1 || start_node "$n"
    if [ "$(node_docker "$n" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
      node_docker "$n" swarm join --advertise-addr "$(node_ip "$n")" --token "$token" "$NET.1:2377" >/dev/null
    fi
    echo "$n joined ($(node_ip "$n"))"
  done
}

load() {
  for n in $(node_names); do
    docker save "$@" | node_docker "$n" load -q >/dev/null
    echo "loaded $* on $n"
  done
}

down() {
  for n in $(node_names); do
    node_docker "$n" swarm leave --force >/dev/null 2>&1 || true
    stop_node "$n"
    ip netns del "$n" 2>/dev/null || true
    ip link del "veth-${n##*-}" 2>/dev/null || true
    rm -rf "${STATE:?}/$n"
  done
  docker swarm leave --force >/dev/null 2>&1 || true
  ip link del "$BRIDGE" 2>/dev/null || true
}

case "${1:-}" in
  up) up "${2:-2}" ;;
  load) shift; load "$@" ;;
  stop) stop_node "$2" ;;
  start) start_node "$2" ;;
  cut) ip link set "veth-${2##*-}" down ;;
  mend) ip link set "veth-${2##*-}" up ;;
  down) down ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
