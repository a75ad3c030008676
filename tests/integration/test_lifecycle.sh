#!/bin/bash
# create/start/run/state/kill/delete/list/ps/pause/resume/exec/update/events: runc's CLI contract.
. "$(dirname "$0")/lib.sh"

t_run_true() {
    local b; b=$(new_bundle)
    run_probe "$b" true
    expect_rc "run true exits 0" "$RC" 0
    run_probe "$b" exit 42
    expect_rc "run passes the exit status through" "$RC" 42
    run_probe "$b" echo hello world
    expect_eq "run connects stdout" "$OUT" "hello world"
}

t_create_start_split() {
    local b id; b=$(new_bundle); id=$(new_id)
    args "$b" /probe write /tmp/started yes
    rt create --bundle "$b" --pid-file "$WORK/$id.pid" "$id"
    expect_rc "create succeeds" $? 0
    local st; st=$(rt state "$id")
    expect_eq "state after create is created" "$(jq -r .status <<<"$st")" created
    expect_eq "state pid matches --pid-file" "$(jq -r .pid <<<"$st")" "$(cat "$WORK/$id.pid")"
    expect_eq "state has the bundle" "$(jq -r .bundle <<<"$st")" "$b"
    expect_eq "state ociVersion" "$(jq -r .ociVersion <<<"$st")" "1.0.2"
    expect_match "state created is RFC 3339" "$(jq -r .created <<<"$st")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
    expect_true "the process does not run before start" test ! -e "$BASE/rootfs/tmp/started"
    rt start "$id"
    expect_rc "start succeeds" $? 0
    wait_for test "$(rt state "$id" | jq -r .status)" = stopped
    expect_eq "status after the process exits is stopped" "$(rt state "$id" | jq -r .status)" stopped
    expect_eq "state pid is 0 once stopped" "$(rt state "$id" | jq -r .pid)" 0
    out=$(rt start "$id" 2>&1); rc=$?
    expect_rc "start of a stopped container fails" "$rc" 1
    expect_match "start of a stopped container says why" "$out" "stopped"
    rt delete "$id"
    expect_rc "delete of a stopped container" $? 0
    out=$(rt state "$id" 2>&1); rc=$?
    expect_rc "state of a deleted container fails" "$rc" 1
    expect_match "runc's wording: does not exist" "$out" "container \"$id\" does not exist"
}

t_create_start_non_root() {
    # regression: exec.fifo was made with the umask (0600), so a non-root process could not
    # open it and start failed
    local b id; b=$(new_bundle); id=$(new_id)
    cfg "$b" '.process.user = {"uid": 1000, "gid": 1000}'
    args "$b" /probe id
    out=$(umask 077; rt create --bundle "$b" "$id" && rt start "$id" && sleep 0.2)
    expect_match "create + start of a non-root process under umask 077" "$out" "^uid=1000 gid=1000"
    rt delete -f "$id"
    b=$(new_bundle)
    args "$b" /etc/passwd
    out=$(rt create --bundle "$b" "$(new_id)" 2>&1); rc=$?
    expect_rc "a file without execute permission fails create" "$rc" 1
    expect_match "with runc's wording" "$out" 'exec: "/etc/passwd": permission denied'
}

t_kill_delete() {
    local b id; b=$(new_bundle); id=$(new_id)
    args "$b" /probe sigtrap TERM
    rt run -d --bundle "$b" "$id" >"$WORK/$id.out"
    wait_for grep -q ready "$WORK/$id.out"
    expect_eq "run -d leaves it running" "$(rt state "$id" | jq -r .status)" running
    out=$(rt delete "$id" 2>&1); rc=$?
    expect_rc "delete of a running container fails" "$rc" 1
    expect_match "delete says it is running" "$out" "cannot delete container $id that is not stopped: running"
    rt kill "$id" TERM
    wait_for test "$(rt state "$id" | jq -r .status)" = stopped
    expect_match "the signal reached the process" "$(cat "$WORK/$id.out")" "got SIGTERM"
    out=$(rt kill "$id" KILL 2>&1); rc=$?
    expect_rc "kill of a stopped container fails" "$rc" 1
    expect_match "runc's wording: container not running" "$out" "container not running"
    rt delete "$id"
    local id2; id2=$(new_id)
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id2"
    rt delete --force "$id2"
    expect_rc "delete --force of a running container" $? 0
    expect_true "its state is gone" test ! -d "$ROOT/$id2"
    rt delete --force "no-such-$id2"
    expect_rc "delete --force of a missing container is fine" $? 0
    out=$(rt kill "no-such" 9 2>&1)
    expect_match "kill of a missing container" "$out" "does not exist"
    local id3; id3=$(new_id)
    rt create --bundle "$b" "$id3"
    rt delete "$id3"
    expect_rc "delete of a created container" $? 0
}

