#!/bin/bash
# berth-monitor driven directly, with tests/helpers/monitor_ctl.py in berthd's place on the sync
# fd and attach.sock, and the real runtime (lib/monitor/protocol.h is the contract).
. "$(dirname "$0")/lib.sh"
MON=${MON:-$BUILD/berth-monitor}
CTL="python3 $TOP/tests/helpers/monitor_ctl.py"
# the probe of this build, whichever build make-bundle.sh found
cp "$PROBE" "$BASE/rootfs/probe"

# mon_dir: a fresh monitor directory (berthd makes it); prints its path
mon_dir() { local d; d=$WORK/m$(next_seq); mkdir -p "$d"; echo "$d"; }
# mon DIR ID [monitor options]: the monitor's command line, after "--" for monitor_ctl.py
mon() {
    local d=$1 id=$2; shift 2
    echo "$MON" --id "$id" --dir "$d" --runtime "$RT" --runtime-root "$ROOT" "$@"
}
# sh_bundle CMD: a bundle running /bin/sh -c CMD
sh_bundle() { local b; b=$(new_bundle); args "$b" /bin/sh -c "$1"; echo "$b"; }
# the monitor's pid from the "ready <pid>" line of monitor_ctl.py's output
ready_pid() { sed -n 's/^ready \([0-9]*\)$/\1/p' <<<"$1"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# waits for the monitor to finish: exit.json there and the process gone
wait_done() { wait_for test -e "$1/exit.json"; wait_for gone "$2"; }

t_output_log_and_attach() {
    local d b id out pid
    d=$(mon_dir); id=$(new_id)
    b=$(sh_bundle 'echo "out <1>"; echo "err & 2" >&2; printf "tab\there"; echo; /probe exit 3')
    out=$($CTL run --attach 0,1,1 --out "$d.o" --err "$d.e" -- \
        $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log"))
    pid=$(ready_pid "$out")
    expect_match "ready carries the monitor pid" "$pid" '^[0-9]+$'
    expect_match "start answers started <pid>" "$out" $'\nstarted [0-9]+\n'
    expect_match "the attach stream has valid frames" "$out" 'frames ok [0-9]+'
    expect_eq "stdout frames carry stdout" "$(cat "$d.o")" $'out <1>\ntab\there'
    expect_eq "stderr frames carry stderr" "$(cat "$d.e")" "err & 2"
    wait_done "$d" "$pid"
    expect_eq "exit code 3" "$(jq .ExitCode "$d/exit.json")" 3
    expect_eq "exit.json Pid is the started pid" "$(jq .Pid "$d/exit.json")" \
        "$(sed -n 's/^started //p' <<<"$out")"
    expect_eq "not OOM-killed" "$(jq .OOMKilled "$d/exit.json")" false
    expect_match "FinishedAt is RFC3339Nano" "$(jq -r .FinishedAt "$d/exit.json")" \
        '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z$'
    # docker's json-file bytes: Go's escaping of <, >, & and tabs
    local l1 l2 l3
    l1=$(sed -n 1p "$d/ctr.log"); l2=$(grep stderr "$d/ctr.log"); l3=$(grep tab "$d/ctr.log")
    expect_match "log line in docker's format" "$l1" \
        '^\{"log":"out \\u003c1\\u003e\\n","stream":"stdout","time":"20[0-9-]{8}T[0-9:]{8}(\.[0-9]*[1-9])?Z"\}$'
    expect_match "stderr entry" "$l2" '^\{"log":"err \\u0026 2\\n","stream":"stderr","time":"'
    expect_match "a tab is \\u0009" "$l3" '^\{"log":"tab\\u0009here\\n"'
    expect_eq "three entries" "$(wc -l <"$d/ctr.log")" 3
    expect_eq "the monitor removes attach.sock" "$(ls "$d")" $'ctr.log\nexit.json\npid\nruntime.log'
    expect_true "the runtime's state is deleted" test ! -e "$ROOT/$id"
}

t_partial_and_long_lines() {
    local d b id out
    d=$(mon_dir); id=$(new_id)
    b=$(sh_bundle 'head -c 40000 /dev/zero | tr "\0" a; echo; printf tail')
    out=$($CTL run -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log"))
    wait_done "$d" "$(ready_pid "$out")"
    local lens
    lens=$(jq -r '.log | length' "$d/ctr.log" | tr '\n' ' ')
    expect_eq "a long line is split at 16 KiB, the last part with its newline" "$lens" \
        "16384 16384 7233 4 "
    expect_eq "chunks of a long line have no newline" \
        "$(jq -r '.log | endswith("\n")' "$d/ctr.log" | tr '\n' ' ')" "false false true false "
    expect_eq "the last partial line is logged as is" "$(jq -j .log "$d/ctr.log" | tail -c 5)" $'\ntail'
}

t_stdin_once() {
    local d b id out
    d=$(mon_dir); id=$(new_id)
    b=$(new_bundle); args "$b" /probe stdin
    out=$($CTL run --attach 1,1,1 --stdin $'line one\nline two\n' --out "$d/o" -- \
        $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log" --stdin --stdin-once))
    expect_eq "stdin reaches the process; the client's EOF closes it (--stdin-once)" \
        "$(cat "$d/o")" $'line one\nline two\nEOF'
    wait_done "$d" "$(ready_pid "$out")"
    expect_eq "exit 0 after EOF" "$(jq .ExitCode "$d/exit.json")" 0
    expect_eq "stdin output is logged too" "$(jq -r .log "$d/ctr.log" | tr -d '\n')" \
        "line oneline twoEOF"
}

t_stdin_stays_open_and_kill9() {
    local d b id out mpid ppid
    d=$(mon_dir); id=$(new_id)
    b=$(new_bundle); args "$b" /probe stdin
    out=$($CTL run -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log" --stdin))
    mpid=$(ready_pid "$out"); ppid=$(cat "$d/pid")
    out=$($CTL attach "$d" 1,0,0 --stdin $'first\n' --timeout 1)
    out=$($CTL attach "$d" 1,0,0 --stdin $'second\n' --timeout 1)
    wait_for grep -q second "$d/ctr.log"
    expect_eq "without --stdin-once a client's EOF leaves stdin open for the next" \
        "$(jq -r .log "$d/ctr.log" | tr -d '\n')" "firstsecond"
    expect_true "the process still runs" kill -0 "$ppid"
    kill -9 "$ppid"
    wait_done "$d" "$mpid"
    expect_eq "kill -9 gives 137" "$(jq .ExitCode "$d/exit.json")" 137
}

t_tty_and_resize() {
    local d b id out mpid
    d=$(mon_dir); id=$(new_id)
    b=$(sh_bundle 'read x; /probe tty; echo on-stderr >&2')
    cfg "$b" '.process.terminal = true'
    out=$($CTL run -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log" --tty --stdin))
    mpid=$(ready_pid "$out")
    expect_match "tty: started" "$out" $'\nstarted [0-9]+'
    expect_true "the console socket is gone once the pty arrived" test ! -e "$d/console.sock"
    expect_eq "resize answers ok and closes" "$($CTL command "$d" "resize 30 100")" $'ok\nclosed'
    $CTL attach "$d" 1,1,1 --stdin $'go\n' --out "$d/o" >"$d/attach.out"
    wait_done "$d" "$mpid"
    expect_match "the process sees a terminal of the new size" "$(cat "$d/o")" \
        'stdin=1 stdout=1 stderr=1 ttyname=/dev/pts/[0-9]+ rows=30 cols=100'
    expect_eq "with a tty every entry is stdout" "$(jq -r .stream "$d/ctr.log" | sort -u)" stdout
    expect_match "stderr output comes through the tty" "$(jq -r .log "$d/ctr.log")" "on-stderr"
    expect_eq "tty exit code" "$(jq .ExitCode "$d/exit.json")" 0
}

t_resize_refused_without_tty() {
    local d b id out mpid
    d=$(mon_dir); id=$(new_id)
    b=$(new_bundle); args "$b" /probe sleep 30
    out=$($CTL run -- $(mon "$d" "$id" --bundle "$b"))
    mpid=$(ready_pid "$out")
    expect_eq "resize without a tty" "$($CTL command "$d" "resize 30 100")" \
        $'error the process has no terminal\nclosed'
    expect_eq "unknown command" "$($CTL command "$d" "hello")" $'error unknown command\nclosed'
    expect_eq "bad attach flags" "$($CTL command "$d" "attach 2 1 1")" $'error unknown command\nclosed'
    # the monitor's own fds: the listener, and the sync socket kept for "exited"
    local socks
    socks=$(ls -l "/proc/$mpid/fd" | grep -c 'socket:')
    expect_eq "the monitor holds two sockets (attach.sock, sync) after the start" "$socks" 2
    local rss
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$mpid/status")
    echo "# VmRSS of a monitor with an idle running container: $rss kB"
    kill -9 "$(cat "$d/pid")"
    wait_done "$d" "$mpid"
}

t_exec_mode() {
    local d b id out mpid
    b=$(new_bundle); id=$(new_id); args "$b" /probe sleep 100
    rt run --detach --bundle "$b" "$id" </dev/null >/dev/null 2>&1
    expect_rc "a container to exec into" $? 0
    d=$(mon_dir)
    jq -n '{args: ["/bin/sh", "-c", "echo exec-out; /probe fds; exit 5"], cwd: "/", env: ["PATH=/bin"],
           user: {uid: 0, gid: 0}}' >"$d/process.json"
    out=$($CTL run --attach 0,1,1 --out "$d/o" -- \
        $(mon "$d" "$id" --exec-process "$d/process.json" --log-path "$d/exec.log"))
    mpid=$(ready_pid "$out")
    expect_match "exec: started" "$out" $'\nstarted [0-9]+'
    wait_done "$d" "$mpid"
    expect_match "exec output reaches the client" "$(cat "$d/o")" "^exec-out"
    expect_eq "exec exit code" "$(jq .ExitCode "$d/exit.json")" 5
    # nothing of the monitor leaks into the process: fds 0, 1, 2 and the one scandir used
    expect_eq "the exec'd process has only its stdio" \
        "$(grep -E '^[0-9]+ -> ' "$d/o" | grep -v ' -> /proc/' | cut -d' ' -f1 | tr '\n' ' ')" "0 1 2 "
    expect_true "exec mode leaves the container alone" test -e "$ROOT/$id"
    rt delete --force "$id" >/dev/null 2>&1
}

t_oom_flag() {
    local d b id out
    for v in 1 0; do
        d=$(mon_dir); id=$(new_id)
        printf 'oom 0\noom_kill %s\n' "$v" >"$d/memory.events"
        b=$(new_bundle); args "$b" /probe true
        out=$($CTL run -- $(mon "$d" "$id" --bundle "$b" --oom-file "$d/memory.events"))
        wait_done "$d" "$(ready_pid "$out")"
        expect_eq "oom_kill $v gives OOMKilled $([ "$v" = 1 ] && echo true || echo false)" \
            "$(jq .OOMKilled "$d/exit.json")" "$([ "$v" = 1 ] && echo true || echo false)"
    done
}

t_runtime_failure() {
    local d b id out mpid
    d=$(mon_dir); id=$(new_id)
    b=$(new_bundle); args "$b" /nonexistent
    out=$($CTL run --attach 0,1,1 --out "$d/o" -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log"))
    mpid=$(ready_pid "$out")
    expect_match "the runtime's error line, runc's wording" "$out" \
        $'\nerror exec: "/nonexistent": stat /nonexistent: no such file or directory\n'
    wait_for gone "$mpid"
    expect_true "the monitor exits" gone "$mpid"
    expect_true "no exit file after a failed start" test ! -e "$d/exit.json"
    expect_true "attach.sock removed" test ! -e "$d/attach.sock"
    expect_true "the attached client was closed" grep -q 'frames ok 0' <<<"$out"
    expect_true "no runtime state" test ! -e "$ROOT/$id"
    # a runtime that is not there: the spawn error
    d=$(mon_dir)
    out=$($CTL run -- "$MON" --id x --dir "$d" --runtime /nonexistent/runtime --runtime-root "$ROOT" --bundle "$b")
    expect_match "a missing runtime is an error" "$out" $'\nerror run /nonexistent/runtime: No such file'
}

t_rotation() {
    local d b id out
    d=$(mon_dir); id=$(new_id)
    b=$(sh_bundle 'i=1; while [ $i -le 60 ]; do echo "line $i"; i=$((i+1)); done')
    out=$($CTL run -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log" \
        --log-max-size 400 --log-max-file 3))
    wait_done "$d" "$(ready_pid "$out")"
    expect_eq "rotation keeps FILE, FILE.1, FILE.2" "$(cd "$d" && ls ctr.log*)" \
        $'ctr.log\nctr.log.1\nctr.log.2'
    local all first n
    all=$(cat "$d/ctr.log.2" "$d/ctr.log.1" "$d/ctr.log" | jq -j .log | sed 's/line //')
    first=$(head -1 <<<"$all"); n=$(wc -l <<<"$all")
    expect_eq "the files hold the newest lines, in order, none lost between them" \
        "$all" "$(seq "$first" 60)"
    expect_true "older lines were dropped" test "$first" -gt 1
    expect_true "each file stops near max-size" \
        test "$(stat -c %s "$d/ctr.log.1")" -lt 500 -a "$(stat -c %s "$d/ctr.log.2")" -lt 500
}

t_survives_parent_death() {
    local d b id out mpid
    d=$(mon_dir); id=$(new_id)
    b=$(sh_bundle 'sleep 1; echo after-parent')
    out=$($CTL run --die-after-start -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log"))
    mpid=$(ready_pid "$out")
    expect_true "berthd's side is gone, the monitor runs" kill -0 "$mpid"
    expect_true "the monitor runs in a session of its own" \
        test "$(ps -o sid= -p "$mpid")" != "$(ps -o sid= -p $$)"
    expect_true "and is not a child of the test" test "$(ps -o ppid= -p "$mpid" | tr -d ' ')" != $$
    wait_for test -e "$d/exit.json"
    wait_done "$d" "$mpid"
    expect_eq "the process ran to its end" "$(jq -r .log "$d/ctr.log")" "after-parent"
    expect_eq "and its exit was recorded" "$(jq .ExitCode "$d/exit.json")" 0
}

t_eof_before_start() {
    local d b id out mpid
    d=$(mon_dir); id=$(new_id)
    b=$(new_bundle); args "$b" /probe true
    out=$($CTL run --eof -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log" --tty))
    mpid=$(ready_pid "$out")
    wait_for gone "$mpid"
    expect_true "EOF before start: the monitor exits" gone "$mpid"
    expect_eq "and leaves nothing in its directory" "$(ls -A "$d")" ""
    expect_true "nothing ran" test ! -e "$ROOT/$id"
}

t_slow_client_dropped() {
    local d b id out mpid
    d=$(mon_dir); id=$(new_id)
    b=$(sh_bundle 'sleep 1; head -c 6000000 /dev/zero | tr "\0" x | fold -w 99; echo end')
    out=$($CTL run -- $(mon "$d" "$id" --bundle "$b" --log-path "$d/ctr.log"))
    mpid=$(ready_pid "$out")
    $CTL slow "$d" 4 >"$d/slow.out" &
    local slow=$!
    wait_done "$d" "$mpid"
    wait "$slow"
    expect_eq "the process is not held back by a client that does not read" \
        "$(jq .ExitCode "$d/exit.json")" 0
    expect_eq "the log has everything" "$(tail -1 "$d/ctr.log" | jq -r .log)" "xxxxxxend"
    expect_eq "all 60607 lines" "$(wc -l <"$d/ctr.log")" 60607
    local got
    got=$(sed -n 's/slow client got \([0-9]*\) bytes.*/\1/p' "$d/slow.out")
    expect_true "the slow client was dropped after about 1 MiB ($got bytes)" \
        test -n "$got" -a "${got:-0}" -lt 4000000
}

t_full_disk() {
    local d b id out full
    d=$(mon_dir); id=$(new_id); full=$WORK/full
    mkdir -p "$full" && mount -t tmpfs -o size=16k tmpfs "$full"
    b=$(sh_bundle 'i=0; while [ $i -lt 2000 ]; do echo "line $i of a log that does not fit"; i=$((i+1)); done; exit 4')
    out=$($CTL run --attach 0,1,0 --out "$d.o" -- $(mon "$d" "$id" --bundle "$b" --log-path "$full/ctr.log"))
    wait_done "$d" "$(ready_pid "$out")"
    expect_eq "a full disk does not stop the process or the monitor" "$(jq .ExitCode "$d/exit.json")" 4
    expect_eq "attached clients still get everything" "$(wc -l <"$d.o")" 2000
    expect_true "the log holds what fitted" test "$(wc -l <"$full/ctr.log")" -gt 10
    expect_true "every line in it is whole" jq -e . "$full/ctr.log" >/dev/null
    umount "$full"
}

t_drain_is_bounded() {
    local d b id out mpid start end
    b=$(new_bundle); id=$(new_id); args "$b" /probe sleep 100
    rt run --detach --bundle "$b" "$id" </dev/null >/dev/null 2>&1
    d=$(mon_dir)
    # the exec'd shell exits at once; its background child keeps the stdout pipe open for 20 s
    jq -n '{args: ["/bin/sh", "-c", "/probe sleep 20 & echo bg-started"], cwd: "/",
            env: ["PATH=/bin"], user: {uid: 0, gid: 0}}' >"$d/process.json"
    start=$(date +%s)
    out=$($CTL run -- $(mon "$d" "$id" --exec-process "$d/process.json" --log-path "$d/exec.log"))
    mpid=$(ready_pid "$out")
    wait_done "$d" "$mpid"
    end=$(date +%s)
    expect_true "exit.json comes within a bounded time although a writer remains ($((end - start)) s)" \
        test $((end - start)) -lt 8
    expect_eq "the output before the exit is logged" "$(jq -r .log "$d/exec.log")" "bg-started"
    expect_eq "exit 0" "$(jq .ExitCode "$d/exit.json")" 0
    rt delete --force "$id" >/dev/null 2>&1
}

leftover_monitors() { pgrep -f "berth-monitor --id $PFX-" || true; }
t_zz_no_monitor_left() {
    wait_for test -z "$(leftover_monitors)"
    expect_eq "no monitor process left" "$(leftover_monitors)" ""
}

run_tests
