#!/bin/bash
# The berth client's container commands against a real Docker engine, with the docker CLI as
# the oracle (see test_client.sh for the set-up): a private containerd and dockerd (docker.io's,
# API 1.41, no network set-up: every container runs with --network none), a busybox image
# imported from the test rootfs, and for each command docker and berth run the same arguments
# against the same daemon and must print the same bytes and exit with the same status. Where
# the output holds what differs between two runs (container IDs, names docker picks, times), the
# two clients act on twin containers and only those values are masked.
#
#   tests/integration/test_client_containers.sh   (as root; BUILD=... for another build dir)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd-lib.sh"

ENG=$WORK/client                 # the engines' files
BERTH=${BERTH:-${BUILD:-$TOP/build}/berth}
DOCKER=/usr/local/bin/docker
OK=0 WHY=""
mkdir -p "$ENG"
SOCK=$ENG/docker.sock
export DOCKER_CONFIG=$ENG/docker-cli DOCKER_CLI_HINTS=false
unset DOCKER_HOST BERTH_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_API_VERSION

d() { timeout 60 "$DOCKER" -H "unix://$SOCK" "$@"; }
b() { timeout 60 "$BERTH" -H "unix://$SOCK" "$@"; }
# Runs a command under a pseudo-terminal of 30x100; CR and NUL removed.
in_pty() { timeout 60 script -qefc "stty rows 30 cols 100; $*" /dev/null </dev/null | tr -d '\r\0'; }

IN=/dev/null MASK="" FILTER=""
USAGE_MASK="s/docker/berth/g; s/^SRun /Run /"
# same DESC ARGS...: docker and berth with the same arguments and stdin ($IN); stdout, stderr
# and the status must match after $MASK (sed) and $FILTER.
same() {
    local desc=$1; shift
    d "$@" <"$IN" >"$ENG/d.out" 2>"$ENG/d.err"; local drc=$?
    b "$@" <"$IN" >"$ENG/b.out" 2>"$ENG/b.err"; local brc=$?
    compare "$desc" $drc $brc
}
# twin DESC ARGS...: like same, with {} replaced by $DN for docker and $BN for berth (twin
# containers); the names are masked as NAME.
twin() {
    local desc=$1; shift
    local da=() ba=() a
    for a; do da+=("${a//\{\}/$DN}"); ba+=("${a//\{\}/$BN}"); done
    d "${da[@]}" <"$IN" >"$ENG/d.out" 2>"$ENG/d.err"; local drc=$?
    b "${ba[@]}" <"$IN" >"$ENG/b.out" 2>"$ENG/b.err"; local brc=$?
    sed -i "s/$DN/NAME/g" "$ENG/d.out" "$ENG/d.err"
    sed -i "s/$BN/NAME/g" "$ENG/b.out" "$ENG/b.err"
    compare "$desc" $drc $brc
}
compare() {
    local desc=$1 drc=$2 brc=$3 f
    for f in "$ENG/d.out" "$ENG/b.out" "$ENG/d.err" "$ENG/b.err"; do
        sed -i -E "s/docker/berth/g" "$f"
        [ -n "$MASK" ] && sed -i -E "$MASK" "$f"
        if [ -n "$FILTER" ]; then $FILTER <"$f" >"$f.tmp" && mv "$f.tmp" "$f"; fi
    done
    local diffs; diffs=$(diff "$ENG/d.out" "$ENG/b.out"; diff "$ENG/d.err" "$ENG/b.err")
    [ -z "$diffs" ] && [ "$drc" = "$brc" ]
    _result $? "$desc" "status docker $drc, berth $brc"$'\n'"$(head -12 <<<"$diffs")"
}
IDMASK='s/[0-9a-f]{64}/ID/g; s/\b[0-9a-f]{12}\b/SHORTID/g'
# the daemon's Status and the client's RunningFor count seconds: the two runs may straddle one
AGEMASK='s/(Less than a second|[0-9]+ seconds?|About a minute) ago/N ago/g; s/Up (Less than a second|[0-9]+ seconds?|About a minute)/Up N/g; s/  +/  /g'

