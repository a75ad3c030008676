#!/bin/bash
# The spec generator (lib/container/spec_gen*) end to end: specs made from Docker-style Config and
# HostConfig by tests/helpers/specgen run under berth-runtime, checked from inside with the probe:
# Docker's default capabilities, seccomp (mode 2, EPERM for what the profile denies, ENOSYS for
# syscalls newer than the profile), masked and read-only paths, ulimits, users and groups, a
# read-only root with tmpfs, resources, --init (reaping, exit status, signal forwarding).
. "$(dirname "$0")/lib.sh"

SPECGEN=$BUILD/specgen
INIT=$BUILD/berth-init
for bin in "$SPECGEN" "$INIT" "$BUILD/probe"; do
    [ -x "$bin" ] || { echo "not ok - $bin is not built (make B=... all)"; exit 1; }
done
# this build's probe (with the modes this suite uses), and a group the user is a member of
cp "$BUILD/probe" "$BASE/rootfs/probe"
printf 'staff:x:50:user\n' >>"$BASE/rootfs/etc/group"

# gen CONFIG HOSTCONFIG [specgen args...]: a bundle made by the spec generator; prints its path
gen() {
    local c=$1 h=$2 b; shift 2
    b=$WORK/b$(next_seq)
    mkdir -p "$b"
    printf '%s' "$c" >"$b/in-config.json"
    printf '%s' "$h" >"$b/in-hostconfig.json"
    "$SPECGEN" --rootfs "$BASE/rootfs" --config "$b/in-config.json" \
        --host-config "$b/in-hostconfig.json" --cgroups-path "/$PFX-$(next_seq)" \
        --id "$(printf '%064d' "$(next_seq)")" "$@" >"$b/config.json" 2>"$b/specgen.err" || {
        echo "specgen failed: $(cat "$b/specgen.err")" >&2
        return 1
    }
    echo "$b"
}
# run_gen CONFIG HOSTCONFIG [specgen args...]: generates and runs; $OUT, $RC, $ERR
run_gen() {
    local b
    b=$(gen "$@") || { OUT="" RC=99 ERR="specgen failed"; return; }
    run_bundle "$b"
}
probe_cmd() { # probe_cmd ARGS... -> a Config JSON running /probe ARGS
    jq -cn --args '{Cmd: (["/probe"] + $ARGS.positional)}' "$@"
}

t_default_caps() {
    run_gen "$(probe_cmd caps)" '{}'
    expect_match "default caps: CapEff is Docker's 14 (a80425fb)" "$OUT" "CapEff=00000000a80425fb"
    expect_match "default caps: the bounding set too" "$OUT" "CapBnd=00000000a80425fb"
    expect_match "no inheritable or ambient capabilities" "$OUT" "CapInh=0000000000000000 .*CapAmb=0000000000000000"
    expect_match "seccomp filter mode 2" "$OUT" "Seccomp=2"
    expect_match "no_new_privs off by default" "$OUT" "NoNewPrivs=0"
    run_gen "$(probe_cmd caps)" '{"CapAdd": ["sys_admin"], "CapDrop": ["CAP_NET_RAW", "mknod"], "SecurityOpt": ["no-new-privileges"]}'
    # a80425fb + SYS_ADMIN (bit 21) - NET_RAW (13) - MKNOD (27)
    expect_match "CapAdd/CapDrop applied" "$OUT" "CapEff=00000000a02405fb"
    expect_match "no-new-privileges" "$OUT" "NoNewPrivs=1"
    run_gen "$(probe_cmd caps)" '{"SecurityOpt": ["seccomp=unconfined"]}'
    expect_match "seccomp=unconfined: no filter" "$OUT" "Seccomp=0"
    run_gen "$(probe_cmd caps)" '{"Privileged": true}'
    expect_match "privileged: no seccomp" "$OUT" "Seccomp=0"
    expect_eq "privileged: the runtime's whole bounding set" \
        "$(sed -E 's/.*CapEff=([0-9a-f]+).*/\1/' <<<"$OUT")" \
        "$(awk '/^CapBnd/ {print $2}' /proc/self/status)"
}

