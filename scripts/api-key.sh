#!/usr/bin/env bash
# Makes an API key for the entry point (LB_REQUIRE_API_KEY=1). `scripts/api-key.sh --help` for usage.
set -euo pipefail
usage="Usage: scripts/api-key.sh [FILE]

Prints a new random API key, for a client to send as its X-Api-Key header, and appends the key's
SHA-256 (lower-case hex) to FILE, the list the load balancer reads at start (default
haproxy/api-keys.sha256); restart the balancer afterwards (docker compose restart lb). The key
itself is kept nowhere: to revoke it, delete its line."
case "${1:-}" in
  -h | --help) echo "$usage" && exit 0 ;;
  -*) printf 'unknown option %s\n\n%s\n' "$1" "$usage" >&2 && exit 2 ;;
esac
file=${1:-"$(dirname "$0")/../haproxy/api-keys.sha256"}
key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s' "$key" | sha256sum | cut -d' ' -f1 >>"$file"
printf '%s\n' "$key"
