# Sourced by the scripts people run (load.sh, compare.sh, soak.sh): runs a TypeScript entry point
# with the repository's tsx, or says in one sentence what to install first.
# Usage: run_ts scripts/load/main.ts "$@"
run_ts() {
  local root entry=$1
  shift
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  if ! command -v node >/dev/null; then
    echo "$(basename "$0") needs Node.js 24 (README: Prerequisites), then npm ci in $root" >&2
    exit 127
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 24 ]; then
    echo "$(basename "$0") needs Node.js 24 or later, this is $(node --version) (README: Prerequisites; nvm use reads .nvmrc)" >&2
    exit 1
  fi
  if [ ! -x "$root/node_modules/.bin/tsx" ]; then
    echo "$(basename "$0") needs the project's packages: run npm ci in $root first" >&2
    exit 127
  fi
  exec "$root/node_modules/.bin/tsx" "$root/$entry" "$@"
}
