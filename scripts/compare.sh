#!/usr/bin/env bash
# Side-by-side figures of the replicas from Prometheus. `scripts/compare.sh --help` for options.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec node --import "$root/node_modules/tsx/dist/loader.mjs" "$root/scripts/compare/main.ts" "$@"
