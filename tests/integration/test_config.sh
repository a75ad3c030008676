#!/bin/bash
# Every section of config.json, each asserted from inside the container with the probe.
. "$(dirname "$0")/lib.sh"

t_namespaces() {
    local b; b=$(new_bundle)
    run_probe "$b" ns
    local host_net; host_net=$(readlink /proc/self/ns/net)
    local c_net; c_net=$(grep '^net=' <<<"$OUT" | cut -d= -f2)
    expect_true "a new network namespace" test -n "$c_net" -a "$c_net" != "$host_net"
    for ns in pid ipc uts mnt cgroup; do
        local h c; h=$(readlink /proc/self/ns/$ns); c=$(grep "^$ns=" <<<"$OUT" | cut -d= -f2)
        expect_true "a new $ns namespace" test -n "$c" -a "$c" != "$h"
    done
    expect_eq "the user namespace is the host's" "$(grep '^user=' <<<"$OUT" | cut -d= -f2)" "$(readlink /proc/self/ns/user)"
    # without a network namespace entry: the host's
    cfg "$b" '.linux.namespaces |= map(select(.type != "network"))'
    run_probe "$b" ns
    expect_eq "no network entry: host network namespace" "$(grep '^net=' <<<"$OUT" | cut -d= -f2)" "$(readlink /proc/self/ns/net)"
    # joined by path: a namespace the test made
    ip netns add "$PFX-ns"
    cfg "$b" '.linux.namespaces += [{"type": "network", "path": $p}]' --arg p "/var/run/netns/$PFX-ns"
    run_probe "$b" ns
    expect_eq "network namespace joined by path" "$(grep '^net=' <<<"$OUT" | cut -d= -f2)" "$(ip netns exec "$PFX-ns" readlink /proc/self/ns/net)"
    ip netns del "$PFX-ns"
    # time namespace with offsets
    b=$(new_bundle)
    cfg "$b" '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}}'
    run_probe "$b" time
    local host_boot; host_boot=$(awk '{print int($1)}' /proc/uptime)
    local cboot; cboot=$(sed -E 's/.*boottime=([0-9]+).*/\1/' <<<"$OUT")
    expect_true "time namespace boottime offset of a day" test "$((cboot - host_boot))" -ge 86390 -a "$((cboot - host_boot))" -le 86410
}

t_user_namespace() {
    local b; b=$(new_bundle_own_rootfs)
    chown -R 100000:100000 "$b/rootfs"
    cfg "$b" '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    run_probe "$b" cat /proc/self/uid_map
    expect_rc "a container in a user namespace runs" "$RC" 0
    expect_match "uid_map inside" "$(tr -s ' ' <<<"$OUT")" "^ 0 100000 65536"
    run_probe "$b" id
    expect_match "root inside the user namespace" "$OUT" "^uid=0 gid=0"
    args "$b" /probe sleep 100
    local id; id=$(new_id)
    rt run -d --bundle "$b" "$id"
    local pid; pid=$(rt state "$id" | jq -r .pid)
    expect_eq "the init runs as host uid 100000" "$(awk '/^Uid:/{print $2}' /proc/$pid/status)" 100000
    expect_eq "exec in a user namespace container" "$(rt exec "$id" /probe id | cut -d' ' -f1)" "uid=0"
    rt delete -f "$id"
}

