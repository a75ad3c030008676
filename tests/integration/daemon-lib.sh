# Helpers for suites that run berthd: start_daemon NAME [berthd flags...] starts a private daemon
# (own socket, data-root, exec-root under $WORK) and sets SOCK_<NAME>; stop_daemon NAME.
BERTHD=${BERTHD:-${BUILD:-$TOP/build}/berthd}
DOCKER=${DOCKER:-/usr/local/bin/docker}

start_daemon() {
    local name=$1; shift
    local dir=$WORK/d-$name
    mkdir -p "$dir"
    "$BERTHD" -H "unix://$dir/berth.sock" --data-root "$dir/data" --exec-root "$dir/exec" "$@" \
        >"$dir/log" 2>&1 &
    echo $! >"$dir/launcher.pid"
    local i
    for i in $(seq 100); do
        [ -S "$dir/berth.sock" ] && curl -sf --unix-socket "$dir/berth.sock" http://d/_ping >/dev/null && break
        sleep 0.05
    done
    eval "SOCK_$name=$dir/berth.sock"
}

stop_daemon() {
    local dir=$WORK/d-$1 pid
    pid=$(cat "$dir/launcher.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$dir/launcher.pid"
}

# dk NAME ARGS...: the real docker CLI against daemon NAME
dk() { local s; s=SOCK_$1; shift; DOCKER_HOST="unix://${!s}" "$DOCKER" "$@"; }
# api NAME [curl args] PATH: raw HTTP over the socket
api() { local s; s=SOCK_$1; shift; curl -s --unix-socket "${!s}" "$@"; }
# ensure_daemon NAME: starts it unless it answers already.
ensure_daemon() {
    local s; s=SOCK_$1
    [ -n "${!s:-}" ] && curl -sf --unix-socket "${!s}" http://d/_ping >/dev/null && return 0
    start_daemon "$@"
}
stop_all_daemons() {
    local p
    for p in "$WORK"/d-*/launcher.pid; do
        [ -e "$p" ] || continue
        stop_daemon "$(basename "$(dirname "$p")" | sed 's/^d-//')"
    done
}
