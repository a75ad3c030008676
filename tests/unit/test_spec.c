/* Unit tests of the config.json parser (lib/runtime/spec.c): a complete config lands in the
 * structs field by field, and every malformed or contradictory input is refused with a message
 * naming the cause. JSON is written with single quotes here and converted before parsing. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/spec.h"
#include "tap.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Swaps ' for " so that JSON reads well inside C strings. */
static char *
jq(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

/* Parses single-quoted JSON; returns the parse result, *ret and *err as given. */
static int
parse_q(const char *q, const char *bundle, struct berth_spec **ret, struct berth_error **err)
{
    _cleanup_free_ char *j = jq(q);
    return berth_spec_parse(j, strlen(j), bundle, ret, err);
}

static const char full_config[] =
    "{'ociVersion': '1.0.2-dev',"
    " 'process': {"
    "  'terminal': true, 'consoleSize': {'height': 25, 'width': 80},"
    "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6, 4294967295],"
    "           'username': 'app'},"
    "  'args': ['sh', '-c', 'echo hi'],"
    "  'env': ['PATH=/usr/bin:/bin', 'TERM=xterm', 'EMPTY='],"
    "  'cwd': '/home',"
    "  'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'],"
    "                   'effective': ['CAP_CHOWN'], 'inheritable': [],"
    "                   'permitted': ['CAP_CHOWN', 'CAP_KILL'], 'ambient': ['CAP_KILL']},"
    "  'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 4096, 'soft': 1024},"
    "              {'type': 'RLIMIT_CORE', 'hard': 18446744073709551615,"
    "               'soft': 18446744073709551615},"
    "              {'type': 'RLIMIT_STACK', 'hard': 9223372036854775808, 'soft': 8388608}],"
    "  'noNewPrivileges': true, 'oomScoreAdj': -500, 'apparmorProfile': 'docker-default',"
    "  'selinuxLabel': 'system_u:system_r:container_t:s0'},"
    " 'root': {'path': 'rootfs', 'readonly': true},"
    " 'hostname': 'box', 'domainname': 'example.org',"
    " 'mounts': ["
    "  {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
    "  {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',"
    "   'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},"
    "  {'destination': '/data', 'type': 'bind', 'source': '/srv/data',"
    "   'options': ['rbind', 'ro', 'rprivate']},"
    "  {'destination': 'run', 'type': 'tmpfs', 'source': 'tmpfs',"
    "   'options': ['ro', 'rw', 'noexec', 'tmpcopyup', 'rslave']},"
    "  {'destination': '/etc/hosts', 'source': '/h', 'options': ['bind', 'suid', 'nosuid']}],"
    " 'hooks': {"
    "  'prestart': [{'path': '/usr/bin/hook', 'args': ['hook', 'pre'], 'env': ['A=1'],"
    "                'timeout': 5}],"
    "  'createRuntime': [{'path': '/bin/a'}, {'path': '/bin/b'}],"
    "  'startContainer': null,"
    "  'poststop': [{'path': '/bin/c'}]},"
    " 'annotations': {'org.example.key': 'value', 'com.x': ''},"
    " 'linux': {"
    "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/x'},"
    "                 {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount', 'path': ''},"
    "                 {'type': 'user'}, {'type': 'cgroup'}, {'type': 'time'}],"
    "  'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
    "  'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 65536},"
    "                  {'containerID': 65536, 'hostID': 300000, 'size': 1}],"
    "  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,"
    "               'fileMode': 8630, 'uid': 0, 'gid': 5},"
    "              {'path': '/dev/fifo', 'type': 'p', 'uid': null}],"
    "  'cgroupsPath': '/berth/abc',"
    "  'resources': {"
    "   'devices': [{'allow': false, 'access': 'rwm'},"
    "               {'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rw'}],"
    "   'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': 1073741824,"
    "              'kernel': -1, 'kernelTCP': 0, 'swappiness': 60, 'disableOOMKiller': true,"
    "              'useHierarchy': false},"
    "   'cpu': {'shares': 1024, 'quota': 50000, 'burst': 1000, 'period': 100000,"
    "           'realtimeRuntime': 950, 'realtimePeriod': 1000, 'idle': 1, 'cpus': '0-1',"
    "           'mems': '0'},"
    "   'pids': {'limit': 100},"
    "   'blockIO': {'weight': 500, 'leafWeight': 300,"
    "               'weightDevice': [{'major': 8, 'minor': 0, 'weight': 600, 'leafWeight': 100}],"
    "               'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1048576}],"
    "               'throttleWriteBpsDevice': [{'major': 8, 'minor': 16, 'rate': 2097152}],"
    "               'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 100}],"
    "               'throttleWriteIOPSDevice': [{'major': 8, 'minor': 32, 'rate': 200}]},"
    "   'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200},"
    "                      {'pageSize': '1GB', 'limit': 18446744073709551615}],"
    "   'network': {'classID': 1048577},"
    "   'unified': {'memory.high': '400000000', 'io.weight': 'default 100'}},"
    "  'rootfsPropagation': 'rprivate',"
    "  'maskedPaths': ['/proc/kcore', '/sys/firmware'],"
    "  'readonlyPaths': ['/proc/sys'],"
    "  'sysctl': {'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000',"
    "             'fs.mqueue.msg_max': '20'},"
    "  'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
    "   'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],"
    "   'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
    "   'listenerPath': '/run/listener.sock', 'listenerMetadata': 'meta',"
    "   'syscalls': ["
    "    {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
    "    {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
    "     'args': [{'index': 0, 'value': 0, 'op': 'SCMP_CMP_EQ'},"
    "              {'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'}]},"
    "    {'names': ['clone'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38,"
    "     'args': [{'index': 0, 'value': 2114060288, 'valueTwo': 0,"
    "               'op': 'SCMP_CMP_MASKED_EQ'}]},"
    "    {'names': ['ptrace'], 'action': 'SCMP_ACT_NOTIFY', 'errnoRet': null,"
    "     'args': [{'index': 5, 'value': 18446744073709551615,"
    "               'valueTwo': 18446744073709551614, 'op': 'SCMP_CMP_GE'}]},"
    "    {'names': ['kill'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
    "    {'names': ['a'], 'action': 'SCMP_ACT_KILL'},"
    "    {'names': ['b'], 'action': 'SCMP_ACT_KILL_THREAD'},"
    "    {'names': ['c'], 'action': 'SCMP_ACT_TRAP'},"
    "    {'names': ['d'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 7},"
    "    {'names': ['e'], 'action': 'SCMP_ACT_LOG',"
    "     'args': [{'index': 1, 'value': 1, 'op': 'SCMP_CMP_NE'},"
    "              {'index': 2, 'value': 2, 'op': 'SCMP_CMP_LT'},"
    "              {'index': 3, 'value': 3, 'op': 'SCMP_CMP_LE'},"
    "              {'index': 4, 'value': 4, 'op': 'SCMP_CMP_GT'}]}]},"
    "  'personality': {'domain': 'LINUX32'},"
    "  'mountLabel': 'system_u:object_r:container_file_t:s0',"
    "  'timeOffsets': {'monotonic': {'secs': 10, 'nanosecs': 5}, 'boottime': {'secs': -3}}}}";

static const struct berth_kv *
kv_find(const struct berth_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key))
            return &kv[i];
    return NULL;
}

