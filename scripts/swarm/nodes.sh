#!/usr/bin/env bash
# A Docker Swarm of several machines on this one, with no single node it cannot lose: every node is
# a manager (three Raft votes tolerate one loss). The namespaced nodes are dockerds in network
# namespaces of their own, joined by a bridge (a LAN of their own), each with its own data root
# and its own iptables (published ports as on a real machine), so that stopping one, or cutting its
# link, is a real node failure; the host's own engine is the
# last node (it cannot be cut off: it runs the tests). The swarm is initialised on mnist-node-2, so
# its first leader is a node that can be lost. Every node runs keepalived (Debian's package, in the
# node's namespace, as a host service of that node), which holds the floating address $VIP on the
# node whose entry point is healthy.
#
#   scripts/swarm/nodes.sh up [NODES]       create the namespaced nodes (default 2), all managers
#   scripts/swarm/nodes.sh load IMAGE...    copy images from the host's engine to every namespaced node
#   scripts/swarm/nodes.sh docker NODE ...  run a docker command against a node's engine (host: the host's)
#   scripts/swarm/nodes.sh leader           the Raft leader's node name
#   scripts/swarm/nodes.sh holder           the node holding the floating address (host, or mnist-node-N)
#   scripts/swarm/nodes.sh release NODE     move the floating address off NODE (its keepalived restarted)
#   scripts/swarm/nodes.sh keepalived-conf NODE ALL...  keepalived's configuration for NODE among ALL
#   scripts/swarm/nodes.sh stop NODE        stop a node's dockerd (a machine lost)
#   scripts/swarm/nodes.sh start NODE       start it again (it rejoins)
#   scripts/swarm/nodes.sh cut NODE         take its link down (a partition: it runs on, unreachable)
#   scripts/swarm/nodes.sh mend NODE        bring the link back
#   scripts/swarm/nodes.sh down             leave the swarm, remove the nodes, keepalived, bridge, rule
#
# Needs root, dockerd on the host (with "metrics-addr" in daemon.json for its engine metrics),
# iproute2, iptables, nsenter and keepalived. Namespaced nodes are named mnist-node-2, -3, ...
set -euo pipefail
cd "$(dirname "$0")/../.."

BRIDGE=mnistswarm0
NET=10.77.0
VIP=${SWARM_VIP:-$NET.100}
STATE=${SWARM_STATE:-/var/lib/mnist-swarm}
# Docker sets FORWARD's policy to DROP, and bridged frames pass through it (br_netfilter): without
# this rule the nodes could reach the host but not each other (no Raft between managers, no VRRP).
ACCEPT_BRIDGED=(DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT)

node_names() { ls "$STATE" 2>/dev/null | grep -E '^mnist-node-[0-9]+$' || true; }
node_ip() { if [ "$1" = host ]; then echo "$NET.1"; else echo "$NET.${1##*-}"; fi; }
node_docker() {
  local n=$1
  shift
  if [ "$n" = host ]; then docker "$@"; else docker -H "unix://$STATE/$n/docker.sock" "$@"; fi
}

start_node() {
  local n=$1 dir="$STATE/$1"
  mkdir -p "$dir"
  # Its own daemon.json (not the host's, which every dockerd would read by default): the engine's
  # metrics on the node's address.
  echo "{ \"metrics-addr\": \"$(node_ip "$n"):9323\" }" >"$dir/daemon.json"
  # nsenter, not `ip netns exec`: the latter remounts /sys and hides the cgroup mounts dockerd needs.
  # A hostname of its own (a UTS namespace), which Swarm uses as the node's name.
  nsenter --net="/var/run/netns/$n" unshare --uts sh -c "hostname $n && exec dockerd \"\$@\"" dockerd \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    -H "unix://$dir/docker.sock" --bip "172.$((30 + ${n##*-})).0.1/24" \
    --config-file "$dir/daemon.json" \
    >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    node_docker "$n" info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "dockerd of $n did not start: $dir/dockerd.log" >&2
  return 1
}

