#!/bin/bash
# Containers through berthd, with the real docker CLI and berth's own client (each flow runs
# with both): run and its exit codes, output and stdin, -d/logs/ps/inspect, stop/kill/restart,
# pause, wait, rename, rm, prune, exec, restart policies, OOM kills, pids limits, events.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

BERTH=${BERTH:-$BUILD/berth}
export DOCKER_CONFIG=$WORK/docker-cli DOCKER_CLI_HINTS=false
unset DOCKER_HOST BERTH_HOST DOCKER_CONTEXT

# c CLIENT ARGS...: docker or berth against daemon "c"
c() {
    local cl=$1; shift
    if [ "$cl" = docker ]; then timeout --foreground 60 env DOCKER_HOST="unix://$SOCK_c" "$DOCKER" "$@"
    else timeout --foreground 60 "$BERTH" -H "unix://$SOCK_c" "$@"; fi
}
CLIENTS="docker berth"

CGP=berth-it-$$ # this suite's containers' cgroups: checked at the end
setup() {
    ensure_daemon c --cgroup-parent "/$CGP"
    c docker pull busybox >/dev/null 2>&1
}

# Removes every container of the daemon (containers outlive berthd: the suite must not).
rm_all() {
    local ids; ids=$(c docker ps -aq)
    [ -n "$ids" ] && c docker rm -f $ids >/dev/null 2>&1
    return 0
}

t_run_exit_codes() {
    setup
    local cl rc out
    for cl in $CLIENTS; do
        c "$cl" run --rm --network none busybox true; rc=$?
        expect_rc "$cl: run --rm true exits 0" "$rc" 0
        c "$cl" run --rm busybox false; rc=$?
        expect_rc "$cl: run --rm false exits 1" "$rc" 1
        c "$cl" run --rm busybox sh -c 'exit 3'; rc=$?
        expect_rc "$cl: the container's exit status is the client's" "$rc" 3
        out=$(c "$cl" run --rm busybox nosuchcmd 2>&1); rc=$?
        expect_rc "$cl: a missing command exits 127" "$rc" 127
        expect_match "$cl: with the runtime's reason" "$out" 'executable file not found'
        c "$cl" run --rm busybox /etc 2>/dev/null; rc=$?
        expect_rc "$cl: a directory as the command exits 126" "$rc" 126
        c "$cl" run --rm busybox /etc/passwd 2>/dev/null; rc=$?
        expect_rc "$cl: a file that is not executable exits 126" "$rc" 126
        out=$(c "$cl" run --rm -m 1k busybox true 2>&1); rc=$?
        expect_rc "$cl: an engine error exits 125" "$rc" 125
        expect_match "$cl: with moby's message" "$out" "Minimum memory limit allowed is 6MB"
        c "$cl" run --rm nosuchimage true >/dev/null 2>&1; rc=$?
        expect_rc "$cl: a missing image exits 125" "$rc" 125
        # the pid 1 of a pid namespace ignores its own SIGKILL: a child gets it
        c "$cl" run --rm busybox sh -c 'sh -c "kill -9 \$\$"; exit $?'; rc=$?
        expect_rc "$cl: a process killed by SIGKILL gives 137" "$rc" 137
    done
    expect_eq "--rm leaves no container" "$(c docker ps -aq)" ""
}

t_run_output_and_stdin() {
    setup
    local cl out
    for cl in $CLIENTS; do
        out=$(c "$cl" run --rm busybox echo hello world)
        expect_eq "$cl: stdout" "$out" "hello world"
        out=$(c "$cl" run --rm busybox sh -c 'echo out; echo err >&2' 2>/dev/null)
        expect_eq "$cl: stdout and stderr are separate streams" "$out" "out"
        out=$(c "$cl" run --rm busybox sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)
        expect_eq "$cl: stderr" "$out" "err"
        out=$(printf 'line1\nline2\n' | c "$cl" run --rm -i busybox sh -c 'cat; echo done')
        expect_eq "$cl: -i passes stdin and its end" "$out" $'line1\nline2\ndone'
        out=$(seq 1 20000 | c "$cl" run --rm -i busybox wc -l)
        expect_eq "$cl: much stdin arrives whole" "$(echo $out)" 20000
        out=$(c "$cl" run --rm busybox sh -c 'seq 1 50000' | tail -1)
        expect_eq "$cl: much output arrives whole" "$out" 50000
        out=$(c "$cl" run --rm -e FOO=bar -w /tmp -u 1000:1000 --hostname box busybox \
            sh -c 'echo $FOO $(pwd) $(id -u):$(id -g) $(hostname)')
        expect_eq "$cl: -e -w -u -h" "$out" "bar /tmp 1000:1000 box"
        out=$(c "$cl" run --rm --entrypoint /bin/echo busybox a b)
        expect_eq "$cl: --entrypoint" "$out" "a b"
        out=$(script -qefc "$(declare -f c); SOCK_c=$SOCK_c DOCKER=$DOCKER BERTH=$BERTH c $cl run --rm -it busybox sh -c 'tty; stty size'" /dev/null </dev/null | tr -d '\r')
        expect_match "$cl: -it gives a terminal" "$out" '/dev/pts/[0-9]+'
    done
}

