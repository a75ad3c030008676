/* cgroup manager tests: run as root on the real hierarchies of this machine (hybrid: v1 plus a
 * cgroup2 mount at /sys/fs/cgroup/unified), under /berth-unit-<pid>. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"
#include "tap.h"

#define UNIFIED_ROOT "/sys/fs/cgroup/unified"

/* tap.h's check() evaluates its condition twice; these conditions have side effects */
#define check(cond, ...)                                                                           \
    do {                                                                                           \
        bool check_ = (cond);                                                                      \
        ok(check_, __VA_ARGS__);                                                                   \
        if (!check_)                                                                               \
            printf("#   condition: %s\n", #cond);                                                  \
    } while (0)

static char name[64], fail_name[64], rel_name[64];

/* ---- helpers ---- */

static char *
slurp(const char *dir, const char *file)
{
    char path[512];
    char *text = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (berth_read_file(path, 1 << 20, &text, NULL, NULL) < 0)
        return NULL;
    size_t l = strlen(text);
    while (l && text[l - 1] == '\n')
        text[--l] = '\0';
    return text;
}

static bool
file_is(const char *dir, const char *file, const char *want)
{
    _cleanup_free_ char *got = slurp(dir, file);
    bool same = got && !strcmp(got, want);
    if (!same)
        printf("#   %s/%s: got '%s', expected '%s'\n", dir ? dir : "(null)", file,
               got ? got : "(unreadable)", want);
    return same;
}

static bool
exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0;
}

static bool
contains(const char *haystack, const char *needle)
{
    return haystack && strstr(haystack, needle);
}

/* A process to put into cgroups; it opens devices and forks on request. */
struct child {
    pid_t pid;
    int cmd, reply;
};

struct child_cmd {
    char op; /* 'o': open path with flags, 'f': fork a sleeping grandchild */
    int flags;
    char path[32];
};

static void
child_loop(int cmd, int reply)
{
    struct child_cmd c;
    while (read(cmd, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
        int32_t res = 0;
        if (c.op == 'o') {
            int fd = open(c.path, c.flags | O_CLOEXEC);
            res = fd < 0 ? errno : 0;
            if (fd >= 0)
                close(fd);
        } else if (c.op == 'f') {
            pid_t p = fork();
            if (p == 0) {
                for (;;)
                    pause();
            }
            res = (int32_t)p;
        }
        if (write(reply, &res, sizeof(res)) != (ssize_t)sizeof(res))
            break;
    }
    _exit(0);
}

static bool
child_start(struct child *ch)
{
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
        return false;
    fflush(stdout);
    ch->pid = fork();
    if (ch->pid < 0)
        return false;
    if (ch->pid == 0) {
        close(a[1]);
        close(b[0]);
        child_loop(a[0], b[1]);
    }
    close(a[0]);
    close(b[1]);
    ch->cmd = a[1];
    ch->reply = b[0];
    return true;
}

static int32_t
child_do(struct child *ch, char op, const char *path, int flags)
{
    struct child_cmd c = {.op = op, .flags = flags};
    int32_t res = -1;
    snprintf(c.path, sizeof(c.path), "%s", path ? path : "");
    if (write(ch->cmd, &c, sizeof(c)) != (ssize_t)sizeof(c) ||
        read(ch->reply, &res, sizeof(res)) != (ssize_t)sizeof(res))
        return -1;
    return res;
}

static int
child_wait(struct child *ch)
{
    int status = -1;
    close(ch->cmd);
    close(ch->reply);
    if (waitpid(ch->pid, &status, 0) < 0)
        return -1;
    return status;
}

/* Waits (up to about 1 s) for the cgroup to hold no process. Grandchildren are ours to reap:
 * the test process is a child subreaper. */
static size_t
wait_empty(struct berth_cgroup *cg)
{
    size_t n = 1;
    for (int i = 0; i < 100 && n; i++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        _cleanup_free_ pid_t *pids = NULL;
        if (berth_cgroup_pids(cg, &pids, &n, NULL) < 0)
            return SIZE_MAX;
        if (n)
            usleep(10000);
    }
    return n;
}

/* /proc/<pid>/cgroup has path for the hierarchy line starting with prefix ("4:memory:", "0::") */
static bool
proc_cgroup_has(pid_t pid, const char *ctrl, const char *path)
{
    char file[64];
    _cleanup_free_ char *text = NULL;
    snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
    if (berth_read_file(file, 1 << 16, &text, NULL, NULL) < 0)
        return false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        if (!strcmp(c1 + 1, ctrl))
            return !strcmp(c2 + 1, path);
    }
    return false;
}

static void
json_get_u64(json_t *root, const char *a, const char *b, const char *c, bool *found, int64_t *v)
{
    json_t *o = json_object_get(root, a);
    if (b)
        o = json_object_get(o, b);
    if (c)
        o = json_object_get(o, c);
    *found = json_is_integer(o);
    *v = *found ? json_integer_value(o) : -1;
}