t_mounts() {
    local b; b=$(new_bundle)
    mkdir -p "$WORK/share/sub"; echo shared >"$WORK/share/file"; echo sub >"$WORK/share/sub/f"
    mount -t tmpfs none "$WORK/share/sub" && echo inner >"$WORK/share/sub/inner"
    cfg "$b" '.mounts += [
        {"destination": "/bind", "type": "bind", "source": $s, "options": ["bind", "ro"]},
        {"destination": "/rbind", "type": "none", "source": $s, "options": ["rbind", "nosuid", "nodev"]},
        {"destination": "/onefile", "type": "bind", "source": ($s + "/file"), "options": ["bind"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "noexec"]},
        {"destination": "/deep/new/dir", "type": "tmpfs", "source": "tmpfs"}]' --arg s "$WORK/share"
    run_probe "$b" cat /bind/file
    expect_eq "bind mount content" "$OUT" shared
    run_probe "$b" statfs /bind
    expect_match "bind mount ro" "$OUT" "ro=1"
    run_probe "$b" write /bind/x y
    expect_match "write to ro bind fails" "$OUT" "errno=EROFS"
    run_probe "$b" cat /rbind/sub/inner
    expect_eq "rbind carries submounts" "$OUT" inner
    run_probe "$b" cat /bind/sub/inner
    expect_rc "plain bind does not carry submounts" "$RC" 1
    run_probe "$b" statfs /rbind
    expect_match "rbind nosuid nodev" "$OUT" "nosuid=1 nodev=1"
    run_probe "$b" cat /onefile
    expect_eq "file bind mount" "$OUT" shared
    run_probe "$b" stat /scratch
    expect_match "tmpfs mode=700" "$OUT" "type=dir mode=0700"
    run_probe "$b" statfs /scratch
    expect_match "tmpfs noexec" "$OUT" "noexec=1"
    run_probe "$b" stat /deep/new/dir
    expect_match "missing mount points are created" "$OUT" "type=dir"
    expect_true "no mount point was created on the host's rootfs by the test rootfs" test -d "$BASE/rootfs/deep/new/dir"
    run_probe "$b" mounts
    expect_match "proc mounted" "$OUT" $'\n/proc proc '
    expect_match "devpts mounted" "$OUT" "/dev/pts devpts .*newinstance|/dev/pts devpts"
    expect_match "mqueue mounted" "$OUT" "/dev/mqueue mqueue"
    expect_match "sysfs read-only" "$OUT" "/sys sysfs ro,"
    expect_match "cgroup mount: the container's cgroups" "$OUT" "/sys/fs/cgroup/memory cgroup ro|/sys/fs/cgroup cgroup2"
    run_probe "$b" mqueue
    expect_eq "mqueue works" "$OUT" ok
    umount "$WORK/share/sub"
}

t_mount_propagation() {
    local b; b=$(new_bundle)
    mkdir -p "$WORK/prop"
    mount -t tmpfs none "$WORK/prop"; mount --make-shared "$WORK/prop"
    cfg "$b" '.mounts += [{"destination": "/prop", "type": "bind", "source": $s, "options": ["rbind", "rslave"]}]' --arg s "$WORK/prop"
    args "$b" /bin/sh -c 'sleep 0.5; cat /prop/later/f'
    local id; id=$(new_id)
    rt run -d --bundle "$b" "$id" >"$WORK/prop.out" 2>&1
    mkdir "$WORK/prop/later"; mount -t tmpfs none "$WORK/prop/later"; echo propagated >"$WORK/prop/later/f"
    wait_for test "$(rt state "$id" | jq -r .status)" = stopped
    expect_eq "rslave: host mounts propagate into the container" "$(cat "$WORK/prop.out")" propagated
    rt delete -f "$id"
    umount "$WORK/prop/later"; umount "$WORK/prop"
    # rootfsPropagation private: nothing from the container reaches the host
    b=$(new_bundle)
    cfg "$b" '.linux.rootfsPropagation = "private"'
    run_probe "$b" true
    expect_rc "rootfsPropagation private" "$RC" 0
}

t_rootfs_readonly() {
    local b; b=$(new_bundle)
    cfg "$b" '.root.readonly = true'
    run_probe "$b" write /newfile x
    expect_match "read-only rootfs refuses writes" "$OUT" "errno=EROFS"
    run_probe "$b" write /dev/shm/x ok
    expect_eq "but its tmpfs mounts are writable" "$OUT" ok
}

