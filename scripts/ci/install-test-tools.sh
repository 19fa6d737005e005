#!/usr/bin/env bash
# Installs, idempotently, the programs tier 1 calls (Debian or Ubuntu, as root): promtool
# (Debian's prometheus package) checks a real scrape, the config and the rules, and its prometheus
# runs as the monitoring pair with Alertmanager (with amtool), which also checks and runs
# alertmanager/; the blackbox exporter runs the outside probe's module (blackbox/); a real
# node-exporter tells the dashboard test which node_* metrics exist; curl and
# Python's requests are the real clients the upload tests call; Chromium is the browser the drawing
# page's test drives (where no browser is named by CHROMIUM_PATH); HAProxy runs the load balancer's
# configuration in front of real replicas; iproute2 builds the Swarm tier's nodes (network
# namespaces) and keepalived its floating address.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have promtool || need+=(prometheus)
have prometheus-node-exporter || need+=(prometheus-node-exporter)
have amtool || need+=(prometheus-alertmanager)
have prometheus-blackbox-exporter || need+=(prometheus-blackbox-exporter)
have haproxy || need+=(haproxy)
have curl || need+=(curl)
have ip || need+=(iproute2)
have keepalived || need+=(keepalived)
/usr/bin/python3 -c 'import requests' >/dev/null 2>&1 || need+=(python3-requests)
[ -n "${CHROMIUM_PATH:-}" ] || have chromium || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
