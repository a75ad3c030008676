#!/bin/bash
# The container endpoints for files, processes, stats and updates, with the real docker CLI:
# top, stats, update, diff, export, cp both ways (symlinks in the container never reach the
# host), commit then run, on running and stopped containers; bad input gives the documented
# status and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

export DOCKER_CONFIG=$WORK/docker-cli DOCKER_CLI_HINTS=false
unset DOCKER_HOST BERTH_HOST DOCKER_CONTEXT

d() { timeout 60 env DOCKER_HOST="unix://$SOCK_f" "$DOCKER" "$@"; }
# status METHOD PATH [curl args]: the HTTP status only
status() {
    local m=$1 p=$2; shift 2
    curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" --unix-socket "$SOCK_f" "$@" "http://d$p"
}

setup() {
    ensure_daemon f
    d pull busybox >/dev/null 2>&1
}

rm_all() {
    local ids; ids=$(d ps -aq)
    [ -n "$ids" ] && d rm -f $ids >/dev/null 2>&1
    return 0
}

t_top() {
    setup
    d run -d --name top1 busybox sleep 1000 >/dev/null
    local out; out=$(d top top1)
    expect_match "top lists the container's process" "$out" "sleep 1000"
    expect_match "top titles from ps -ef" "$(head -1 <<<"$out")" "^UID +PID +PPID"
    out=$(d top top1 -o pid,comm)
    expect_match "top with ps args" "$out" "PID +COMMAND"
    expect_nomatch "top shows no host process" "$out" "berthd|berth-monitor"
    expect_eq "top refuses a foreign =PID key" "$(status GET '/containers/top1/top?ps_args=-o%20user=PID')" 400
    d stop -t 0 top1 >/dev/null
    expect_eq "top of a stopped container is 409" "$(status GET /containers/top1/top)" 409
    expect_match "409 names the container" "$(cat "$WORK/body")" "is not running"
    expect_eq "top of no container is 404" "$(status GET /containers/nope/top)" 404
    rm_all
}