t_masked_readonly_paths() {
    local b; b=$(new_bundle)
    run_probe "$b" cat /proc/kcore
    expect_eq "masked file reads empty" "$OUT" ""
    run_probe "$b" ls /sys/firmware
    expect_eq "masked directory is empty" "$OUT" ""
    run_probe "$b" write /proc/sys/kernel/hostname x
    expect_match "readonly /proc/sys" "$OUT" "errno=EROFS"
    cfg "$b" '.linux.maskedPaths += ["/etc/passwd", "/does/not/exist"] | .linux.readonlyPaths += ["/tmp"]'
    run_probe "$b" cat /etc/passwd
    expect_eq "masked file of the image" "$OUT" ""
    run_probe "$b" write /tmp/x y
    expect_match "readonly path of the image" "$OUT" "errno=EROFS"
}

t_devices() {
    local b; b=$(new_bundle)
    run_probe "$b" devices
    for d in "null c 1:3" "zero c 1:5" "full c 1:7" "random c 1:8" "urandom c 1:9" "tty c 5:0" "ptmx l pts/ptmx" "fd l /proc/self/fd" "stdin l /proc/self/fd/0" "stdout l /proc/self/fd/1" "stderr l /proc/self/fd/2"; do
        expect_true "default device /dev/${d%% *}" grep -qxF "$d" <<<"$OUT"
    done
    cfg "$b" '.linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 432, "uid": 1000, "gid": 1000}, {"path": "/dev/sub/kmsg", "type": "c", "major": 1, "minor": 11}]
        | .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]'
    run_probe "$b" stat /dev/mynull
    expect_eq "configured device node" "$OUT" "type=char mode=0660 uid=1000 gid=1000 rdev=1:3 size=0"
    run_probe "$b" stat /dev/sub/kmsg
    expect_match "device in a new subdirectory" "$OUT" "rdev=1:11"
}

t_hostname_domainname() {
    local b; b=$(new_bundle)
    cfg "$b" '.hostname = "h1" | .domainname = "example.test"'
    run_probe "$b" hostname
    expect_eq "hostname" "$OUT" h1
    run_probe "$b" domainname
    expect_eq "domainname" "$OUT" example.test
}

t_process() {
    local b; b=$(new_bundle)
    cfg "$b" '.process.env = ["PATH=/bin", "A=1", "B=two words"] | .process.cwd = "/tmp"'
    run_probe "$b" env
    expect_true "env A" grep -qx "A=1" <<<"$OUT"
    expect_true "env B" grep -qx "B=two words" <<<"$OUT"
    expect_true "HOME from /etc/passwd" grep -qx "HOME=/root" <<<"$OUT"
    run_probe "$b" pwd
    expect_eq "cwd" "$OUT" /tmp
    cfg "$b" '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [65534, 5], "umask": 63}'
    run_probe "$b" id
    expect_eq "user, additionalGids, umask" "$OUT" "uid=1000 gid=1000 euid=1000 egid=1000 groups=5,65534 umask=0077"
    run_probe "$b" env
    expect_true "HOME of uid 1000" grep -qx "HOME=/home/user" <<<"$OUT"
    b=$(new_bundle)
    cfg "$b" '.process.env = ["PATH=/bin:/"]'
    args "$b" probe echo found-in-path
    OUT=$(rt run --bundle "$b" "$(new_id)")
    expect_eq "args[0] looked up in PATH" "$OUT" found-in-path
    args "$b" nosuchcommand
    OUT=$(rt run --bundle "$b" "$(new_id)" 2>&1); RC=$?
    expect_rc "missing executable fails create" "$RC" 1
    expect_match "runc's wording for a missing executable" "$OUT" 'exec: "nosuchcommand": executable file not found in \$PATH'
}

