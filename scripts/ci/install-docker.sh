#!/usr/bin/env bash
# Installs and starts what the compose tier needs on a Debian bookworm machine, idempotently:
# Docker's engine (docker.io), debootstrap (for stand-in images), and the Compose v2 and buildx
# plugins, which bookworm lacks and are taken from the next release's packages.
# Needs root and access to the machine's configured Debian mirror.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The Compose v2 and buildx plugins (buildx: BuildKit builds, which the Dockerfile's cache mounts
# need), which bookworm lacks, from the next release's docker-compose and docker-buildx packages.
plugins=()
docker compose version >/dev/null 2>&1 || plugins+=(docker-compose)
docker buildx version >/dev/null 2>&1 || plugins+=(docker-buildx)
if [ ${#plugins[@]} -gt 0 ]; then
  # The mirror this machine already uses, read from its own apt sources (no host is hard-coded).
  mirror=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' || true)
  [ -n "$mirror" ] || mirror=$(grep -h -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
  [ -n "$mirror" ] || { echo "no Debian mirror found in the apt sources" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$work/trixie.list"
  opts=(-o Dir::Etc::SourceList="$work/trixie.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$work/lists" -o Dir::Cache::Archives="$work/archives" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  for plugin in "${plugins[@]}"; do
    (cd "$work" && apt-get "${opts[@]}" download "$plugin" >/dev/null)
    dpkg-deb -x "$work/${plugin}"_*.deb "$work/root"
    install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/$plugin" "/usr/libexec/docker/cli-plugins/$plugin"
  done
fi

# The engine's own metrics (and, on a Swarm manager, the swarm's: nodes by state, the Raft leader)
# on port 9323 of every address, as Prometheus's Swarm guide sets them: the Swarm tier scrapes
# them and tier 1 reads their names. Added to daemon.json (kept otherwise) when they are off, and a
# running daemon is restarted to read it.
metrics() { curl -fs -m 2 -o /dev/null http://127.0.0.1:9323/metrics; }
conf=/etc/docker/daemon.json
if ! metrics && ! grep -qs '"metrics-addr"' "$conf"; then
  mkdir -p /etc/docker
  if ! grep -qs '"' "$conf"; then # missing, or an empty object
    echo '{ "metrics-addr": "0.0.0.0:9323" }' >"$conf"
  else
    sed -i '0,/{/s//{ "metrics-addr": "0.0.0.0:9323",/' "$conf"
  fi
  if docker info >/dev/null 2>&1; then
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker 2>/dev/null; then
      systemctl restart docker
    elif [ -s /var/run/docker.pid ]; then
      pid=$(cat /var/run/docker.pid)
      kill "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
  fi
fi

if ! docker info >/dev/null 2>&1; then
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
docker compose version
docker buildx version