t_seccomp_profile() {
    local c
    for c in "seccomp-test mount" "seccomp-test unshare" "seccomp-test keyctl" "seccomp-test reboot"; do
        # shellcheck disable=SC2086
        run_gen "$(probe_cmd $c)" '{}'
        expect_eq "default profile denies ${c#seccomp-test } with EPERM" "$OUT" "ret=-1 errno=EPERM"
    done
    run_gen "$(probe_cmd seccomp-test clone3)" '{}'
    expect_eq "clone3 answers ENOSYS without CAP_SYS_ADMIN" "$OUT" "ret=-1 errno=ENOSYS"
    run_gen "$(probe_cmd seccomp-test getpid)" '{}'
    expect_match "an allowed syscall passes" "$OUT" "errno=0"
    run_gen "$(probe_cmd seccomp-test mount)" '{"CapAdd": ["SYS_ADMIN"]}'
    expect_eq "with CAP_SYS_ADMIN mount reaches the kernel (EFAULT)" "$OUT" "ret=-1 errno=EFAULT"
    run_gen "$(probe_cmd seccomp-test personality)" '{}'
    expect_match "personality query allowed (argument rule)" "$OUT" "errno=0"
}

t_enosys_unknown_syscalls() {
    # 463 is newer than the profile (setxattrat on 6.13+, nothing before): ENOSYS, not the
    # default EPERM, so a libc falls back; a number no kernel has, too
    run_gen "$(probe_cmd syscall 463)" '{}'
    expect_eq "a syscall newer than the profile answers ENOSYS" "$OUT" "ret=-1 errno=ENOSYS"
    run_gen "$(probe_cmd syscall 1000)" '{}'
    expect_eq "a number beyond every kernel answers ENOSYS" "$OUT" "ret=-1 errno=ENOSYS"
    # kexec_load (246) is below the profile's last syscall and not allowed: EPERM
    run_gen "$(probe_cmd syscall 246)" '{}'
    expect_eq "a syscall the profile leaves out (kexec_load) answers EPERM" "$OUT" "ret=-1 errno=EPERM"
    local prof='{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write","exit","exit_group","execve","brk","arch_prctl","mmap","munmap","mprotect","close","fstat","newfstatat","rt_sigaction","rt_sigprocmask","openat","getpid","set_tid_address","set_robust_list","rseq","prlimit64","uname","readlink","getrandom","capget","capset","prctl","setgroups","setresuid","setresgid","chdir","close_range","fcntl","getcwd","ioctl","lseek","dup2","dup3","futex","sigaltstack","sendmsg","recvmsg","umask","keyctl"],"action":"SCMP_ACT_ALLOW"}]}'
    run_gen "$(probe_cmd syscall 437)" "$(jq -cn --arg p "$prof" '{SecurityOpt: ["seccomp=" + $p]}')"
    expect_eq "custom profile: above its last syscall (close_range 436): ENOSYS" "$OUT" "ret=-1 errno=ENOSYS"
    run_gen "$(probe_cmd syscall 435)" "$(jq -cn --arg p "$prof" '{SecurityOpt: ["seccomp=" + $p]}')"
    expect_eq "custom profile: clone3 (435, below) gets ENOSYS too" "$OUT" "ret=-1 errno=ENOSYS"
    run_gen "$(probe_cmd syscall 110)" "$(jq -cn --arg p "$prof" '{SecurityOpt: ["seccomp=" + $p]}')"
    expect_eq "custom profile: getppid (below, not listed): EPERM" "$OUT" "ret=-1 errno=EPERM"
}

t_masked_paths() {
    run_gen "$(probe_cmd stat /proc/keys)" '{}'
    expect_match "/proc/keys masked by /dev/null" "$OUT" "type=char .*rdev=1:3"
    run_gen "$(probe_cmd ls /sys/firmware)" '{}'
    expect_eq "/sys/firmware masked by an empty directory" "$OUT" ""
    run_gen "$(probe_cmd open /proc/sys/kernel/hostname w)" '{}'
    expect_match "/proc/sys read-only" "$OUT" "errno=EROFS"
    run_gen "$(probe_cmd mounts)" '{}'
    expect_match "/proc/bus, /proc/fs, /proc/irq mounted read-only" \
        "$(awk '$1 == "/proc/bus" || $1 == "/proc/fs" || $1 == "/proc/irq" {print $3}' <<<"$OUT" | cut -c1-3 | sort -u)" "^ro,$"
    run_gen "$(probe_cmd stat /proc/keys)" '{"Privileged": true}'
    expect_nomatch "privileged: /proc/keys not masked" "$OUT" "rdev=1:3"
    run_gen "$(probe_cmd open /dev/fuse r)" '{}'
    expect_nomatch "the device cgroup does not allow fuse" "$OUT" "^ok"
}