note_created /run/containerd /run/docker /etc/docker/key.json

start_engines() {
    launch_containerd
    wait_secs 30 test -S "$ENG/containerd.sock" || return 1
    local drv
    for drv in overlay2 vfs; do
        start_dockerd $drv && return 0
    done
    return 1
}
stop_engines() {
    [ -n "$DOCKERD_PID" ] && d rm -f $(d ps -aq 2>/dev/null) >/dev/null 2>&1
    stop_dockerd
    stop_containerd
    umount_eng
    remove_created
}
trap 'stop_engines; cleanup_all' EXIT
trap 'exit 130' INT TERM

setup() {
    [ -x "$BERTH" ] || { WHY="build/berth is not built"; return; }
    [ -x "$DOCKER" ] || DOCKER=$(command -v docker)
    [ -n "$DOCKER" ] || { WHY="no docker CLI to compare with"; return; }
    engines_install || { WHY="docker.io/containerd could not be installed"; return; }
    [ -n "$DOCKERD" ] || { WHY="no dockerd"; return; }
    if ! start_engines; then
        WHY="dockerd did not start"
        echo "# $(grep -m1 -E 'level=(fatal|error)' "$ENG"/dockerd-*.log 2>/dev/null)"
        return
    fi
    tar -C "$BASE/rootfs" --sort=name --mtime=2019-12-31 --owner=0 --group=0 --numeric-owner \
        -cf "$ENG/rootfs.tar" .
    d import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/bin:/bin' "$ENG/rootfs.tar" bb:1 >/dev/null
    _result $? "private dockerd up, busybox image imported"
    OK=1
}

# Twin containers: DN for docker's side, BN for berth's, created the same way.
mk_twins() { # args for create (after the name)
    DN=dtwin$(next_seq) BN=btwin$(next_seq)
    d create --name "$DN" --network none "$@" >/dev/null && d create --name "$BN" --network none "$@" >/dev/null
}
running_twins() {
    mk_twins "$@" && d start "$DN" "$BN" >/dev/null
}

# ================================================================= tests

t_10_run_status() {
    [ $OK = 1 ] || { skip "run" "$WHY"; return; }
    same "run: output and status 0" run --rm --network none bb:1 echo hello
    same "run: stdout and stderr split (stdcopy), status 3" run --rm --network none bb:1 \
        sh -c 'echo out; echo err >&2; echo out2; exit 3'
    same "run: status 1" run --rm --network none bb:1 false
    same "run: a process killed by SIGKILL is 137" run --rm --network none bb:1 sh -c 'kill -9 $$'
    same "run: a missing executable is 127" run --rm --network none bb:1 /nonexistent
    same "run: a command not in PATH is 127" run --rm --network none bb:1 nosuchcmd
    same "run: a directory as the command is 126" run --rm --network none bb:1 /etc
    same "run: an engine error is 125" run --rm --network none -m 1k bb:1 true
    same "run: a bad flag value is a usage error (125)" run --network none -m x bb:1
    same "run: a bad --pull is 125" run --network none --pull bogus bb:1
    same "run: --rm with --restart conflicts (125)" run --rm --restart always bb:1
    same "run: a missing seccomp profile (125)" run --rm --network none --security-opt seccomp=/nonexistent bb:1
    same "run: flags end at the image" run --rm --network none bb:1 echo -e -n x
    same "run: an invalid reference" run --network none 'Bad:Ref'
    MASK=$USAGE_MASK
    same "run: an unknown flag (125)" run --bogus bb:1
    same "run: no image" run
    MASK=""
    # a missing image: "Unable to find image" and the pull (from a registry on loopback that
    # refuses the connection)
    same "run: a missing image is pulled first (and the pull fails)" run --rm --network none localhost:1/nosuch:1
    same "run -q: the pull is quiet" run -q --rm --network none localhost:1/nosuch
}

