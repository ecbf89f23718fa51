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
# a build folder configured for another checkout (this one was moved or copied) makes cmake
# refuse to run: drop its cache and configure afresh
cache="$dir/CMakeCache.txt"
if [ -f "$cache" ]; then
  was="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")"
  if [ "$(cd "$was" 2>/dev/null && pwd -P)" != "$(cd "$root" && pwd -P)" ]; then
    echo "lmp: ${dir#"$root/"}/ was configured for ${was:-another source folder}; configuring it again for $root" >&2
    rm -rf "$cache" "$dir/CMakeFiles"
  fi
fi
env "${cc[@]}" cmake -S "$root" -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