stop_pid() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# keepalived's configuration for node $1 among all nodes $2..., from swarm/keepalived/.
keepalived_conf() {
  local n=$1 interface=eth0 priority peers="" conf
  shift
  # The namespaced nodes by number (mnist-node-2 first), the host last: it cannot be cut off, so a
  # test that cuts the holder always cuts a namespaced node.
  if [ "$n" = host ]; then interface=$BRIDGE priority=50; else priority=$((152 - ${n##*-})); fi
  for peer in "$@"; do [ "$peer" = "$n" ] || peers+="${peers:+$'\n'}    $(node_ip "$peer")"; done
  conf=$(<swarm/keepalived/keepalived.conf)
  conf=${conf//@NODE@/$n} conf=${conf//@INTERFACE@/$interface} conf=${conf//@ADDRESS@/$(node_ip "$n")}
  conf=${conf//@PRIORITY@/$priority} conf=${conf//@VIP@/$VIP\/24} conf=${conf//@PEERS@/$peers}
  echo "$conf"
}

# keepalived for node $1 among all nodes $2..., in the node's network namespace.
start_keepalived() {
  local n=$1 dir="$STATE/$1"
  [ -f "$dir/keepalived.pid" ] && kill -0 "$(cat "$dir/keepalived.pid")" 2>/dev/null && return 0
  mkdir -p "$dir"
  keepalived_conf "$@" >"$dir/keepalived.conf"
  run_keepalived "$n"
}

# keepalived for node $1 on the configuration start_keepalived wrote.
run_keepalived() {
  local n=$1 dir="$STATE/$1" ns=()
  [ "$n" = host ] || ns=(ip netns exec "$n")
  "${ns[@]}" keepalived --dont-fork --log-console --log-detail --use-file "$dir/keepalived.conf" \
    --pid "$dir/keepalived.pid" --vrrp_pid "$dir/vrrp.pid" --checkers_pid "$dir/checkers.pid" \
    >>"$dir/keepalived.log" 2>&1 &
}

# Moves the floating address off node $1: its keepalived stops (giving the address up at once),
# and starts again once another node holds it, which keeps it (no preemption).
release() {
  local n=$1
  stop_pid "$STATE/$n/keepalived.pid"
  for _ in $(seq 1 40); do
    local now
    now=$(holder)
    [ -n "$now" ] && [ "$now" != "$n" ] && break
    sleep 0.5
  done
  run_keepalived "$n"
}

up() {
  local count=${1:-2} first=mnist-node-2
  mkdir -p "$STATE"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  iptables -C "${ACCEPT_BRIDGED[@]}" 2>/dev/null || iptables -I "${ACCEPT_BRIDGED[@]}"
  local nodes=()
  for i in $(seq 2 $((count + 1))); do
    local n="mnist-node-$i"
    nodes+=("$n")
    if [ ! -e "/var/run/netns/$n" ]; then
      ip netns add "$n"
      ip link add "veth-$i" type veth peer name eth0 netns "$n"
      ip link set "veth-$i" master "$BRIDGE" up
      ip -n "$n" addr add "$(node_ip "$n")/24" dev eth0
      ip -n "$n" link set eth0 up
      ip -n "$n" link set lo up
    fi
    node_docker "$n" info >/dev/null 2>&1 || start_node "$n"
  done
  nodes+=(host)
  if [ "$(node_docker "$first" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    node_docker "$first" swarm init --advertise-addr "$(node_ip "$first")" >/dev/null
  fi
  local token
  token=$(node_docker "$first" swarm join-token -q manager)
  for n in "${nodes[@]}"; do
    if [ "$(node_docker "$n" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
      node_docker "$n" swarm join --advertise-addr "$(node_ip "$n")" --token "$token" "$(node_ip "$first"):2377" >/dev/null
    fi
    echo "$n: a manager ($(node_ip "$n"))"
  done
  # The monitoring's data: one of the two Prometheus and Alertmanagers on the host's node, the other
  # on the last namespaced node (not the first leader); Grafana on the host's.
  local self
  self=$(docker info --format '{{.Swarm.NodeID}}')
  docker node update --label-add mnist.monitoring=true --label-add mnist.grafana=true "$self" >/dev/null
  docker node update --label-add mnist.monitoring=true "mnist-node-$((count + 1))" >/dev/null
  for n in "${nodes[@]}"; do start_keepalived "$n" "${nodes[@]}"; done
  echo "floating address $VIP (keepalived on every node)"
}

load() {
  for n in $(node_names); do
    docker save "$@" | node_docker "$n" load -q >/dev/null
    echo "loaded $* on $n"
  done
}

leader() {
  docker node ls --format '{{.Hostname}} {{.ManagerStatus}}' | awk '$2 == "Leader" { print $1 }' |
    sed "s/^$(hostname)\$/host/"
}

holder() {
  local n
  for n in $(node_names); do
    ip -n "$n" -o addr show dev eth0 2>/dev/null | grep -q " $VIP/" && echo "$n"
  done
  ip -o addr show dev "$BRIDGE" 2>/dev/null | grep -q " $VIP/" && echo host
  return 0
}

down() {
  local n
  for n in $(node_names) host; do stop_pid "$STATE/$n/keepalived.pid"; done
  rm -rf "${STATE:?}/host"
  for n in $(node_names); do
    node_docker "$n" swarm leave --force >/dev/null 2>&1 || true
    stop_pid "$STATE/$n/docker.pid"
    ip netns del "$n" 2>/dev/null || true
    ip link del "veth-${n##*-}" 2>/dev/null || true
    rm -rf "${STATE:?}/$n"
  done
  docker swarm leave --force >/dev/null 2>&1 || true
  ip link del "$BRIDGE" 2>/dev/null || true
  while iptables -D "${ACCEPT_BRIDGED[@]}" 2>/dev/null; do :; done
}

case "${1:-}" in
  up) up "${2:-2}" ;;
  load) shift; load "$@" ;;
  docker) shift; node_docker "$@" ;;
  keepalived-conf) shift; keepalived_conf "$@" ;;
  leader) leader ;;
  holder) holder ;;
  release) release "$2" ;;
  stop) stop_pid "$STATE/$2/docker.pid" ;;
  start) start_node "$2" ;;
  cut) ip link set "veth-${2##*-}" down ;;
  mend) ip link set "veth-${2##*-}" up ;;
  down) down ;;
  *) sed -n '2,26p' "$0" >&2; exit 2 ;;
esac