t_15_run_io() {
    [ $OK = 1 ] || { skip "run io" "$WHY"; return; }
    printf 'line one\nline two\n' >"$ENG/in.txt"
    IN=$ENG/in.txt
    same "run -i: stdin copied, then closed at EOF" run --rm -i --network none bb:1 sh -c 'cat; echo done'
    same "run without -i: stdin is not attached" run --rm --network none bb:1 sh -c 'cat; echo done'
    IN=/dev/null
    head -c 300000 /dev/urandom | base64 >"$ENG/big.txt"
    IN=$ENG/big.txt
    same "run -i: 400 kB through stdin and back" run --rm -i --network none bb:1 sh -c 'cat; cat >&2 </dev/null'
    IN=/dev/null
    same "run -t without a terminal on stdin, no -i: fine" run --rm -t --network none bb:1 echo tty
    same "run -it without a terminal: the input device is not a TTY" run --rm -it --network none bb:1 true
    local dout bout
    # the echo of what the terminal sent at the end of script's input is masked
    dout=$(in_pty "$DOCKER" -H "unix://$SOCK" run --rm -it --network none bb:1 sh -c "'tty; echo \$TERM; exit 5'" | sed 's/\^@//g'; echo "status=${PIPESTATUS[0]}")
    bout=$(in_pty "$BERTH" -H "unix://$SOCK" run --rm -it --network none bb:1 sh -c "'tty; echo \$TERM; exit 5'" | sed 's/\^@//g'; echo "status=${PIPESTATUS[0]}")
    expect_eq "run -it in a pty: a tty inside, the status" "$bout" "$dout"
    expect_match "run -it: the container has a terminal" "$bout" "/dev/pts/0"
    dout=$(in_pty "$DOCKER" -H "unix://$SOCK" run --rm -t --network none bb:1 printf "'a\\nb\\n'" | od -c)
    bout=$(in_pty "$BERTH" -H "unix://$SOCK" run --rm -t --network none bb:1 printf "'a\\nb\\n'" | od -c)
    expect_eq "run -t: raw tty output" "$bout" "$dout"
}

t_20_run_detached() {
    [ $OK = 1 ] || { skip "run -d" "$WHY"; return; }
    local id rc
    id=$(b run -d --network none --name bdet bb:1 sh -c 'echo started; sleep 30'); rc=$?
    expect_match "run -d prints the full ID" "$id" '^[0-9a-f]{64}$'
    expect_rc "run -d: status 0" $rc 0
    expect_eq "run -d: the container runs" "$(d inspect -f '{{.State.Running}}' bdet)" "true"
    d run -d --network none --name ddet bb:1 sh -c 'echo started; sleep 30' >/dev/null
    DN=ddet BN=bdet
    wait_secs 10 eval '[ "$(d logs bdet)" = started ]'
    twin "logs of a detached container" logs {}
    MASK=$AGEMASK
    twin "ps --filter name=" ps --filter name={} --format '{{.Names}} {{.Image}} {{.Command}} {{.State}}'
    MASK=""
    twin "stop -t 1" stop -t 1 {}
    twin "wait after stop: 137 (SIGKILL after the timeout) or 143" wait {}
    id=$(b run -d --rm --network none bb:1 true)
    wait_secs 10 eval '! d inspect "$id" >/dev/null 2>&1'
    expect_rc "run -d --rm: removed when done" $? 0
    same "run -d with -a conflicts" run -d -a stdout --network none bb:1 true
    MASK=$IDMASK
    same "run --rm: wait for removal (nothing left)" run --rm --network none bb:1 true
    MASK=""
    expect_eq "run --rm: no container left" "$(d ps -aq --filter ancestor=bb:1 --filter status=exited | wc -l)" \
        "$(d ps -aq --filter ancestor=bb:1 --filter status=exited | wc -l)"
}

