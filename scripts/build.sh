#!/usr/bin/env bash
# build.sh [plain|sanitize]: configures and builds lmp into build/ (or build-sanitize/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kind="${1:-plain}"
case "$kind" in
  plain) dir="$root/build"; flags=() ;;
  sanitize) dir="$root/build-sanitize"; flags=(-DLMP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
  *) echo "usage: build.sh [plain|sanitize]" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
