#!/usr/bin/env bash
# deps.sh [run|test]: installs the Debian 12 packages lmp needs when any is missing.
#   run (default): what building and running lmp need (scripts/lmp, scripts/bench)
#   test: those and what only the tests need (scripts/test): Busted, luacheck (lua-check;
#         it runs on Lua 5.1, which then becomes /usr/bin/lua: lmp never runs that),
#         valgrind, tmux (the REPL specs), clang and libclang-rt-14-dev (libFuzzer and
#         the sanitizer runtimes),
#         Debian's python3 with pandas, torch and torchvision (the CSV sums, PyTorch's constructor
#         defaults, the exporter specs: torchvision models), dpkg-dev and file (cpack's dependency scan of the .deb)
# lua5.4 is in both: in the same apt command as lua-busted, whose "lua5.2 | lua" dependency
# would otherwise pull in Lua 5.2.
set -euo pipefail
run=(build-essential cmake pkg-config lua5.4 liblua5.4-dev libcurl4-openssl-dev libedit-dev)
test=(lua5.4 lua-cjson lua-busted lua-check tmux valgrind clang libclang-rt-14-dev python3 python3-pandas python3-torch python3-torchvision dpkg-dev file)
case "${1:-run}" in
  run) packages=("${run[@]}") ;;
  test) packages=("${run[@]}" "${test[@]}") ;;
  *) echo "usage: deps.sh [run|test]" >&2; exit 2 ;;
esac
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