t_25_create_config() {
    [ $OK = 1 ] || { skip "create" "$WHY"; return; }
    printf '# comment\nFROMFILE=1\n\nSPACED=a b\n' >"$ENG/env.list"
    printf '{"defaultAction": "SCMP_ACT_ALLOW"}\n' >"$ENG/seccomp.json"
    local flags=(--network none -e A=1 -e HOME --env-file "$ENG/env.list" -w /tmp -u 1000:1000
        --entrypoint /bin/sh -l x=y --label z -h hn -m 64m --memory-swap 128m
        --memory-reservation 32m --cpus 0.5 --cpu-shares 512 --cpuset-cpus 0 --pids-limit 50
        --restart on-failure:3 --read-only --tmpfs /run:size=1m --cap-add net_admin
        --cap-drop MKNOD --security-opt no-new-privileges
        --security-opt "seccomp=$ENG/seccomp.json" --init --ulimit nofile=100:200
        --stop-signal SIGUSR1 --stop-timeout 7 --dns 127.0.0.1 --add-host a:1.2.3.4
        --shm-size 8m --group-add 10 -v /tmp:/mnt:ro -v /data
        --mount type=tmpfs,dst=/t2,tmpfs-size=1m --mount "type=bind,src=$ENG,dst=/eng,readonly"
        --oom-kill-disable --sysctl net.ipv4.ip_forward=1 --log-opt max-size=1m
        --platform linux/amd64 -it)
    d create --name dcfg "${flags[@]}" bb:1 -c true >"$ENG/d.out" 2>"$ENG/d.err"
    b create --name bcfg "${flags[@]}" bb:1 -c true >"$ENG/b.out" 2>"$ENG/b.err"
    expect_match "create prints the ID" "$(cat "$ENG/b.out")" '^[0-9a-f]{64}$'
    expect_eq "create: docker's warnings" "$(cat "$ENG/b.err")" "$(cat "$ENG/d.err")"
    local f='{{json .Config}} {{json .HostConfig}} {{.Path}} {{json .Args}}'
    expect_eq "create: every flag reaches Config and HostConfig as with docker" \
        "$(d inspect -f "$f" bcfg | sed 's/bcfg/NAME/g')" "$(d inspect -f "$f" dcfg | sed 's/dcfg/NAME/g')"
    mk_twins bb:1
    # (the hostname is the container's ID)
    f='{{json .Config.Cmd}} {{json .Config.Env}} {{.Config.Tty}} {{.Config.AttachStdout}} {{json .Config.Labels}} {{json .HostConfig}}'
    expect_eq "create with defaults: the same container as docker's" \
        "$(d inspect -f "$f" "$(b create --network none bb:1)")" \
        "$(d inspect -f "$f" "$(d create --network none bb:1)")"
    same "create: a name in use" create --name dcfg bb:1
    same "create: a bad ulimit" create --ulimit nofile=x bb:1
    same "create: a bad --mount" create --mount type=bind bb:1
    same "create: a bad --cpus" create --cpus x bb:1
    # their mounts are listed in the daemon's map order: not in the ps tests
    d rm -f dcfg bcfg "$DN" "$BN" >/dev/null
}

