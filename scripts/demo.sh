#!/bin/bash
# Builds berth and runs a container from the default image (made offline from the host's
# busybox-static) through the daemon: `berth run --rm busybox ...`. berthd is started on
# /run/berth.sock (data in /var/lib/berth) unless one already answers there, and is left
# running, like an installed dockerd; `kill $(cat /run/berth/berthd.pid)` stops it (containers
# keep running: live restore).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
scripts/deps.sh build
make -j"$(nproc)" build/berth-runtime build/berthd build/berth build/berth-monitor build/berth-init >/dev/null
sock=/run/berth.sock
if ! curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null 2>&1; then
    mkdir -p /var/log
    build/berthd -H "unix://$sock" >>/var/log/berthd.log 2>&1 &
    for _ in $(seq 100); do
        curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    echo "berthd started (pid $!, log /var/log/berthd.log)"
fi
build/berth run --rm busybox sh -c \
    'echo "hello from a berth container: $(hostname), pid $$"; grep -E "^(CapEff|Seccomp|NoNewPrivs)" /proc/self/status'
