#!/usr/bin/env bash
# Makes sure every image the cluster uses exists locally. An image that can be pulled is pulled;
# where no container registry is reachable, a stand-in is built under the same name from Debian
# packages (docs/testing.md says which), matching the official image's binary paths, config paths, user and
# entrypoint. Grafana has no Debian package: it gets no stand-in and is checked statically.
# The Debian root filesystem is cached outside the clone ($STANDIN_CACHE) so reruns are fast.
set -euo pipefail
cd "$(dirname "$0")/../.."

cache=${STANDIN_CACHE:-/var/cache/mnist-cluster}
mkdir -p "$cache"

# The image names, read from the project's own files so they cannot drift.
node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)
prom_image=$(sed -n 's/^ *image: *\(prom\/prometheus:.*\)$/\1/p' compose.yaml | head -1)
exporter_image=$(sed -n 's/^ *image: *\(prom\/node-exporter:.*\)$/\1/p' compose.yaml | head -1)
haproxy_image=$(sed -n 's/^ *image: *\(haproxy:.*\)$/\1/p' compose.yaml | head -1)
alertmanager_image=$(sed -n 's/^ *image: *\(prom\/alertmanager:.*\)$/\1/p' compose.yaml | head -1)
blackbox_image=$(sed -n 's/^ *image: *\(prom\/blackbox-exporter:.*\)$/\1/p' compose.yaml | head -1)

have() { docker image inspect "$1" >/dev/null 2>&1; }
pullable() { timeout 60 docker pull -q "$1" >/dev/null 2>&1; }

debian_base() { # suite (bookworm, trixie): a minimal Debian root filesystem as mnist-standin/debian:<suite>
  local suite=$1
  have "mnist-standin/debian:$suite" && return
  local tar="$cache/$suite-minbase.tar"
  if [ ! -s "$tar" ]; then
    local mirror root
    mirror=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' || true)
    [ -n "$mirror" ] || mirror=$(grep -h -m1 -E '^deb ' /etc/apt/sources.list | awk '{print $2}')
    root=$(mktemp -d)
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1
    # Point the image's apt at the same mirror and drop the host's package cache.
    echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$root"
  fi
  docker import "$tar" "mnist-standin/debian:$suite" >/dev/null
}

first_layer() { docker image inspect -f '{{index .RootFS.Layers 0}}' "$1" 2>/dev/null; }
# Built here on one of our Debian roots (a pulled image is not).
is_standin() {
  local suite
  for suite in bookworm trixie; do
    have "mnist-standin/debian:$suite" && [ "$(first_layer "$1")" = "$(first_layer "mnist-standin/debian:$suite")" ] && return 0
  done
  return 1
}

# A stand-in carries the hash of its recipe (its Dockerfile, and whatever else goes into it) as a
# label, so that a changed recipe rebuilds the image although its name is taken; a pulled image is
# kept as it is.
standin() { # name [extra recipe text], then a Dockerfile on stdin whose FROM is mnist-standin/debian:<suite>; context $ctx
  local name=$1 dockerfile recipe
  dockerfile=$(cat)
  recipe=$(printf '%s\n%s' "$dockerfile" "${2:-}" | sha256sum | cut -c1-16)
  if have "$name"; then
    is_standin "$name" || return 0
    [ "$(docker image inspect -f '{{index .Config.Labels "mnist-cluster.standin"}}' "$name")" = "$recipe" ] && return 0
  elif pullable "$name"; then
    return 0
  fi
  debian_base "$(sed -n 's|^FROM mnist-standin/debian:\(.*\)$|\1|p' <<<"$dockerfile" | head -1)"
  docker build -q --label "mnist-cluster.standin=$recipe" -t "$name" -f - "$ctx" <<<"$dockerfile" >/dev/null
  echo "built stand-in $name"
}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

# This machine's Node.js and npm, placed where the official image has them, plus the CA bundle
# that TLS to the npm registry needs here (a gateway re-signs it); never in the project's image.
cp "$(command -v node)" "$ctx/node"
cp -r "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$ctx/npm"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
standin "$node_image" "node $(node --version), npm $(npm --version)" <<'DOCKERFILE'
FROM mnist-standin/debian:bookworm
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' > /usr/local/etc/npmrc
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
DOCKERFILE

# Trixie's Prometheus is the pinned line (2.53; bookworm's is 2.42).
standin "$prom_image" <<'DOCKERFILE'
FROM mnist-standin/debian:trixie
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus wget \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
DOCKERFILE

# Trixie's node-exporter is the pinned line (1.9; bookworm's is 1.5).
standin "$exporter_image" <<'DOCKERFILE'
FROM mnist-standin/debian:trixie
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-node-exporter wget \
 && rm -rf /var/lib/apt/lists/* && ln -s /usr/bin/prometheus-node-exporter /bin/node_exporter
USER nobody
EXPOSE 9100
ENTRYPOINT ["/bin/node_exporter"]
DOCKERFILE

# Trixie's HAProxy is the pinned line (3.0, built with the Prometheus exporter); bookworm's is 2.6.
# The official image's paths, user, stop signal and entrypoint (-W -db added to `haproxy ...`).
cat >"$ctx/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
case "$1" in -*) set -- haproxy "$@" ;; esac
if [ "$1" = haproxy ]; then shift; set -- haproxy -W -db "$@"; fi
exec "$@"
SH
chmod 0755 "$ctx/docker-entrypoint.sh"
standin "$haproxy_image" "$(cat "$ctx/docker-entrypoint.sh")" <<'DOCKERFILE'
FROM mnist-standin/debian:trixie
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/* && ln -s /usr/sbin/haproxy /usr/local/sbin/haproxy \
 && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy && chown haproxy:haproxy /var/lib/haproxy
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER haproxy
WORKDIR /var/lib/haproxy
STOPSIGNAL SIGUSR1
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
DOCKERFILE

# Trixie's Alertmanager is the pinned line (0.28); Debian names the binary prometheus-alertmanager,
# the official image /bin/alertmanager. Its paths, user (nobody) and data directory as there.
standin "$alertmanager_image" <<'DOCKERFILE'
FROM mnist-standin/debian:trixie
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager wget \
 && rm -rf /var/lib/apt/lists/* && ln -s /usr/bin/prometheus-alertmanager /bin/alertmanager \
 && mkdir -p /etc/alertmanager /alertmanager && chown nobody:nogroup /alertmanager
USER nobody
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
DOCKERFILE

# Trixie's blackbox exporter is the pinned line (0.26); the official image's binary path and user.
standin "$blackbox_image" <<'DOCKERFILE'
FROM mnist-standin/debian:trixie
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-blackbox-exporter wget ca-certificates \
 && rm -rf /var/lib/apt/lists/* && ln -s /usr/bin/prometheus-blackbox-exporter /bin/blackbox_exporter
USER nobody
EXPOSE 9115
ENTRYPOINT ["/bin/blackbox_exporter"]
CMD ["--config.file=/etc/blackbox_exporter/config.yml"]
DOCKERFILE