t_30_ps_inspect() {
    [ $OK = 1 ] || { skip "ps, inspect" "$WHY"; return; }
    d create --name pslabel --network none -l a=1 -l b=two bb:1 sh -c 'echo "quoted" x' >/dev/null
    d run --name psexit --network none bb:1 sh -c 'exit 4' >/dev/null
    d run -d --name psup --network none bb:1 sleep 60 >/dev/null
    d run -d --name pspaused --network none bb:1 sleep 60 >/dev/null
    d pause pspaused >/dev/null
    MASK=$AGEMASK
    same "ps" ps
    same "ps -a" ps -a
    same "ps -a -q" ps -a -q
    same "ps -a --no-trunc" ps -a --no-trunc
    same "ps -a -s (sizes)" ps -a -s
    same "ps -n 2" ps -n 2
    same "ps -l" ps -l
    same "ps -a --format json" ps -a --format json
    same "ps --format table with all columns" ps -a --format 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedAt}}\t{{.RunningFor}}\t{{.Ports}}\t{{.Status}}\t{{.Names}}\t{{.Labels}}\t{{.Mounts}}\t{{.Networks}}\t{{.State}}\t{{.LocalVolumes}}'
    same "ps --format with .Label and .Size" ps -a --format '{{.Names}} [{{.Label "b"}}] [{{.Label "nope"}}] {{.Size}}'
    same "ps -f status=exited" ps -a -f status=exited --format '{{.Names}} {{.Status}}'
    same "ps -f status=paused" ps -a -f status=paused --format '{{.Names}} {{.Status}}'
    same "ps -f label=a=1" ps -a -f label=a=1 --format '{{.Names}}'
    same "ps -f name=ps -f exited=4" ps -a -f name=ps -f exited=4
    same "container ls -a" container ls -a # ages too: the two runs may straddle a second
    MASK=""
    same "ps: a bad filter" ps -f nope=1
    same "ps: a template error" ps --format '{{.Nope}}'
    same "container list -aq" container list -aq
    same "inspect a container" inspect pslabel
    same "inspect --format" inspect --format '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{json .Config.Labels}}' psexit pslabel
    same "inspect: container then image" inspect -f '{{.Id}}' bb:1
    same "inspect --type image of a container" inspect --type image pslabel
    same "inspect -s" inspect -s -f '{{.SizeRw}}' pslabel
    same "inspect: found and missing" inspect -f '{{.Name}}' pslabel nosuch
    same "inspect of nothing" inspect nosuch
    same "container inspect" container inspect -f '{{.State.Paused}}' pspaused
    same "container inspect of an image name" container inspect bb:1
    same "inspect --format json" inspect --format json psexit
    same "top (default ps args)" top psup
    same "top with ps args" top psup -o pid,args
    same "top of a stopped container" top psexit
    same "port (no ports without a network)" port psup
    same "port 80" port psup 80
    same "stats --no-stream --format" stats --no-stream --format '{{.Name}} {{.Container}} {{.ID}} {{.NetIO}}' psup psexit
    same "stats --no-stream --no-trunc --format" stats --no-stream --no-trunc --format '{{.ID}}' psexit
    same "stats of a missing container" stats --no-stream nosuch
    d unpause pspaused >/dev/null
    d rm -f psup pspaused pslabel psexit >/dev/null
}

t_40_logs() {
    [ $OK = 1 ] || { skip "logs" "$WHY"; return; }
    d run --name logs1 --network none bb:1 sh -c 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done' >/dev/null 2>&1
    d run --name logstty -t --network none bb:1 sh -c 'echo a; echo b' >/dev/null 2>&1
    same "logs" logs logs1
    same "logs --tail 2" logs --tail 2 logs1
    same "logs -n 0" logs -n 0 logs1
    same "logs -t (timestamps)" logs -t logs1
    same "logs --since 10m" logs --since 10m logs1
    same "logs --since a date in the future" logs --since 2099-01-01T00:00:00Z logs1
    same "logs --until 2000-01-01 (nothing)" logs --until 2000-01-01 logs1
    same "logs --since a unix time" logs --since "$(($(date +%s) - 600))" logs1
    same "logs --details" logs --details logs1
    same "logs -f of a stopped container ends" logs -f logs1
    same "logs of a tty container (raw)" logs logstty
    same "logs with a bad --since" logs --since bogus logs1
    same "logs of a missing container" logs nosuch
    d rm logs1 logstty >/dev/null
}

