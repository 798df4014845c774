#!/usr/bin/env bash
# Build the documentation site strictly: a broken link, a missing page or an API reference
# that does not resolve fails the build. Usage: bash docs/build.sh [OUT_DIR]
# (default: a temporary folder, removed afterwards). Needs the docs extra: pip install -e ".[docs]".
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-}"
if [ -z "$out" ]; then
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi
export NO_MKDOCS_2_WARNING=1
python -m mkdocs build --strict --clean --site-dir "$out"
echo "docs built in $out"
