#!/bin/bash
# Builds berth and runs a container from the default image (the host's busybox-static).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
scripts/deps.sh build
make -j"$(nproc)" build/berth-runtime build/probe >/dev/null
bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
scripts/make-bundle.sh "$bundle" build/berth-runtime
jq '.process.args = ["/bin/sh", "-c", "echo hello from a berth container: $(hostname), pid $$; cat /proc/self/status | grep -E \"^(Cap(Eff|Bnd)|Seccomp|NoNewPrivs)\""]' \
    "$bundle/config.json" >"$bundle/c.json" && mv "$bundle/c.json" "$bundle/config.json"
build/berth-runtime --root /run/berth-demo run --bundle "$bundle" "demo-$$"