t_50_lifecycle() {
    [ $OK = 1 ] || { skip "lifecycle" "$WHY"; return; }
    running_twins bb:1 sleep 60
    twin "pause" pause {}
    MASK=$AGEMASK
    twin "ps shows (Paused)" ps -f name={} --format '{{.Status}}'
    MASK=""
    MASK='s/[0-9a-f]{64}/ID/g'
    twin "pause again: docker's error" pause {}
    MASK=""
    twin "unpause" unpause {}
    twin "kill -s USR2 (sleep dies of it)" kill -s USR2 {}
    twin "wait: 140" wait {}
    twin "start" start {}
    twin "restart -t 0" restart -t 0 {}
    twin "kill" kill {}
    twin "wait: 137" wait {}
    MASK='s/[0-9a-f]{64}/ID/g'
    twin "kill of a stopped container" kill {}
    MASK=""
    twin "start -a: the output and the status" start -a {} 
    same "start of missing containers" start nosuch1 nosuch2
    same "stop of a missing container" stop nosuch
    same "restart -s KILL of a missing container" restart -s KILL nosuch
    twin "rename to itself" rename {} {}
    same "rename with an empty name" rename x ''
    MASK=$USAGE_MASK
    same "rename: wrong argument count" rename x
    MASK=""
    d rename "$BN" "${BN}x" && b rename "${BN}x" "$BN"
    expect_eq "rename back and forth" "$(d inspect -f '{{.Name}}' "$BN")" "/$BN"
    MASK=$IDMASK
    twin "update --cpu-shares -m" update --cpu-shares 256 -m 64m --memory-swap 128m {}
    MASK=""
    twin "update: the values" inspect -f '{{.HostConfig.CpuShares}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}' {}
    same "update without flags" update x
    twin "rm -f of a running container" rm -f {}
    same "rm of a missing container" rm nosuch
    same "rm -f of a missing container: silent" rm -f nosuch
    running_twins bb:1 sleep 60
    MASK='s/[0-9a-f]{64}/ID/g'
    twin "rm of a running container: docker's error" rm {}
    MASK=""
    d rm -f "$DN" "$BN" >/dev/null
}

t_55_attach() {
    [ $OK = 1 ] || { skip "attach" "$WHY"; return; }
    mk_twins -i bb:1 sh -c 'while read l; do echo "got $l"; done; exit 6'
    d start "$DN" "$BN" >/dev/null
    printf 'a\nb\n' >"$ENG/in.txt"
    IN=$ENG/in.txt
    twin "attach: stdin in, output out, the exit status" attach {}
    IN=/dev/null
    twin "attach to a stopped container" attach {}
    mk_twins -i bb:1 sh -c 'read l; echo "got $l"; exit 2'
    IN=$ENG/in.txt
    twin "start -ai: stdin and the status" start -ai {}
    IN=/dev/null
    d rm -f "$DN" "$BN" >/dev/null
}

t_60_exec() {
    [ $OK = 1 ] || { skip "exec" "$WHY"; return; }
    d run -d --name ex --network none bb:1 sleep 60 >/dev/null
    same "exec: output" exec ex echo hi
    same "exec: stderr and status 3" exec ex sh -c 'echo e >&2; exit 3'
    same "exec -e -w -u" exec -e A=1 -w /tmp -u 1000 ex sh -c 'echo $A; pwd; id -u'
    printf 'x\ny\n' >"$ENG/in.txt"
    IN=$ENG/in.txt
    same "exec -i: stdin" exec -i ex sh -c 'cat; echo end'
    IN=/dev/null
    same "exec: a missing command" exec ex nosuchcmd
    same "exec -d" exec -d ex touch /tmp/fromexec
    wait_secs 5 d exec ex test -e /tmp/fromexec
    expect_rc "exec -d ran the command" $? 0
    same "exec in a missing container" exec nosuch true
    MASK='s/[0-9a-f]{64}/ID/g'
    d run --name exstopped --network none bb:1 true >/dev/null
    same "exec in a stopped container" exec exstopped true
    MASK=$USAGE_MASK
    same "exec: no command" exec ex
    MASK=""
    local dout bout
    dout=$(in_pty "$DOCKER" -H "unix://$SOCK" exec -it ex sh -c "'tty; exit 4'" | sed 's/\^@//g'; echo "status=${PIPESTATUS[0]}")
    bout=$(in_pty "$BERTH" -H "unix://$SOCK" exec -it ex sh -c "'tty; exit 4'" | sed 's/\^@//g'; echo "status=${PIPESTATUS[0]}")
    expect_eq "exec -it in a pty: a tty and the status" "$bout" "$dout"
    d rm -f ex exstopped >/dev/null
}

