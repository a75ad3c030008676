#!/bin/bash
# The six hook kinds: when they run, what they see on stdin, timeouts and failures.
. "$(dirname "$0")/lib.sh"

# A hook script that records its kind, the state on stdin and the namespace it ran in.
make_hook() {
    local f=$WORK/hook.sh
    cat >"$f" <<'SH'
#!/bin/sh
kind=$1; out=$2
state=$(cat)
printf '%s %s net=%s\n' "$kind" "$(echo "$state" | jq -c '{status, id, pid: (.pid > 0)}')" "$(readlink /proc/self/ns/mnt)" >>"$out"
SH
    chmod +x "$f"
    echo "$f"
}

t_all_hooks() {
    local b id h log; b=$(new_bundle); id=$(new_id); h=$(make_hook); log=$WORK/hooks.log
    : >"$log"
    cfg "$b" '.hooks = {
        "prestart": [{"path": $h, "args": ["hook", "prestart", $l]}],
        "createRuntime": [{"path": $h, "args": ["hook", "createRuntime", $l]}],
        "createContainer": [{"path": $h, "args": ["hook", "createContainer", $l]}],
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo startContainer in-container > /tmp/started-hook"]}],
        "poststart": [{"path": $h, "args": ["hook", "poststart", $l]}],
        "poststop": [{"path": $h, "args": ["hook", "poststop", $l]}]}' --arg h "$h" --arg l "$log"
    args "$b" /bin/sh -c 'cat /tmp/started-hook'
    rt create --bundle "$b" "$id"
    expect_eq "create runs prestart, createRuntime, createContainer" "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" "prestart createRuntime createContainer "
    expect_match "prestart sees state creating with a pid" "$(sed -n 1p "$log")" '"status":"creating","id":"'"$id"'","pid":true'
    local host_mnt; host_mnt=$(readlink /proc/self/ns/mnt)
    expect_true "createRuntime runs in the runtime's mount namespace" grep -qF "net=$host_mnt" <<<"$(sed -n 2p "$log")"
    expect_true "createContainer runs in the container's mount namespace" test -z "$(sed -n 3p "$log" | grep -F "net=$host_mnt")"
    rt start "$id" >/dev/null
    expect_eq "start runs poststart" "$(sed -n 4p "$log" | cut -d' ' -f1)" poststart
    wait_for test "$(rt state "$id" | jq -r .status)" = stopped
    rt delete "$id"
    expect_eq "delete runs poststop" "$(sed -n 5p "$log" | cut -d' ' -f1)" poststop
    expect_match "poststop sees status stopped" "$(sed -n 5p "$log")" '"status":"stopped"'
    # startContainer ran inside the container before the process: run shows its file
    b=$(new_bundle_own_rootfs)
    cfg "$b" '.hooks = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo from-start-hook > /tmp/started-hook"]}]}'
    args "$b" /bin/cat /tmp/started-hook
    run_bundle "$b"
    expect_eq "startContainer runs in the container before the process" "$OUT" from-start-hook
}

t_hook_env_and_args() {
    local b; b=$(new_bundle)
    cfg "$b" '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo \"$0 $HOOKVAR\" > \"$1\"", "argzero", $o], "env": ["HOOKVAR=hv"]}]}' --arg o "$WORK/envout"
    run_probe "$b" true
    expect_eq "hook gets its args and env" "$(cat "$WORK/envout")" "argzero hv"
}

t_failing_hooks() {
    local b; b=$(new_bundle)
    cfg "$b" '.hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo broken hook >&2; exit 3"]}]}'
    run_probe "$b" true
    expect_rc "a failing createRuntime hook fails create" "$RC" 1
    expect_match "the error names the hook and its status and output" "$ERR" "createRuntime hook /bin/sh: exit status 3: broken hook"
    expect_clean "a failing hook leaves nothing behind"
    cfg "$b" '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 10"], "timeout": 1}]}'
    local t0=$SECONDS
    run_probe "$b" true
    expect_rc "a hook past its timeout fails create" "$RC" 1
    expect_match "the error says timed out" "$ERR" "timed out after 1 s"
    expect_true "the timeout is enforced" test $((SECONDS - t0)) -le 4
    expect_clean "a timed-out hook leaves nothing behind"
    cfg "$b" '.hooks = {"createContainer": [{"path": "/nonexistent/hook"}]}'
    run_probe "$b" true
    expect_rc "a missing hook binary fails create" "$RC" 1
    expect_match "the error names the missing hook" "$ERR" "createContainer hook /nonexistent/hook"
    expect_clean "a missing hook leaves nothing behind"
    cfg "$b" '.hooks = {"poststop": [{"path": "/bin/false"}]}'
    run_probe "$b" true
    expect_clean "a failing poststop hook still removes the container"
}

run_tests
