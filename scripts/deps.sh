#!/usr/bin/env bash
# Installs the Debian 12 packages lmp builds and tests with, when any is missing.
# lua5.4 goes in the same apt command as lua-busted, whose "lua5.2 | lua" dependency
# would otherwise pull in Lua 5.2.
set -euo pipefail
# clang and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes) for the fuzz build
packages=(build-essential cmake pkg-config lua5.4 liblua5.4-dev lua-cjson lua-busted libcurl4-openssl-dev libedit-dev tmux valgrind
          clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "lmp: installing ${missing[*]}" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
