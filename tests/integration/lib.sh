# Integration test helpers (bash). A test file sources this, defines functions named t_*, and
# calls run_tests at the end. Each assertion prints a TAP line; the file ends with
# "<name>: N passed, N failed". Tests run as root against the real kernel.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
RT=${RT:-$BUILD/berth-runtime}
PROBE=$BUILD/probe
SUITE=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
WORK=$(mktemp -d /tmp/berth-it.XXXXXX)
chmod 711 "$WORK" # user-namespaced containers must reach their bundles
ROOT=$WORK/state
BASE=$WORK/base
PFX="it$$"
_pass=0 _fail=0 _n=0


_result() { # ok? desc [diagnostics]
    _n=$((_n + 1))
    if [ "$1" = 0 ]; then
        _pass=$((_pass + 1)); echo "ok $_n - $SUITE: $2"
    else
        _fail=$((_fail + 1)); echo "not ok $_n - $SUITE: $2"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /' | head -20
    fi
}
expect_eq() { [ "$2" = "$3" ]; _result $? "$1" "got: '$2'"$'\n'"expected: '$3'"; }
expect_match() { [[ "$2" =~ $3 ]]; _result $? "$1" "got: '$2'"$'\n'"expected to match: '$3'"; }
expect_nomatch() { ! [[ "$2" =~ $3 ]]; _result $? "$1" "got: '$2'"$'\n'"expected not to match: '$3'"; }
expect_rc() { [ "$2" = "$3" ]; _result $? "$1" "exit status $2, expected $3"; }
expect_true() { local d=$1; shift; "$@"; _result $? "$d" "command failed: $*"; }

# A fresh bundle sharing the base rootfs; prints its path.
# A counter kept in a file, so $(...) subshells still get unique numbers.
next_seq() {
    local n; n=$(( $(cat "$WORK/seq" 2>/dev/null || echo 0) + 1 ))
    echo "$n" >"$WORK/seq"; echo "$n"
}
new_bundle() {
    local b; b=$WORK/b$(next_seq)
    mkdir -p "$b"
    jq --arg r "$BASE/rootfs" '.root.path = $r' "$BASE/config.json" >"$b/config.json"
    echo "$b"
}
# A bundle with its own copy of the rootfs (for tests that write to it).
new_bundle_own_rootfs() {
    local b; b=$WORK/b$(next_seq)
    mkdir -p "$b"
    cp -a "$BASE/rootfs" "$b/rootfs"
    jq '.root.path = "rootfs"' "$BASE/config.json" >"$b/config.json"
    echo "$b"
}
# cfg BUNDLE JQ_FILTER [jq args...]: edits config.json in place.
cfg() {
    local b=$1 f=$2; shift 2
    jq "$@" "$f" "$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}
# args BUNDLE ARG...: sets process.args.
args() {
    local b=$1; shift
    local a; a=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
    cfg "$b" '.process.args = $a' --argjson a "$a"
}
new_id() { echo "$PFX-$(next_seq)"; }
rt() { "$RT" --root "$ROOT" "$@"; }
# run_probe BUNDLE ARGS...: runs /probe ARGS in a container, stdout to $OUT, status to $RC.
run_probe() {
    local b=$1; shift
    args "$b" /probe "$@"
    run_bundle "$b"
}
# run_bundle BUNDLE: runs the bundle as configured, stdout to $OUT, status to $RC.
run_bundle() {
    local b=$1 id; id=$(new_id)
    OUT=$(rt run --bundle "$b" "$id" 2>"$WORK/stderr" </dev/null)
    RC=$?
    ERR=$(cat "$WORK/stderr")
}
# Waits until a command succeeds (at most ~5 s).
wait_for() { local i; for i in $(seq 100); do "$@" && return 0; sleep 0.05; done; return 1; }

# Nothing of ours may remain: mounts, cgroups, state directories, processes.
leftovers() {
    local out=""
    grep -q "$WORK" /proc/self/mountinfo && out+="mounts: $(grep "$WORK" /proc/self/mountinfo | head -3)"$'\n'
    local cg; cg=$(find /sys/fs/cgroup -maxdepth 3 -name "$PFX-*" 2>/dev/null | head -3)
    [ -n "$cg" ] && out+="cgroups: $cg"$'\n'
    local st; st=$(ls "$ROOT" 2>/dev/null | head -3)
    [ -n "$st" ] && out+="state: $st"$'\n'
    # zombies do not count: an init whose runtime exited is reaped by PID 1, in its own time
    local ps; ps=$( (pgrep -f "$BASE/rootfs"; pgrep -x probe; pgrep -f "berthd.*$WORK") 2>/dev/null | while read -r p; do
        [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = Z ] || echo "$p"; done)
    [ -n "$ps" ] && out+="processes: $ps"$'\n'
    printf '%s' "$out"
}
expect_clean() {
    local l i
    for i in 1 2 3 4 5 6 7 8 9 10; do l=$(leftovers); [ -z "$l" ] && break; sleep 0.1; done
    [ -z "$l" ]; _result $? "${1:-nothing left behind}" "$l"
}

cleanup_all() {
    local id
    declare -F stop_all_daemons >/dev/null && stop_all_daemons
    for id in $(ls "$ROOT" 2>/dev/null); do rt delete --force "$id" >/dev/null 2>&1; done
    grep "$WORK" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup_all EXIT
"$TOP/scripts/make-bundle.sh" "$BASE" "$RT" >/dev/null || { echo "not ok - make bundle"; exit 1; }

run_tests() {
    local t
    for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
        if [ -n "${ONLY:-}" ] && [[ "$t" != *"$ONLY"* ]]; then continue; fi
        "$t"
    done
    declare -F stop_all_daemons >/dev/null && stop_all_daemons
    expect_clean "suite leaves nothing behind"
    echo "$SUITE: $_pass passed, $_fail failed"
    [ "$_fail" = 0 ]
}
