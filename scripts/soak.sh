#!/usr/bin/env bash
# Soak benchmark: steady load on one replica, memory and p99 per interval, exit 1 if memory grows.
# `scripts/soak.sh --help` lists every option. Needs Node.js 24 and `npm ci`.
set -euo pipefail
. "$(dirname "$0")/lib/run-ts.sh"
run_ts scripts/soak/main.ts "$@"