t_detached_lifecycle() {
    setup
    local cl id out
    for cl in $CLIENTS; do
        id=$(c "$cl" run -d --name "web-$cl" -l app=x busybox sh -c 'echo started; sleep 1000')
        expect_match "$cl: run -d prints the id" "$id" '^[0-9a-f]{64}$'
        wait_for sh -c "$(declare -f c); SOCK_c=$SOCK_c DOCKER=$DOCKER c docker logs web-$cl 2>&1 | grep -q started"
        expect_eq "$cl: logs" "$(c "$cl" logs "web-$cl")" "started"
        expect_match "$cl: ps shows it running" "$(c "$cl" ps --format '{{.Names}} {{.Status}}')" "web-$cl Up "
        expect_eq "$cl: inspect state" "$(c "$cl" inspect -f '{{.State.Status}} {{.State.Running}} {{.Name}}' "web-$cl")" "running true /web-$cl"
        expect_eq "$cl: ps filter by label" "$(c "$cl" ps -q --no-trunc -f label=app=x -f name=web-$cl)" "$id"
        c "$cl" pause "web-$cl" >/dev/null
        expect_eq "$cl: pause" "$(c "$cl" inspect -f '{{.State.Status}} {{.State.Paused}}' "web-$cl")" "paused true"
        expect_match "$cl: ps shows (Paused)" "$(c "$cl" ps --format '{{.Status}}' -f name=web-$cl)" "\(Paused\)"
        c "$cl" unpause "web-$cl" >/dev/null
        expect_eq "$cl: unpause" "$(c "$cl" inspect -f '{{.State.Status}}' "web-$cl")" "running"
        out=$(c "$cl" rm "web-$cl" 2>&1)
        expect_match "$cl: rm of a running container is refused" "$out" "stop the container before removing or force remove"
        c "$cl" stop -t 1 "web-$cl" >/dev/null
        expect_eq "$cl: stop (sh ignores TERM as pid 1: killed after -t)" "$(c "$cl" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "web-$cl")" "exited 137"
        expect_match "$cl: ps -a shows Exited (137)" "$(c "$cl" ps -a --format '{{.Status}}' -f name=web-$cl)" "^Exited \(137\)"
        c "$cl" start "web-$cl" >/dev/null
        expect_eq "$cl: start again" "$(c "$cl" inspect -f '{{.State.Status}}' "web-$cl")" "running"
        c "$cl" kill "web-$cl" >/dev/null
        expect_eq "$cl: wait after kill gives 137" "$(c "$cl" wait "web-$cl")" "137"
        c "$cl" rename "web-$cl" "web2-$cl"
        expect_eq "$cl: rename" "$(c "$cl" inspect -f '{{.Name}}' "$id")" "/web2-$cl"
        c "$cl" rm "web2-$cl" >/dev/null
        out=$(c "$cl" inspect "web2-$cl" 2>&1)
        expect_match "$cl: gone after rm" "$out" "No such (container|object): web2-$cl"
    done
}

