#!/usr/bin/env bash
# Installs the Debian packages cairn needs to build and test, only those missing.
# Idempotent and quiet when everything is already there.
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev
      libsodium-dev librocksdb-dev rocksdb-tools libuv1-dev libjansson-dev
      libinih-dev libcmocka-dev libwebsockets-dev libcurl4-openssl-dev
      python3 iproute2 nftables curl nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from outside Debian's packages (the machine image ships one).
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
