#!/bin/bash
# cgroups: limits seen from inside the container, on this hybrid host (v1 hierarchies plus a
# cgroup2 mount) and in unified (v2) mode on the cgroup2 mount alone.
. "$(dirname "$0")/lib.sh"

V2=/sys/fs/cgroup/unified

t_v1_limits() {
    local b; b=$(new_bundle)
    cfg "$b" '.linux.cgroupsPath = $p | .linux.resources += {
        "memory": {"limit": 67108864, "reservation": 33554432},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
        "pids": {"limit": 20},
        "blockIO": {"weight": 200}}' --arg p "/$PFX-cg1"
    run_probe "$b" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    expect_eq "memory limit inside the container" "$OUT" 67108864
    run_probe "$b" cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes
    expect_eq "memory reservation" "$OUT" 33554432
    run_probe "$b" cat /sys/fs/cgroup/cpu/cpu.shares
    expect_eq "cpu shares" "$OUT" 512
    run_probe "$b" cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us
    expect_eq "cpu quota" "$OUT" 50000
    run_probe "$b" cat /sys/fs/cgroup/cpuset/cpuset.cpus
    expect_eq "cpuset" "$OUT" 0
    run_probe "$b" cat /sys/fs/cgroup/pids/pids.max
    expect_eq "pids limit" "$OUT" 20
    run_probe "$b" cgroup
    expect_true "in its cgroup namespace the container's cgroup is /" grep -q '^[0-9]*:memory:/$' <<<"$OUT"
    run_probe "$b" fork 50 1
    expect_match "pids limit stops a fork bomb" "$OUT" "forked=1[0-9] errno=EAGAIN"
    run_probe "$b" mem 200
    expect_rc "a memory hog over the limit is OOM-killed" "$RC" 137
    if [ -e /sys/fs/cgroup/blkio/blkio.bfq.weight ] || [ -e /sys/fs/cgroup/blkio/blkio.weight ]; then
        run_probe "$b" cat /sys/fs/cgroup/blkio/blkio.bfq.weight
        [ "$RC" = 0 ] || run_probe "$b" cat /sys/fs/cgroup/blkio/blkio.weight
        expect_match "blkio weight" "$OUT" "200"
    fi
}

t_v1_devices() {
    local b; b=$(new_bundle)
    cfg "$b" '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]
              | .linux.resources.devices = [{"allow": false, "access": "rwm"}]'
    run_probe "$b" open /dev/kmsg w
    expect_eq "a device in linux.devices is allowed" "$OUT" ok
    cfg "$b" '.linux.resources.devices += [{"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]
              | .linux.devices = [] | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
    args "$b" /bin/sh -c 'mknod /dev/kmsg2 c 1 11 && /probe open /dev/kmsg2 w'
    run_bundle "$b"
    expect_match "the device cgroup denies a node made inside" "$OUT" "errno=EPERM"
    run_probe "$b" open /dev/null w
    expect_eq "default devices stay allowed" "$OUT" ok
}

t_update_and_stats() {
    local b id; b=$(new_bundle); id=$(new_id)
    cfg "$b" '.linux.resources.memory = {"limit": 67108864}'
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id"
    rt update --memory 100m --memory-swap 200m --cpu-shares 300 --pids-limit 77 "$id"
    expect_eq "update --memory" "$(rt exec "$id" /probe cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" 104857600
    expect_eq "update --memory-swap" "$(rt exec "$id" /probe cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo 209715200)" 209715200
    expect_eq "update --cpu-shares" "$(rt exec "$id" /probe cat /sys/fs/cgroup/cpu/cpu.shares)" 300
    expect_eq "update --pids-limit" "$(rt exec "$id" /probe cat /sys/fs/cgroup/pids/pids.max)" 77
    local st; st=$(rt events --stats "$id")
    expect_match "stats: memory usage" "$(jq .data.memory.usage.usage <<<"$st")" '^[1-9][0-9]*$'
    expect_eq "stats: pids current" "$(jq .data.pids.current <<<"$st")" 1
    expect_match "stats: cpu usage" "$(jq .data.cpu.usage.total <<<"$st")" '^[0-9]+$'
    out=$(timeout 5 "$RT" --root "$ROOT" events --interval 200ms "$id" | head -2)
    expect_eq "events --interval streams stats" "$(jq -r .type <<<"$out" | sort -u)" stats
    rt delete -f "$id"
    expect_true "delete removes the cgroup" test ! -d "/sys/fs/cgroup/memory/$id"
}

t_oom_event() {
    local b id; b=$(new_bundle); id=$(new_id)
    cfg "$b" '.linux.resources.memory = {"limit": 33554432}'
    args "$b" /bin/sh -c 'sleep 1; /probe mem 100; sleep 100'
    rt run -d --bundle "$b" "$id"
    out=$(timeout 8 "$RT" --root "$ROOT" events --interval 1s "$id" | grep -m1 '"oom"')
    expect_eq "events reports the OOM kill" "$(jq -r .type <<<"$out")" oom
    rt delete -f "$id"
}

