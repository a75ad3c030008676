#!/bin/bash
# Real engines drive berth-runtime: dockerd (through containerd and its runc v2 shim) and
# containerd's ctr. The suite installs docker.io and containerd when they are missing, starts a
# private containerd and dockerd under its own temporary directory (own sockets, own data, no
# network set-up), imports the test rootfs as an image (no registry), runs containers with
# `--runtime berth` / `ctr --runc-binary`, and stops and removes everything at the end.
#
#   tests/integration/test_engines.sh        (as root; RT=/path/to/runtime to test another build)
#
# Where something cannot work on this host (no package registry, no memory cgroup, ...) the
# assertions it would have made print as "ok N - ... # SKIP reason".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd-lib.sh"

ENG=$WORK/eng                    # everything the engines write lives here
RT_ABS=$(readlink -f "$RT")
IMG=berthtest:latest
CG_DOCKER=$PFX-docker            # docker's --cgroup-parent (lib.sh's leftover check sees $PFX-*)
CTR_NS=$PFX-ctr                  # ctr namespace: cgroups are /$CTR_NS/<id>
CTR_ROOT=$ENG/ctr-runtime-root   # --runc-root for ctr's containers
# The current docker CLI (28.x) against docker.io's dockerd (20.10, API 1.41): the CLI negotiates
# the API version down by itself, so DOCKER_API_VERSION is not needed.
DOCKER=/usr/local/bin/docker
DOCKER_OK=0 DOCKER_WHY="" CTR_OK=0 CTR_WHY="" HAVE_MEMCG=1
mkdir -p "$ENG"

export DOCKER_HOST=unix://$ENG/docker.sock DOCKER_CONFIG=$ENG/docker-cli DOCKER_CLI_HINTS=false
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

now_ms() { date +%s%3N; }
d() { timeout 60 "$DOCKER" "$@" </dev/null; }                     # docker, bounded
c() { timeout 60 ctr --address "$ENG/containerd.sock" --connect-timeout 10s -n "$CTR_NS" "$@" </dev/null; }
ctr_run() { c run --runc-binary "$RT_ABS" --runc-root "$CTR_ROOT" --fifo-dir "$ENG/fifo" "$@"; }
ctr_exec() { c task exec --fifo-dir "$ENG/fifo" "$@"; }
DRUN=(run --pull never --runtime berth --network none)
# Runs a command under a pseudo-terminal of 30x100 (script from util-linux); the output with
# CR and NUL removed goes to stdout, the command's status is the status.
in_pty() {
    timeout 60 script -qefc "stty rows 30 cols 100; $*" /dev/null </dev/null | tr -d '\r\0'
    return "${PIPESTATUS[0]}"
}
inspect() { d inspect -f "$1" "$2" 2>/dev/null; }
# berth's state directory for a container dockerd created: dockerd passes --root to the runtime
# (runtime-<name>/moby under the exec root; 20.10 uses runtime-runc for every runtime).
berth_state_dir() {
    local f; f=$(find "$ENG/exec" -maxdepth 4 -path "*/moby/$1/state.json" 2>/dev/null | head -1)
    [ -n "$f" ] && dirname "$(dirname "$f")"
}
# Host cgroup directory of a pid: of a v1 controller's hierarchy, or of the unified one ("").
host_cgroup() { # pid controller
    local p; p=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }
        c == "" && $1 == 0 {print $3}' "/proc/$1/cgroup")
    [ -n "$p" ] || return 1
    if [ -n "$2" ]; then echo "/sys/fs/cgroup/$2$p"
    elif [ -d /sys/fs/cgroup/unified ]; then echo "/sys/fs/cgroup/unified$p"
    else echo "/sys/fs/cgroup$p"
    fi
}
# The process has exited (it may still wait, a zombie, for its parent).
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# ---------------------------------------------------------------- install

note_created /run/containerd /run/docker /run/netns /etc/docker/key.json