t_capabilities() {
    local b; b=$(new_bundle)
    # CHOWN=0 KILL=5 NET_RAW=13. As root, execve makes permitted and effective the bounding set
    # (no SECBIT_NOROOT), so what is observable from inside is bounding and inheritable; as a
    # non-root user, only the ambient set survives execve.
    cfg "$b" '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN", "CAP_NET_RAW"], "inheritable": ["CAP_KILL"], "ambient": []} | .process.noNewPrivileges = false'
    run_probe "$b" caps
    expect_match "bounding set" "$OUT" "CapBnd=0000000000002021"
    expect_match "inheritable set" "$OUT" "CapInh=0000000000000020"
    expect_match "root's effective set is its bounding set" "$OUT" "CapEff=0000000000002021"
    expect_match "ambient set empty" "$OUT" "CapAmb=0000000000000000"
    expect_match "no_new_privs off" "$OUT" "NoNewPrivs=0"
    cfg "$b" '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]} | .process.user = {"uid": 1000, "gid": 1000}'
    run_probe "$b" caps
    expect_match "non-root: ambient caps survive execve" "$OUT" "CapPrm=0000000000000020 CapEff=0000000000000020 CapBnd=0000000000002021 CapAmb=0000000000000020"
    cfg "$b" '.process.capabilities.ambient = [] | .process.capabilities.inheritable = []'
    run_probe "$b" caps
    expect_match "non-root without ambient: no capabilities" "$OUT" "CapPrm=0000000000000000 CapEff=0000000000000000"
    cfg "$b" '.process.noNewPrivileges = true'
    run_probe "$b" caps
    expect_match "noNewPrivileges" "$OUT" "NoNewPrivs=1"
    cfg "$b" '.process.capabilities.bounding += ["CAP_SYS_RESOURCE"] | .process.user = {"uid": 0, "gid": 0}'
    run_probe "$b" hascap SYS_RESOURCE
    expect_eq "a capability the host lacks is left out, not fatal" "$OUT" no
}

t_rlimits() {
    local b; b=$(new_bundle)
    cfg "$b" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 2048}, {"type": "RLIMIT_CORE", "soft": 0, "hard": "INFINITY"}, {"type": "RLIMIT_NPROC", "soft": 100, "hard": 200}]'
    local what
    for what in "NOFILE:soft=512 hard=2048" "CORE:soft=0 hard=unlimited" "NPROC:soft=100 hard=200"; do
        b=$(new_bundle)
        cfg "$b" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 2048}, {"type": "RLIMIT_CORE", "soft": 0, "hard": "INFINITY"}, {"type": "RLIMIT_NPROC", "soft": 100, "hard": 200}]'
        args "$b" /probe rlimit "${what%%:*}"
        # jq cannot print 2^64-1 exactly: put RLIM_INFINITY in as runc's spec writes it
        sed -i 's/"INFINITY"/18446744073709551615/' "$b/config.json"
        run_bundle "$b"
        expect_eq "RLIMIT_${what%%:*}" "$OUT" "${what#*:}"
    done
    cfg "$b" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1048576}]'
    run_probe "$b" true
    expect_rc "a hard limit above the host's fails" "$RC" 1
    expect_match "and names the limit" "$ERR" "RLIMIT_NOFILE.*CAP_SYS_RESOURCE"
    expect_eq "the error is one line" "$(wc -l <<<"$ERR")" 1
}

t_oom_score_adj() {
    local b; b=$(new_bundle)
    cfg "$b" '.process.oomScoreAdj = 500'
    run_probe "$b" oom
    expect_eq "oomScoreAdj raised" "$OUT" 500
    cfg "$b" '.process.oomScoreAdj = -500'
    run_probe "$b" oom
    if [ "$(cat /proc/self/oom_score_adj)" -le -500 ] || capsh --has-p=cap_sys_resource 2>/dev/null; then
        expect_eq "oomScoreAdj lowered" "$OUT" -500
    else
        expect_match "lowering without CAP_SYS_RESOURCE names the cause" "$ERR" "oomScoreAdj.*CAP_SYS_RESOURCE"
    fi
}

t_sysctl() {
    local b; b=$(new_bundle)
    cfg "$b" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789", "kernel.domainname": "sysctl.test"}'
    run_probe "$b" sysctl net.ipv4.ip_forward
    expect_eq "net sysctl in the container's namespace" "$OUT" 1
    expect_eq "host's untouched" "$(cat /proc/sys/net/ipv4/ip_forward)" "$(cat /proc/sys/net/ipv4/ip_forward)"
    run_probe "$b" shm
    expect_eq "ipc sysctl" "$OUT" 123456789
    run_probe "$b" domainname
    expect_eq "uts sysctl" "$OUT" sysctl.test
}