static bool
strv_eq(char **v, const char *const *expect)
{
    size_t i = 0;
    for (; expect[i]; i++)
        if (!v || !v[i] || strcmp(v[i], expect[i]))
            return false;
    return v ? v[i] == NULL : i == 0;
}

static void
test_full_process(const struct berth_spec_process *p)
{
    ok(p && p->terminal, "process.terminal");
    if (!p)
        return;
    ok(p->console_height == 25 && p->console_width == 80, "process.consoleSize");
    ok(p->user.uid == 1000 && p->user.gid == 1001, "process.user uid/gid");
    ok(p->user.has_umask && p->user.umask == 022, "process.user.umask");
    ok(p->user.n_additional_gids == 3 && p->user.additional_gids[0] == 5 &&
           p->user.additional_gids[2] == 4294967295u,
       "process.user.additionalGids");
    ok(strv_eq(p->args, (const char *const[]){"sh", "-c", "echo hi", NULL}), "process.args");
    ok(strv_eq(p->env, (const char *const[]){"PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY=", NULL}),
       "process.env");
    is_str(p->cwd, "/home", "process.cwd");
    ok(p->caps.set, "capabilities present");
    ok(p->caps.bounding == ((1ULL << 0) | (1ULL << 10) | (1ULL << 21)), "bounding set");
    ok(p->caps.effective == 1ULL && p->caps.inheritable == 0, "effective and inheritable");
    ok(p->caps.permitted == ((1ULL << 0) | (1ULL << 5)) && p->caps.ambient == (1ULL << 5),
       "permitted and ambient");
    ok(p->n_rlimits == 3, "three rlimits");
    if (p->n_rlimits == 3) {
        ok(p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 &&
               p->rlimits[0].hard == 4096,
           "RLIMIT_NOFILE 1024/4096");
        is_str(p->rlimits[0].name, "RLIMIT_NOFILE", "rlimit name kept");
        ok(p->rlimits[1].resource == RLIMIT_CORE && p->rlimits[1].soft == UINT64_MAX &&
               p->rlimits[1].hard == UINT64_MAX && p->rlimits[1].hard == RLIM_INFINITY,
           "RLIM_INFINITY as 18446744073709551615");
        ok(p->rlimits[2].hard == 9223372036854775808ULL && p->rlimits[2].soft == 8388608,
           "2^63 exactly");
    }
    ok(p->no_new_privileges, "noNewPrivileges");
    ok(p->oom_score_adj.set && p->oom_score_adj.value == -500, "oomScoreAdj");
    is_str(p->apparmor_profile, "docker-default", "apparmorProfile");
    is_str(p->selinux_label, "system_u:system_r:container_t:s0", "selinuxLabel");
}

static void
test_full_mounts_hooks(const struct berth_spec *s)
{
    ok(s->n_mounts == 5, "five mounts");
    if (s->n_mounts != 5)
        return;
    const struct berth_spec_mount *m = s->mounts;
    ok(!strcmp(m[0].destination, "/proc") && !strcmp(m[0].type, "proc") &&
           !strcmp(m[0].source, "proc") && m[0].flags == 0 && !m[0].data && !m[0].bind,
       "proc mount");
    ok(m[1].flags == (MS_NOSUID | MS_STRICTATIME) && m[1].clear_flags == 0, "tmpfs flags");
    is_str(m[1].data, "mode=755,size=65536k", "tmpfs data joined");
    ok(strv_eq(m[1].options,
               (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL}),
       "options kept as given");
    ok(m[2].bind && m[2].flags == (MS_BIND | MS_REC | MS_RDONLY), "rbind ro");
    ok(m[2].propagation == (MS_PRIVATE | MS_REC), "rprivate propagation");
    is_str(m[3].destination, "/run", "relative destination made absolute");
    ok(m[3].flags == MS_NOEXEC && m[3].clear_flags == MS_RDONLY, "rw after ro clears RDONLY");
    ok(m[3].tmpcopyup && m[3].propagation == (MS_SLAVE | MS_REC), "tmpcopyup, rslave");
    ok(m[4].bind && !m[4].type && m[4].flags == (MS_BIND | MS_NOSUID) && m[4].clear_flags == 0,
       "bind option without type; nosuid after suid wins");

    const struct berth_spec_hook *h = s->hooks[BERTH_HOOK_PRESTART];
    ok(s->n_hooks[BERTH_HOOK_PRESTART] == 1 && !strcmp(h[0].path, "/usr/bin/hook") &&
           h[0].timeout == 5,
       "prestart hook");
    ok(strv_eq(h[0].args, (const char *const[]){"hook", "pre", NULL}) &&
           strv_eq(h[0].env, (const char *const[]){"A=1", NULL}),
       "hook args and env");
    ok(s->n_hooks[BERTH_HOOK_CREATE_RUNTIME] == 2 &&
           !strcmp(s->hooks[BERTH_HOOK_CREATE_RUNTIME][1].path, "/bin/b") &&
           s->hooks[BERTH_HOOK_CREATE_RUNTIME][1].timeout == 0,
       "createRuntime hooks, no timeout");
    ok(s->n_hooks[BERTH_HOOK_START_CONTAINER] == 0 && s->n_hooks[BERTH_HOOK_POSTSTART] == 0 &&
           s->n_hooks[BERTH_HOOK_POSTSTOP] == 1,
       "null hook list, absent hook list, poststop");
    ok(s->n_annotations == 2, "two annotations");
    const struct berth_kv *a = kv_find(s->annotations, s->n_annotations, "org.example.key");
    ok(a && !strcmp(a->value, "value"), "annotation value");
    a = kv_find(s->annotations, s->n_annotations, "com.x");
    ok(a && !strcmp(a->value, ""), "empty annotation value");
}