t_systemd_cgroup_path() {
    local b id; b=$(new_bundle); id=$(new_id)
    # systemd's naming: a dash in a slice name nests it (a-b.slice is inside a.slice)
    cfg "$b" '.linux.cgroupsPath = $p' --arg p "$PFX-test.slice:berth:$id"
    args "$b" /probe sleep 100
    rt --systemd-cgroup run -d --bundle "$b" "$id"
    expect_true "--systemd-cgroup: slice:prefix:name becomes slice/prefix-name.scope" \
        test -d "/sys/fs/cgroup/pids/$PFX.slice/$PFX-test.slice/berth-$id.scope"
    rt delete -f "$id"
    expect_true "and the scope is removed" test ! -d "/sys/fs/cgroup/pids/$PFX.slice/$PFX-test.slice/berth-$id.scope"
    local d
    for d in /sys/fs/cgroup/*/"$PFX.slice"; do
        rmdir "$d/$PFX-test.slice" "$d" 2>/dev/null
    done
}

# unified mode: only the cgroup2 mount (what a v2-only host offers; here it lacks most
# controllers, so memory/cpu/pids limits cannot be tested this way)
t_v2_unified() {
    local b id; b=$(new_bundle); id=$(new_id)
    export BERTH_CGROUP_MODE=unified BERTH_CGROUP2_ROOT=$V2
    cfg "$b" '.linux.resources.devices = [{"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]
              | .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]
              | .linux.resources.devices += [{"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwm"}]'
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id"
    expect_true "the cgroup is made on the cgroup2 mount" test -d "$V2/$id"
    local pid; pid=$(rt state "$id" | jq -r .pid)
    expect_true "the init is in it" grep -qx "$pid" "$V2/$id/cgroup.procs"
    rt pause "$id"
    expect_eq "pause through cgroup.freeze" "$(cat "$V2/$id/cgroup.freeze")" 1
    expect_eq "state paused (v2)" "$(rt state "$id" | jq -r .status)" paused
    rt resume "$id"
    expect_eq "resume (v2)" "$(rt state "$id" | jq -r .status)" running
    rt exec -d "$id" /probe sleep 100
    expect_eq "ps in v2 lists init and exec'd process" "$(rt ps --format json "$id" | jq length)" 2
    rt kill --all "$id" KILL
    wait_for test "$(rt state "$id" | jq -r .status)" = stopped
    expect_eq "kill --all through cgroup.kill (v2)" "$(rt state "$id" | jq -r .status)" stopped
    rt delete "$id"
    expect_true "delete removes the v2 cgroup" test ! -d "$V2/$id"
    # the eBPF device filter
    b=$(new_bundle)
    cfg "$b" '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]
              | .linux.resources.devices = [{"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "r"}]'
    run_probe "$b" open /dev/kmsg r
    expect_match "v2 eBPF device filter denies a device" "$OUT" "errno=EPERM"
    run_probe "$b" open /dev/kmsg w
    expect_eq "v2 eBPF device filter: only the denied access" "$OUT" ok
    run_probe "$b" open /dev/null w
    expect_eq "v2 eBPF device filter allows the rest" "$OUT" ok
    # limits for controllers the mount lacks are refused clearly, leaving nothing behind
    b=$(new_bundle)
    cfg "$b" '.linux.resources.memory = {"limit": 67108864}'
    run_probe "$b" true
    expect_rc "memory limit without a v2 memory controller fails" "$RC" 1
    expect_match "and names the controller" "$ERR" "controller memory is not available"
    expect_clean "nothing left behind after the refusal"
    # hugetlb lives on cgroup2 on this host
    local hp; hp=$(ls /sys/kernel/mm/hugepages 2>/dev/null | sort -V | head -1)
    if [ -n "$hp" ] && grep -qw hugetlb "$V2/cgroup.controllers"; then
        local kb=${hp#hugepages-}; kb=${kb%kB}
        local size=$((kb / 1024))MB
        b=$(new_bundle); id=$(new_id)
        cfg "$b" '.linux.resources.hugepageLimits = [{"pageSize": $s, "limit": 4194304}]' --arg s "$size"
        args "$b" /probe sleep 100
        rt run -d --bundle "$b" "$id"
        expect_eq "hugetlb limit on cgroup2" "$(cat "$V2/$id/hugetlb.$size.max")" 4194304
        rt delete -f "$id"
    fi
    unset BERTH_CGROUP_MODE BERTH_CGROUP2_ROOT
}

t_hybrid_hugetlb() {
    local hp; hp=$(ls /sys/kernel/mm/hugepages 2>/dev/null | sort -V | head -1)
    [ -n "$hp" ] && grep -qw hugetlb "$V2/cgroup.controllers" || return 0
    local kb=${hp#hugepages-}; kb=${kb%kB}
    local size=$((kb / 1024))MB b id; b=$(new_bundle); id=$(new_id)
    cfg "$b" '.linux.resources.hugepageLimits = [{"pageSize": $s, "limit": 2097152}] | .linux.resources.memory = {"limit": 67108864}' --arg s "$size"
    args "$b" /probe sleep 100
    rt run -d --bundle "$b" "$id"
    expect_eq "hybrid: hugetlb goes to cgroup2" "$(cat "$V2/$id/hugetlb.$size.max")" 2097152
    expect_eq "hybrid: memory goes to v1" "$(cat "/sys/fs/cgroup/memory/$id/memory.limit_in_bytes")" 67108864
    rt delete -f "$id"
}

run_tests