t_personality() {
    local b; b=$(new_bundle)
    cfg "$b" '.linux.personality = {"domain": "LINUX32"}'
    run_probe "$b" personality
    expect_eq "personality LINUX32" "$OUT" 0x8
}

t_annotations() {
    local b id; b=$(new_bundle); id=$(new_id)
    cfg "$b" '.annotations = {"org.example.key": "value"}'
    args "$b" /probe sleep 100
    rt create --bundle "$b" "$id"
    expect_eq "annotations in state" "$(rt state "$id" | jq -r '.annotations["org.example.key"]')" value
    rt delete -f "$id"
}

t_terminal() {
    local b id; b=$(new_bundle); id=$(new_id)
    cfg "$b" '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 77}'
    args "$b" /probe tty
    local out; out=$(script -qfec "$RT --root $ROOT run --bundle $b $id" /dev/null </dev/null | tr -d '\r')
    expect_match "run -t: stdio is the container's pty" "$out" "stdin=1 stdout=1 stderr=1 ttyname=/dev/pts/0"
    expect_match "consoleSize" "$out" "rows=33 cols=77"
    out=$(rt create --bundle "$b" "$(new_id)" 2>&1)
    expect_match "terminal without --console-socket is refused for create" "$out" "console socket"
}

t_console_socket() {
    local b id sock; b=$(new_bundle); id=$(new_id); sock=$WORK/console.sock
    cfg "$b" '.process.terminal = true'
    args "$b" /bin/sh -c '/probe tty; sleep 0.2'
    "${BUILD:-$TOP/build}/recvtty" "$sock" >"$WORK/tty.out" &
    local rpid=$!
    wait_for grep -q listening "$WORK/tty.out"
    rt create --console-socket "$sock" --bundle "$b" "$id"
    expect_rc "create --console-socket" $? 0
    expect_match "the pty master arrives over the socket" "$(cat "$WORK/tty.out")" "received /dev/pts/"
    rt start "$id"
    wait "$rpid"
    expect_match "the container's stdio is that terminal" "$(tr -d '\r' <"$WORK/tty.out")" "stdin=1 stdout=1 stderr=1 ttyname=/dev/pts/0"
    rt delete -f "$id"
    # exec --tty --console-socket
    b=$(new_bundle); id=$(new_id)
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id"
    "${BUILD:-$TOP/build}/recvtty" "$sock" >"$WORK/tty2.out" &
    rpid=$!
    wait_for grep -q listening "$WORK/tty2.out"
    rt exec -t -d --console-socket "$sock" "$id" /probe tty
    expect_rc "exec --tty --detach --console-socket" $? 0
    wait "$rpid"
    expect_match "exec'd process has its own terminal" "$(tr -d '\r' <"$WORK/tty2.out")" "stdin=1 stdout=1 stderr=1 ttyname=/dev/pts/[0-9]"
    rt delete -f "$id"
}

t_fd_leaks_and_preserve() {
    local b; b=$(new_bundle)
    exec 7>"$WORK/leak"
    run_probe "$b" fds
    exec 7>&-
    expect_eq "no fd beyond stdio reaches the container" "$(grep -cv '^[012] ' <<<"$OUT")" 0
    exec 3<"$BASE/config.json"
    args "$b" /probe fds
    OUT=$(rt run --preserve-fds 1 --bundle "$b" "$(new_id)")
    exec 3<&-
    expect_match "--preserve-fds 1 keeps fd 3" "$OUT" "3 -> $BASE/config.json"
}