t_stats() {
    setup
    d run -d --name st1 busybox sleep 1000 >/dev/null
    local out; out=$(d stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' st1)
    expect_match "stats --no-stream" "$out" "^st1 [0-9.]+[KMG]iB / [0-9.]+[KMG]iB 1$"
    local j; j=$(curl -s --unix-socket "$SOCK_f" 'http://d/containers/st1/stats?stream=0')
    expect_eq "stream=0 has cpu usage" "$(jq '.cpu_stats.cpu_usage.total_usage > 0' <<<"$j")" true
    expect_eq "stream=0 primes precpu" "$(jq '.precpu_stats.cpu_usage.total_usage > 0' <<<"$j")" true
    expect_eq "name and id" "$(jq -r '.name' <<<"$j")" /st1
    expect_eq "no networks without a network" "$(jq 'has("networks")' <<<"$j")" false
    j=$(curl -s --unix-socket "$SOCK_f" 'http://d/containers/st1/stats?stream=0&one-shot=1')
    expect_eq "one-shot: precpu zero" "$(jq '.precpu_stats.cpu_usage.total_usage' <<<"$j")" 0
    expect_eq "one-shot: preread zero" "$(jq -r '.preread' <<<"$j")" 0001-01-01T00:00:00Z
    local n; n=$(timeout 3.5 curl -sN --unix-socket "$SOCK_f" 'http://d/containers/st1/stats' | wc -l)
    expect_match "streams a line a second" "$n" "^[34]$"
    expect_eq "stream and one-shot is 400" "$(status GET '/containers/st1/stats?stream=1&one-shot=1')" 400
    d stop -t 0 st1 >/dev/null
    j=$(curl -s --unix-socket "$SOCK_f" 'http://d/containers/st1/stats?stream=0')
    expect_eq "stopped: zeroed stats" "$(jq -c '[.read, .cpu_stats.cpu_usage.total_usage, .memory_stats]' <<<"$j")" '["0001-01-01T00:00:00Z",0,{}]'
    rm_all
}

cg_memory_limit() { # ID: the memory limit of the container's cgroup (v1 or v2)
    local f
    f=$(find /sys/fs/cgroup -path "*$1*" \( -name memory.limit_in_bytes -o -name memory.max \) 2>/dev/null | head -1)
    cat "$f"
}

t_update() {
    setup
    d run -d --name up1 -m 32m busybox sleep 1000 >/dev/null
    local id; id=$(d inspect -f '{{.Id}}' up1)
    d update -m 48m up1 >/dev/null
    expect_eq "update -m stored" "$(d inspect -f '{{.HostConfig.Memory}}' up1)" 50331648
    expect_eq "update -m applied to the cgroup" "$(cg_memory_limit "$id")" 50331648
    local out; out=$(d update -m 100m up1 2>&1)
    expect_match "memory above the swap limit: moby's conflict" "$out" "update the memoryswap at the same time"
    expect_eq "the record is unchanged" "$(d inspect -f '{{.HostConfig.Memory}}' up1)" 50331648
    d update --cpus 0.5 --pids-limit 50 --restart always up1 >/dev/null
    expect_eq "cpus, pids, restart stored" "$(d inspect -f '{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}' up1)" "500000000 50 always"
    out=$(d update --cpu-period 100000 up1 2>&1)
    expect_match "period against NanoCpus: conflict" "$out" "CPU Period cannot be updated"
    out=$(d update -m 1m up1 2>&1)
    expect_match "validation as create" "$out" "Minimum memory limit allowed is 6MB"
    expect_eq "bad JSON is 400" "$(status POST /containers/up1/update -H 'Content-Type: application/json' -d '{bad')" 400
    expect_eq "update of no container is 404" "$(status POST /containers/nope/update -H 'Content-Type: application/json' -d '{}')" 404
    d update --restart no up1 >/dev/null
    d stop -t 0 up1 >/dev/null
    d update -m 64m --memory-swap 128m up1 >/dev/null
    expect_eq "update of a stopped container is stored" "$(d inspect -f '{{.HostConfig.Memory}}' up1)" 67108864
    d start up1 >/dev/null
    expect_eq "and applied at the next start" "$(cg_memory_limit "$id")" 67108864
    rm_all
}

t_diff_and_commit() {
    setup
    d run -d --name df1 busybox sleep 1000 >/dev/null
    d exec df1 sh -c 'echo hi >/tmp/x; rm /bin/ls; mkdir -p /newdir/sub; echo a >/newdir/sub/f; rm -rf /home; mkdir /home; touch /home/new'
    local out; out=$(d diff df1)
    expect_match "A for added" "$out" $'A /newdir\nA /newdir/sub\nA /newdir/sub/f'
    expect_match "D for deleted (whiteout)" "$out" "D /bin/ls"
    expect_match "C for the parent" "$out" "C /bin"
    expect_nomatch "mount points are not changes" "$out" "/etc/hosts|/etc/hostname|/etc/resolv.conf|C /etc"
    d commit -c 'ENV FOO=bar' -m "the message" df1 fsimg:v1 >/dev/null
    out=$(d run --rm fsimg:v1 sh -c 'cat /tmp/x /newdir/sub/f; echo $FOO; test -e /bin/ls || echo nols; ls /home')
    expect_eq "the committed image has the changes" "$out" $'hi\na\nbar\nnols\nnew'
    expect_eq "history comment" "$(d history --format '{{.Comment}}' fsimg:v1 | head -1)" "the message"
    expect_eq "one more layer" "$(d image inspect -f '{{len .RootFS.Layers}}' fsimg:v1)" \
        "$(( $(d image inspect -f '{{len .RootFS.Layers}}' busybox) + 1 ))"
    d stop -t 0 df1 >/dev/null
    out=$(d diff df1)
    expect_match "diff of a stopped container" "$out" "A /tmp/x"
    d commit --change 'CMD ["cat","/tmp/x"]' df1 fsimg:v2 >/dev/null
    expect_eq "commit of a stopped container runs" "$(d run --rm fsimg:v2)" hi
    out=$(d commit --change 'BOGUS x' df1 fsimg:v3 2>&1)
    expect_match "a bad --change is refused" "$out" "Error"
    expect_eq "and no image is made" "$(d images -q fsimg:v3)" ""
    expect_eq "commit of no container is 404" "$(status POST '/commit?container=nope')" 404
    rm_all
    d rmi fsimg:v1 fsimg:v2 >/dev/null 2>&1
    return 0
}

t_export() {
    setup
    d run -d --name ex1 busybox sh -c 'echo data >/marker; sleep 1000' >/dev/null
    sleep 0.5
    local out; out=$(d export ex1 | tar t)
    expect_match "export holds the rootfs" "$out" $'(^|\n)bin/busybox\n'
    expect_match "export holds the changes" "$out" $'(^|\n)marker\n'
    expect_eq "export's file content" "$(d export ex1 | tar xO marker)" data
    d stop -t 0 ex1 >/dev/null
    expect_match "export of a stopped container" "$(d export ex1 | tar t)" "marker"
    local id; id=$(d inspect -f '{{.Id}}' ex1)
    expect_eq "the rootfs is unmounted again" "$(grep -c "$id" /proc/mounts)" 0
    rm_all
}

t_cp() {
    setup
    mkdir -p "$WORK/host/dir" "$WORK/secret"
    echo SECRET >"$WORK/secret/file"
    echo hello >"$WORK/host/in.txt"
    echo nested >"$WORK/host/dir/n"
    d run -d --name cp1 busybox sleep 1000 >/dev/null
    d exec cp1 sh -c "ln -s / /escape; ln -s $WORK/secret /hostlink; ln -s ../../../../..$WORK/secret/file /rel; mkdir /data"
    d cp "$WORK/host/in.txt" cp1:/data/
    expect_eq "cp into the container" "$(d exec cp1 cat /data/in.txt)" hello
    d cp "$WORK/host/dir" cp1:/data/
    expect_eq "cp a directory in" "$(d exec cp1 cat /data/dir/n)" nested
    d cp cp1:/etc/passwd "$WORK/passwd"
    expect_match "cp out of the container" "$(head -1 "$WORK/passwd")" "^root:"
    expect_eq "cp a directory out: its base name at the root" "$(d cp cp1:/data - | tar t | head -1)" "data/"
    # symlinks resolve inside the container, never on the host
    local out; out=$(d cp cp1:/hostlink/file - 2>&1)
    expect_nomatch "a link to a host path reads nothing of the host" "$out" SECRET
    d cp cp1:/rel "$WORK/rel.out" 2>/dev/null
    expect_true "a relative link comes out as the link" test -L "$WORK/rel.out"
    expect_eq "a link to / stays in the container" "$(d cp cp1:/escape/etc/passwd - | tar xO | head -1 | cut -d: -f1)" root
    echo evil >"$WORK/host/evil"
    d cp "$WORK/host/evil" cp1:/hostlink/ >/dev/null 2>&1
    expect_true "nothing written through a link to a host path" test ! -e "$WORK/secret/evil"
    d cp "$WORK/host/evil" cp1:/escape/tmp/ >/dev/null 2>&1
    expect_eq "a link to / writes into the container's /" "$(d exec cp1 cat /tmp/evil)" evil
    expect_true "and not the host's" test ! -e /tmp/evil
    # HEAD: the stat header
    curl -s -I --unix-socket "$SOCK_f" "http://d/containers/cp1/archive?path=/rel" >"$WORK/head"
    local st; st=$(grep -i '^X-Docker-Container-Path-Stat:' "$WORK/head" | cut -d' ' -f2 | tr -d '\r' | base64 -d)
    expect_eq "stat of a symlink" "$(jq -c '[.name, .mode]' <<<"$st")" '["rel",134218239]'
    expect_eq "linkTarget resolved in the container" "$(jq -r .linkTarget <<<"$st")" "$WORK/secret/file"
    # bad input
    expect_eq "missing path: 404" "$(status HEAD '/containers/cp1/archive?path=/nope' -I)" 404
    expect_eq "GET missing path: 404" "$(status GET '/containers/cp1/archive?path=/nope')" 404
    expect_eq "moby's message" "$(jq -r .message "$WORK/body")" "Could not find the file /nope in container cp1"
    expect_eq "no path: 400" "$(status GET /containers/cp1/archive)" 400
    echo garbage >"$WORK/bad.tar"
    expect_eq "a bad tar: 400" "$(status PUT '/containers/cp1/archive?path=/data' --data-binary @"$WORK/bad.tar")" 400
    # a truncated tar writes nothing
    (cd "$WORK/host" && tar cf - in.txt dir) | head -c 1500 >"$WORK/trunc.tar"
    expect_eq "a truncated tar: 400" "$(status PUT '/containers/cp1/archive?path=/tmp' --data-binary @"$WORK/trunc.tar")" 400
    expect_eq "and leaves nothing behind" "$(d exec cp1 ls /tmp)" evil
    (cd "$WORK/host" && tar cf - in.txt) >"$WORK/good.tar"
    expect_eq "into a file: 400" "$(status PUT '/containers/cp1/archive?path=/data/in.txt' --data-binary @"$WORK/good.tar")" 400
    expect_eq "into a missing directory: 404" "$(status PUT '/containers/cp1/archive?path=/nodir' --data-binary @"$WORK/good.tar")" 404
    mkdir -p "$WORK/y" && touch "$WORK/y/data" && tar cf "$WORK/nondir.tar" -C "$WORK/y" data
    expect_eq "noOverwriteDirNonDir refuses a file over a directory" \
        "$(status PUT '/containers/cp1/archive?path=/&noOverwriteDirNonDir=true' --data-binary @"$WORK/nondir.tar")" 400
    expect_true "the directory stays" d exec cp1 test -d /data
    # stopped container, both ways
    d stop -t 0 cp1 >/dev/null
    d cp "$WORK/host/in.txt" cp1:/stopped.txt
    expect_eq "cp into a stopped container" "$(d cp cp1:/stopped.txt - | tar xO)" hello
    local id; id=$(d inspect -f '{{.Id}}' cp1)
    expect_eq "the stopped rootfs is unmounted again" "$(grep -c "$id" /proc/mounts)" 0
    rm_all
}

run_tests
