#!/bin/sh
# Starts Prometheus after writing the targets of the outside probe (job entry-point-probe): the
# entry point's published addresses, which only compose's environment knows (API_BIND, LB_PORT,
# LB_TLS_PORT) and Prometheus's configuration cannot read. A wildcard bind is probed on loopback,
# where a client on this host calls it. The file goes to a tmpfs: the root filesystem is read-only.
set -eu
case "${API_BIND:-0.0.0.0}" in
  0.0.0.0 | '') host=127.0.0.1 ;;
  :: | '[::]') host='[::1]' ;;
  *:*) host="[$API_BIND]" ;;
  *) host=$API_BIND ;;
esac
path=/v2/models/mnist/infer
cat >"${PROBE_TARGETS:-/tmp/entry-point-probe.json}" <<JSON
[
  {"targets": ["http://$host:${LB_PORT:-8080}$path"], "labels": {"entry": "http"}},
  {"targets": ["https://$host:${LB_TLS_PORT:-8443}$path"], "labels": {"entry": "https"}}
]
JSON
exec ${PROMETHEUS_BIN:-/bin/prometheus} "$@"
