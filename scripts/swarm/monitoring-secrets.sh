#!/usr/bin/env bash
# Creates the Swarm secrets of the monitoring's password, once before the first deploy: the password
# (Prometheus's scrapes and alerts, Grafana's datasource), its bcrypt hash as Prometheus's and
# Alertmanager's web configuration, the balancer's stats userlist, and the Authorization header of
# the query balancer's checks (scripts/monitoring/credentials.ts writes them). MONITORING_PASSWORD
# chooses the password; without it one is generated and printed once.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
node --import tsx scripts/monitoring/credentials.ts --out "$dir"
docker secret create monitoring_password "$dir/password" >/dev/null
docker secret create monitoring_web "$dir/web.yml" >/dev/null
docker secret create monitoring_userlist "$dir/haproxy-userlist.cfg" >/dev/null
docker secret create monitoring_authorization "$dir/authorization" >/dev/null
echo "created the secrets monitoring_password, monitoring_web, monitoring_userlist, monitoring_authorization"