static void
test_full_linux(const struct berth_spec_linux *l)
{
    ok(l->n_namespaces == 8, "eight namespaces");
    static const int types[] = {CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWIPC,    CLONE_NEWUTS,
                                CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME};
    bool all = l->n_namespaces == 8;
    for (size_t i = 0; all && i < 8; i++)
        all = l->namespaces[i].type == types[i];
    ok(all, "namespace types in order");
    if (l->n_namespaces == 8) {
        is_str(l->namespaces[1].path, "/var/run/netns/x", "network namespace path");
        ok(!l->namespaces[0].path && !l->namespaces[4].path, "no path; empty path is no path");
    }
    ok(l->n_uid_mappings == 1 && l->uid_mappings[0].container_id == 0 &&
           l->uid_mappings[0].host_id == 100000 && l->uid_mappings[0].size == 65536,
       "uidMappings");
    ok(l->n_gid_mappings == 2 && l->gid_mappings[1].container_id == 65536 &&
           l->gid_mappings[1].host_id == 300000 && l->gid_mappings[1].size == 1,
       "gidMappings");
    ok(l->n_devices == 2, "two devices");
    if (l->n_devices == 2) {
        const struct berth_spec_device *d = l->devices;
        ok(!strcmp(d[0].path, "/dev/fuse") && d[0].type == 'c' && d[0].major == 10 &&
               d[0].minor == 229,
           "device /dev/fuse");
        ok(d[0].has_file_mode && d[0].file_mode == 0666, "fileMode keeps permission bits");
        ok(d[0].has_uid && d[0].uid == 0 && d[0].has_gid && d[0].gid == 5, "device owner");
        ok(d[1].type == 'p' && !d[1].has_uid && !d[1].has_gid && !d[1].has_file_mode,
           "fifo needs no major/minor; null uid is no uid");
    }
    is_str(l->cgroups_path, "/berth/abc", "cgroupsPath");
    const struct berth_spec_resources *r = &l->resources;
    ok(r->has_devices && r->n_devices == 2 && !r->devices[0].allow && r->devices[0].type == 'a' &&
           r->devices[0].major == -1 && r->devices[0].minor == -1 &&
           !strcmp(r->devices[0].access, "rwm"),
       "deny-all device rule");
    ok(r->n_devices == 2 && r->devices[1].allow && r->devices[1].type == 'c' &&
           r->devices[1].major == 1 && r->devices[1].minor == 3 &&
           !strcmp(r->devices[1].access, "rw"),
       "allow c 1:3 rw");
    ok(r->memory.limit.set && r->memory.limit.value == 536870912 &&
           r->memory.reservation.value == 268435456 && r->memory.swap.value == 1073741824,
       "memory limit, reservation, swap");
    ok(r->memory.kernel.set && r->memory.kernel.value == -1 && r->memory.kernel_tcp.set &&
           r->memory.kernel_tcp.value == 0 && r->memory.swappiness.value == 60,
       "memory kernel, kernelTCP (0 is set), swappiness");
    ok(r->memory.has_disable_oom_killer && r->memory.disable_oom_killer &&
           r->memory.has_use_hierarchy && !r->memory.use_hierarchy,
       "memory booleans");
    ok(r->cpu.shares.value == 1024 && r->cpu.quota.value == 50000 && r->cpu.burst.value == 1000 &&
           r->cpu.period.value == 100000 && r->cpu.realtime_runtime.value == 950 &&
           r->cpu.realtime_period.value == 1000 && r->cpu.idle.value == 1,
       "cpu numbers");
    ok(r->cpu.cpus && !strcmp(r->cpu.cpus, "0-1") && r->cpu.mems && !strcmp(r->cpu.mems, "0"),
       "cpuset");
    ok(r->pids.limit.set && r->pids.limit.value == 100, "pids.limit");
    ok(r->block_io.weight.value == 500 && r->block_io.leaf_weight.value == 300, "blkio weight");
    ok(r->block_io.n_weight_devices == 1 && r->block_io.weight_devices[0].major == 8 &&
           r->block_io.weight_devices[0].weight.value == 600 &&
           r->block_io.weight_devices[0].leaf_weight.value == 100,
       "weightDevice");
    ok(r->block_io.n_throttle[0] == 1 && r->block_io.throttle[0][0].rate == 1048576 &&
           r->block_io.n_throttle[1] == 1 && r->block_io.throttle[1][0].minor == 16 &&
           r->block_io.throttle[1][0].rate == 2097152 && r->block_io.throttle[2][0].rate == 100 &&
           r->block_io.throttle[3][0].minor == 32 && r->block_io.throttle[3][0].rate == 200,
       "throttle devices, in their four slots");
    ok(r->n_hugepages == 2 && !strcmp(r->hugepages[0].page_size, "2MB") &&
           r->hugepages[0].limit == 209715200 && r->hugepages[1].limit == UINT64_MAX,
       "hugepageLimits");
    ok(r->network.class_id.set && r->network.class_id.value == 1048577, "network.classID");
    const struct berth_kv *u = kv_find(r->unified, r->n_unified, "io.weight");
    ok(r->n_unified == 2 && u && !strcmp(u->value, "default 100"), "unified");
    ok(l->rootfs_propagation == (MS_PRIVATE | MS_REC), "rootfsPropagation");
    ok(strv_eq(l->masked_paths, (const char *const[]){"/proc/kcore", "/sys/firmware", NULL}) &&
           strv_eq(l->readonly_paths, (const char *const[]){"/proc/sys", NULL}),
       "masked and readonly paths");
    u = kv_find(l->sysctl, l->n_sysctl, "net.ipv4.ip_forward");
    ok(l->n_sysctl == 3 && u && !strcmp(u->value, "1"), "sysctl");
    ok(l->has_personality && l->personality == PER_LINUX32, "personality LINUX32");
    is_str(l->mount_label, "system_u:object_r:container_file_t:s0", "mountLabel");
    ok(l->time_offsets[0].set && l->time_offsets[0].secs == 10 &&
           l->time_offsets[0].nanosecs == 5 && l->time_offsets[1].set &&
           l->time_offsets[1].secs == -3 && l->time_offsets[1].nanosecs == 0,
       "timeOffsets");
}