# engines_install, reporting what apt-get did when something was missing
install_engines() {
    local rc=0
    engines_install || rc=$?
    [ ${#NEED[@]} = 0 ] || _result $rc "apt-get install ${NEED[*]}" "$(tail -5 "$ENG/apt.log")"
    return $rc
}

# ---------------------------------------------------------------- start the engines

start_containerd() {
    mkdir -p "$ENG/fifo" "$CTR_ROOT"
    launch_containerd
    wait_secs 30 c version >/dev/null 2>&1
    _result $? "containerd answers on its own socket" "$(tail -5 "$ENG/containerd.log")"
}

engines_setup() {
    if ! install_engines; then
        DOCKER_WHY="docker.io/containerd could not be installed (see apt-get above)"
        CTR_WHY=$DOCKER_WHY
        return
    fi
    [ -x "$DOCKER" ] || DOCKER=$(command -v docker)
    grep -qw memory /proc/cgroups && [ -d /sys/fs/cgroup/memory ] || HAVE_MEMCG=0
    start_containerd || { DOCKER_WHY="containerd did not start" CTR_WHY="containerd did not start"; return; }
    CTR_OK=1
    local drv used=""
    for drv in overlay2 vfs; do
        if start_dockerd $drv --cgroup-parent "/$CG_DOCKER" --add-runtime "berth=$RT_ABS" \
            --default-runtime runc; then
            used=$drv
            break
        fi
        echo "# dockerd --storage-driver=$drv did not start:" \
            "$(grep -m1 -E 'level=(fatal|error)' "$ENG/dockerd-$drv.log")"
    done
    [ -n "$used" ]
    _result $? "dockerd (storage driver ${used:-none worked}) answers on its own socket" \
        "$(tail -5 "$ENG/dockerd-vfs.log" 2>/dev/null)"
    [ -n "$used" ] || { DOCKER_WHY="dockerd did not start"; return; }
    expect_match "dockerd knows the berth runtime" "$(d info --format '{{json .Runtimes}}')" '"berth"'
    tar -C "$BASE/rootfs" -c . | timeout 60 "$DOCKER" import --change 'CMD ["/bin/sh"]' - "$IMG" >/dev/null
    expect_rc "docker import of the test rootfs (no registry involved)" $? 0
    DOCKER_OK=1
}

# ---------------------------------------------------------------- stop everything

engines_stop() {
    if [ -n "$DOCKERD_PID" ]; then
        local ids; ids=$(d ps -aq 2>/dev/null)
        [ -n "$ids" ] && d rm -f $ids >/dev/null 2>&1
        stop_dockerd
    fi
    if [ -n "$CONTAINERD_PID" ]; then
        if kill -0 "$CONTAINERD_PID" 2>/dev/null; then
            local id
            for id in $(c task ls -q 2>/dev/null); do c task kill -s KILL "$id" >/dev/null 2>&1; done
            for id in $(c task ls -q 2>/dev/null); do
                wait_secs 10 eval "c task ls 2>/dev/null | grep -qE '^$id +[0-9]+ +STOPPED'"
                c task delete "$id" >/dev/null 2>&1
            done
            for id in $(c c ls -q 2>/dev/null); do c c rm "$id" >/dev/null 2>&1; done
        fi
        stop_containerd
    fi
    # Whatever the engines left behind: containers the runtime still knows, shims of our
    # containerd (found by its socket path, which is ours alone), mounts, cgroups.
    local dir pid
    for dir in "$ENG"/exec/runtime-*/moby/* "$CTR_ROOT/$CTR_NS"/*; do
        [ -d "$dir" ] && "$RT" --root "${dir%/*}" delete --force "${dir##*/}" >/dev/null 2>&1
    done
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $ENG/containerd.sock"); do
        kill -KILL "$pid" 2>/dev/null
    done
    umount_eng
    local cg
    for cg in /sys/fs/cgroup/*/"$CG_DOCKER" /sys/fs/cgroup/*/"$CTR_NS"; do
        [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    remove_created
}
trap 'engines_stop; cleanup_all' EXIT
trap 'exit 130' INT TERM

# ================================================================= docker

DOCKER_RUNC=(run --pull never --runtime runc --network none)

t_10_docker_run() {
    [ $DOCKER_OK = 1 ] || { skip "docker run" "$DOCKER_WHY"; return; }
    local out rc
    out=$(d "${DRUN[@]}" --rm "$IMG" /probe echo hi 2>&1)
    expect_eq "docker run --runtime berth prints the output" "$out" hi
    d "${DRUN[@]}" --rm "$IMG" sh -c "exit 3"
    expect_rc "docker run passes the exit status through" $? 3
    out=$(d "${DRUN[@]}" --rm "$IMG" sh -c 'echo to-out; echo to-err >&2' 2>"$ENG/err")
    expect_eq "stdout and stderr stay apart (stdout)" "$out" to-out
    expect_eq "stdout and stderr stay apart (stderr)" "$(cat "$ENG/err")" to-err
    out=$(printf 'line1\nline2\n' | timeout 60 "$DOCKER" "${DRUN[@]}" --rm -i "$IMG" /probe stdin)
    expect_eq "docker run -i feeds stdin and closes it at its end" "$out" $'line1\nline2\nEOF'
    out=$(d "${DRUN[@]}" --rm -e FOO=bar -h berthhost -w /tmp "$IMG" \
        sh -c '/probe getenv FOO; /probe hostname; /probe pwd' 2>&1)
    expect_eq "docker -e -h -w reach the process" "$out" $'bar\nberthhost\n/tmp'
    out=$(d "${DRUN[@]}" --rm -u 1000:1000 "$IMG" /probe id 2>&1)
    expect_eq "docker -u 1000:1000 (create + start of a non-root process)" "$out" \
        "uid=1000 gid=1000 euid=1000 egid=1000 groups=1000 umask=0022"
    out=$(d "${DRUN[@]}" --rm --init "$IMG" /probe pid)
    expect_match "docker --init: the command is docker-init's child" "$out" '^pid=[0-9]+ ppid=1 '
    expect_nomatch "docker --init: the command is not pid 1" "$out" '^pid=1 '
    out=$(d "${DRUN[@]}" --rm --read-only "$IMG" /probe write /x y 2>&1)
    expect_match "docker --read-only: the root is read-only" "$out" 'EROFS|[Rr]ead-only'
    out=$(d "${DRUN[@]}" --rm "$IMG" /nonexistent 2>&1); rc=$?
    expect_rc "a missing executable: docker's status 127 (docker matches the runtime's words)" $rc 127
    expect_match "a missing executable: the runtime's error reaches the docker client" "$out" \
        "no such file or directory"
    out=$(d "${DRUN[@]}" --rm "$IMG" /etc/passwd 2>&1); rc=$?
    expect_rc "a file that is not executable: docker's status 126" $rc 126
    expect_match "a file that is not executable: permission denied" "$out" "[Pp]ermission denied"
    # runc refuses it at create, so the engine reports an error and nothing runs
    out=$(d "${DRUN[@]}" -d --name "$PFX-noexec" "$IMG" /etc/passwd 2>&1); rc=$?
    expect_rc "a file that is not executable fails at create, as with runc (docker run -d fails)" $rc 126
    d rm -f "$PFX-noexec" >/dev/null 2>&1
    d "${DRUN[@]}" --name "$PFX-ran" "$IMG" /probe true
    expect_eq "docker inspect: the container ran with the berth runtime" \
        "$(inspect '{{.HostConfig.Runtime}} {{.State.ExitCode}}' "$PFX-ran")" "berth 0"
    d start -a "$PFX-ran" >/dev/null
    expect_rc "docker start of an exited container (the same id created again)" $? 0
    d restart -t 1 "$PFX-ran" >/dev/null
    expect_rc "docker restart" $? 0
    d rm "$PFX-ran" >/dev/null
}

# The container docker's spec gives, compared with runc (the reference runtime docker.io
# ships): capabilities, ids, seccomp, devices, limits, fds, mounts.
t_15_docker_same_as_runc() {
    [ $DOCKER_OK = 1 ] || { skip "docker: berth and runc agree" "$DOCKER_WHY"; return; }
    local script='for w in caps id devices oom fds "rlimit nofile" "rlimit nproc" \
            "seccomp-test unshare" "seccomp-test mount" "seccomp-test keyctl" \
            "seccomp-test personality 0xffffffff" "sysctl net.ipv4.ip_unprivileged_port_start" \
            "cat /proc/self/attr/current" "open /dev/ptmx rw" "open /dev/full rw" "open /dev/tty rw"; do
            echo "== probe $w"; /probe $w 2>&1
        done
        echo "== mounts: point, type, ro/rw (/sys/fs/cgroup apart)"
        /probe mounts | grep -v "^/sys/fs/cgroup" | awk "{split(\$3, o, \",\"); print \$1, \$2, o[1]}" | sort'
    d "${DRUN[@]}" --rm "$IMG" sh -c "$script" 2>&1 | sed 's/pipe:\[[0-9]*\]/pipe/' >"$ENG/view-berth"
    d "${DOCKER_RUNC[@]}" --rm "$IMG" sh -c "$script" 2>&1 | sed 's/pipe:\[[0-9]*\]/pipe/' >"$ENG/view-runc"
    local sec
    [ -s "$ENG/view-runc" ] && [ -s "$ENG/view-berth" ]
    _result $? "the same probes run under berth and runc" "$(head -3 "$ENG/view-berth")"
    for sec in $(grep -n '^== ' "$ENG/view-runc" | cut -d: -f1); do
        local title; title=$(sed -n "${sec}p" "$ENG/view-runc")
        expect_eq "berth and runc agree under docker: ${title#== }" \
            "$(awk -v t="$title" '$0 == t {on = 1; next} /^== / {on = 0} on' "$ENG/view-berth")" \
            "$(awk -v t="$title" '$0 == t {on = 1; next} /^== / {on = 0} on' "$ENG/view-runc")"
    done
}

t_20_docker_memory() {
    [ $DOCKER_OK = 1 ] || { skip "docker -m" "$DOCKER_WHY"; return; }
    if [ $HAVE_MEMCG = 0 ]; then skip "docker -m" "no cgroup v1 memory controller on this host"; return; fi
    local out id pid cg
    out=$(d "${DRUN[@]}" --rm -m 64m "$IMG" /probe cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)
    expect_eq "docker -m 64m: the container's own memory cgroup has the limit" "$out" 67108864
    d "${DRUN[@]}" --name "$PFX-oom" -m 64m --memory-swap 64m "$IMG" /probe mem 200 >/dev/null 2>&1
    expect_rc "docker -m 64m: probe mem 200 is OOM-killed (137)" $? 137
    expect_eq "docker -m 64m: docker saw the OOM kill" "$(inspect '{{.State.OOMKilled}}' "$PFX-oom")" true
    d rm "$PFX-oom" >/dev/null
    id=$(d "${DRUN[@]}" -d --name "$PFX-mem" -m 64m --pids-limit 20 "$IMG" /probe sleep 100)
    pid=$(inspect '{{.State.Pid}}' "$id")
    cg=$(host_cgroup "$pid" memory)
    expect_eq "the container's host cgroup is <cgroup-parent>/<id>" "$cg" "/sys/fs/cgroup/memory/$CG_DOCKER/$id"
    expect_eq "the host cgroup has the limit" "$(cat "$cg/memory.limit_in_bytes" 2>&1)" 67108864
    expect_eq "docker --pids-limit 20" "$(d exec "$id" cat /sys/fs/cgroup/pids/pids.max 2>&1)" 20
    d update -m 96m --memory-swap 192m --pids-limit 30 "$id" >/dev/null 2>&1
    expect_rc "docker update (the runtime's update)" $? 0
    expect_eq "docker update changed the memory limit" "$(cat "$cg/memory.limit_in_bytes" 2>&1)" 100663296
    expect_eq "docker update changed the pids limit" \
        "$(cat "$(host_cgroup "$pid" pids)/pids.max" 2>&1)" 30
    d rm -f "$id" >/dev/null
    expect_true "docker rm -f: the runtime removed the container's cgroup" test ! -d "$cg"
}

t_30_docker_tty() {
    [ $DOCKER_OK = 1 ] || { skip "docker -it" "$DOCKER_WHY"; return; }
    local out
    out=$(in_pty "$DOCKER" "${DRUN[@]}" -it --rm "$IMG" /probe tty)
    expect_match "docker run -it: stdin and stdout are the terminal" "$out" 'stdin=1 stdout=1 stderr=1 ttyname=/dev/pts/0'
    # the client sends the size once the container runs: poll for it (at most 5 s)
    out=$(in_pty "$DOCKER" "${DRUN[@]}" -it --rm "$IMG" sh -c \
        "'for i in \$(seq 50); do s=\$(/probe tty); case \$s in *rows=30*) break;; esac; sleep 0.1; done; echo \$s'")
    expect_match "docker run -it: the terminal size reaches the container" "$out" 'rows=30 cols=100'
    in_pty "$DOCKER" "${DRUN[@]}" -it --rm "$IMG" sh -c "'exit 4'" >/dev/null
    expect_rc "docker run -it passes the exit status through" $? 4
    # typed before the shell reads: the terminal buffers it
    out=$(printf 'echo typed-$((6*7))\nexit 5\n' | timeout 60 script -qefc \
        "stty rows 30 cols 100; $DOCKER ${DRUN[*]} -it --rm $IMG sh" /dev/null | tr -d '\r\0'
        echo "status=${PIPESTATUS[1]}")
    expect_match "docker run -it sh: typed 'exit 5' ends it with 5" "$out" $'\nstatus=5$'
    expect_match "docker run -it sh: typed input is read and answered" "$out" $'\ntyped-42\n'
}

t_40_docker_exec_stop() {
    [ $DOCKER_OK = 1 ] || { skip "docker exec/stop" "$DOCKER_WHY"; return; }
    local id out rc root t0
    id=$(d "${DRUN[@]}" -d --name "$PFX-exec" "$IMG" /probe sigtrap TERM)
    wait_secs 10 eval 'd logs "$id" 2>&1 | grep -q ready'
    expect_eq "docker run -d: running" "$(inspect '{{.State.Status}} {{.HostConfig.Runtime}}' "$id")" "running berth"
    root=$(berth_state_dir "$id")
    expect_true "berth's state directory has the container (under dockerd's runtime root)" test -n "$root"
    expect_eq "berth's state.json is berth's (has pid_start)" \
        "$(jq -r 'has("pid_start")' "$root/$id/state.json" 2>&1)" true
    expect_eq "berth state: running, the pid docker knows" \
        "$("$RT" --root "$root" state "$id" 2>&1 | jq -r '"\(.status) \(.pid)"')" \
        "running $(inspect '{{.State.Pid}}' "$id")"
    expect_eq "docker exec runs in the container (hostname = short id)" "$(d exec "$id" /probe hostname)" "${id:0:12}"
    d exec "$id" sh -c 'exit 5'
    expect_rc "docker exec passes the exit status through" $? 5
    expect_eq "docker exec -u -e -w" "$(d exec -u 1000 -e X=y -w /tmp "$id" sh -c '/probe id; echo $X; pwd')" \
        $'uid=1000 gid=1000 euid=1000 egid=1000 groups=1000 umask=0022\ny\n/tmp'
    out=$(printf 'via-stdin\n' | timeout 60 "$DOCKER" exec -i "$id" /probe stdin)
    expect_eq "docker exec -i feeds stdin" "$out" $'via-stdin\nEOF'
    out=$(in_pty "$DOCKER" exec -it "$id" /probe tty)
    expect_match "docker exec -it: stdin and stdout are the terminal" "$out" 'stdin=1 stdout=1 stderr=1 ttyname=/dev/pts/'
    in_pty "$DOCKER" exec -it "$id" sh -c "'exit 6'" >/dev/null
    expect_rc "docker exec -it passes the exit status through" $? 6
    d exec -d "$id" /probe sleep 100
    expect_rc "docker exec -d" $? 0
    wait_secs 5 eval 'd top "$id" | grep -q "probe sleep 100"'
    out=$(d top "$id" 2>&1)
    expect_match "docker top lists the init (the runtime's ps)" "$out" "probe sigtrap TERM"
    expect_match "docker top lists the exec'd process" "$out" "probe sleep 100"
    t0=$(now_ms)
    d stop -t 10 "$id" >/dev/null
    rc=$?
    local ms=$(($(now_ms) - t0))
    expect_rc "docker stop" $rc 0
    [ $ms -lt 5000 ]; _result $? "docker stop: the trapped SIGTERM ends it promptly (${ms} ms)"
    expect_eq "docker stop: exit status 0" "$(inspect '{{.State.ExitCode}}' "$id")" 0
    expect_match "docker logs: the container got SIGTERM" "$(d logs "$id" 2>&1)" "got SIGTERM"
    d rm "$id" >/dev/null
    expect_true "docker rm: berth's state is gone" test -n "$root" -a ! -e "$root/$id"
}

t_50_docker_signals() {
    [ $DOCKER_OK = 1 ] || { skip "docker stop/kill" "$DOCKER_WHY"; return; }
    local id t0 ms
    # probe pause as pid 1 has no handler for TERM, so the kernel ignores it: stop must KILL
    id=$(d "${DRUN[@]}" -d "$IMG" /probe pause)
    t0=$(now_ms)
    d stop -t 2 "$id" >/dev/null
    ms=$(($(now_ms) - t0))
    [ $ms -ge 1900 ] && [ $ms -lt 10000 ]
    _result $? "docker stop -t 2 of a container ignoring TERM takes the 2 s and then KILLs (${ms} ms)"
    expect_eq "... exit status 137" "$(inspect '{{.State.ExitCode}}' "$id")" 137
    d rm "$id" >/dev/null
    id=$(d "${DRUN[@]}" -d "$IMG" /probe sleep 100)
    d kill "$id" >/dev/null
    expect_rc "docker kill" $? 0
    wait_secs 10 eval '[ "$(inspect "{{.State.Status}}" "$id")" = exited ]'
    expect_eq "docker kill: KILLed (137)" "$(inspect '{{.State.Status}} {{.State.ExitCode}}' "$id")" "exited 137"
    d rm "$id" >/dev/null
    id=$(d "${DRUN[@]}" -d "$IMG" /probe sigtrap HUP)
    wait_secs 10 eval 'd logs "$id" 2>&1 | grep -q ready'
    d kill -s HUP "$id" >/dev/null
    wait_secs 10 eval '[ "$(inspect "{{.State.Status}}" "$id")" = exited ]'
    expect_match "docker kill -s HUP: the process got it" "$(d logs "$id" 2>&1)" "got SIGHUP"
    expect_eq "docker kill -s HUP: it exited 0" "$(inspect '{{.State.ExitCode}}' "$id")" 0
    d rm "$id" >/dev/null
}

t_60_docker_pause_rm() {
    [ $DOCKER_OK = 1 ] || { skip "docker pause/rm -f" "$DOCKER_WHY"; return; }
    local id pid root out
    id=$(d "${DRUN[@]}" -d "$IMG" /probe sleep 100)
    pid=$(inspect '{{.State.Pid}}' "$id")
    root=$(berth_state_dir "$id")
    d pause "$id" >/dev/null
    expect_rc "docker pause" $? 0
    expect_eq "docker pause: docker says paused" "$(inspect '{{.State.Status}}' "$id")" paused
    expect_eq "docker pause: berth says paused" "$("$RT" --root "$root" state "$id" | jq -r .status)" paused
    if [ -d /sys/fs/cgroup/freezer ]; then
        expect_eq "docker pause: the cgroup is frozen" \
            "$(cat "$(host_cgroup "$pid" freezer)/freezer.state" 2>&1)" FROZEN
    else
        skip "docker pause: the cgroup is frozen" "no cgroup v1 freezer on this host"
    fi
    out=$(d exec "$id" /probe true 2>&1)
    expect_match "docker exec into a paused container is refused" "$out" "paused"
    d unpause "$id" >/dev/null
    expect_rc "docker unpause" $? 0
    expect_eq "docker unpause: running again" "$(inspect '{{.State.Status}}' "$id")" running
    expect_eq "docker unpause: exec works again" "$(d exec "$id" /probe echo back)" back
    local cg; cg=$(host_cgroup "$pid" pids || host_cgroup "$pid" "")
    d rm -f "$id" >/dev/null
    expect_rc "docker rm -f of a running container" $? 0
    expect_eq "docker rm -f: gone" "$(d ps -aq --filter id="$id")" ""
    expect_true "docker rm -f: its process is gone" gone "$pid"
    expect_true "docker rm -f: berth's state is gone" test -n "$root" -a ! -e "$root/$id"
    expect_true "docker rm -f: its cgroup is gone" test -n "$cg" -a ! -d "$cg"
}

# ================================================================= containerd's ctr

t_70_ctr_run() {
    [ $CTR_OK = 1 ] || { skip "ctr run" "$CTR_WHY"; return; }
    local out
    out=$(ctr_run --rm --rootfs "$BASE/rootfs" "$PFX-c1" /probe echo hi 2>&1)
    expect_eq "ctr run --runc-binary berth prints the output" "$out" hi
    ctr_run --rm --rootfs "$BASE/rootfs" "$PFX-c2" /probe exit 7 >/dev/null 2>&1
    expect_rc "ctr run passes the exit status through" $? 7
    out=$(ctr_run --rm --env A=b --cwd /tmp --rootfs "$BASE/rootfs" "$PFX-c3" \
        sh -c '/probe getenv A; pwd; grep :memory: /proc/self/cgroup' 2>&1)
    expect_eq "ctr run --env --cwd; the cgroup is /<namespace>/<id>" "$out" \
        $'b\n/tmp\n'"$(grep -m1 -o '^[0-9]*:memory:' /proc/self/cgroup)/$CTR_NS/$PFX-c3"
    out=$(in_pty ctr --address "$ENG/containerd.sock" -n "$CTR_NS" run --tty --rm \
        --runc-binary "$RT_ABS" --runc-root "$CTR_ROOT" --fifo-dir "$ENG/fifo" \
        --rootfs "$BASE/rootfs" "$PFX-c4" /probe tty)
    expect_match "ctr run --tty (console socket): stdin and stdout are the terminal" "$out" \
        'stdin=1 stdout=1 stderr=1 ttyname=/dev/pts/0'
    in_pty ctr --address "$ENG/containerd.sock" -n "$CTR_NS" run --tty --rm \
        --runc-binary "$RT_ABS" --runc-root "$CTR_ROOT" --fifo-dir "$ENG/fifo" \
        --rootfs "$BASE/rootfs" "$PFX-c5" sh -c "'exit 9'" >/dev/null
    expect_rc "ctr run --tty passes the exit status through" $? 9
}

t_75_ctr_task() {
    [ $CTR_OK = 1 ] || { skip "ctr task" "$CTR_WHY"; return; }
    local id=$PFX-t1 out pid
    ctr_run -d --log-uri "file://$ENG/$id.log" --memory-limit 67108864 --rootfs "$BASE/rootfs" "$id" \
        /probe sigtrap TERM >/dev/null 2>&1
    expect_rc "ctr run -d" $? 0
    wait_secs 10 grep -q ready "$ENG/$id.log"
    expect_match "ctr task ls: running" "$(c task ls)" "$id +[0-9]+ +RUNNING"
    pid=$(c task ls | awk -v id="$id" '$1 == id {print $2}')
    if [ $HAVE_MEMCG = 1 ]; then
        expect_eq "ctr run --memory-limit: the container's host cgroup has it" \
            "$(cat "$(host_cgroup "$pid" memory)/memory.limit_in_bytes" 2>&1)" 67108864
    else
        skip "ctr run --memory-limit" "no cgroup v1 memory controller on this host"
    fi
    expect_true "berth's state is under --runc-root" test -f "$CTR_ROOT/$CTR_NS/$id/state.json"
    expect_eq "berth state: running, the pid containerd knows" \
        "$("$RT" --root "$CTR_ROOT/$CTR_NS" state "$id" 2>&1 | jq -r '"\(.status) \(.pid)"')" "running $pid"
    out=$(ctr_exec --exec-id x1 "$id" /probe hostname 2>&1)
    expect_eq "ctr task exec: output" "$out" "$(nsenter -t "$pid" -u cat /proc/sys/kernel/hostname)"
    out=$(ctr_exec --exec-id x2 "$id" /probe ns 2>&1)
    expect_true "ctr task exec: in the container's pid and mount namespaces" \
        grep -qxF "pid=$(readlink "/proc/$pid/ns/pid")" <<<"$out"
    expect_true "... mount namespace" grep -qxF "mnt=$(readlink "/proc/$pid/ns/mnt")" <<<"$out"
    ctr_exec --exec-id x3 "$id" /probe exit 4 >/dev/null 2>&1
    expect_rc "ctr task exec passes the exit status through" $? 4
    out=$(in_pty ctr --address "$ENG/containerd.sock" -n "$CTR_NS" task exec -t --fifo-dir "$ENG/fifo" \
        --exec-id x4 "$id" /probe tty)
    expect_match "ctr task exec -t: stdin and stdout are the terminal" "$out" 'stdin=1 stdout=1'
    expect_match "ctr task ps (the runtime's ps) lists the init" "$(c task ps "$id" 2>&1)" $'\n'"$pid "
    c task pause "$id" >/dev/null 2>&1
    expect_match "ctr task pause" "$(c task ls)" "$id +[0-9]+ +PAUSED"
    c task resume "$id" >/dev/null 2>&1
    expect_match "ctr task resume" "$(c task ls)" "$id +[0-9]+ +RUNNING"
    c task kill "$id" >/dev/null 2>&1
    expect_rc "ctr task kill (SIGTERM)" $? 0
    wait_secs 10 eval 'c task ls | grep -qE "^$id +[0-9]+ +STOPPED"'
    expect_match "ctr task kill: stopped" "$(c task ls)" "$id +[0-9]+ +STOPPED"
    expect_match "ctr task kill: the process got SIGTERM" "$(cat "$ENG/$id.log")" "got SIGTERM"
    c task delete "$id" >/dev/null 2>&1
    expect_rc "ctr task delete" $? 0
    expect_true "ctr task delete: berth's state is gone" test ! -e "$CTR_ROOT/$CTR_NS/$id"
    c container rm "$id" >/dev/null 2>&1
    expect_rc "ctr container rm" $? 0
}

# ================================================================= teardown

# Last (run_tests goes in name order): stop the engines, asserting that they stop cleanly and
# that the runtime removed each container's cgroup and state.
# ================================================================= images: berthd <-> docker

# docker save of real Docker loads into berthd, berthd's save loads into real Docker and copies
# with skopeo; the image ids and layer digests are the same everywhere.
t_80_image_interop() {
    if [ "$DOCKER_OK" != 1 ]; then
        skip "image interop with real Docker" "$DOCKER_WHY"
        return
    fi
    . "$(dirname "$0")/daemon-lib.sh"
    start_daemon x
    d save -o "$ENG/real.tar" "$IMG"
    expect_rc "real docker save" $? 0
    expect_eq "berthd loads real Docker's save" "$(dk x load -i "$ENG/real.tar")" "Loaded image: $IMG"
    expect_eq "same image id as in real Docker" "$(dk x image inspect -f '{{.Id}}' "$IMG")" "$(inspect '{{.Id}}' "$IMG")"
    expect_eq "same layer digests" "$(dk x image inspect -f '{{json .RootFS.Layers}}' "$IMG")" "$(inspect '{{json .RootFS.Layers}}' "$IMG")"
    dk x pull busybox >/dev/null 2>&1
    dk x tag busybox berth-made:1
    dk x save -o "$ENG/berth.tar" berth-made:1
    expect_eq "real Docker loads berthd's save" "$(d load -i "$ENG/berth.tar" 2>&1)" "Loaded image: berth-made:1"
    local id; id=$(dk x image inspect -f '{{.Id}}' berth-made:1)
    expect_eq "real Docker sees the same image id" "$(inspect '{{.Id}}' berth-made:1)" "$id"
    expect_eq "and the same layers" "$(inspect '{{json .RootFS.Layers}}' berth-made:1)" "$(dk x image inspect -f '{{json .RootFS.Layers}}' berth-made:1)"
    expect_eq "real Docker runs it with berth-runtime" "$(d run --rm --runtime berth --network none berth-made:1 echo made-by-berth 2>&1)" made-by-berth
    d rmi berth-made:1 >/dev/null 2>&1
    if ! command -v skopeo >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends skopeo >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends skopeo >/dev/null 2>&1; }
    fi
    if command -v skopeo >/dev/null; then
        skopeo copy -q "docker-archive:$ENG/berth.tar" "oci:$ENG/oci:berth-made" >/dev/null 2>&1
        expect_rc "skopeo copies berthd's save (docker-archive: to oci:)" $? 0
        local mdig; mdig=$(jq -r '.manifests[0].digest' "$ENG/oci/index.json" 2>/dev/null)
        # skopeo converts the config to OCI's form and compresses the layers: what stays is the
        # uncompressed content of each layer (its diff ID)
        local blob diff="" ldig
        for ldig in $(jq -r '.layers[].digest' "$ENG/oci/blobs/sha256/${mdig#sha256:}" 2>/dev/null); do
            blob=$ENG/oci/blobs/sha256/${ldig#sha256:}
            diff="$diff sha256:$( (gzip -dc "$blob" 2>/dev/null || cat "$blob") | sha256sum | cut -d' ' -f1)"
        done
        expect_eq "skopeo's OCI copy has the same layer contents (diff IDs)" "${diff# }" \
            "$(dk x image inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' berth-made:1 | sed 's/ $//')"
    else
        skip "skopeo copy of berthd's save" "skopeo could not be installed"
    fi
    stop_daemon x
}

t_zz_stop_engines() {
    local out
    if [ -n "$DOCKERD_PID" ]; then
        out=$(d ps -aq)
        [ -z "$out" ] || d rm -f $out >/dev/null
        expect_eq "docker: no container remains" "$(d ps -aq)" ""
        expect_eq "docker: the runtime removed every container's cgroup" \
            "$(find /sys/fs/cgroup/*/"$CG_DOCKER" -mindepth 1 -type d 2>/dev/null | head -3)" ""
        expect_eq "docker: the runtime removed every container's state" \
            "$(find "$ENG"/exec/runtime-*/moby -mindepth 1 -maxdepth 1 2>/dev/null | head -3)" ""
        stop_dockerd
        expect_rc "dockerd stops on SIGTERM" $? 0
        expect_eq "dockerd left no mounts" "$(grep -E "$ENG/(docker|exec)" /proc/self/mountinfo | head -3)" ""
    fi
    if [ -n "$CONTAINERD_PID" ]; then
        expect_eq "ctr: no container remains" "$(c c ls -q)" ""
        expect_eq "ctr: the runtime removed every container's cgroup" \
            "$(find /sys/fs/cgroup/*/"$CTR_NS" -mindepth 1 -type d 2>/dev/null | head -3)" ""
        expect_eq "ctr: the runtime removed every container's state" "$(ls "$CTR_ROOT/$CTR_NS" 2>/dev/null)" ""
        wait_secs 10 eval '! pgrep -f "containerd-shim-runc-v2 .*-address $ENG/containerd.sock" >/dev/null'
        expect_rc "every containerd shim has exited" $? 0
        kill -TERM "$CONTAINERD_PID"
        wait_secs 20 eval '! kill -0 $CONTAINERD_PID 2>/dev/null'
        expect_rc "containerd stops on SIGTERM" $? 0
    fi
    engines_stop
    [ $_skipped = 0 ] || echo "# $SUITE: $_skipped skipped"
}

# lib.sh's final leftover check runs after everything here has been stopped (also when ONLY=
# leaves t_zz_stop_engines out), and also looks for the engines' own processes.
eval "_lib_$(declare -f expect_clean)"
expect_clean() { engines_stop >/dev/null 2>&1; _lib_expect_clean "$@"; }
eval "_lib_$(declare -f leftovers)"
leftovers() {
    _lib_leftovers
    local p; p=$(pgrep -f "$ENG/containerd.sock")
    [ -z "$p" ] || echo "engine processes: $p"
}

engines_setup
run_tests