t_ulimits() {
    local hard want
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge 1048576 ]; then want=1048576; else want=$hard; fi
    # raising the hard limit (CAP_SYS_RESOURCE) is what lets the daemon grant 1048576
    (ulimit -Hn 1048576) 2>/dev/null && want=1048576
    run_gen "$(probe_cmd rlimit nofile)" '{}'
    expect_eq "default RLIMIT_NOFILE (1048576 or the host's hard limit)" "$OUT" "soft=$want hard=$want"
    run_gen "$(probe_cmd rlimit nofile)" '{"Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]}'
    expect_eq "Ulimits nofile" "$OUT" "soft=1024 hard=2048"
    run_gen "$(probe_cmd rlimit core)" '{"Ulimits": [{"Name": "core", "Soft": -1, "Hard": -1}]}'
    expect_eq "Ulimits -1 is unlimited" "$OUT" "soft=unlimited hard=unlimited"
}

t_user_groups() {
    run_gen "$(jq -cn '{Cmd: ["/probe", "id"], User: "user"}')" '{"GroupAdd": ["nogroup", "4000"]}'
    expect_match "User name resolved in the rootfs, groups from /etc/group + GroupAdd" "$OUT" \
        "^uid=1000 gid=1000 euid=1000 egid=1000 groups=50,4000,65534 "
    run_gen "$(jq -cn '{Cmd: ["/probe", "caps"], User: "user"}')" '{}'
    expect_match "a non-root user has no effective capabilities" "$OUT" "CapEff=0000000000000000"
    run_gen "$(jq -cn '{Cmd: ["/probe", "id"], User: "1000:nogroup"}')" '{}'
    expect_match "uid:group" "$OUT" "^uid=1000 gid=65534 .*groups= "
    run_gen "$(jq -cn '{Cmd: ["/probe", "id"], User: "4321:4321"}')" '{}'
    expect_match "numeric ids without passwd entries" "$OUT" "^uid=4321 gid=4321 "
    local b out rc
    b=$WORK/bu; mkdir -p "$b"
    echo '{"Cmd": ["/probe", "id"], "User": "ghost"}' >"$b/c.json"
    out=$("$SPECGEN" --rootfs "$BASE/rootfs" --config "$b/c.json" 2>&1); rc=$?
    expect_rc "an unknown user fails" "$rc" 1
    expect_eq "with moby's message" "$out" "unable to find user ghost: no matching entries in passwd file"
}

t_readonly_root_tmpfs() {
    local hc='{"ReadonlyRootfs": true, "Tmpfs": {"/tmp": "size=1m", "/run": "exec"}}'
    run_gen "$(probe_cmd write /newfile x)" "$hc"
    expect_match "read-only root: writing fails with EROFS" "$ERR$OUT" "Read-only file system|EROFS"
    run_gen "$(probe_cmd write /tmp/x hello)" "$hc"
    expect_rc "a --tmpfs on a read-only root is writable" "$RC" 0
    run_gen "$(probe_cmd statfs /tmp)" "$hc"
    expect_eq "--tmpfs: Docker's default flags (noexec, nosuid, nodev)" "$OUT" "ro=0 nosuid=1 nodev=1 noexec=1"
    run_gen "$(probe_cmd statfs /run)" "$hc"
    expect_eq "--tmpfs exec overrides noexec" "$OUT" "ro=0 nosuid=1 nodev=1 noexec=0"
    run_gen "$(probe_cmd mounts)" "$hc"
    expect_match "--tmpfs size" "$(awk '$1 == "/tmp"' <<<"$OUT")" "size=1024k"
    expect_match "/dev/shm is 64m" "$(awk '$1 == "/dev/shm"' <<<"$OUT")" "size=65536k"
    run_gen "$(probe_cmd mounts)" '{"ShmSize": 2097152, "Mounts": [{"Type": "tmpfs", "Target": "/scratch", "TmpfsOptions": {"SizeBytes": 3145728}}], "Binds": ["/etc:/hostetc:ro"]}'
    expect_match "ShmSize" "$(awk '$1 == "/dev/shm"' <<<"$OUT")" "size=2048k"
    expect_match "--mount type=tmpfs" "$(awk '$1 == "/scratch"' <<<"$OUT")" "size=3072k"
    expect_match "-v /etc:/hostetc:ro" "$(awk '$1 == "/hostetc"' <<<"$OUT")" "^/hostetc [a-z0-9]+ ro"
}

