#!/usr/bin/env bash
# Load generator for the replicas: real MNIST digits, good and bad requests, per-target summary.
# `scripts/load.sh --help` lists every option. Needs `npm ci` at the repository root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/node_modules/.bin/tsx" "$root/scripts/load/main.ts" "$@"
