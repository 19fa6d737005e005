#!/usr/bin/env bash
# Soak benchmark: steady load on one replica, memory and p99 per interval, exit 1 if memory grows.
# `scripts/soak.sh --help` lists every option. Needs `npm ci` at the repository root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/scripts/soak/main.ts" "$@"