t_kill_all_and_signals() {
    local b id; b=$(new_bundle); id=$(new_id)
    args "$b" /bin/sh -c '/probe sleep 100 & /probe sleep 100 & wait'
    rt run -d --bundle "$b" "$id"
    wait_for test "$(rt ps --format json "$id" | jq length)" = 3
    expect_eq "ps --format json lists the 3 processes" "$(rt ps --format json "$id" | jq length)" 3
    local table; table=$(rt ps "$id")
    expect_match "ps prints ps(1) lines of the container" "$table" "probe sleep 100"
    rt kill --all "$id" KILL
    wait_for test "$(rt state "$id" | jq -r .status)" = stopped
    expect_eq "kill --all stops everything" "$(rt state "$id" | jq -r .status)" stopped
    rt delete "$id"
    out=$(rt kill "$id" NOSUCHSIG 2>&1)
    expect_match "bad signal name" "$out" "unknown signal|does not exist"
}

t_list() {
    local b id; b=$(new_bundle); id=$(new_id)
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id"
    expect_match "list shows the container" "$(rt list)" "^ID +PID +STATUS +BUNDLE +CREATED +OWNER"
    expect_match "list has a row" "$(rt list)" "$id +[0-9]+ +running +$b"
    expect_eq "list -q" "$(rt list -q)" "$id"
    expect_eq "list --format json" "$(rt list --format json | jq -r '.[0].id')" "$id"
    rt delete -f "$id"
}

t_pause_resume() {
    local b id; b=$(new_bundle); id=$(new_id)
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id"
    rt pause "$id"
    expect_rc "pause" $? 0
    expect_eq "state is paused" "$(rt state "$id" | jq -r .status)" paused
    local pid; pid=$(rt state "$id" | jq -r .pid)
    expect_match "the process is frozen" "$(grep State /proc/$pid/status)" "S|D"
    out=$(rt exec "$id" /probe true 2>&1)
    expect_match "exec into a paused container is refused" "$out" "paused"
    rt resume "$id"
    expect_eq "state after resume" "$(rt state "$id" | jq -r .status)" running
    out=$(rt resume "$id" 2>&1)
    expect_match "resume of a running container" "$out" "not paused"
    rt delete -f "$id"
}

