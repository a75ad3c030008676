#!/bin/bash
# Bad input: exit status 1, one line naming the cause, and nothing left behind.
. "$(dirname "$0")/lib.sh"

# bad CASE_NAME EXPECTED_REGEX: runs create and run on $b, checks status, message, leftovers.
bad() {
    local name=$1 want=$2 cmd
    for cmd in create run; do
        local id; id=$(new_id)
        out=$(rt "$cmd" --bundle "$b" "$id" 2>&1 </dev/null); rc=$?
        expect_rc "$name ($cmd): exit status 1" "$rc" 1
        expect_match "$name ($cmd): says why" "$out" "$want"
        expect_eq "$name ($cmd): one line" "$(printf '%s\n' "$out" | wc -l)" 1
        expect_clean "$name ($cmd): nothing left behind"
    done
}

t_malformed_json() {
    b=$(new_bundle)
    printf '{"ociVersion": "1.0.2", "root": {"path": "x"' >"$b/config.json"
    bad "truncated JSON" "config.json: line 1"
    printf 'not json at all' >"$b/config.json"
    bad "not JSON" "config.json: line 1"
    printf '[1, 2]' >"$b/config.json"
    bad "top level not an object" "must be an object"
    printf '{"ociVersion": "1.0.2", "ociVersion": "1.0.2"}' >"$b/config.json"
    bad "duplicate key" "duplicate"
    rm "$b/config.json"
    bad "missing config.json" "config.json.*No such file"
    head -c 20000000 /dev/zero | tr '\0' ' ' >"$b/config.json"
    bad "huge config.json" "larger than"
}

t_contradictions() {
    local cases=(
        '.linux.namespaces += [{"type": "bogus"}]@@unknown namespace type "bogus"'
        '.linux.namespaces += [{"type": "pid"}]@@duplicate namespace "pid"'
        '.linux.uidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}]@@user namespace is not enabled'
        '.linux.namespaces += [{"type": "user"}]@@needs uidMappings and gidMappings'
        '.linux.namespaces |= map(select(.type != "uts")) | .hostname = "x"@@hostname without a private UTS namespace'
        '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"}@@host network namespace'
        '.linux.namespaces |= map(select(.type != "mount"))@@mount namespace is required'
        '.ociVersion = "2.0.0"@@unsupported ociVersion'
        'del(.ociVersion)@@ociVersion is required'
        'del(.root)@@root is required'
        '.root.path = "/nonexistent/rootfs"@@rootfs.*No such file'
        '.process.args = []@@process.args must not be empty'
        'del(.process)@@process is required'
        '.process.cwd = "relative"@@not an absolute path'
        '.process.capabilities.bounding += ["CAP_BOGUS"]@@unknown capability CAP_BOGUS'
        '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]@@unknown rlimit type RLIMIT_BOGUS'
        '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 1}]@@soft limit 10 is above hard limit 1'
        '.process.env = ["NOEQUALS"]@@not of the form KEY=value'
        '.mounts += [{"destination": "/x", "type": "bind"}]@@needs a source'
        '.mounts += [{"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["size=bogus"]}]@@mount tmpfs.*on /x'
        '.mounts += [{"destination": "/x", "type": "bind", "source": "/nonexistent", "options": ["bind"]}]@@source .*/nonexistent'
        '.linux.devices = [{"path": "/dev/x", "type": "q", "major": 1, "minor": 1}]@@bad type "q"'
        '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}@@unknown defaultAction'
        '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_BOGUS"]}@@SCMP_ARCH_BOGUS'
        '.hooks = {"prestart": [{"path": "relative/hook"}]}@@is not absolute'
        '.hooks = {"bogus": []}@@unknown hook kind "bogus"'
        '.linux.namespaces += [{"type": "ipc", "path": "/nonexistent/ns"}]@@duplicate namespace|/nonexistent/ns'
        '.linux.namespaces |= map(if .type == "network" then .path = "/nonexistent/netns" else . end)@@/nonexistent/netns'
        '.linux.resources.memory = {"limit": "64m"}@@memory.limit must be an integer'
        '.linux.resources.cpu = {"cpus": "99999"}@@cpuset'
        '.linux.rootfsPropagation = "sideways"@@rootfsPropagation'
        '.process.user.uid = -1@@uid'
    )
    local c
    for c in "${cases[@]}"; do
        b=$(new_bundle)
        cfg "$b" "${c%%@@*}"
        bad "${c%%@@*}" "${c#*@@}"
    done
}