t_70_cp() {
    [ $OK = 1 ] || { skip "cp" "$WHY"; return; }
    d run -d --name cpc --network none bb:1 sh -c 'mkdir -p /d/sub; echo one >/d/f1; echo two >/d/sub/f2; sleep 600' >/dev/null
    wait_secs 5 d exec cpc test -e /d/sub/f2
    local w=$ENG/cp; rm -rf "$w"; mkdir -p "$w/d" "$w/b"
    d cp cpc:/d/f1 "$w/d/f1"; b cp cpc:/d/f1 "$w/b/f1"
    d cp cpc:/d "$w/d/newdir"; b cp cpc:/d "$w/b/newdir"
    mkdir "$w/d/exists" "$w/b/exists"
    d cp cpc:/d "$w/d/exists"; b cp cpc:/d "$w/b/exists"
    mkdir "$w/d/contents" "$w/b/contents"
    d cp cpc:/d/. "$w/d/contents"; b cp cpc:/d/. "$w/b/contents"
    expect_eq "cp from the container: file, new dir, into a dir, contents (/.)" \
        "$(cd "$w/b" && find . | sort | xargs -I{} sh -c 'echo {}; [ -f {} ] && cat {}')" \
        "$(cd "$w/d" && find . | sort | xargs -I{} sh -c 'echo {}; [ -f {} ] && cat {}')"
    expect_eq "cp CONTAINER:PATH - writes a tar" "$(b cp cpc:/d/sub - | tar -t | sort)" \
        "$(d cp cpc:/d/sub - | tar -t | sort)"
    same "cp from a missing path" cp cpc:/nosuch "$w/x"
    same "cp from a missing container" cp nosuch:/x "$w/x"
    same "cp without a container" cp /a /b
    same "cp between containers" cp a:/x b:/y
    echo local >"$w/local.txt"; mkdir -p "$w/ldir/in"; echo deep >"$w/ldir/in/f"
    b cp "$w/local.txt" cpc:/tmp/b-file; d cp "$w/local.txt" cpc:/tmp/d-file
    b cp "$w/ldir" cpc:/tmp/b-dir; d cp "$w/ldir" cpc:/tmp/d-dir
    b cp "$w/local.txt" cpc:/tmp/; 
    d exec cpc mkdir /tmp/bc /tmp/dc
    b cp "$w/ldir/." cpc:/tmp/bc; d cp "$w/ldir/." cpc:/tmp/dc
    expect_eq "cp into the container: file, new dir, contents (/.)" \
        "$(d exec cpc sh -c 'cd /tmp; cat b-file; find b-dir bc | sort; cat local.txt')" \
        "$(d exec cpc sh -c 'cd /tmp; cat d-file; find d-dir dc | sort | sed s/^d/b/; cat local.txt')"
    tar -C "$w/ldir" -cf "$w/in.tar" .
    b cp - cpc:/tmp/bc <"$w/in.tar"
    expect_eq "cp - CONTAINER:DIR extracts a tar from stdin" "$(d exec cpc cat /tmp/bc/in/f)" "deep"
    same "cp of a missing local file" cp /nonexistent/x cpc:/tmp
    d rm -f cpc >/dev/null
}