t_restart_and_signals() {
    setup
    local cl id
    for cl in $CLIENTS; do
        id=$(c "$cl" run -d busybox sh -c 'trap "exit 42" TERM; while true; do sleep 0.1; done')
        sleep 0.3
        c "$cl" stop "$id" >/dev/null
        expect_eq "$cl: stop sends TERM first" "$(c "$cl" inspect -f '{{.State.ExitCode}}' "$id")" 42
        c "$cl" restart -t 1 "$id" >/dev/null
        expect_eq "$cl: restart" "$(c "$cl" inspect -f '{{.State.Running}}' "$id")" true
        c "$cl" kill -s USR1 "$id" >/dev/null 2>&1
        c "$cl" rm -f "$id" >/dev/null
        expect_eq "$cl: rm -f" "$(c "$cl" ps -aq --no-trunc | grep -c "$id")" 0
    done
    # --sig-proxy: the client forwards its signals to the container
    for cl in $CLIENTS; do
        if [ "$cl" = docker ]; then
            DOCKER_HOST="unix://$SOCK_c" "$DOCKER" run --rm --name "sp-$cl" busybox sh -c 'trap "exit 42" TERM; while true; do sleep 0.1; done' &
        else
            "$BERTH" -H "unix://$SOCK_c" run --rm --name "sp-$cl" busybox sh -c 'trap "exit 42" TERM; while true; do sleep 0.1; done' &
        fi
        local pid=$!
        wait_for sh -c "$(declare -f c); SOCK_c=$SOCK_c DOCKER=$DOCKER c docker ps -q -f name=sp-$cl | grep -q ."
        sleep 0.3
        kill -TERM $pid
        wait $pid
        expect_rc "$cl: --sig-proxy forwards SIGTERM (exit 42)" $? 42
    done
}

t_restart_policy() {
    setup
    local id
    id=$(c docker run -d --restart on-failure:2 busybox sh -c 'exit 5')
    wait_for sh -c "[ \"\$(DOCKER_HOST=unix://$SOCK_c $DOCKER inspect -f '{{.RestartCount}} {{.State.Status}}' $id)\" = '2 exited' ]"
    expect_eq "on-failure:2 restarts twice, then stays exited" "$(c docker inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' "$id")" "2 exited 5"
    id=$(c docker run -d --restart always busybox sh -c 'sleep 0.2; exit 0')
    sleep 1.5
    expect_match "always restarts after a clean exit" "$(c docker inspect -f '{{.RestartCount}}' "$id")" '^[1-9]'
    c docker stop -t 0 "$id" >/dev/null
    local n; n=$(c docker inspect -f '{{.RestartCount}}' "$id")
    sleep 0.8
    expect_eq "a stopped container is not restarted" "$(c docker inspect -f '{{.RestartCount}} {{.State.Running}}' "$id")" "$n false"
    rm_all
}

# The monitor says "exited" before it deletes the runtime's state: a start right after the exit
# must wait for that, and the files of a --rm container go once the answer is out.
t_start_right_after_exit() {
    setup
    local id i fails=0 out
    id=$(c berth create busybox sh -c 'echo run')
    for i in $(seq 20); do
        out=$(c berth start -a "$id" 2>&1) && [ "$out" = run ] || fails=$((fails + 1))
    done
    expect_eq "20 starts, each right after the last exit, all run" "$fails" 0
    expect_eq "and the log has 20 lines" "$(c berth logs "$id" | grep -c run)" 20
    c berth rm "$id" >/dev/null
    id=$(c berth run -d --restart always busybox true)
    wait_for sh -c "[ \"\$($BERTH -H unix://$SOCK_c inspect -f '{{.RestartCount}}' $id)\" -ge 3 ]"
    expect_match "restart always goes on once each monitor has gone" \
        "$(c berth inspect -f '{{.RestartCount}}' "$id")" '^([3-9]|[1-9][0-9]+)$'
    c berth rm -f "$id" >/dev/null
    out=$(c berth run --rm --name rmtwice busybox true && c berth run --rm --name rmtwice busybox echo again)
    expect_eq "a --rm container's name is free when run returns" "$out" again
    wait_for sh -c "! grep -q '$WORK/d-c/data/containers/' /proc/self/mountinfo"
    expect_eq "and its mount goes soon after" "$(grep -c "$WORK/d-c/data/containers/" /proc/self/mountinfo)" 0
    rm_all
}

