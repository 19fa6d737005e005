#!/bin/sh
# Grafana's admin password, set once. GRAFANA_ADMIN_PASSWORD from .env wins; without it a random
# one is generated on the first start, printed, and kept in Grafana's data volume, so that a
# restart neither prints a new one nor changes it (Grafana applies the password only when it
# creates its database, on that first start).
set -eu
data=${GF_PATHS_DATA:-/var/lib/grafana}
kept="$data/generated-admin-password"
if [ -z "${GRAFANA_ADMIN_PASSWORD:-}" ]; then
  if [ -s "$kept" ]; then
    GRAFANA_ADMIN_PASSWORD=$(cat "$kept")
    echo "Grafana admin password: the one generated on the first start (docker compose exec grafana cat $kept)"
  else
    GRAFANA_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    (umask 077 && printf '%s' "$GRAFANA_ADMIN_PASSWORD" >"$kept")
    echo "generated Grafana admin password: $GRAFANA_ADMIN_PASSWORD (kept: docker compose exec grafana cat $kept)"
  fi
fi
export GF_SECURITY_ADMIN_PASSWORD="$GRAFANA_ADMIN_PASSWORD"
exec /run.sh "$@"