t_80_diff_commit_export() {
    [ $OK = 1 ] || { skip "diff, commit, export" "$WHY"; return; }
    d run --name dce --network none bb:1 sh -c 'echo new >/etc/newfile; rm /bin/zcat; echo x >>/etc/passwd' >/dev/null
    FILTER=sort # the daemon lists the changes in its map order
    same "diff" diff dce
    FILTER=""
    same "diff of a missing container" diff nosuch
    local id
    id=$(b commit -m "a message" -a "An Author" -c 'CMD ["echo","committed"]' dce committed/b:1)
    expect_match "commit prints the image ID" "$id" '^sha256:[0-9a-f]{64}$'
    d commit -m "a message" -a "An Author" -c 'CMD ["echo","committed"]' dce committed/d:1 >/dev/null
    local f='{{.Comment}} {{.Author}} {{json .Config.Cmd}} {{len .RootFS.Layers}}'
    expect_eq "commit: -m -a -c as with docker" "$(d image inspect -f "$f" committed/b:1)" \
        "$(d image inspect -f "$f" committed/d:1)"
    same "run the committed image" run --rm --network none committed/b:1
    same "commit of a missing container" commit nosuch
    same "commit with a bad reference" commit dce 'Bad:Ref'
    d export dce | tar -t | sort >"$ENG/d.list"; b export dce | tar -t | sort >"$ENG/b.list"
    expect_eq "export to stdout: the same files" "$(cat "$ENG/b.list")" "$(cat "$ENG/d.list")"
    b export -o "$ENG/b-export.tar" dce
    expect_eq "export -o" "$(tar -tf "$ENG/b-export.tar" | sort)" "$(cat "$ENG/d.list")"
    expect_eq "export refuses a terminal" \
        "$(in_pty "$BERTH" -H "unix://$SOCK" export dce; echo "status=${PIPESTATUS[0]}")" \
        "$(in_pty "$DOCKER" -H "unix://$SOCK" export dce; echo "status=${PIPESTATUS[0]}")"
    same "export of a missing container" export nosuch
    d rm dce >/dev/null; d rmi committed/b:1 committed/d:1 >/dev/null
}

t_90_prune() {
    [ $OK = 1 ] || { skip "container prune" "$WHY"; return; }
    d rm -f $(d ps -aq) >/dev/null 2>&1
    same "container prune -f (nothing)" container prune -f
    same "container prune without an answer: cancelled" container prune
    local id1 id2
    id1=$(d create --network none -l keep=1 bb:1); id2=$(d create --network none bb:1)
    b container prune -f --filter label!=keep >"$ENG/b.out"
    expect_eq "container prune --filter: docker's report" "$(cat "$ENG/b.out")" \
        $'Deleted Containers:\n'"$id2"$'\n\nTotal reclaimed space: 0B'
    expect_eq "container prune: the filtered container stays" "$(d ps -aq --no-trunc)" "$id1"
    d rm "$id1" >/dev/null
}

t_95_sigproxy() {
    [ $OK = 1 ] || { skip "sig-proxy" "$WHY"; return; }
    "$BERTH" -H "unix://$SOCK" run --rm --network none --name sigp bb:1 sh -c 'trap "echo got TERM; exit 9" TERM; while :; do sleep 0.1; done' >"$ENG/b.out" 2>&1 &
    local pid=$!
    wait_secs 10 eval '[ "$(d inspect -f "{{.State.Running}}" sigp 2>/dev/null)" = true ]'
    sleep 0.3
    kill -TERM $pid
    wait $pid; local rc=$?
    expect_eq "run: SIGTERM is forwarded to the container (--sig-proxy)" "$(cat "$ENG/b.out"); status=$rc" "got TERM; status=9"
}

t_zz_stop() {
    [ -n "$DOCKERD_PID" ] || return 0
    stop_engines
    expect_eq "dockerd stopped" "$DOCKERD_PID" ""
    [ $_skipped = 0 ] || echo "# $SUITE: $_skipped skipped"
}

eval "_lib_$(declare -f expect_clean)"
expect_clean() { stop_engines >/dev/null 2>&1; _lib_expect_clean "$@"; }

setup
run_tests
