#!/bin/bash
# Containers outlive berthd: kill -9 of the daemon with 20 containers writing logs, then a new
# daemon finds them all (state, logs without a line lost or doubled, exits that happened while
# it was away, restart policies). And nothing leaks: LEAK_CYCLES run/rm cycles (and
# LEAK_FAILURES with bad images, bad commands and OOM kills) leave no mounts, cgroups, monitors,
# state files or daemon fds behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

BERTH=${BERTH:-$BUILD/berth}
LEAK_CYCLES=${LEAK_CYCLES:-1000}
LEAK_FAILURES=${LEAK_FAILURES:-100}
N_LIVE=${N_LIVE:-20}
CGP=berth-lr-$$ # this suite's containers' cgroups
export DOCKER_CONFIG=$WORK/docker-cli DOCKER_CLI_HINTS=false
unset DOCKER_HOST BERTH_HOST DOCKER_CONTEXT

d() { timeout 60 env DOCKER_HOST="unix://$SOCK_lr" "$DOCKER" "$@"; }
b() { timeout 60 "$BERTH" -H "unix://$SOCK_lr" "$@"; }
daemon_pid() { pgrep -f "berthd -H unix://$WORK/d-lr/berth.sock" | head -1; }

# Checks that a container's log is 1, 2, 3, ... with no gap and no repeat.
log_consecutive() {
    d logs "$1" 2>/dev/null | awk 'BEGIN{n=0} {n++; if ($1 != n) {print "line " n " is " $1; exit 1}} END{if (n < 2) {print "only " n " lines"; exit 1}}'
}

t_live_restore() {
    start_daemon lr --cgroup-parent "/$CGP"
    d pull busybox >/dev/null 2>&1
    local i ids=()
    for i in $(seq "$N_LIVE"); do
        ids+=("$(d run -d --name "lr$i" busybox sh -c 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.02; done')")
    done
    local gone; gone=$(d run -d busybox sh -c 'sleep 1.5; exit 3')
    local again; again=$(d run -d --restart on-failure busybox sh -c 'sleep 1.5; exit 4')
    sleep 0.5
    local pid; pid=$(daemon_pid)
    kill -9 "$pid"
    local mons; mons=$(pgrep -f "berth-monitor --id .*--dir $WORK/" | wc -l)
    expect_match "the monitors outlive berthd's kill -9" "$mons" "^([2-9][0-9]|[0-9]{3,})$"
    sleep 2.5 # the two short containers exit while berthd is away
    rm -f "$WORK/d-lr/launcher.pid"
    start_daemon lr --cgroup-parent "/$CGP"
    local running; running=$(d ps -q -f name=lr | wc -l)
    expect_eq "all $N_LIVE containers still run after the restart" "$running" "$N_LIVE"
    local bad=0
    for i in $(seq "$N_LIVE"); do
        [ "$(d inspect -f '{{.State.Status}} {{.State.Running}}' "lr$i")" = "running true" ] || bad=$((bad + 1))
    done
    expect_eq "inspect shows each of them running" "$bad" 0
    expect_eq "an exit while berthd was away shows its real code" "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$gone")" "exited 3"
    wait_for sh -c "[ \"\$(DOCKER_HOST=unix://$SOCK_lr $DOCKER inspect -f '{{.RestartCount}}' $again)\" -ge 1 ]"
    expect_match "its restart policy is applied" "$(d inspect -f '{{.RestartCount}}' "$again")" '^[1-9]'
    sleep 0.3
    local out; out=$(log_consecutive lr1)
    expect_eq "the log kept every line, none twice, across the daemon's death" "$out" ""
    local before; before=$(d logs lr2 | tail -1)
    timeout 1 env DOCKER_HOST="unix://$SOCK_lr" "$DOCKER" logs -f --tail 1 lr2 >"$WORK/follow.out" 2>&1
    local first; first=$(head -1 "$WORK/follow.out")
    local last; last=$(tail -1 "$WORK/follow.out")
    [ "$first" -ge "$before" ] 2>/dev/null && [ "$last" -gt "$first" ] 2>/dev/null
    expect_true "logs -f continues from where the log is" [ $? = 0 ]
    expect_true "and its lines are consecutive" sh -c "awk 'NR>1 && \$1 != p+1 {exit 1} {p=\$1}' '$WORK/follow.out'"
    # once more with SIGTERM: a clean stop leaves them running too
    stop_daemon lr
    start_daemon lr --cgroup-parent "/$CGP"
    expect_eq "after a clean daemon stop too" "$(d ps -q -f name=lr | wc -l)" "$N_LIVE"
    d stop -t 0 lr3 >/dev/null
    expect_eq "a restored container can be stopped" "$(d inspect -f '{{.State.Status}}' lr3)" "exited"
    d rm -f $(d ps -aq) >/dev/null
    expect_eq "and removed" "$(d ps -aq | wc -l)" 0
}

# What berthd and the host hold: mounts under the roots, container cgroups, monitors, state
# files, the daemon's fds.
census() {
    local dir=$WORK/d-lr
    local mounts; mounts=$(grep -c "$dir" /proc/self/mountinfo)
    local cgroups; cgroups=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -path "*/$CGP/*" -type d 2>/dev/null | wc -l)
    local mons; mons=$(pgrep -fc "berth-monitor --id .*--dir $WORK/")
    local files; files=$( (ls "$dir/data/containers"; ls "$dir/exec/containers"; ls "$dir/exec/runtime") 2>/dev/null | wc -l)
    local fds; fds=$(ls "/proc/$(daemon_pid)/fd" | wc -l)
    echo "mounts=$mounts cgroups=$cgroups monitors=$mons files=$files fds=$fds"
}

t_no_leaks() {
    ensure_daemon lr --cgroup-parent "/$CGP"
    d pull busybox >/dev/null 2>&1
    d run --rm busybox true >/dev/null # warm: the daemon's lazily opened things
    sleep 0.5
    local before; before=$(census)
    local i fails=0
    for i in $(seq "$LEAK_CYCLES"); do
        b run --rm --network none busybox true || fails=$((fails + 1))
    done
    expect_eq "$LEAK_CYCLES run --rm cycles all succeed" "$fails" 0
    local kinds=0
    for i in $(seq "$LEAK_FAILURES"); do
        case $((i % 4)) in
            0) b run --rm nosuchimage:1 true ;;
            1) b run --rm busybox /nosuchcmd ;;
            2) b run --rm -m 8m --memory-swap 8m busybox sh -c 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done' ;;
            3) b run --rm busybox sh -c 'exit 9' ;;
        esac
        [ $? != 0 ] && kinds=$((kinds + 1))
    done >/dev/null 2>&1
    expect_eq "$LEAK_FAILURES failing runs all fail" "$kinds" "$LEAK_FAILURES"
    sleep 0.5
    local after; after=$(census)
    expect_eq "nothing leaked (mounts, cgroups, monitors, state files, daemon fds)" "$after" "$before"
    stop_daemon lr
    find /sys/fs/cgroup -maxdepth 2 -name "$CGP" -type d -exec rmdir {} + 2>/dev/null
}

run_tests
