#!/usr/bin/env bash
# Side-by-side figures of the replicas from Prometheus. `scripts/compare.sh --help` for options.
set -euo pipefail
. "$(dirname "$0")/lib/run-ts.sh"
run_ts scripts/compare/main.ts "$@"