/* Best-effort removal of what a failed run may have left behind: processes, then dirs. */
static void
cleanup_leftovers(void)
{
    static const char *const mounts[] = {"cpu",     "cpuacct", "cpuset", "memory",  "devices",
                                         "freezer", "blkio",   "pids",   "systemd", "unified"};
    static const char *const subs[] = {"/a/b", "/a", "/sub", ""};
    const char *const bases[] = {name, fail_name};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t m = 0; m < BERTH_ARRAY_SIZE(mounts); m++)
            for (size_t b = 0; b < BERTH_ARRAY_SIZE(bases); b++)
                for (size_t k = 0; k < BERTH_ARRAY_SIZE(subs); k++) {
                    char dir[256];
                    snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%s%s", mounts[m], bases[b],
                             subs[k]);
                    if (!exists(dir))
                        continue;
                    if (pass == 1) {
                        rmdir(dir);
                        continue;
                    }
                    _cleanup_free_ char *procs = slurp(dir, "cgroup.procs");
                    char *save = NULL;
                    for (char *t = procs ? strtok_r(procs, "\n", &save) : NULL; t;
                         t = strtok_r(NULL, "\n", &save)) {
                        int64_t pid;
                        if (berth_parse_i64(t, &pid) && pid > 1)
                            kill((pid_t)pid, SIGKILL);
                    }
                    char f[300];
                    snprintf(f, sizeof(f), "%s/freezer.state", dir);
                    berth_write_file(f, "THAWED", 6, NULL);
                    snprintf(f, sizeof(f), "%s/cgroup.freeze", dir);
                    berth_write_file(f, "0", 1, NULL);
                }
        for (int i = 0; pass == 0 && i < 20; i++) {
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            usleep(5000);
        }
    }
}

/* ---- pure functions ---- */

