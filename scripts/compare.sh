#!/usr/bin/env bash
# Side-by-side figures of the replicas from Prometheus. `scripts/compare.sh --help` for options.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/scripts/compare/main.ts" "$@"