# The list is written as JSON text by hand: it must stay valid JSON, with the values inspect
# has, whatever the command and labels hold; and ps shows the same through both clients.
t_list_json() {
    setup
    local id out
    id=$(c docker create --name 'list-json' --label 'q=say "hi"' --label $'nl=a\nb\tc' \
        --label 'u=café ☃' busybox sh -c $'echo "a\\b" \x01 é')
    out=$(curl -s --unix-socket "$SOCK_c" "http://d/containers/json?all=1&filters=%7B%22name%22%3A%5B%22list-json%22%5D%7D")
    expect_eq "the list is valid JSON with one entry" "$(jq length <<<"$out")" 1
    expect_eq "its Command joins Path and Args as inspect has them" "$(jq -r '.[0].Command' <<<"$out")" \
        "$(c docker inspect -f '{{.Path}} {{join .Args " "}}' "$id")"
    expect_eq "its Labels are inspect's" "$(jq -cS '.[0].Labels' <<<"$out")" \
        "$(c docker inspect -f '{{json .Config.Labels}}' "$id" | jq -cS .)"
    expect_eq "and Id, Names, State" "$(jq -r '.[0] | "\(.Id) \(.Names[0]) \(.State)"' <<<"$out")" \
        "$id /list-json created"
    local f='{{.ID}}|{{.Command}}|{{.Labels}}|{{.Label "q"}}|{{.Names}}|{{.Status}}|{{.Networks}}'
    expect_eq "ps --format through both clients" "$(c berth ps -a --format "$f" -f name=list-json)" \
        "$(c docker ps -a --format "$f" -f name=list-json)"
    expect_eq "ps --format json through both clients" "$(c berth ps -a --format json -f name=list-json | jq -cS 'del(.RunningFor)')" \
        "$(c docker ps -a --format json -f name=list-json | jq -cS 'del(.RunningFor)')"
    rm_all
}

t_exec() {
    setup
    local cl id out rc
    for cl in $CLIENTS; do
        id=$(c "$cl" run -d -e BASEV=1 busybox sleep 1000)
        expect_eq "$cl: exec output" "$(c "$cl" exec "$id" echo hi)" "hi"
        c "$cl" exec "$id" sh -c 'exit 7'; rc=$?
        expect_rc "$cl: exec exit code" "$rc" 7
        out=$(c "$cl" exec -e X=2 -w /tmp -u 1000 "$id" sh -c 'echo $BASEV $X $(pwd) $(id -u)')
        expect_eq "$cl: exec -e -w -u keeps the container's env" "$out" "1 2 /tmp 1000"
        out=$(echo piped | c "$cl" exec -i "$id" cat)
        expect_eq "$cl: exec -i" "$out" "piped"
        out=$(c "$cl" exec "$id" nosuch 2>&1); rc=$?
        expect_rc "$cl: exec of a missing command exits 127" "$rc" 127
        expect_match "$cl: and says why" "$out" "executable file not found"
        c "$cl" exec -d "$id" sh -c 'echo bg > /tmp/bg'
        wait_for sh -c "$(declare -f c); SOCK_c=$SOCK_c DOCKER=$DOCKER c docker exec $id cat /tmp/bg 2>/dev/null | grep -q bg"
        expect_eq "$cl: exec -d" "$(c "$cl" exec "$id" cat /tmp/bg)" "bg"
        out=$(c "$cl" exec "$id" sh -c 'cat /proc/self/status | grep ^CapEff')
        expect_match "$cl: exec has the container's capabilities" "$out" "00000000a80425fb"
        out=$(c "$cl" exec --privileged "$id" sh -c 'cat /proc/self/status | grep ^CapEff')
        expect_nomatch "$cl: exec --privileged has more" "$out" "00000000a80425fb"
        c "$cl" rm -f "$id" >/dev/null
    done
}