static void
test_paths(void)
{
    static const struct {
        const char *in, *id;
        bool systemd;
        const char *want; /* NULL: must fail */
        bool relative;
    } cases[] = {
        {NULL, "abc", false, "/abc", false},
        {"", "abc", false, "/abc", false},
        {"/a//b/./c/", "x", false, "/a/b/c", false},
        {"a/b", "x", false, "a/b", true},
        {"/a/../b", "x", false, NULL, false},
        {"../x", "x", false, NULL, false},
        {"/", "x", false, NULL, false},
        {NULL, "..", false, NULL, false},
        {"system.slice:berth:abc", "x", true, "/system.slice/berth-abc.scope", false},
        {"a-b.slice:p:n", "x", true, "/a.slice/a-b.slice/p-n.scope", false},
        {"a-b-c.slice:p:n", "x", true, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope", false},
        {"", "abc", true, "/system.slice/berth-abc.scope", false},
        {":p:n", "x", true, "/system.slice/p-n.scope", false},
        {"-.slice::n.scope", "x", true, "/n.scope", false},
        {"user.slice:p:..", "x", true, NULL, false},
        {"user.slice:p:a/b", "x", true, NULL, false},
        {"bad:p:n", "x", true, NULL, false},
        {"nocolons", "x", true, NULL, false},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *got = NULL;
        _cleanup_error_ struct berth_error *err = NULL;
        bool rel = false;
        int r =
            berth_cgroup_resolve_path(cases[i].in, cases[i].id, cases[i].systemd, &got, &rel, &err);
        if (!cases[i].want) {
            check(r == -EINVAL && err && err->msg, "path '%s'%s is refused (%s)",
                  cases[i].in ? cases[i].in : "(null)", cases[i].systemd ? " (systemd)" : "",
                  err ? err->msg : "no error");
            continue;
        }
        check(r == 0 && got && !strcmp(got, cases[i].want) && rel == cases[i].relative,
              "path '%s'%s -> '%s'%s", cases[i].in ? cases[i].in : "(null)",
              cases[i].systemd ? " (systemd)" : "", got ? got : "(error)", rel ? " relative" : "");
    }
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_free_ char *p = NULL;
    bool rel;
    berth_cgroup_resolve_path("/a/../b", "x", false, &p, &rel, &err);
    check(err && contains(err->msg, ".."), "the error names \"..\": %s", err ? err->msg : "");
}

static void
test_mountinfo(void)
{
    const char *hybrid =
        "24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:5 - cgroup cgroup "
        "rw,cpu,cpuacct\n"
        "34 31 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "35 31 0:32 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
        "rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
        "42 31 0:31 / /mnt/mem\\040copy rw,relatime - cgroup cgroup rw,memory\n";
    struct berth_cgroup_mounts m;
    int r = berth_cgroup_parse_mountinfo(hybrid, &m, NULL);
    check(r == 0 && m.n == 5,
          "hybrid mountinfo: 4 v1 hierarchies (one duplicate skipped) + cgroup2");
    if (r == 0 && m.n == 5) {
        check(m.v[0].mask == (BERTH_CG_BIT(BERTH_CG_CPU) | BERTH_CG_BIT(BERTH_CG_CPUACCT)) &&
                  !strcmp(m.v[0].mount_point, "/sys/fs/cgroup/cpu,cpuacct"),
              "combined cpu,cpuacct hierarchy");
        check(m.v[2].mask == (BERTH_CG_BIT(BERTH_CG_NET_CLS) | BERTH_CG_BIT(BERTH_CG_NET_PRIO)),
              "combined net_cls,net_prio hierarchy");
        check(m.v[3].mask == 0 && m.v[3].name && !strcmp(m.v[3].name, "systemd"),
              "named hierarchy name=systemd");
        check(m.v2 == 4 && m.v[4].v2 && !m.sys_fs_cgroup_v2, "cgroup2 at /sys/fs/cgroup/unified");
    }
    berth_cgroup_mounts_clear(&m);

    const char *unified = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
                          "50 23 0:26 /sub /mnt/with\\040space rw - cgroup2 cgroup2 rw\n";
    r = berth_cgroup_parse_mountinfo(unified, &m, NULL);
    check(r == 0 && m.sys_fs_cgroup_v2 && m.v2 == 0, "unified host: /sys/fs/cgroup is cgroup2");
    check(r == 0 && m.n == 2 && !strcmp(m.v[1].mount_point, "/mnt/with space") &&
              !strcmp(m.v[1].root, "/sub"),
          "octal escapes decoded, mount root kept");
    berth_cgroup_mounts_clear(&m);

    char buf[16];
    check(berth_cgroup_hugepage_name("2048kB", buf, sizeof(buf)) == 0 && !strcmp(buf, "2MB") &&
              berth_cgroup_hugepage_name("1048576kB", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "1GB") && berth_cgroup_hugepage_name("64kB", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "64KB"),
          "hugepage size names (2MB, 1GB, 64KB)");
}

/* ---- the hybrid host, for real ---- */

static const char *
hugepage_2mb(void)
{
    for (char *const *s = berth_cgroup_hugepage_sizes(); *s; s++)
        if (!strcmp(*s, "2MB"))
            return *s;
    return NULL;
}

static void
test_hybrid(void)
{
    _cleanup_error_ struct berth_error *err = NULL;
    /* /dev/kmsg (c 1:11) and /dev/loop0 (b 7:0) are not among the always-allowed devices */
    struct berth_spec_device_rule rules[] = {
        {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
        {.allow = true, .type = 'c', .major = 1, .minor = 11, .access = "r"},
        {.allow = true, .type = 'b', .major = 7, .minor = 1, .access = "rwm"},
    };
    struct berth_spec_hugepage_limit hp = {.page_size = (char *)"2MB", .limit = 4 << 21};
    struct berth_spec_resources res = {0};
    res.memory.limit = (struct berth_opt_i64){true, 64 << 20};
    res.memory.reservation = (struct berth_opt_i64){true, 32 << 20};
    res.memory.swap = (struct berth_opt_i64){true, 128 << 20};
    res.memory.swappiness = (struct berth_opt_i64){true, 10};
    res.cpu.shares = (struct berth_opt_i64){true, 512};
    res.cpu.quota = (struct berth_opt_i64){true, 50000};
    res.cpu.period = (struct berth_opt_i64){true, 100000};
    res.cpu.cpus = (char *)"0";
    res.cpu.mems = (char *)"0";
    res.pids.limit = (struct berth_opt_i64){true, 50};
    res.devices = rules;
    res.n_devices = BERTH_ARRAY_SIZE(rules);
    res.has_devices = true;
    const char *hp2 = hugepage_2mb();
    if (hp2) {
        res.hugepages = &hp;
        res.n_hugepages = 1;
    }
    /* blkio: a weight (BFQ's file on this kernel) and a throttle on a real disk */
    res.block_io.weight = (struct berth_opt_i64){true, 500};
    _cleanup_free_ char *vda = NULL;
    unsigned maj = 0, min = 0;
    struct berth_spec_throttle_device thr = {0};
    bool have_disk = berth_read_file("/sys/block/vda/dev", 64, &vda, NULL, NULL) == 0 &&
                     sscanf(vda, "%u:%u", &maj, &min) == 2;
    if (have_disk) {
        thr = (struct berth_spec_throttle_device){.major = maj, .minor = min, .rate = 1048576};
        res.block_io.throttle[0] = &thr;
        res.block_io.n_throttle[0] = 1;
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct berth_cgroup *cg = NULL;
    int r = berth_cgroup_create(name, "ignored", false, &res, &cg, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check(r == 0 && cg, "create %s with limits (%s)", name, err ? err->msg : "ok");
    if (!cg)
        return;
    printf("# create took %ld us\n",
           (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));

    const char *mem = berth_cgroup_path_of(cg, "memory"), *cpu = berth_cgroup_path_of(cg, "cpu");
    const char *cpuset = berth_cgroup_path_of(cg, "cpuset"),
               *pids = berth_cgroup_path_of(cg, "pids");
    const char *devs = berth_cgroup_path_of(cg, "devices"), *v2 = berth_cgroup_path_of(cg, "");
    const char *sysd = berth_cgroup_path_of(cg, "name=systemd");
    check(mem && berth_str_has_suffix(mem, name) && exists(mem), "memory dir %s", mem ? mem : "-");
    check(v2 && berth_str_has_prefix(v2, UNIFIED_ROOT "/") && exists(v2), "v2 dir %s",
          v2 ? v2 : "-");
    check(sysd && exists(sysd), "name=systemd dir %s", sysd ? sysd : "-");
    check(hp2 == NULL || berth_cgroup_path_of(cg, "hugetlb") == v2,
          "hugetlb lives in the v2 dir on this hybrid host");
    check(file_is(mem, "memory.limit_in_bytes", "67108864"), "memory.limit_in_bytes");
    check(file_is(mem, "memory.soft_limit_in_bytes", "33554432"), "memory.soft_limit_in_bytes");
    check(file_is(mem, "memory.memsw.limit_in_bytes", "134217728"), "memory.memsw.limit_in_bytes");
    check(file_is(mem, "memory.swappiness", "10"), "memory.swappiness");
    check(file_is(cpu, "cpu.shares", "512"), "cpu.shares");
    check(file_is(cpu, "cpu.cfs_quota_us", "50000") && file_is(cpu, "cpu.cfs_period_us", "100000"),
          "cpu.cfs_quota_us / cpu.cfs_period_us");
    check(file_is(cpuset, "cpuset.cpus", "0") && file_is(cpuset, "cpuset.mems", "0"),
          "cpuset.cpus / cpuset.mems");
    check(file_is(pids, "pids.max", "50"), "pids.max");
    const char *blkio = berth_cgroup_path_of(cg, "blkio");
    _cleanup_free_ char *w = slurp(blkio, "blkio.weight");
    if (!w)
        w = slurp(blkio, "blkio.bfq.weight");
    check(w && (!strcmp(w, "500") || !strcmp(w, "default 500")), "blkio weight 500 (%s)",
          w ? w : "no weight file");
    if (have_disk) {
        char want[64];
        snprintf(want, sizeof(want), "%u:%u 1048576", maj, min);
        check(file_is(blkio, "blkio.throttle.read_bps_device", want),
              "blkio.throttle.read_bps_device %s", want);
    } else {
        check(1, "# SKIP no /sys/block/vda to throttle");
    }
    _cleanup_free_ char *list = slurp(devs, "devices.list");
    check(list && contains(list, "c 1:11 r\n") && contains(list, "b 7:1 rwm") &&
              contains(list, "c 1:3 rwm") && contains(list, "c *:* m") &&
              contains(list, "c 136:* rwm") && !contains(list, "a *:*"),
          "devices.list: the configured rules plus the default devices, no allow-all");
    if (hp2)
        check(file_is(v2, "hugetlb.2MB.max", "8388608"), "hugetlb.2MB.max in the v2 dir");
    else
        check(1, "# SKIP no 2MB hugepages");

    /* a process enters */
    struct child ch;
    check(child_start(&ch), "child started");
    r = berth_cgroup_enter(cg, ch.pid, &err);
    check(r == 0, "enter child %d (%s)", (int)ch.pid, err ? err->msg : "ok");
    check(proc_cgroup_has(ch.pid, "memory", name) && proc_cgroup_has(ch.pid, "pids", name) &&
              proc_cgroup_has(ch.pid, "cpu", name) &&
              proc_cgroup_has(ch.pid, "name=systemd", name) && proc_cgroup_has(ch.pid, "", name),
          "/proc/%d/cgroup shows %s in every hierarchy, v2 included", (int)ch.pid, name);
    check(child_do(&ch, 'o', "/dev/null", O_RDWR) == 0, "v1 devices: /dev/null allowed (default)");
    check(child_do(&ch, 'o', "/dev/kmsg", O_RDONLY) == 0, "v1 devices: /dev/kmsg read allowed");
    check(child_do(&ch, 'o', "/dev/kmsg", O_WRONLY) == EPERM, "v1 devices: /dev/kmsg write denied");
    check(child_do(&ch, 'o', "/dev/loop0", O_RDONLY) == EPERM, "v1 devices: /dev/loop0 denied");

    _cleanup_free_ pid_t *pl = NULL;
    size_t n = 0;
    r = berth_cgroup_pids(cg, &pl, &n, &err);
    check(r == 0 && n == 1 && pl[0] == ch.pid, "pids lists the child (n=%zu)", n);

    /* stats */
    json_t *st = NULL;
    r = berth_cgroup_stats(cg, &st, &err);
    check(r == 0 && st, "stats (%s)", err ? err->msg : "ok");
    bool f;
    int64_t v;
    json_get_u64(st, "memory", "usage", "usage", &f, &v);
    check(f && v > 0, "stats memory.usage.usage = %" PRId64, v);
    json_get_u64(st, "memory", "usage", "limit", &f, &v);
    check(f && v == 64 << 20, "stats memory.usage.limit = %" PRId64, v);
    json_get_u64(st, "pids", "current", NULL, &f, &v);
    check(f && v == 1, "stats pids.current = %" PRId64, v);
    json_get_u64(st, "pids", "limit", NULL, &f, &v);
    check(f && v == 50, "stats pids.limit = %" PRId64, v);
    json_get_u64(st, "cpu", "usage", "total", &f, &v);
    check(f && v > 0, "stats cpu.usage.total = %" PRId64, v);
    check(json_is_array(
              json_object_get(json_object_get(json_object_get(st, "cpu"), "usage"), "percpu")),
          "stats cpu.usage.percpu is an array");
    check(json_object_size(json_object_get(json_object_get(st, "memory"), "raw")) > 5,
          "stats memory.raw holds memory.stat");
    check(!hp2 || json_object_get(json_object_get(st, "hugetlb"), "2MB"), "stats hugetlb.2MB");
    check(json_is_object(json_object_get(st, "blkio")), "stats blkio");
    json_decref(st);

    uint64_t ooms = 99;
    check(berth_cgroup_oom_count(cg, &ooms, &err) == 0 && ooms == 0, "oom_count = 0");

    /* update: raise memory+swap (swap first), lower them (limit first) */
    struct berth_spec_resources up = {0};
    up.memory.limit = (struct berth_opt_i64){true, 256 << 20};
    up.memory.swap = (struct berth_opt_i64){true, 512 << 20};
    up.pids.limit = (struct berth_opt_i64){true, -1};
    r = berth_cgroup_update(cg, &up, &err);
    check(r == 0 && file_is(mem, "memory.limit_in_bytes", "268435456") &&
              file_is(mem, "memory.memsw.limit_in_bytes", "536870912") &&
              file_is(pids, "pids.max", "max"),
          "update raises memory above the old memsw (%s)", err ? err->msg : "ok");
    up.memory.limit.value = 32 << 20;
    up.memory.swap.value = 48 << 20;
    up.pids.limit.set = false;
    r = berth_cgroup_update(cg, &up, &err);
    check(r == 0 && file_is(mem, "memory.limit_in_bytes", "33554432") &&
              file_is(mem, "memory.memsw.limit_in_bytes", "50331648"),
          "update lowers memory below the old limit (%s)", err ? err->msg : "ok");
    struct berth_spec_resources bad = {0};
    bad.cpu.shares = (struct berth_opt_i64){true, 1000000};
    r = berth_cgroup_update(cg, &bad, &err);
    check(r == -EINVAL && err && contains(err->msg, "cpu shares 1000000"),
          "absurd cpu shares refused: %s", err ? err->msg : "");
    berth_error_freep(&err);

    /* freeze */
    r = berth_cgroup_freeze(cg, true, &err);
    _cleanup_free_ char *fstate = slurp(berth_cgroup_path_of(cg, "freezer"), "freezer.state");
    check(r == 0 && berth_cgroup_is_frozen(cg) && fstate && !strcmp(fstate, "FROZEN"),
          "freeze: freezer.state FROZEN (%s)", err ? err->msg : "ok");
    r = berth_cgroup_freeze(cg, false, &err);
    check(r == 0 && !berth_cgroup_is_frozen(cg), "thaw");
    check(child_do(&ch, 'o', "/dev/null", O_RDONLY) == 0, "the child runs again after thaw");

    /* state.json round trip */
    json_t *js = berth_cgroup_to_json(cg);
    char *dump = js ? json_dumps(js, JSON_COMPACT) : NULL;
    json_decref(js);
    json_t *back = dump ? json_loads(dump, 0, NULL) : NULL;
    struct berth_cgroup *cg2 = NULL;
    r = back ? berth_cgroup_from_json(back, &cg2, &err) : -1;
    json_decref(back);
    check(r == 0 && cg2, "json round trip: %s", dump ? dump : "(none)");
    free(dump);
    if (cg2) {
        static const char *const ctrls[] = {"memory", "cpu",         "cpuacct", "cpuset",
                                            "pids",   "devices",     "freezer", "hugetlb",
                                            "",       "name=systemd"};
        bool same = true;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(ctrls); i++) {
            const char *a = berth_cgroup_path_of(cg, ctrls[i]),
                       *b = berth_cgroup_path_of(cg2, ctrls[i]);
            same &= (!a && !b) || (a && b && !strcmp(a, b));
        }
        check(same, "restored manager has the same dirs");
        _cleanup_free_ pid_t *pl2 = NULL;
        size_t n2 = 0;
        check(berth_cgroup_pids(cg2, &pl2, &n2, NULL) == 0 && n2 == 1 && pl2[0] == ch.pid,
              "restored manager lists the child");
        check(berth_cgroup_freeze(cg2, true, NULL) == 0 && berth_cgroup_is_frozen(cg) &&
                  berth_cgroup_freeze(cg2, false, NULL) == 0,
              "restored manager freezes and thaws");
    }

    /* kill_all without cgroup.kill: freeze, signal, thaw; forks cannot escape */
    int32_t gc = child_do(&ch, 'f', NULL, 0);
    check(gc > 0, "child forked grandchild %d", (int)gc);
    r = berth_cgroup_kill_all(cg, SIGTERM, &err);
    int status = child_wait(&ch);
    check(r == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
          "kill_all SIGTERM kills the child (%s)", err ? err->msg : "ok");
    check(wait_empty(cg) == 0, "the grandchild died too");
    check(!berth_cgroup_is_frozen(cg), "not left frozen by kill_all");

    /* kill_all SIGKILL on a frozen cgroup (cgroup.kill in the v2 dir) */
    check(child_start(&ch) && berth_cgroup_enter(cg, ch.pid, NULL) == 0, "second child entered");
    gc = child_do(&ch, 'f', NULL, 0);
    check(berth_cgroup_freeze(cg, true, NULL) == 0, "frozen with two processes");
    r = berth_cgroup_kill_all(cg, SIGKILL, &err);
    status = child_wait(&ch);
    check(r == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "kill_all SIGKILL on a frozen cgroup (%s)", err ? err->msg : "ok");
    check(wait_empty(cg) == 0, "cgroup empty after SIGKILL");
    berth_cgroup_freeze(cg, false, NULL);

    /* destroy: every directory goes, a nested child cgroup first */
    char nested[512];
    snprintf(nested, sizeof(nested), "%s/sub", mem);
    mkdir(nested, 0755);
    const char *all[16];
    size_t n_all = 0;
    for (size_t i = 0; i < cg->n_dirs && n_all < 16; i++)
        all[n_all++] = cg->dirs[i].path;
    r = berth_cgroup_destroy(cg, &err);
    bool gone = !exists(nested);
    for (size_t i = 0; i < n_all; i++)
        gone &= !exists(all[i]);
    check(r == 0 && gone, "destroy removes all %zu dirs (%s)", n_all, err ? err->msg : "ok");
    if (!gone) {
        for (size_t i = 0; i < n_all; i++) {
            _cleanup_free_ char *procs = slurp(all[i], "cgroup.procs");
            _cleanup_free_ char *tasks = slurp(all[i], "tasks");
            printf("#   %s: procs [%s] tasks [%s] sub=%d\n", all[i], procs ? procs : "-",
                   tasks ? tasks : "-", exists(nested));
        }
    }
    check(berth_cgroup_destroy(cg2 ? cg2 : cg, &err) == 0, "destroy again: missing is fine");
    berth_cgroup_free(cg2);
    berth_cgroup_free(cg);
}

static void
test_relative(void)
{
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    int r = berth_cgroup_create(rel_name, "x", false, NULL, &cg, &err);
    check(r == 0, "create relative '%s' (%s)", rel_name, err ? err->msg : "ok");
    if (r < 0)
        return;
    /* expected: below the memory cgroup this process is in */
    _cleanup_free_ char *self = NULL;
    char want[512] = "";
    if (berth_read_file("/proc/self/cgroup", 1 << 16, &self, NULL, NULL) == 0) {
        char *line = strstr(self, ":memory:");
        if (line) {
            line += 8;
            line[strcspn(line, "\n")] = '\0';
            snprintf(want, sizeof(want), "/sys/fs/cgroup/memory%s/%s",
                     strcmp(line, "/") ? line : "", rel_name);
        }
    }
    const char *mem = berth_cgroup_path_of(cg, "memory");
    check(mem && !strcmp(mem, want) && exists(mem), "relative path below own cgroup: %s",
          mem ? mem : "-");
    check(berth_cgroup_destroy(cg, &err) == 0 && !exists(want), "relative cgroup destroyed");
}

static void
assert_nothing_left(const char *base, const char *what)
{
    static const char *const mounts[] = {"cpu",     "cpuacct", "cpuset", "memory",  "devices",
                                         "freezer", "blkio",   "pids",   "systemd", "unified"};
    bool left = false;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(mounts); i++) {
        char p[256];
        snprintf(p, sizeof(p), "/sys/fs/cgroup/%s%s", mounts[i], base);
        if (exists(p)) {
            printf("#   left behind: %s\n", p);
            left = true;
        }
    }
    check(!left, "%s: nothing left behind", what);
}

static void
test_create_failure(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/a/b", fail_name);

    struct berth_spec_resources res = {0};
    res.cpu.cpus = (char *)"999999";
    res.pids.limit = (struct berth_opt_i64){true, 10};
    _cleanup_error_ struct berth_error *err = NULL;
    struct berth_cgroup *cg = NULL;
    int r = berth_cgroup_create(path, "x", false, &res, &cg, &err);
    check(r < 0 && !cg && err && contains(err->msg, "cpuset.cpus") && contains(err->msg, "999999"),
          "invalid cpuset refused: %s", err ? err->msg : "created!");
    assert_nothing_left(fail_name, "cpuset failure");
    berth_error_freep(&err);

    /* a failure in the last backend (v2), after every v1 limit was written */
    struct berth_spec_hugepage_limit hp = {.page_size = (char *)"3MB", .limit = 1 << 22};
    struct berth_spec_resources res2 = {0};
    res2.memory.limit = (struct berth_opt_i64){true, 64 << 20};
    res2.hugepages = &hp;
    res2.n_hugepages = 1;
    r = berth_cgroup_create(path, "x", false, &res2, &cg, &err);
    check(r < 0 && err && contains(err->msg, "3MB"), "unknown hugepage size refused: %s",
          err ? err->msg : "created!");
    assert_nothing_left(fail_name, "hugetlb failure");
    berth_error_freep(&err);

    /* refused before anything is made */
    struct berth_spec_resources res3 = {0};
    res3.cpu.quota = (struct berth_opt_i64){true, 10};
    r = berth_cgroup_create(path, "x", false, &res3, &cg, &err);
    check(r == -EINVAL && err && contains(err->msg, "cpu quota 10"), "absurd quota refused: %s",
          err ? err->msg : "created!");
    assert_nothing_left(fail_name, "validation failure");
    if (cg)
        berth_cgroup_destroy(cg, NULL);
    berth_cgroup_free(cg);
}

/* ---- unified mode, forced onto the cgroup2 mount of this hybrid host ---- */

static void
test_unified(void)
{
    berth_cgroup_set_mode(BERTH_CGROUP_UNIFIED, UNIFIED_ROOT);
    check(berth_cgroup_detect_mode() == BERTH_CGROUP_UNIFIED && !berth_cgroup_has_v1() &&
              berth_cgroup_has_v2(),
          "unified mode forced on " UNIFIED_ROOT);
    _cleanup_error_ struct berth_error *err = NULL;
    struct berth_cgroup *cg = NULL;
    char dir[256];
    snprintf(dir, sizeof(dir), UNIFIED_ROOT "%s", name);

    struct berth_spec_resources memres = {0};
    memres.memory.limit = (struct berth_opt_i64){true, 64 << 20};
    int r = berth_cgroup_create(name, "x", false, &memres, &cg, &err);
    check(r < 0 && err && contains(err->msg, "cgroup controller memory is not available") &&
              !exists(dir),
          "memory limit without the memory controller: %s", err ? err->msg : "created!");
    berth_error_freep(&err);
    struct berth_spec_resources pidres = {0};
    pidres.pids.limit = (struct berth_opt_i64){true, 5};
    r = berth_cgroup_create(name, "x", false, &pidres, &cg, &err);
    check(r < 0 && err && contains(err->msg, "cgroup controller pids is not available"),
          "pids limit without the pids controller: %s", err ? err->msg : "created!");
    berth_error_freep(&err);

    struct berth_spec_device_rule rules[] = {
        {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
        {.allow = true, .type = 'c', .major = 1, .minor = 11, .access = "w"},
    };
    struct berth_spec_hugepage_limit hp = {.page_size = (char *)"2MB", .limit = 2 << 21};
    struct berth_spec_resources res = {0};
    res.devices = rules;
    res.n_devices = BERTH_ARRAY_SIZE(rules);
    res.has_devices = true;
    const char *hp2 = hugepage_2mb();
    if (hp2) {
        res.hugepages = &hp;
        res.n_hugepages = 1;
    }
    r = berth_cgroup_create(name, "x", false, &res, &cg, &err);
    check(r == 0 && cg, "unified create with devices%s (%s)", hp2 ? " and hugetlb" : "",
          err ? err->msg : "ok");
    if (!cg) {
        berth_cgroup_set_mode(BERTH_CGROUP_AUTO, NULL);
        return;
    }
    check(cg->n_dirs == 1 && !strcmp(berth_cgroup_path_of(cg, ""), dir), "one dir: %s", dir);
    if (hp2)
        check(file_is(dir, "hugetlb.2MB.max", "4194304"), "hugetlb.2MB.max");
    else
        check(1, "# SKIP no 2MB hugepages");
    size_t total = 0, ours = 0;
    int dfd = berth_cgroup_dir_fd(&cg->dirs[0], NULL);
    check(berth_cgroup_bpf_query(dfd, &total, &ours, &err) == 0 && total == 1 && ours == 1,
          "one device program attached (total %zu, berth's %zu)", total, ours);

    struct child ch;
    check(child_start(&ch) && berth_cgroup_enter(cg, ch.pid, &err) == 0, "child entered (%s)",
          err ? err->msg : "ok");
    check(proc_cgroup_has(ch.pid, "", name), "/proc/%d/cgroup: 0::%s", (int)ch.pid, name);
    check(child_do(&ch, 'o', "/dev/kmsg", O_RDONLY) == EPERM, "eBPF: /dev/kmsg read denied");
    check(child_do(&ch, 'o', "/dev/kmsg", O_WRONLY) == 0, "eBPF: /dev/kmsg write allowed");
    check(child_do(&ch, 'o', "/dev/null", O_RDWR) == 0 &&
              child_do(&ch, 'o', "/dev/zero", O_RDWR) == 0,
          "eBPF: /dev/null and /dev/zero allowed (defaults)");
    check(child_do(&ch, 'o', "/dev/loop0", O_RDONLY) == EPERM, "eBPF: /dev/loop0 denied");

    /* update replaces the program */
    struct berth_spec_device_rule rules2[] = {
        {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
        {.allow = true, .type = 'c', .major = 1, .minor = 11, .access = "r"},
        {.allow = true, .type = 'b', .major = 7, .minor = 0, .access = "r"},
    };
    struct berth_spec_resources up = {0};
    up.devices = rules2;
    up.n_devices = BERTH_ARRAY_SIZE(rules2);
    up.has_devices = true;
    r = berth_cgroup_update(cg, &up, &err);
    check(r == 0, "update devices (%s)", err ? err->msg : "ok");
    check(berth_cgroup_bpf_query(dfd, &total, &ours, NULL) == 0 && total == 1 && ours == 1,
          "still one program after update (total %zu)", total);
    check(child_do(&ch, 'o', "/dev/kmsg", O_RDONLY) == 0 &&
              child_do(&ch, 'o', "/dev/kmsg", O_WRONLY) == EPERM &&
              child_do(&ch, 'o', "/dev/loop0", O_RDONLY) == 0,
          "eBPF after update: /dev/kmsg read-only, /dev/loop0 allowed");
    /* no leading deny-all: everything else stays allowed, a deny rule overlapping wins */
    struct berth_spec_device_rule rules3[] = {
        {.allow = false, .type = 'c', .major = 1, .minor = 11, .access = "r"},
    };
    up.devices = rules3;
    up.n_devices = 1;
    r = berth_cgroup_update(cg, &up, &err);
    check(r == 0 && child_do(&ch, 'o', "/dev/loop0", O_RDONLY) == 0 &&
              child_do(&ch, 'o', "/dev/kmsg", O_RDWR) == EPERM &&
              child_do(&ch, 'o', "/dev/kmsg", O_WRONLY) == 0,
          "eBPF default-allow with a partial deny");
    /* the filter alone, without the default devices: /dev/null can be denied */
    struct berth_spec_device_rule only_zero[] = {
        {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
        {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm"},
    };
    r = berth_cgroup_bpf_apply(dfd, only_zero, BERTH_ARRAY_SIZE(only_zero), false, &err);
    check(r == 0 && child_do(&ch, 'o', "/dev/null", O_RDONLY) == EPERM &&
              child_do(&ch, 'o', "/dev/zero", O_RDWR) == 0,
          "eBPF filter [deny all, allow /dev/zero]: /dev/null EPERM, /dev/zero allowed (%s)",
          err ? err->msg : "ok");
    check(berth_cgroup_bpf_query(dfd, &total, &ours, NULL) == 0 && total == 1 && ours == 1,
          "replaced again: one program");

    r = berth_cgroup_freeze(cg, true, &err);
    check(r == 0 && file_is(dir, "cgroup.freeze", "1") && berth_cgroup_is_frozen(cg),
          "freeze via cgroup.freeze (%s)", err ? err->msg : "ok");
    _cleanup_free_ char *events = slurp(dir, "cgroup.events");
    check(contains(events, "frozen 1"), "cgroup.events: frozen 1");
    check(berth_cgroup_freeze(cg, false, &err) == 0 && !berth_cgroup_is_frozen(cg) &&
              file_is(dir, "cgroup.freeze", "0"),
          "thaw");

    json_t *st = NULL;
    check(berth_cgroup_stats(cg, &st, &err) == 0, "unified stats");
    bool f;
    int64_t v;
    json_get_u64(st, "cpu", "usage", "total", &f, &v);
    check(f, "unified stats cpu.usage.total = %" PRId64 " (cpu.stat)", v);
    check(!hp2 || json_object_get(json_object_get(st, "hugetlb"), "2MB"),
          "unified stats hugetlb.2MB");
    json_decref(st);

    json_t *js = berth_cgroup_to_json(cg);
    check(js && !strcmp(json_string_value(json_object_get(js, "mode")), "unified"),
          "json mode unified");
    json_decref(js);

    r = berth_cgroup_kill_all(cg, SIGKILL, &err);
    int status = child_wait(&ch);
    check(r == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "kill_all via cgroup.kill");
    r = berth_cgroup_destroy(cg, &err);
    check(r == 0 && !exists(dir), "unified destroy (%s)", err ? err->msg : "ok");
    berth_cgroup_free(cg);
    berth_cgroup_set_mode(BERTH_CGROUP_AUTO, NULL);
}

int
main(void)
{
    snprintf(name, sizeof(name), "/berth-unit-%d", (int)getpid());
    snprintf(fail_name, sizeof(fail_name), "/berth-unit-%d-fail", (int)getpid());
    snprintf(rel_name, sizeof(rel_name), "berth-unit-rel-%d", (int)getpid());
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    setvbuf(stdout, NULL, _IOLBF, 0);

    test_paths();
    test_mountinfo();
    if (geteuid() != 0 || !exists("/sys/fs/cgroup/memory/cgroup.procs")) {
        check(1, "# SKIP not root, or no cgroup v1 hierarchies");
        return tap_done();
    }
    unsetenv("BERTH_CGROUP_MODE");
    unsetenv("BERTH_CGROUP2_ROOT");
    check(berth_cgroup_detect_mode() == BERTH_CGROUP_HYBRID && berth_cgroup_has_v1() &&
              berth_cgroup_has_v2(),
          "this host is detected as hybrid");
    setenv("BERTH_CGROUP_MODE", "unified", 1);
    setenv("BERTH_CGROUP2_ROOT", UNIFIED_ROOT, 1);
    berth_cgroup_set_mode(BERTH_CGROUP_AUTO, NULL); /* drops the cached view */
    check(berth_cgroup_detect_mode() == BERTH_CGROUP_UNIFIED && !berth_cgroup_has_v1(),
          "BERTH_CGROUP_MODE=unified BERTH_CGROUP2_ROOT=" UNIFIED_ROOT " forces unified");
    setenv("BERTH_CGROUP_MODE", "v1", 1);
    berth_cgroup_set_mode(BERTH_CGROUP_AUTO, NULL);
    check(berth_cgroup_detect_mode() == BERTH_CGROUP_V1 && !berth_cgroup_has_v2(),
          "BERTH_CGROUP_MODE=v1 forces v1");
    berth_cgroup_set_mode(BERTH_CGROUP_HYBRID, NULL);
    check(berth_cgroup_detect_mode() == BERTH_CGROUP_HYBRID,
          "berth_cgroup_set_mode wins over the environment");
    unsetenv("BERTH_CGROUP_MODE");
    unsetenv("BERTH_CGROUP2_ROOT");
    berth_cgroup_set_mode(BERTH_CGROUP_AUTO, NULL);
    test_hybrid();
    test_relative();
    test_create_failure();
    if (exists(UNIFIED_ROOT "/cgroup.controllers"))
        test_unified();
    else
        check(1, "# SKIP no cgroup2 mount at " UNIFIED_ROOT);
    cleanup_leftovers();
    return tap_done();
}