static void
test_full_seccomp(const struct berth_spec_seccomp *sc)
{
    ok(sc != NULL, "seccomp present");
    if (!sc)
        return;
    ok(sc->default_action == BERTH_SECCOMP_ERRNO && sc->has_default_errno_ret &&
           sc->default_errno_ret == 1,
       "defaultAction, defaultErrnoRet");
    ok(strv_eq(sc->architectures, (const char *const[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", NULL}),
       "architectures");
    ok(strv_eq(sc->flags, (const char *const[]){"SECCOMP_FILTER_FLAG_LOG", NULL}), "flags");
    is_str(sc->listener_path, "/run/listener.sock", "listenerPath");
    is_str(sc->listener_metadata, "meta", "listenerMetadata");
    ok(sc->n_syscalls == 10, "ten syscall rules");
    if (sc->n_syscalls != 10)
        return;
    const struct berth_spec_seccomp_rule *r = sc->syscalls;
    ok(strv_eq(r[0].names, (const char *const[]){"read", "write", NULL}) &&
           r[0].action == BERTH_SECCOMP_ALLOW && !r[0].has_errno_ret && r[0].n_args == 0,
       "allow read, write");
    ok(r[1].n_args == 2 && r[1].args[0].index == 0 && r[1].args[0].op == SECCOMP_OP_EQ &&
           r[1].args[0].value == 0 && r[1].args[1].value == 4294967295u,
       "personality args");
    ok(r[2].action == BERTH_SECCOMP_ERRNO && r[2].has_errno_ret && r[2].errno_ret == 38 &&
           r[2].n_args == 1 && r[2].args[0].op == SECCOMP_OP_MASKED_EQ &&
           r[2].args[0].value == 2114060288 && r[2].args[0].value_two == 0,
       "clone masked_eq with errnoRet");
    ok(r[3].action == BERTH_SECCOMP_NOTIFY && !r[3].has_errno_ret,
       "notify; null errnoRet is unset");
    ok(r[3].n_args == 1 && r[3].args[0].index == 5 && r[3].args[0].op == SECCOMP_OP_GE &&
           r[3].args[0].value == UINT64_MAX && r[3].args[0].value_two == UINT64_MAX - 1,
       "64-bit argument values exact");
    ok(r[4].action == BERTH_SECCOMP_KILL_PROCESS && r[5].action == BERTH_SECCOMP_KILL &&
           r[6].action == BERTH_SECCOMP_KILL_THREAD && r[7].action == BERTH_SECCOMP_TRAP,
       "kill, trap actions");
    ok(r[8].action == BERTH_SECCOMP_TRACE && r[8].errno_ret == 7 &&
           r[9].action == BERTH_SECCOMP_LOG,
       "trace, log actions");
    ok(r[9].n_args == 4 && r[9].args[0].op == SECCOMP_OP_NE && r[9].args[1].op == SECCOMP_OP_LT &&
           r[9].args[2].op == SECCOMP_OP_LE && r[9].args[3].op == SECCOMP_OP_GT &&
           r[9].args[3].index == 4,
       "operators NE LT LE GT");
}

static void
test_full(void)
{
    _cleanup_spec_ struct berth_spec *s = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = parse_q(full_config, "/bundles/b1", &s, &err);
    ok(r == 0 && s, "full config parses%s%s", err ? ": " : "", err ? err->msg : "");
    if (!s)
        return;
    is_str(s->oci_version, "1.0.2-dev", "ociVersion");
    is_str(s->root_path, "/bundles/b1/rootfs", "relative root.path resolved against the bundle");
    ok(s->root_readonly, "root.readonly");
    is_str(s->hostname, "box", "hostname");
    is_str(s->domainname, "example.org", "domainname");
    test_full_process(s->process);
    test_full_mounts_hooks(s);
    test_full_linux(&s->linux_);
    test_full_seccomp(s->linux_.seccomp);
    ok(berth_spec_find_ns(s, CLONE_NEWNET) == &s->linux_.namespaces[1], "find_ns network");
}

#define MIN "'ociVersion': '1.0.2', 'root': {'path': '/r'}"
#define PROC(x) "{" MIN ", 'process': {'args': ['sh']" x "}}"
#define LINUX(x) "{" MIN ", 'linux': {" x "}}"
#define SECCOMP(x) LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW'" x "}")
#define SYSCALL(x) SECCOMP(", 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ERRNO'" x "}]")
#define RLIMIT(x) PROC(", 'rlimits': [" x "]")
#define RES(x) LINUX("'resources': {" x "}")

static const struct {
    const char *json;
    const char *expect; /* a substring of the message */
} bad_cases[] = {
    /* the document */
    {"{", "config.json: line 1"},
    {"", "config.json: line 1"},
    {"[]", "the top level must be an object"},
    {"'x'", "config.json: line 1"},
    {"{'ociVersion': '1.0', 'ociVersion': '1.0', 'root': {'path': '/r'}}", "duplicate object key"},
    {"{'root': {'path': '/r'}}", "config.ociVersion is required"},
    {"{'ociVersion': '2.0', 'root': {'path': '/r'}}", "unsupported ociVersion \"2.0\""},
    {"{'ociVersion': 1, 'root': {'path': '/r'}}", "config.ociVersion must be a string"},
    {"{'ociVersion': '1.0.2'}", "root is required"},
    {"{'ociVersion': '1.0.2', 'root': null}", "root is required"},
    {"{'ociVersion': '1.0.2', 'root': 'rootfs'}", "config.root must be an object"},
    {"{'ociVersion': '1.0.2', 'root': {}}", "root.path is required"},
    {"{'ociVersion': '1.0.2', 'root': {'path': ''}}", "root.path is empty"},
    {"{'ociVersion': '1.0.2', 'root': {'path': '/r', 'readonly': 'yes'}}",
     "root.readonly must be a boolean"},
    {"{" MIN ", 'hostname': 5}", "config.hostname must be a string"},
    {"{" MIN ", 'annotations': {'a': 1}}", "config.annotations[\"a\"] must be a string"},
    {"{" MIN ", 'annotations': []}", "config.annotations must be an object"},
    {"{" MIN ", 'linux': []}", "linux must be an object"},
    {"{" MIN ", 'process': []}", "process must be an object"},
    {"{" MIN ", 'x': '\\u0000'}", "config.json: line 1"},
    {"{" MIN ", 'x': '\\u0000', 'y': 18446744073709551615}", "\\u0000 is not allowed"},
    /* namespaces and ids */
    {LINUX("'namespaces': [{'type': 'foo'}]"), "unknown namespace type \"foo\""},
    {LINUX("'namespaces': [{'type': 'pid'}, {'type': 'pid'}]"), "duplicate namespace \"pid\""},
    {LINUX("'namespaces': [{'type': 'net'}]"), "unknown namespace type \"net\""},
    {LINUX("'namespaces': [{}]"), "linux.namespaces[].type is required"},
    {LINUX("'namespaces': [{'type': 'pid', 'path': 'proc/1/ns/pid'}]"), "is not absolute"},
    {LINUX("'namespaces': {}"), "linux.namespaces must be an array"},
    {LINUX("'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     "user namespace mappings specified, but the user namespace is not enabled"},
    {LINUX("'namespaces': [{'type': 'user'}]"), "needs uidMappings and gidMappings"},
    {LINUX("'namespaces': [{'type': 'user'}],"
           "'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     "needs uidMappings and gidMappings"},
    {LINUX("'namespaces': [{'type': 'user', 'path': '/proc/1/ns/user'}],"
           "'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
           "'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     "user namespace path given together with uid/gid mappings"},
    {LINUX("'namespaces': [{'type': 'user'}],"
           "'uidMappings': [{'containerID': 0, 'hostID': 1000}],"
           "'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     "linux.idmap.size is required"},
    {LINUX("'namespaces': [{'type': 'user'}],"
           "'uidMappings': [{'containerID': -1, 'hostID': 1000, 'size': 1}],"
           "'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]"),
     "containerID must be an unsigned 32-bit integer"},
    {"{" MIN ", 'hostname': 'h'}", "unable to set hostname without a private UTS namespace"},
    {"{" MIN ", 'domainname': 'd'}", "unable to set domainname without a private UTS"},
    {LINUX("'sysctl': {'net.ipv4.ip_forward': '1'}"),
     "sysctl \"net.ipv4.ip_forward\" is not allowed in the host network namespace"},
    {LINUX("'sysctl': {'kernel.shmmax': '1'}"), "not allowed in the host IPC namespace"},
    {LINUX("'namespaces': [{'type': 'ipc'}], 'sysctl': {'kernel/../x': '1'}"), "bad key"},
    {LINUX("'sysctl': {'kernel.x': 1}"), "linux.sysctl[\"kernel.x\"] must be a string"},
    {LINUX("'timeOffsets': {'monotonic': {'secs': 1}}"), "need a time namespace"},
    {LINUX("'namespaces': [{'type': 'time'}], 'timeOffsets': {'boottime': {'secs': 'x'}}"),
     "linux.timeOffsets.secs must be an integer"},
    {LINUX("'rootfsPropagation': 'sideways'"), "rootfsPropagation: unknown value \"sideways\""},
    {LINUX("'personality': {'domain': 'BSD'}"), "unknown domain \"BSD\""},
    {LINUX("'personality': {}"), "linux.personality.domain is required"},
    /* process */
    {"{" MIN ", 'process': {}}", "process.args must not be empty"},
    {PROC(", 'args': []"), "duplicate object key"},
    {"{" MIN ", 'process': {'args': []}}", "process.args must not be empty"},
    {"{" MIN ", 'process': {'args': 'sh'}}", "process.args must be an array of strings"},
    {"{" MIN ", 'process': {'args': ['sh', 1]}}", "process.args[1] must be a string"},
    {PROC(", 'cwd': 'home'"), "process.cwd \"home\" is not an absolute path"},
    {PROC(", 'cwd': 7"), "process.cwd must be a string"},
    {PROC(", 'env': ['PATH=/bin', 'NOEQUALS']"), "process.env[1] \"NOEQUALS\" is not of the form"},
    {PROC(", 'terminal': 'yes'"), "process.terminal must be a boolean"},
    {PROC(", 'terminal': 1"), "process.terminal must be a boolean"},
    {PROC(", 'consoleSize': {'height': -1}"), "process.consoleSize.height must be an unsigned"},
    {PROC(", 'user': {'uid': -1}"), "process.user.uid must be an unsigned 32-bit integer"},
    {PROC(", 'user': {'uid': 4294967296}"), "process.user.uid must be an unsigned 32-bit"},
    {PROC(", 'user': {'uid': 18446744073709551615}"), "process.user.uid must be an unsigned"},
    {PROC(", 'user': {'uid': 1.5}"), "process.user.uid must be an unsigned 32-bit integer"},
    {PROC(", 'user': {'uid': '0'}"), "process.user.uid must be an unsigned 32-bit integer"},
    {PROC(", 'user': {'uid': 1e400}"), "real number overflow"},
    {PROC(", 'user': {'umask': 512}"), "process.user.umask 512 is out of range"},
    {PROC(", 'user': {'additionalGids': [1, -2]}"), "additionalGids[1] must be a gid"},
    {PROC(", 'user': {'username': 0}"), "process.user.username must be a string"},
    {PROC(", 'capabilities': {'bounding': ['CAP_FOO']}"),
     "process.capabilities.bounding: unknown capability CAP_FOO"},
    {PROC(", 'capabilities': {'ambient': ['SYS_ADMIN']}"), "unknown capability SYS_ADMIN"},
    {PROC(", 'capabilities': {'effective': ['CAP_12']}"), "unknown capability CAP_12"},
    {PROC(", 'capabilities': {'permitted': 'CAP_KILL'}"), "must be an array of strings"},
    {RLIMIT("{'type': 'RLIMIT_FOO', 'hard': 1, 'soft': 1}"), "unknown rlimit type RLIMIT_FOO"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': 5, 'soft': 10}"),
     "RLIMIT_NOFILE soft limit 10 is above hard limit 5"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': 5, 'soft': 18446744073709551615}"),
     "soft limit 18446744073709551615 is above hard limit 5"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': 5}"), "needs hard and soft"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': -1, 'soft': 1}"),
     "process.rlimits[].hard must be a non-negative integer"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': 2.5, 'soft': 1}"),
     "process.rlimits[].hard must be an integer"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': 18446744073709551616, 'soft': 1}"),
     "too big integer"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': '10', 'soft': 1}"), "must be a non-negative"},
    {RLIMIT("{'type': 'RLIMIT_NOFILE', 'hard': 1, 'soft': 1},"
            "{'type': 'RLIMIT_NOFILE', 'hard': 1, 'soft': 1}"),
     "duplicate type RLIMIT_NOFILE"},
    {RLIMIT("{'hard': 1, 'soft': 1}"), "process.rlimits[].type is required"},
    {RLIMIT("5"), "process.rlimits[0] must be an object"},
    {PROC(", 'oomScoreAdj': 1001"), "process.oomScoreAdj 1001 is outside [-1000, 1000]"},
    {PROC(", 'oomScoreAdj': 1e300"), "process.oomScoreAdj must be an integer"},
    {PROC(", 'oomScoreAdj': -9223372036854775809"), "too big negative integer"},
    /* mounts */
    {"{" MIN ", 'mounts': {}}", "config.mounts must be an array"},
    {"{" MIN ", 'mounts': [{'type': 'tmpfs'}]}", "mounts[].destination is required"},
    {"{" MIN ", 'mounts': [{'destination': '', 'type': 'tmpfs'}]}",
     "mounts[0].destination is empty"},
    {"{" MIN ", 'mounts': [{'destination': '/x'}]}", "mounts[0] (/x): type is required"},
    {"{" MIN ", 'mounts': [{'destination': '/x', 'type': 'bind'}]}", "a bind mount needs a source"},
    {"{" MIN ", 'mounts': [{'destination': '/x', 'type': 'tmpfs', 'options': 'ro'}]}",
     "mounts[].options must be an array of strings"},
    {"{" MIN ", 'mounts': [{'destination': '/x', 'type': 'none', 'source': '/y',"
     " 'options': ['rbind', 'idmap']}]}",
     "option \"idmap\" is not supported"},
    /* devices */
    {LINUX("'devices': [{'path': '/dev/x', 'type': 'x', 'major': 1, 'minor': 1}]"),
     "linux.devices[0] (/dev/x): bad type \"x\""},
    {LINUX("'devices': [{'path': '/dev/x', 'type': 'cb', 'major': 1, 'minor': 1}]"),
     "bad type \"cb\""},
    {LINUX("'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1}]"),
     "major and minor are required"},
    {LINUX("'devices': [{'path': 'dev/x', 'type': 'c', 'major': 1, 'minor': 1}]"),
     "linux.devices[0].path \"dev/x\" is not absolute"},
    {LINUX("'devices': [{'type': 'c', 'major': 1, 'minor': 1}]"),
     "linux.devices[].path is required"},
    /* resources */
    {RES("'devices': [{'allow': 'yes'}]"), "devices[0].allow must be a boolean"},
    {RES("'devices': [{'allow': true, 'type': 'p'}]"),
     "linux.resources.devices[0]: bad type \"p\""},
    {RES("'devices': [{'allow': true, 'access': 'rwx'}]"), "bad access \"rwx\""},
    {RES("'memory': {'limit': '1g'}"), "linux.resources.memory.limit must be an integer"},
    {RES("'memory': {'limit': 18446744073709551615}"), "memory.limit must be an integer"},
    {RES("'memory': {'limit': -2}"), "memory.limit must be -1 or positive"},
    {RES("'memory': {'limit': 2000, 'swap': 1000}"), "swap limit 1000 is below the memory limit"},
    {RES("'memory': {'swappiness': 101}"), "swappiness must be within [0, 100]"},
    {RES("'memory': {'disableOOMKiller': 1}"), "disableOOMKiller must be a boolean"},
    {RES("'cpu': {'shares': -1}"), "cpu.shares must not be negative"},
    {RES("'cpu': {'period': 10}"), "cpu.period must be within [1000, 1000000]"},
    {RES("'cpu': {'cpus': 0}"), "linux.resources.cpu.cpus must be a string"},
    {RES("'pids': {'limit': 'max'}"), "linux.resources.pids.limit must be an integer"},
    {RES("'blockIO': {'weight': 5}"), "blockIO.weight must be within [10, 1000]"},
    {RES("'blockIO': {'weightDevice': [{'major': 8}]}"), "weightDevice[0] is malformed"},
    {RES("'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': -1}]}"),
     "blockIO.throttleReadBpsDevice[0] is malformed"},
    {RES("'hugepageLimits': [{'pageSize': '2mb', 'limit': 1}]"), "bad pageSize \"2mb\""},
    {RES("'hugepageLimits': [{'pageSize': '2MB'}]"), "hugepageLimits[0] is malformed"},
    {RES("'unified': {'../memory.max': '1'}"), "unified: bad key \"../memory.max\""},
    {RES("'network': {'classID': true}"), "network.classID must be an integer"},
    {LINUX("'resources': []"), "linux.resources must be an object"},
    /* seccomp */
    {LINUX("'seccomp': {}"), "linux.seccomp.defaultAction is required"},
    {LINUX("'seccomp': {'defaultAction': 'SCMP_ACT_DENY'}"),
     "unknown defaultAction \"SCMP_ACT_DENY\""},
    {LINUX("'seccomp': {'defaultAction': 'scmp_act_allow'}"), "unknown defaultAction"},
    {SECCOMP(", 'defaultErrnoRet': -1"), "defaultErrnoRet must be an unsigned 32-bit integer"},
    {SECCOMP(", 'architectures': 'SCMP_ARCH_X86'"), "architectures must be an array of strings"},
    {SECCOMP(", 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_FOO'}]"),
     "syscalls[0]: unknown action \"SCMP_ACT_FOO\""},
    {SECCOMP(", 'syscalls': [{'names': ['read']}]"), "syscalls[].action is required"},
    {SECCOMP(", 'syscalls': [{'names': [], 'action': 'SCMP_ACT_ERRNO'}]"),
     "syscalls[0].names is empty"},
    {SECCOMP(", 'syscalls': [{'action': 'SCMP_ACT_ERRNO'}]"), "syscalls[0].names is empty"},
    {SECCOMP(", 'syscalls': [3]"), "syscalls[0] must be an object"},
    {SYSCALL(", 'errnoRet': 'EPERM'"), "errnoRet must be an unsigned 32-bit integer"},
    {SYSCALL(", 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_FOO'}]"),
     "unknown operator \"SCMP_CMP_FOO\""},
    {SYSCALL(", 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]"),
     "syscalls[0].args[0] is malformed"},
    {SYSCALL(", 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]"), "args[0] is malformed"},
    {SYSCALL(", 'args': [{'index': 0, 'value': -1, 'op': 'SCMP_CMP_EQ'}]"),
     "seccomp.args[].value must be a non-negative integer"},
    {SYSCALL(", 'args': [{'value': 1, 'op': 'SCMP_CMP_EQ'}]"), "seccomp.args[].index is required"},
    {SYSCALL(", 'args': [1, 2, 3, 4, 5, 6, 7]"), "more than 6 args"},
    /* hooks */
    {"{" MIN ", 'hooks': {'prestop': []}}", "hooks: unknown hook kind \"prestop\""},
    {"{" MIN ", 'hooks': {'prestart': {}}}", "hooks.prestart must be an array"},
    {"{" MIN ", 'hooks': {'poststart': [{'path': 'bin/hook'}]}}",
     "hooks.poststart[0].path \"bin/hook\" is not absolute"},
    {"{" MIN ", 'hooks': {'poststop': [{'path': '/h', 'timeout': -1}]}}",
     "hooks.poststop[0].timeout must be positive"},
    {"{" MIN ", 'hooks': {'poststop': [{'path': '/h', 'timeout': 0}]}}",
     "timeout must be positive"},
    {"{" MIN ", 'hooks': {'poststop': [{'path': '/h', 'timeout': 4294967296}]}}",
     "timeout must be positive"},
    {"{" MIN ", 'hooks': {'poststop': [{'path': '/h', 'timeout': '5'}]}}",
     "hooks[].timeout must be an integer"},
    {"{" MIN ", 'hooks': {'createRuntime': [{}]}}", "hooks[].path is required"},
    {"{" MIN ", 'hooks': {'createRuntime': [{'path': '/h', 'args': [1]}]}}",
     "hooks[].args[0] must be a string"},
};

static void
test_bad(void)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad_cases); i++) {
        struct berth_spec *s = NULL;
        struct berth_error *err = NULL;
        int r = parse_q(bad_cases[i].json, NULL, &s, &err);
        bool good = r < 0 && !s && err && err->msg && strstr(err->msg, bad_cases[i].expect);
        ok(good, "refused: %s", bad_cases[i].expect);
        if (!good)
            printf("#   input: %s\n#   got: r=%d %s\n", bad_cases[i].json, r,
                   err ? err->msg : "(no error)");
        berth_spec_free(s);
        berth_error_free(err);
    }
}

static void
test_codes(void)
{
    struct berth_spec *s = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = parse_q("{" MIN ", 'mounts': [{'destination': '/x', 'type': 'none', 'source': '/y',"
                    " 'options': ['bind', 'rro']}]}",
                    NULL, &s, &err);
    ok(r == -EOPNOTSUPP && err && err->code == EOPNOTSUPP, "unsupported mount option: EOPNOTSUPP");
    berth_error_free(err);
    err = NULL;
    r = parse_q("{'ociVersion': '2'}", NULL, &s, &err);
    ok(r == -EINVAL && err->code == EINVAL && !s, "bad spec: EINVAL");
    berth_error_free(err);
    err = NULL;
    r = parse_q("{" MIN "}", NULL, &s, NULL);
    ok(r == 0 && s, "err may be NULL");
    berth_spec_free(s);
    s = NULL;
    r = parse_q("{'ociVersion': 1}", NULL, &s, NULL);
    ok(r == -EINVAL && !s, "failure with err NULL");
}

static void
test_minimal_and_defaults(void)
{
    _cleanup_spec_ struct berth_spec *s = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = parse_q("{'ociVersion': '1.0.0', 'root': {'path': 'rootfs'}, 'process': {'args': ['x'],"
                    " 'user': {}}, 'linux': {'resources': {}, 'seccomp': null, 'devices': null}}",
                    NULL, &s, &err);
    ok(r == 0 && s, "minimal config parses");
    if (!s)
        return;
    is_str(s->root_path, "rootfs", "relative root kept without a bundle");
    ok(!s->root_readonly && !s->hostname && s->n_mounts == 0 && s->n_annotations == 0,
       "absent fields are empty");
    is_str(s->process->cwd, "/", "cwd defaults to /");
    ok(!s->process->caps.set && !s->process->user.has_umask && !s->process->terminal &&
           !s->process->oom_score_adj.set && s->process->env == NULL,
       "process defaults");
    ok(!s->linux_.seccomp && !s->linux_.has_personality && s->linux_.rootfs_propagation == 0 &&
           !s->linux_.resources.has_devices && !s->linux_.resources.memory.limit.set,
       "linux defaults");
    berth_spec_free(s);
    s = NULL;
    r = parse_q("{'ociVersion': '1.1.0', 'root': {'path': '/abs'}}", "/b", &s, &err);
    ok(r == 0 && s && !s->process, "no process is allowed (exec --process specs)");
    if (s)
        is_str(s->root_path, "/abs", "absolute root not joined to the bundle");
    berth_spec_free(s);
    s = NULL;
    /* Docker writes some integers as reals */
    r = parse_q("{" MIN ", 'process': {'args': ['x'], 'user': {'uid': 1000.0},"
                " 'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1.8446744073709552e19,"
                " 'soft': 1024.0}]}, 'linux': {'resources': {'memory': {'limit': 1e6}}}}",
                NULL, &s, &err);
    ok(r == 0 && s && s->process->user.uid == 1000 && s->process->rlimits[0].hard == UINT64_MAX &&
           s->process->rlimits[0].soft == 1024 && s->linux_.resources.memory.limit.value == 1000000,
       "integral reals accepted, 2^64 as a real is RLIM_INFINITY");
    berth_spec_free(s);
    s = NULL;
    /* a big number that is not a token start stays jansson's business */
    r = parse_q("{" MIN
                ", 'annotations': {'n': '18446744073709551615'}, 'x': [-18446744073709551615]}",
                NULL, &s, &err);
    ok(r < 0 && err && strstr(err->msg, "too big negative integer"), "big negative refused");
    berth_error_free(err);
    err = NULL;
    r = parse_q("{" MIN ", 'annotations': {'n': '18446744073709551615 \\\\u0000'},"
                " 'x': [18446744073709551615, 1.8446744073709551615e19]}",
                NULL, &s, &err);
    ok(r == 0 && s && !strcmp(s->annotations[0].value, "18446744073709551615 \\u0000"),
       "big literal inside a string, escaped backslash before u0000: untouched");
}

static void
test_process_direct(void)
{
    json_error_t jerr;
    _cleanup_free_ char *j = jq("{'args': ['/bin/true'], 'env': ['A=b'], 'cwd': '/tmp',"
                                " 'capabilities': {'bounding': ['cap_net_raw']}}");
    json_t *obj = json_loads(j, 0, &jerr);
    struct berth_spec_process *p = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = berth_spec_parse_process(obj, &p, &err);
    ok(r == 0 && p && !strcmp(p->args[0], "/bin/true") && !strcmp(p->cwd, "/tmp") &&
           p->caps.bounding == (1ULL << 13),
       "berth_spec_parse_process on an object (exec --process)");
    berth_spec_process_free(p);
    json_decref(obj);

    struct berth_spec_resources res = {0};
    _cleanup_free_ char *j2 = jq("{'memory': {'limit': 1048576}, 'pids': {'limit': -1}}");
    obj = json_loads(j2, 0, &jerr);
    r = berth_spec_parse_resources(obj, &res, &err);
    ok(r == 0 && res.memory.limit.value == 1048576 && res.pids.limit.set &&
           res.pids.limit.value == -1,
       "berth_spec_parse_resources (update --resources)");
    berth_spec_resources_clear(&res);
    ok(!res.memory.limit.set, "resources_clear zeroes");
    json_decref(obj);
}

static void
test_load(void)
{
    /* note: ok() evaluates its condition twice, so calls with effects stay outside it */
    char dir[] = "/tmp/berth-test-spec-XXXXXX";
    _cleanup_spec_ struct berth_spec *s = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *path = NULL, *expect = NULL;
    _cleanup_free_ char *good = jq("{'ociVersion': '1.0.2', 'root': {'path': 'rootfs'}}");
    bool made = mkdtemp(dir) != NULL;
    ok(made, "temp bundle");
    if (!made || asprintf(&path, "%s/config.json", dir) < 0 ||
        asprintf(&expect, "%s/rootfs", dir) < 0)
        return;
    int r = berth_spec_load(dir, &s, &err);
    ok(r == -ENOENT && err && strstr(err->msg, "config.json"), "load without config.json: ENOENT");
    berth_error_free(err);
    err = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    r = fd >= 0 ? berth_write_all(fd, good, strlen(good)) : -1;
    ok(r == 0, "write config.json");
    if (fd >= 0)
        close(fd);
    r = berth_spec_load(dir, &s, &err);
    ok(r == 0 && s && !strcmp(s->root_path, expect), "berth_spec_load resolves root in the bundle");
    unlink(path);
    rmdir(dir);
}

static void
test_helpers(void)
{
    is_str(berth_ns_name(CLONE_NEWNET), "network", "ns name");
    is_str(berth_ns_proc_name(CLONE_NEWNET), "net", "ns proc name");
    is_str(berth_ns_proc_name(CLONE_NEWNS), "mnt", "mount ns proc name");
    is_str(berth_ns_name(0x1), "unknown", "unknown ns");
    ok(berth_rlimit_from_name("RLIMIT_NOFILE") == RLIMIT_NOFILE &&
           berth_rlimit_from_name("RLIMIT_RTTIME") == RLIMIT_RTTIME &&
           berth_rlimit_from_name("NOFILE") == -1,
       "rlimit names");
    is_str(berth_hook_kind_name(BERTH_HOOK_CREATE_CONTAINER), "createContainer", "hook name");
    is_str(berth_hook_kind_name(BERTH_HOOK__COUNT), "unknown", "hook name out of range");
    is_str(berth_seccomp_action_name(BERTH_SECCOMP_NOTIFY), "SCMP_ACT_NOTIFY", "action name");
    is_str(berth_seccomp_action_name(99), "unknown", "action name out of range");
    ok(berth_cap_from_name("CAP_SYS_ADMIN") == 21 && berth_cap_from_name("CAP_NOPE") == -1,
       "cap names");
}

int
main(void)
{
    test_full();
    test_bad();
    test_codes();
    test_minimal_and_defaults();
    test_process_direct();
    test_load();
    test_helpers();
    return tap_done();
}
