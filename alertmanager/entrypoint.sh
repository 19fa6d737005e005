#!/bin/sh
# Starts Alertmanager on alertmanager.yml, with its `default` receiver posting to ALERT_WEBHOOK_URL
# when .env sets one (Alertmanager's configuration cannot read the environment itself). The copy
# goes to a writable directory: the container's root filesystem is read-only.
set -eu
config=${ALERTMANAGER_CONFIG:-/etc/alertmanager/alertmanager.yml}
out=${ALERTMANAGER_RUN_DIR:-/tmp}/alertmanager.yml
# Not cp: it would keep the mode of a read-only source (a Swarm config is 0444).
cat "$config" >"$out"
if [ -n "${ALERT_WEBHOOK_URL:-}" ]; then
  case "$ALERT_WEBHOOK_URL" in
    http://*|https://*) ;;
    *) echo "ALERT_WEBHOOK_URL must be an http:// or https:// URL, (it is not printed: it may hold a token)" >&2; exit 2 ;;
  esac
  case "$ALERT_WEBHOOK_URL" in
    *[\"\\\ \	]*) echo "ALERT_WEBHOOK_URL must not contain quotes, backslashes or spaces" >&2; exit 2 ;;
  esac
  printf '    webhook_configs:\n      - url: "%s"\n        send_resolved: true\n' "$ALERT_WEBHOOK_URL" >>"$out"
  echo "alerts are sent to the webhook in ALERT_WEBHOOK_URL and shown at /#/alerts"
else
  echo "no ALERT_WEBHOOK_URL: alerts are shown in Alertmanager's UI only (/#/alerts)"
fi
# In a cluster (swarm/stack.yaml), the address peers reach this one at: its address on the stack's
# network, which Docker's /etc/hosts gives its hostname. Alertmanager's own guess is the interface
# of the default route, Docker's gateway bridge, which no other node can reach.
if [ -n "${ALERTMANAGER_CLUSTER_PORT:-}" ]; then
  name=$(cat /proc/sys/kernel/hostname)
  address=$(awk -v name="$name" '$2 == name { print $1; exit }' "${ALERTMANAGER_HOSTS:-/etc/hosts}")
  if [ -z "$address" ]; then
    echo "no address for $name in /etc/hosts: cannot advertise this Alertmanager to its peers" >&2
    exit 2
  fi
  set -- "$@" --cluster.advertise-address="$address:$ALERTMANAGER_CLUSTER_PORT"
fi
exec ${ALERTMANAGER_BIN:-/bin/alertmanager} --config.file="$out" "$@"
