# Helpers for suites that run a private containerd and dockerd (docker.io's) under $ENG (own
# sockets, data, exec root; no network set-up). Source after lib.sh, with ENG set; each function
# reads $ENG when it runs. The engine's socket is $ENG/docker.sock, containerd's
# $ENG/containerd.sock; DOCKERD is the dockerd binary (engines_install finds it), DOCKERD_PID and
# CONTAINERD_PID the running daemons. The suite defines d() (its docker CLI against
# $ENG/docker.sock), and stops everything in its EXIT trap (stop_dockerd, stop_containerd,
# remove_created).
DOCKERD="" DOCKERD_PID="" CONTAINERD_PID=""
_skipped=0
_created=() # host paths that we made and remove at the end (when empty)

skip() { # desc reason
    _n=$((_n + 1)) _skipped=$((_skipped + 1))
    echo "ok $_n - $SUITE: $1 # SKIP $2"
}
# Polls until a command succeeds, at most SECS seconds.
wait_secs() {
    local secs=$1; shift
    local end=$((SECONDS + secs))
    while :; do
        "$@" && return 0
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
}

# note_created PATH...: the paths that do not exist yet, for remove_created at the end
note_created() {
    local p
    for p; do [ -e "$p" ] || _created+=("$p"); done
}
remove_created() {
    local p
    for p in "${_created[@]}"; do
        if [ -d "$p" ]; then find "$p" -depth -type d -empty -delete 2>/dev/null
        elif [ -e "$p" ]; then rm -f "$p"
        fi
    done
}

find_dockerd() {
    for DOCKERD in /usr/sbin/dockerd /usr/bin/dockerd ""; do [ -x "$DOCKERD" ] && break; done
}

# Installs containerd (with ctr and the runc v2 shim), docker.io and script when missing; sets
# DOCKERD. Sets NEED to what it installed (empty: nothing was missing); apt's output goes to
# $ENG/apt.log.
engines_install() {
    NEED=()
    command -v containerd >/dev/null && command -v ctr >/dev/null &&
        command -v containerd-shim-runc-v2 >/dev/null || NEED+=(containerd)
    find_dockerd
    [ -n "$DOCKERD" ] || NEED+=(docker.io)
    command -v script >/dev/null || NEED+=(bsdutils)
    [ ${#NEED[@]} = 0 ] && return 0
    # No service may start from a postinst (there is no init system to own it): policy-rc.d
    # refuses, and is removed again if we put it there.
    local policy=0 rc=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=1
    fi
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${NEED[@]}"
    } >"$ENG/apt.log" 2>&1 </dev/null || rc=$?
    [ $policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    find_dockerd
    return $rc
}

# Writes containerd's config and starts it in the background (CONTAINERD_PID); the caller waits
# for it to answer on $ENG/containerd.sock.
launch_containerd() {
    mkdir -p "$ENG/containerd"
    cat >"$ENG/containerd.toml" <<EOF
version = 2
root = "$ENG/containerd/root"
state = "$ENG/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$ENG/containerd.sock"
[ttrpc]
  address = "$ENG/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$ENG/containerd/opt"
EOF
    # setsid: a terminal's ^C must not reach the daemons before the trap has stopped them.
    setsid containerd --config "$ENG/containerd.toml" >"$ENG/containerd.log" 2>&1 &
    CONTAINERD_PID=$!
}

# start_dockerd DRIVER [dockerd flags...]: starts dockerd with that storage driver (its log:
# $ENG/dockerd-DRIVER.log) and waits until it answers; if it dies or does not answer, it is
# stopped and the status is 1 (the caller may try another storage driver).
start_dockerd() {
    local drv=$1; shift
    mkdir -p "$ENG/docker-cli"
    # deprecated-key-path: 20.10 would otherwise write /etc/docker/key.json
    printf '{"deprecated-key-path": "%s"}\n' "$ENG/docker-key.json" >"$ENG/daemon.json"
    setsid "$DOCKERD" --config-file "$ENG/daemon.json" --data-root "$ENG/docker" \
        --exec-root "$ENG/exec" --pidfile "$ENG/docker.pid" -H "unix://$ENG/docker.sock" \
        --containerd "$ENG/containerd.sock" --iptables=false --ip6tables=false --bridge=none \
        --ip-forward=false --ip-masq=false --userland-proxy=false --storage-driver="$drv" \
        --exec-opt native.cgroupdriver=cgroupfs "$@" >"$ENG/dockerd-$drv.log" 2>&1 &
    DOCKERD_PID=$!
    # Answers, or has died.
    wait_secs 60 eval 'd version >/dev/null 2>&1 || ! kill -0 $DOCKERD_PID 2>/dev/null'
    if d version >/dev/null 2>&1; then return 0; fi
    stop_dockerd
    return 1
}

stop_dockerd() {
    [ -n "$DOCKERD_PID" ] || return 0
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    wait_secs 30 eval '! kill -0 $DOCKERD_PID 2>/dev/null'
    local rc=$?
    [ $rc = 0 ] || kill -KILL "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    DOCKERD_PID=""
    return $rc
}

# Stops containerd (TERM, then KILL after 20 s) and reaps it.
stop_containerd() {
    [ -n "$CONTAINERD_PID" ] || return 0
    kill -TERM "$CONTAINERD_PID" 2>/dev/null
    wait_secs 20 eval '! kill -0 $CONTAINERD_PID 2>/dev/null' || kill -KILL "$CONTAINERD_PID" 2>/dev/null
    wait "$CONTAINERD_PID" 2>/dev/null
    CONTAINERD_PID=""
}

# Lazily unmounts whatever is still mounted under $ENG, deepest first.
umount_eng() {
    grep "$ENG" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