t_existing_id() {
    local id; id=$(new_id)
    b=$(new_bundle)
    args "$b" /probe sleep 100
    rt create --bundle "$b" "$id"
    out=$(rt create --bundle "$b" "$id" 2>&1); rc=$?
    expect_rc "create with an existing id fails" "$rc" 1
    expect_match "and says so" "$out" "container with id exists: $id"
    expect_eq "the first container is untouched" "$(rt state "$id" | jq -r .status)" created
    rt delete -f "$id"
    out=$(rt create --bundle "$b" "../escape" 2>&1)
    expect_match "ids cannot be paths" "$out" "invalid container id"
    expect_true "no directory was made outside the root" test ! -e "$WORK/escape"
}

t_init_failures_leave_nothing() {
    # failures inside the container init, after namespaces, cgroup and mounts exist
    b=$(new_bundle)
    args "$b" /no/such/binary
    bad "missing executable" 'exec: "/no/such/binary": stat'
    b=$(new_bundle)
    cfg "$b" '.process.cwd = "/etc/passwd"'
    bad "cwd is a file" "chdir to cwd"
    b=$(new_bundle)
    cfg "$b" '.linux.sysctl = {"net.ipv4.bogus_key": "1"}'
    bad "unknown sysctl" "sysctl net.ipv4.bogus_key"
}

t_symlink_escape() {
    # a rootfs whose mount target is a symlink to the host's /: the mount lands inside the rootfs
    b=$(new_bundle_own_rootfs)
    ln -s / "$b/rootfs/evil"
    ln -s ../../../../../../../../../../tmp "$b/rootfs/evil2"
    mkdir -p "$WORK/src"; echo inside >"$WORK/src/marker"
    cfg "$b" '.mounts += [{"destination": "/evil/berth-escape-test", "type": "bind", "source": $s, "options": ["bind"]},
                          {"destination": "/evil2/berth-escape-test2", "type": "bind", "source": $s, "options": ["bind"]}]' --arg s "$WORK/src"
    run_probe "$b" cat /berth-escape-test/marker
    expect_eq "a symlink to / resolves inside the rootfs" "$OUT" inside
    expect_true "nothing was created on the host's /" test ! -e /berth-escape-test
    expect_true "nothing was created on the host's /tmp" test ! -e /tmp/berth-escape-test2
    expect_true "the targets were made inside the rootfs" test -d "$b/rootfs/berth-escape-test" -a -d "$b/rootfs/tmp/berth-escape-test2"
    # regression: a dangling symlink as mount target (systemd images' /etc/resolv.conf)
    b=$(new_bundle_own_rootfs)
    ln -s ../run/resolve/stub-resolv.conf "$b/rootfs/etc/resolv.conf"
    echo "nameserver 127.0.0.53" >"$WORK/resolv.conf"
    cfg "$b" '.mounts += [{"destination": "/etc/resolv.conf", "type": "bind", "source": $s, "options": ["bind", "ro"]}]' --arg s "$WORK/resolv.conf"
    run_probe "$b" cat /etc/resolv.conf
    expect_eq "a bind mount onto a dangling symlink lands on its target, inside the rootfs" "$OUT" "nameserver 127.0.0.53"
    expect_true "the target file was made inside the rootfs" test -f "$b/rootfs/run/resolve/stub-resolv.conf"
}

run_tests
