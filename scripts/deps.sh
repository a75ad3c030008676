#!/bin/bash
# Installs the Debian 12 packages berth needs to build and test, when missing.
# usage: scripts/deps.sh [build|test|bench]
set -euo pipefail
want=(build-essential pkg-config libseccomp-dev libjansson-dev libyajl-dev libcap-dev libhttp-parser-dev libcurl4-openssl-dev
    libarchive-dev libsqlite3-dev libssl-dev liblz4-dev libzstd-dev zlib1g-dev liblzma-dev libbz2-dev nettle-dev
    busybox-static jq curl)
case "${1:-build}" in
test) want+=(clang libclang-rt-14-dev cppcheck clang-format iproute2 procps util-linux curl zstd openssl python3-docker) ;;
bench) want+=(hyperfine crun runc time) ;;
esac
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