t_cve_2019_5736() {
    local b id pid; b=$(new_bundle)
    local before; before=$(sha256sum "$RT" | cut -d' ' -f1)
    # a runtime process that a container could reach: `run` waits in the foreground
    args "$b" /probe sleep 2
    id=$(new_id)
    "$RT" --root "$ROOT" run --bundle "$b" "$id" &
    wait_for pgrep -f "run --bundle $b $id" >/dev/null
    pid=$(pgrep -f "run --bundle $b $id" | head -1)
    wait_for test -s "$ROOT/$id/state.json"
    exec 9</proc/"$pid"/exe
    expect_eq "the runtime's own binary cannot be opened for writing while it runs" "$("$PROBE" open /proc/"$pid"/exe w)" "errno=ETXTBSY"
    wait
    # the attack: keep a handle on /proc/<runtime>/exe and reopen it for writing once it exited
    expect_eq "a kept handle on the runtime's exe reopens read-only (EROFS)" "$("$PROBE" open /proc/self/fd/9 w)" "errno=EROFS"
    exec 9<&-
    # the same from inside a container, through exec
    args "$b" /probe sleep 100
    id=$(new_id)
    rt run -d --bundle "$b" "$id"
    rt exec "$id" /bin/sh -c 'for p in /proc/[0-9]*; do /probe open $p/exe w; done' >/dev/null
    rt delete -f "$id"
    expect_eq "the runtime binary is unchanged" "$(sha256sum "$RT" | cut -d' ' -f1)" "$before"
    # the memfd fallback (kernels without mount_setattr) gives the same protection
    args "$b" /probe sleep 2
    id=$(new_id)
    BERTH_REEXEC=memfd "$RT" --root "$ROOT" run --bundle "$b" "$id" &
    wait_for pgrep -f "run --bundle $b $id" >/dev/null
    pid=$(pgrep -f "run --bundle $b $id" | head -1)
    wait_for test -s "$ROOT/$id/state.json"
    expect_match "memfd fallback: the runtime runs from a memfd" "$(readlink /proc/"$pid"/exe)" "memfd:berth-runtime"
    wait
}

t_seccomp() {
    local b nnp; b=$(new_bundle)
    for nnp in true false; do
        cfg "$b" '.process.noNewPrivileges = ($n == "true") | .linux.seccomp = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
                {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"},
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                 "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_NE"}]},
                {"names": ["no_such_syscall_in_any_kernel"], "action": "SCMP_ACT_ERRNO"}]}' --arg n "$nnp"
        run_probe "$b" seccomp-test getcwd
        expect_eq "seccomp ERRNO defaults to EPERM (nnp=$nnp)" "$OUT" "ret=-1 errno=EPERM"
        run_probe "$b" seccomp-test uname
        expect_eq "seccomp errnoRet (nnp=$nnp)" "$OUT" "ret=-1 errno=ENOSYS"
        run_probe "$b" seccomp-test mkdir
        expect_rc "seccomp KILL_PROCESS ends the process with SIGSYS (nnp=$nnp)" "$RC" 159
        run_probe "$b" personality
        expect_eq "seccomp argument filter allows the query value (nnp=$nnp)" "$OUT" 0x0
        run_probe "$b" caps
        expect_match "the filter is installed (nnp=$nnp)" "$OUT" "Seccomp=2"
        run_probe "$b" seccomp-test getpid
        expect_match "other syscalls pass (nnp=$nnp)" "$OUT" "errno=0"
    done
    # a default-deny profile: it must allow what the runtime does between loading the filter and
    # execve (as with runc): sync messages, the start fifo, umask, the session keyring
    cfg "$b" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "syscalls": [{"names": ["read", "write", "exit", "exit_group", "execve", "brk", "arch_prctl", "mmap", "munmap", "mprotect", "close", "fstat", "newfstatat", "rt_sigaction", "rt_sigprocmask", "openat", "getpid", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "uname", "readlink", "getrandom", "capget", "capset", "prctl", "setgroups", "setresuid", "setresgid", "chdir", "close_range", "fcntl", "getcwd", "ioctl", "lseek", "dup2", "dup3", "futex", "sigaltstack", "sendmsg", "recvmsg", "umask", "keyctl"], "action": "SCMP_ACT_ALLOW"}]}'
    run_probe "$b" seccomp-test clone3
    expect_match "a syscall the profile does not know gets ENOSYS (clone3), so libc falls back" "$OUT" "errno=ENOSYS"
    run_probe "$b" seccomp-test getcwd
    expect_eq "allowed syscall under a default-deny profile" "$OUT" "ret=2 errno=0"
}

run_tests