t_exec() {
    local b id; b=$(new_bundle); id=$(new_id)
    cfg "$b" '.process.env += ["FROM_CONFIG=1"] | .hostname = "exechost"'
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id"
    expect_eq "exec runs in the container's uts namespace" "$(rt exec "$id" /probe hostname)" exechost
    rt exec "$id" /probe exit 7
    expect_rc "exec returns the exit status" $? 7
    expect_eq "exec inherits the config env" "$(rt exec "$id" /probe getenv FROM_CONFIG)" 1
    expect_eq "exec --env" "$(rt exec --env A=b "$id" /probe getenv A)" b
    expect_eq "exec --cwd" "$(rt exec --cwd /tmp "$id" /probe pwd)" /tmp
    expect_match "exec --user" "$(rt exec --user 1000:1000 "$id" /probe id)" "^uid=1000 gid=1000"
    local init_pidns; init_pidns=$(readlink /proc/$(rt state "$id" | jq -r .pid)/ns/pid)
    expect_true "exec joins the pid namespace" grep -qxF "pid=$init_pidns" <<<"$(rt exec "$id" /probe ns)"
    local pp; pp=$(rt exec "$id" /probe pid)
    expect_match "exec'd process has a pid in the container" "$pp" "^pid=[0-9]+ ppid=0"
    cat >"$WORK/process.json" <<JSON
{"args": ["/probe", "echo", "from-process-json"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}
JSON
    expect_eq "exec --process" "$(rt exec --process "$WORK/process.json" "$id")" from-process-json
    rt exec -d --pid-file "$WORK/exec.pid" "$id" /probe sleep 100
    expect_rc "exec --detach" $? 0
    expect_true "exec --pid-file" test -s "$WORK/exec.pid"
    expect_eq "detached exec'd process is in the container's cgroup" \
        "$(rt ps --format json "$id" | jq "map(select(. == $(cat "$WORK/exec.pid"))) | length")" 1
    out=$(rt exec "$id" /nonexistent 2>&1); rc=$?
    expect_rc "exec of a missing binary fails" "$rc" 1
    expect_match "exec says not found" "$out" 'no such file|not found'
    expect_eq "exec fds: only stdio" "$(rt exec "$id" /probe fds | grep -cv '^[012] ')" 0
    rt delete -f "$id"
    out=$(rt exec "$id" /probe true 2>&1)
    expect_match "exec into a missing container" "$out" "does not exist"
}

t_update_events() {
    local b id; b=$(new_bundle); id=$(new_id)
    args "$b" /probe sleep 100
    cfg "$b" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 100}'
    rt run -d --bundle "$b" "$id"
    local st; st=$(rt events --stats "$id")
    expect_eq "events --stats type" "$(jq -r .type <<<"$st")" stats
    expect_eq "events --stats memory limit" "$(jq -r .data.memory.usage.limit <<<"$st")" 67108864
    rt update --memory 134217728 --pids-limit 50 "$id"
    expect_rc "update flags" $? 0
    st=$(rt events --stats "$id")
    expect_eq "update changed the memory limit" "$(jq -r .data.memory.usage.limit <<<"$st")" 134217728
    expect_eq "update changed the pids limit" "$(jq -r .data.pids.limit <<<"$st")" 50
    echo '{"pids": {"limit": 42}}' | rt update --resources - "$id"
    expect_rc "update --resources -" $? 0
    expect_eq "update from stdin applied" "$(rt events --stats "$id" | jq -r .data.pids.limit)" 42
    out=$(echo '{"memory": {"limit": "lots"}}' | rt update -r - "$id" 2>&1)
    expect_match "update with bad JSON says which field" "$out" "memory.limit"
    rt delete -f "$id"
}

t_no_pivot_and_keyring() {
    local b; b=$(new_bundle)
    args "$b" /probe cat /proc/self/mountinfo
    OUT=$(rt run --no-pivot --bundle "$b" "$(new_id)"); RC=$?
    expect_rc "run --no-pivot (MS_MOVE + chroot)" "$RC" 0
    expect_match "--no-pivot: the rootfs is the container's /" "$OUT" "/rootfs / "
    args "$b" /bin/sh -c 'cat /proc/self/status | grep -c . >/dev/null; /probe readlink /proc/self/ns/mnt'
    OUT=$(rt run --no-new-keyring --bundle "$b" "$(new_id)"); RC=$?
    expect_rc "run --no-new-keyring" "$RC" 0
}

t_spec_features_version() {
    local d=$WORK/specdir; mkdir -p "$d"
    rt spec --bundle "$d"
    expect_eq "spec writes a config" "$(jq -r .ociVersion "$d/config.json")" "1.0.2"
    out=$(rt spec --bundle "$d" 2>&1)
    expect_match "spec refuses to overwrite" "$out" "exists"
    expect_eq "features lists namespaces" "$(rt features | jq -r '.linux.namespaces | index("user") != null')" true
    expect_eq "features seccomp enabled" "$(rt features | jq -r .linux.seccomp.enabled)" true
    expect_match "--version" "$("$RT" --version)" "^berth-runtime version [0-9.]+"
}

t_log_json() {
    out=$(rt --log "$WORK/log.json" --log-format json state nosuch 2>/dev/null)
    local last; last=$(tail -1 "$WORK/log.json")
    expect_eq "--log json: level" "$(jq -r .level <<<"$last")" error
    expect_match "--log json: message" "$(jq -r .msg <<<"$last")" 'container "nosuch" does not exist'
}

run_tests
