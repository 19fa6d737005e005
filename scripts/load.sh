#!/usr/bin/env bash
# Load generator for the replicas: real MNIST digits, good and bad requests, per-target summary.
# `scripts/load.sh --help` lists every option. Needs Node.js 24 and `npm ci`.
set -euo pipefail
. "$(dirname "$0")/lib/run-ts.sh"
run_ts scripts/load/main.ts "$@"
