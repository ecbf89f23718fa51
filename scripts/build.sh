#!/usr/bin/env bash
# build.sh [plain|sanitize|fuzz]: configures and builds lmp into build/ (or build-sanitize/,
# or build-fuzz/: clang, the libFuzzer targets of tests/fuzz, ASan + UBSan everywhere).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kind="${1:-plain}"
cc=()
case "$kind" in
  plain) dir="$root/build"; flags=() ;;
  sanitize) dir="$root/build-sanitize"; flags=(-DLMP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
  fuzz) dir="$root/build-fuzz"; flags=(-DLMP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo); cc=(CC=clang) ;;
  *) echo "usage: build.sh [plain|sanitize|fuzz]" >&2; exit 2 ;;
esac
env "${cc[@]}" cmake -S "$root" -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