t_security_defaults() {
    setup
    local out
    out=$(c docker run --rm busybox sh -c 'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status | tr -s "\t" " "')
    expect_match "default capabilities are docker's" "$out" "CapEff: 00000000a80425fb"
    expect_match "seccomp filter on" "$out" "Seccomp: 2"
    out=$(c docker run --rm busybox sh -c 'cat /proc/kcore 2>&1 | head -c 50; ls /proc/acpi 2>&1 | wc -l')
    expect_nomatch "/proc/kcore is masked" "$out" "ELF"
    out=$(c docker run --rm busybox sh -c 'echo 1 > /proc/sys/kernel/panic 2>&1 || echo refused')
    expect_match "/proc/sys is read-only" "$out" "refused|Read-only"
    out=$(c docker run --rm --security-opt no-new-privileges busybox grep NoNewPrivs /proc/self/status)
    expect_match "no-new-privileges" "$out" "1"
    out=$(c docker run --rm busybox sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts')
    expect_match "own /etc/hostname and /etc/hosts" "$out" '^[0-9a-f]{12}'
    out=$(c docker run --rm --dns 127.0.0.53 busybox cat /etc/resolv.conf)
    expect_match "--dns writes resolv.conf" "$out" "nameserver 127.0.0.53"
    out=$(c docker run --rm --read-only busybox sh -c 'touch /x 2>&1 || echo ro')
    expect_match "--read-only" "$out" "ro|Read-only"
    out=$(c docker run --rm --tmpfs /data busybox sh -c 'mount | grep " /data "')
    expect_match "--tmpfs" "$out" "tmpfs"
    out=$(c docker run --rm --cap-drop ALL busybox grep CapEff /proc/self/status)
    expect_match "--cap-drop ALL" "$out" "0000000000000000"
    out=$(c docker run --rm --init busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "')
    expect_match "--init runs an init as pid 1" "$out" "docker-init"
    out=$(c docker run --rm --ulimit nofile=100:200 busybox sh -c 'ulimit -n; ulimit -Hn')
    expect_eq "--ulimit" "$(echo $out)" "100 200"
}

t_oom_and_pids() {
    setup
    local id out
    id=$(c docker run -d -m 32m --memory-swap 32m busybox sh -c 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done')
    c docker wait "$id" >/dev/null
    expect_eq "-m 32m with a memory hog: OOM-killed" "$(c docker inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' "$id")" "true 137"
    c docker rm "$id" >/dev/null
    out=$(c docker run --rm --pids-limit 20 busybox sh -c 'for i in $(seq 60); do sleep 5 & done 2>&1 | grep -c "can.t fork" ; true' 2>&1)
    expect_match "--pids-limit 20 stops a fork bomb" "$out" '^[1-9][0-9]*$'
}

t_wait_conditions_and_prune() {
    setup
    local id out
    id=$(c docker create busybox sh -c 'exit 4')
    expect_eq "wait on a created container returns at once (not-running)" "$(c docker wait "$id")" "0"
    c docker start "$id" >/dev/null
    expect_eq "wait after start gives the exit code" "$(c docker wait "$id")" 4
    out=$(curl -s --unix-socket "$SOCK_c" -X POST "http://d/containers/$id/wait?condition=bogus")
    expect_match "a bad condition is a 400" "$out" 'invalid condition'
    c docker create --name keep busybox true >/dev/null
    out=$(c docker container prune -f)
    expect_match "prune removes stopped containers" "$out" "$id"
    expect_eq "nothing left" "$(c docker ps -aq)" ""
}

t_bad_requests() {
    setup
    local out
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST -H 'Content-Type: application/json' -d '{bad' http://d/containers/create)
    expect_match "bad JSON is a 400" "$out" 'invalid JSON.* 400$'
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox","Cmd":"notalist","HostConfig":{"Memory":"x"}}' http://d/containers/create)
    expect_match "a wrongly typed field is a 400" "$out" ' 400$'
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox"}' 'http://d/containers/create?name=a/b')
    expect_match "a bad name is a 400" "$out" 'Invalid container name.* 400$'
    # regression: the driver's name was read from a freed HostConfig ("out of memory", 500)
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"LogConfig":{"Type":"syslog"}}}' http://d/containers/create | tr -d '\n')
    expect_eq "an unknown log driver is a 400 naming it" "$out" '{"message":"logger: no log driver named '"'"'syslog'"'"' is registered"} 400'
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox","Cmd":[1,2]}' http://d/containers/create | tr -d '\n')
    expect_match "a command of numbers is a 400" "$out" 'cannot unmarshal number into Go struct field Config.Cmd.* 400$'
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox","Labels":{"a":1}}' http://d/containers/create | tr -d '\n')
    expect_match "a label that is not a string is a 400" "$out" 'Config.Labels.* 400$'
    # regression: the message was read from the freed request body
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST -H 'Content-Type: application/json' -d '{"Image":"nosuchimage"}' http://d/containers/create | tr -d '\n')
    expect_eq "a missing image is a 404 naming it" "$out" '{"message":"No such image: nosuchimage:latest"} 404'
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X POST http://d/containers/nosuch/start)
    expect_match "an unknown container is a 404" "$out" 'No such container: nosuch.* 404$'
    c docker create --name dup busybox >/dev/null
    out=$(c docker create --name dup busybox 2>&1)
    expect_match "a duplicate name is a conflict" "$out" 'is already in use by container'
    out=$(curl -s -w ' %{http_code}' --unix-socket "$SOCK_c" -X DELETE http://d/images/busybox)
    expect_match "an image in use cannot be removed" "$out" 'container .* is using its referenced image.* 409$'
    rm_all
    expect_eq "the daemon still answers" "$(curl -s --unix-socket "$SOCK_c" http://d/_ping)" "OK"
}

t_events() {
    setup
    local since; since=$(date +%s)
    local id; id=$(c docker run -d busybox true)
    c docker wait "$id" >/dev/null
    c docker rm "$id" >/dev/null
    local out; out=$(c docker events --since "$since" --until "$(($(date +%s) + 1))" --filter "container=$id" --format '{{.Action}}')
    expect_eq "events for every state change" "$(echo $out)" "create start die destroy"
}

# The rest of the container commands, each with both clients against berthd.
t_more_commands() {
    setup
    local cl id out since
    for cl in $CLIENTS; do
        id=$(c "$cl" run -d --name "mc-$cl" busybox sh -c 'echo one; sleep 1; echo two; sleep 1000')
        sleep 0.3
        out=$(c "$cl" top "mc-$cl")
        expect_match "$cl: top lists the container's processes" "$out" "sleep 1"
        out=$(c "$cl" stats --no-stream --format '{{.Name}} {{.PIDs}}' "mc-$cl")
        expect_match "$cl: stats --no-stream" "$out" "^mc-$cl [0-9]+$"
        c "$cl" update --cpu-shares 512 "mc-$cl" >/dev/null
        expect_eq "$cl: update" "$(c "$cl" inspect -f '{{.HostConfig.CpuShares}}' "mc-$cl")" 512
        c "$cl" exec "mc-$cl" sh -c 'echo data > /tmp/f; rm /etc/motd 2>/dev/null; true'
        out=$(c "$cl" diff "mc-$cl")
        expect_match "$cl: diff shows an added file" "$out" "A /tmp/f"
        c "$cl" cp "mc-$cl:/tmp/f" "$WORK/f-$cl"
        expect_eq "$cl: cp out of the container" "$(cat "$WORK/f-$cl" 2>/dev/null)" "data"
        echo back >"$WORK/g-$cl"
        c "$cl" cp "$WORK/g-$cl" "mc-$cl:/tmp/g"
        expect_eq "$cl: cp into the container" "$(c "$cl" exec "mc-$cl" cat /tmp/g)" "back"
        out=$(c "$cl" export "mc-$cl" | tar -tf - 2>/dev/null | grep -c '^tmp/f$')
        expect_eq "$cl: export" "$out" 1
        c "$cl" commit "mc-$cl" "committed-$cl:1" >/dev/null
        expect_eq "$cl: commit, then run the image" "$(c "$cl" run --rm "committed-$cl:1" cat /tmp/f)" "data"
        expect_eq "$cl: port (no published ports)" "$(c "$cl" port "mc-$cl")" ""
        sleep 1
        expect_eq "$cl: logs --tail 1" "$(c "$cl" logs --tail 1 "mc-$cl")" "two"
        # the first line may be logged before StartedAt is recorded: since the creation
        since=$(c "$cl" inspect -f '{{.Created}}' "mc-$cl")
        expect_match "$cl: logs -t --since" "$(c "$cl" logs -t --since "$since" "mc-$cl" | head -1)" '^[0-9T:.-]+Z one$'
        # attach, then detach with the default keys through a terminal
        out=$(script -qefc "$(declare -f c); SOCK_c=$SOCK_c DOCKER=$DOCKER BERTH=$BERTH c $cl attach mc-$cl" /dev/null </dev/null 2>&1 &
              sleep 1; c "$cl" exec "mc-$cl" sh -c 'echo attached >/proc/1/fd/1'; sleep 0.5; pkill -f "attach mc-$cl"; wait)
        expect_match "$cl: attach sees new output" "$out" "attached"
        c "$cl" rm -f "mc-$cl" >/dev/null
        c "$cl" rmi "committed-$cl:1" >/dev/null
    done
}

t_logs_follow_and_wait() {
    setup
    local cl id
    for cl in $CLIENTS; do
        id=$(c "$cl" run -d busybox sh -c 'echo a; sleep 0.5; echo b; exit 6')
        expect_eq "$cl: logs -f follows until the container exits" "$(c "$cl" logs -f "$id" | tr '\n' ' ')" "a b "
        expect_eq "$cl: wait gives its code" "$(c "$cl" wait "$id")" 6
        c "$cl" rm "$id" >/dev/null
    done
}

t_zz_cleanup() {
    rm_all
    stop_all_daemons
    local mons; mons=$(pgrep -f "berth-monitor.*$WORK" | wc -l)
    expect_eq "no monitor left" "$mons" 0
    expect_eq "no container cgroup left" "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$CGP/*" 2>/dev/null | wc -l)" 0
    find /sys/fs/cgroup -maxdepth 2 -name "$CGP" -type d -exec rmdir {} + 2>/dev/null
}

touch "$WORK/seq"
run_tests