t_resources() {
    run_gen "$(probe_cmd cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" '{"Memory": 67108864}'
    if [ -d /sys/fs/cgroup/memory ]; then
        expect_eq "Memory -> the memory cgroup limit" "$OUT" 67108864
    fi
    run_gen "$(probe_cmd fork 20)" '{"PidsLimit": 8}'
    expect_match "PidsLimit caps forks" "$OUT" "errno=EAGAIN"
    run_gen "$(probe_cmd sysctl net.ipv4.ip_unprivileged_port_start)" '{}'
    expect_eq "Docker's default sysctl: unprivileged low ports" "$OUT" 0
    run_gen "$(probe_cmd oom)" '{"OomScoreAdj": 321}'
    expect_eq "OomScoreAdj" "$OUT" 321
    run_gen "$(jq -cn '{Cmd: ["/probe", "hostname"], Hostname: "web1"}')" '{}'
    expect_eq "Hostname" "$OUT" web1
    run_gen "$(jq -cn '{Cmd: ["/probe", "getenv", "HOSTNAME"], Env: ["A=1"]}')" '{}'
    expect_match "HOSTNAME env: the first 12 characters of the id" "$OUT" "^[0-9]{12}$"
}

t_init() {
    run_gen "$(probe_cmd zombies 3)" '{}'
    expect_eq "without --init, orphans stay zombies under the command (pid 1)" "$OUT" "zombies=3"
    run_gen "$(probe_cmd zombies 3)" '{"Init": true}' --init "$INIT"
    expect_eq "--init reaps every orphan" "$OUT" "zombies=0"
    run_gen "$(probe_cmd pid)" '{"Init": true}' --init "$INIT"
    expect_match "--init: the command runs as pid 2 under pid 1" "$OUT" "^pid=2 ppid=1 "
    run_gen "$(probe_cmd exit 42)" '{"Init": true}' --init "$INIT"
    expect_rc "--init passes the exit status through" "$RC" 42
    run_gen "$(probe_cmd die TERM)" '{"Init": true}' --init "$INIT"
    expect_rc "--init: killed by SIGTERM -> 143" "$RC" 143
    run_gen "$(probe_cmd die TERM)" '{}'
    expect_rc "(without --init pid 1 ignores its own SIGTERM)" "$RC" 0
    run_gen "$(probe_cmd readlink /proc/1/exe)" '{"Init": true}' --init "$INIT"
    expect_eq "--init is /sbin/docker-init" "$OUT" /sbin/docker-init

    # signals reach the command through the init
    local b id
    b=$(gen "$(probe_cmd sigtrap TERM)" '{"Init": true}' --init "$INIT")
    id=$(new_id)
    rt create --bundle "$b" "$id" >"$WORK/$id.out" 2>&1 </dev/null
    rt start "$id"
    wait_for grep -q ready "$WORK/$id.out"
    rt kill "$id" TERM
    wait_for test "$(rt state "$id" | jq -r .status)" = stopped
    expect_match "--init forwards SIGTERM to the command" "$(cat "$WORK/$id.out")" "got (SIG)?TERM"
    rt delete "$id"
}

t_spec_errors() {
    local b out rc
    b=$WORK/be; mkdir -p "$b"
    echo '{"Cmd": ["x"]}' >"$b/c.json"
    echo '{"Memory": 1024}' >"$b/h.json"
    out=$("$SPECGEN" --rootfs "$BASE/rootfs" --config "$b/c.json" --host-config "$b/h.json" 2>&1); rc=$?
    expect_rc "bad HostConfig refused" "$rc" 1
    expect_eq "moby's message" "$out" "Minimum memory limit allowed is 6MB"
    echo '{"CapAdd": ["CAP_FOO"]}' >"$b/h.json"
    out=$("$SPECGEN" --rootfs "$BASE/rootfs" --config "$b/c.json" --host-config "$b/h.json" 2>&1)
    expect_eq "unknown capability" "$out" 'unknown capability: "CAP_FOO"'
}

run_tests
