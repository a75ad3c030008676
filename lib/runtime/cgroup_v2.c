/* cgroup v2 backend: the unified hierarchy (all controllers on a unified host; on a hybrid
 * host only those not bound to a v1 hierarchy, e.g. hugetlb). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup_internal.h"

static struct berth_cgroup_dir *
v2_dir(struct berth_cgroup *cg, enum berth_cgroup_ctrl c)
{
    struct berth_cgroup_dir *d = berth_cgroup_dir_of(cg, c);
    return d && d->v2 ? d : NULL;
}

/* A controller's file is missing when the controller is not enabled for the cgroup. */
static int
v2_write(struct berth_cgroup_dir *d, enum berth_cgroup_ctrl c, const char *file, const char *value,
         struct berth_error **err)
{
    int r = berth_cgroup_try_write(d, file, value);
    if (r == -ENOENT)
        return berth_error_setq(err, EOPNOTSUPP,
                                "cgroup controller %s is not available (no '%s' in %s)",
                                berth_cgroup_ctrl_name(c, true), file, d->path);
    if (r < 0)
        return berth_error_set(err, -r, "write '%s' = %s", file, value);
    return 0;
}

static void
fmt_limit(char *buf, size_t size, int64_t v)
{
    if (v < 0)
        snprintf(buf, size, "max");
    else
        snprintf(buf, size, "%" PRId64, v);
}

/* ---- subtree_control: a controller works in a cgroup only if every ancestor enables it ---- */

static int
write_at_path(const char *dir, size_t dir_len, const char *file, const char *value)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%.*s/%s", (int)dir_len, dir, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t w = write(fd, value, len);
    if (w < 0)
        return -errno;
    return (size_t)w == len ? 0 : -EIO;
}

static int
v2_init_dir(struct berth_cgroup *cg, struct berth_cgroup_dir *d,
            const struct berth_spec_resources *res, struct berth_error **err)
{
    static const enum berth_cgroup_ctrl wanted[] = {BERTH_CG_CPUSET,  BERTH_CG_CPU,
                                                    BERTH_CG_BLKIO,   BERTH_CG_MEMORY,
                                                    BERTH_CG_HUGETLB, BERTH_CG_PIDS};
    char all[128];
    size_t len = 0;
    all[0] = '\0';
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(wanted); i++)
        if (d->mask & BERTH_CG_BIT(wanted[i]))
            len += (size_t)snprintf(all + len, sizeof(all) - len, "%s+%s", len ? " " : "",
                                    berth_cgroup_ctrl_name(wanted[i], true));
    if (!len || d->mount_len == 0)
        return 0;
    /* from the mount point down to the parent of d: one write each when it works; an
     * ancestor holding processes refuses (EBUSY): then each controller alone, best effort,
     * and a missing controller file is reported when a limit needs it */
    for (size_t i = d->mount_len; d->path[i]; i++) {
        if (d->path[i] != '/')
            continue;
        if (write_at_path(d->path, i, "cgroup.subtree_control", all) == 0)
            continue;
        for (size_t k = 0; k < BERTH_ARRAY_SIZE(wanted); k++) {
            char one[32];
            if (!(d->mask & BERTH_CG_BIT(wanted[k])))
                continue;
            snprintf(one, sizeof(one), "+%s", berth_cgroup_ctrl_name(wanted[k], true));
            write_at_path(d->path, i, "cgroup.subtree_control", one);
        }
    }
    return 0;
}

/* ---- resources ---- */

static int
v2_memory(struct berth_cgroup_dir *d, const struct berth_spec_resources *res,
          struct berth_error **err)
{
    const __typeof__(res->memory) *m = &res->memory;
    char v[32];
    int r;
    if (m->limit.set && m->limit.value) {
        fmt_limit(v, sizeof(v), m->limit.value);
        if ((r = v2_write(d, BERTH_CG_MEMORY, "memory.max", v, err)) < 0)
            return r;
    }
    if (m->reservation.set && m->reservation.value) {
        fmt_limit(v, sizeof(v), m->reservation.value);
        if ((r = v2_write(d, BERTH_CG_MEMORY, "memory.low", v, err)) < 0)
            return r;
    }
    if (m->swap.set && m->swap.value) {
        /* OCI's swap is memory+swap (v1's memsw); v2 limits swap alone */
        fmt_limit(v, sizeof(v), m->swap.value < 0 ? -1 : m->swap.value - m->limit.value);
        r = berth_cgroup_try_write(d, "memory.swap.max", v);
        if (r == -ENOENT && m->swap.value > 0)
            return berth_error_setq(err, EOPNOTSUPP,
                                    "memory swap limit requested but memory.swap.max does not "
                                    "exist (swap accounting is disabled in the kernel)");
        if (r < 0 && r != -ENOENT)
            return berth_error_set(err, -r, "write 'memory.swap.max' = %s", v);
    }
    /* swappiness and disableOOMKiller have no v2 equivalent: ignored, as runc does */
    return 0;
}

static int
v2_cpu(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, bool update,
       struct berth_error **err)
{
    const __typeof__(res->cpu) *c = &res->cpu;
    char v[64];
    int r;
    if (c->shares.set && c->shares.value) {
        uint64_t weight = 1 + ((uint64_t)(c->shares.value - 2) * 9999) / 262142;
        snprintf(v, sizeof(v), "%" PRIu64, weight);
        if ((r = v2_write(d, BERTH_CG_CPU, "cpu.weight", v, err)) < 0)
            return r;
    }
    bool quota = c->quota.set && c->quota.value, period = c->period.set && c->period.value;
    if (quota || period) {
        char q[32] = "max";
        if (quota) {
            fmt_limit(q, sizeof(q), c->quota.value);
        } else if (update) {
            /* only the period changes: keep the current quota */
            char cur[64];
            if (berth_cgroup_read_small(d, "cpu.max", cur, sizeof(cur)) > 0) {
                size_t l = strcspn(cur, " \n");
                if (l > 0 && l < sizeof(q)) {
                    memcpy(q, cur, l);
                    q[l] = '\0';
                }
            }
        }
        snprintf(v, sizeof(v), "%s %" PRId64, q, period ? c->period.value : (int64_t)100000);
        if ((r = v2_write(d, BERTH_CG_CPU, "cpu.max", v, err)) < 0)
            return r;
    }
    if (c->burst.set) {
        snprintf(v, sizeof(v), "%" PRId64, c->burst.value);
        if ((r = v2_write(d, BERTH_CG_CPU, "cpu.max.burst", v, err)) < 0)
            return r;
    }
    if (c->idle.set) {
        snprintf(v, sizeof(v), "%" PRId64, c->idle.value);
        if ((r = v2_write(d, BERTH_CG_CPU, "cpu.idle", v, err)) < 0)
            return r;
    }
    return 0;
}

/* BFQ takes blkio's 10..1000 as is; io.weight (iocost) wants 1..10000. */
static int
v2_io_weight(struct berth_cgroup_dir *d, const char *dev, int64_t weight, struct berth_error **err)
{
    char v[64];
    snprintf(v, sizeof(v), "%s%s%" PRId64, dev ? dev : "", dev ? " " : "", weight);
    int r = berth_cgroup_try_write(d, "io.bfq.weight", v);
    if (r != -ENOENT) {
        if (r < 0)
            return berth_error_set(err, -r, "write 'io.bfq.weight' = %s", v);
        return 0;
    }
    snprintf(v, sizeof(v), "%s%s%" PRId64, dev ? dev : "", dev ? " " : "",
             1 + (weight - 10) * 9999 / 990);
    return v2_write(d, BERTH_CG_BLKIO, "io.weight", v, err);
}

static int
v2_io(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, struct berth_error **err)
{
    const __typeof__(res->block_io) *b = &res->block_io;
    int r;
    if (b->weight.set && b->weight.value && (r = v2_io_weight(d, NULL, b->weight.value, err)) < 0)
        return r;
    /* leafWeight has no v2 equivalent */
    for (size_t i = 0; i < b->n_weight_devices; i++) {
        const struct berth_spec_weight_device *w = &b->weight_devices[i];
        char dev[48];
        snprintf(dev, sizeof(dev), "%" PRId64 ":%" PRId64, w->major, w->minor);
        if (w->weight.set && (r = v2_io_weight(d, dev, w->weight.value, err)) < 0)
            return r;
    }
    static const char *const keys[4] = {"rbps", "wbps", "riops", "wiops"};
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < b->n_throttle[t]; i++) {
            const struct berth_spec_throttle_device *td = &b->throttle[t][i];
            char v[96];
            snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, td->major, td->minor,
                     keys[t], td->rate);
            if ((r = v2_write(d, BERTH_CG_BLKIO, "io.max", v, err)) < 0)
                return r;
        }
    return 0;
}

static int
v2_hugetlb(struct berth_cgroup_dir *d, const struct berth_spec_resources *res,
           struct berth_error **err)
{
    for (size_t i = 0; i < res->n_hugepages; i++) {
        char file[64], v[32];
        snprintf(file, sizeof(file), "hugetlb.%s.max", res->hugepages[i].page_size);
        snprintf(v, sizeof(v), "%" PRIu64, res->hugepages[i].limit);
        int r = berth_cgroup_try_write(d, file, v);
        if (r == -ENOENT)
            return berth_error_setq(err, EOPNOTSUPP,
                                    "hugepage size %s is not supported (no %s in %s)",
                                    res->hugepages[i].page_size, file, d->path);
        if (r < 0)
            return berth_error_set(err, -r, "write '%s' = %s", file, v);
        /* reservations too (Linux 5.7), or reserved-but-unfaulted pages escape the limit */
        snprintf(file, sizeof(file), "hugetlb.%s.rsvd.max", res->hugepages[i].page_size);
        r = berth_cgroup_try_write(d, file, v);
        if (r < 0 && r != -ENOENT)
            return berth_error_set(err, -r, "write '%s' = %s", file, v);
    }
    return 0;
}

static int
v2_apply(struct berth_cgroup *cg, const struct berth_spec_resources *res, bool update,
         struct berth_error **err)
{
    struct berth_cgroup_dir *d;
    int r;
    if (cg->v2 < 0)
        return 0;
    if ((d = v2_dir(cg, BERTH_CG_MEMORY)) && (r = v2_memory(d, res, err)) < 0)
        return r;
    if ((d = v2_dir(cg, BERTH_CG_CPU)) && (r = v2_cpu(d, res, update, err)) < 0)
        return r;
    if ((d = v2_dir(cg, BERTH_CG_CPUSET))) {
        if (res->cpu.cpus && *res->cpu.cpus &&
            (r = v2_write(d, BERTH_CG_CPUSET, "cpuset.cpus", res->cpu.cpus, err)) < 0)
            return r;
        if (res->cpu.mems && *res->cpu.mems &&
            (r = v2_write(d, BERTH_CG_CPUSET, "cpuset.mems", res->cpu.mems, err)) < 0)
            return r;
    }
    if ((d = v2_dir(cg, BERTH_CG_PIDS)) && res->pids.limit.set) {
        char v[32];
        fmt_limit(v, sizeof(v), res->pids.limit.value > 0 ? res->pids.limit.value : -1);
        if ((r = v2_write(d, BERTH_CG_PIDS, "pids.max", v, err)) < 0)
            return r;
    }
    if ((d = v2_dir(cg, BERTH_CG_BLKIO)) && (r = v2_io(d, res, err)) < 0)
        return r;
    if ((d = v2_dir(cg, BERTH_CG_HUGETLB)) && (r = v2_hugetlb(d, res, err)) < 0)
        return r;
    if ((d = v2_dir(cg, BERTH_CG_DEVICES)) && res->has_devices) {
        int dfd = berth_cgroup_dir_fd(d, err);
        if (dfd < 0)
            return dfd;
        r = berth_cgroup_bpf_apply(dfd, res->devices, res->n_devices, !update && d->created > 0,
                                   err);
        if (r < 0)
            return r;
    }
    d = &cg->dirs[cg->v2];
    for (size_t i = 0; i < res->n_unified; i++) {
        const struct berth_kv *kv = &res->unified[i];
        r = berth_cgroup_try_write(d, kv->key, kv->value);
        if (r == -ENOENT)
            return berth_error_setq(err, EOPNOTSUPP, "unified resource '%s': no such file in %s",
                                    kv->key, d->path);
        if (r < 0)
            return berth_error_set(err, -r, "write '%s' = %s", kv->key, kv->value);
    }
    return 0;
}

/* ---- freezer: cgroup.freeze, then cgroup.events says when it is done ---- */

static int
events_frozen(int fd)
{
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    uint64_t v;
    return berth_cgroup_kv_u64(buf, "frozen", &v) ? (int)(v != 0) : -EINVAL;
}

static int
v2_freeze(struct berth_cgroup_dir *d, bool freeze, struct berth_error **err)
{
    int dfd = berth_cgroup_dir_fd(d, err);
    if (dfd < 0)
        return dfd;
    int r = berth_cgroup_try_write(d, "cgroup.freeze", freeze ? "1" : "0");
    if (r == -ENOENT)
        return berth_error_setq(err, EOPNOTSUPP,
                                "%s/cgroup.freeze does not exist "
                                "(the v2 freezer needs Linux 5.2)",
                                d->path);
    if (r < 0)
        return berth_error_set(err, -r, "write 'cgroup.freeze' = %d", freeze);
    _cleanup_close_ int fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "open '%s/cgroup.events'", d->path);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        r = events_frozen(fd);
        if (r < 0)
            return berth_error_set(err, -r, "read '%s/cgroup.events'", d->path);
        if (r == (int)freeze)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= 5)
            break;
        /* kernfs wakes POLLPRI pollers when cgroup.events changes; the timeout is a guard */
        struct pollfd pfd = {.fd = fd, .events = POLLPRI};
        poll(&pfd, 1, 50);
    }
    if (freeze)
        berth_cgroup_try_write(d, "cgroup.freeze", "0");
    return berth_error_setq(err, ETIMEDOUT, "%s/cgroup.events did not report frozen %d", d->path,
                            freeze);
}

static int
v2_is_frozen(struct berth_cgroup_dir *d)
{
    char buf[256];
    ssize_t n = berth_cgroup_read_small(d, "cgroup.events", buf, sizeof(buf));
    uint64_t v;
    if (n < 0)
        return (int)n;
    return berth_cgroup_kv_u64(buf, "frozen", &v) ? (int)(v != 0) : -EINVAL;
}

/* ---- stats ---- */

/* hugetlb is shared: both backends report it in this shape, with sizes found here */

int
berth_cgroup_hugepage_name(const char *kb, char *buf, size_t size)
{
    char num[32];
    size_t len = strcspn(kb, "k");
    uint64_t v;
    if (len == 0 || len >= sizeof(num) || strcmp(kb + len, "kB") != 0)
        return -EINVAL;
    memcpy(num, kb, len);
    num[len] = '\0';
    if (!berth_parse_u64(num, &v) || v == 0)
        return -EINVAL;
    int n;
    if (v % (1024 * 1024) == 0)
        n = snprintf(buf, size, "%" PRIu64 "GB", v / (1024 * 1024));
    else if (v % 1024 == 0)
        n = snprintf(buf, size, "%" PRIu64 "MB", v / 1024);
    else
        n = snprintf(buf, size, "%" PRIu64 "KB", v);
    return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

char *const *
berth_cgroup_hugepage_sizes(void)
{
    static char *empty[1], **sizes;
    static bool loaded;
    if (loaded)
        return sizes ? sizes : empty;
    loaded = true;
    int fd = open("/sys/kernel/mm/hugepages", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return empty;
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return empty;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char name[32];
        if (!berth_str_has_prefix(de->d_name, "hugepages-") ||
            berth_cgroup_hugepage_name(de->d_name + 10, name, sizeof(name)) < 0)
            continue;
        if (berth_strv_push(&sizes, name) < 0)
            break;
    }
    return sizes ? sizes : empty;
}

void
berth_cgroup_hugetlb_stats(struct berth_cgroup_dir *d, json_t *out, bool v2)
{
    for (char *const *s = berth_cgroup_hugepage_sizes(); *s; s++) {
        char f[64];
        uint64_t v;
        json_t *o = json_object();
        snprintf(f, sizeof(f), v2 ? "hugetlb.%s.current" : "hugetlb.%s.usage_in_bytes", *s);
        berth_cgroup_json_set_u64(o, "usage", d, f);
        snprintf(f, sizeof(f), v2 ? "hugetlb.%s.max" : "hugetlb.%s.max_usage_in_bytes", *s);
        berth_cgroup_json_set_u64(o, v2 ? "limit" : "max", d, f);
        if (v2) {
            _cleanup_free_ char *ev = NULL;
            snprintf(f, sizeof(f), "hugetlb.%s.events", *s);
            if (berth_cgroup_read_alloc(d, f, &ev) == 0 && berth_cgroup_kv_u64(ev, "max", &v))
                json_object_set_new(o, "failcnt", berth_cgroup_json_u64(v));
        } else {
            snprintf(f, sizeof(f), "hugetlb.%s.failcnt", *s);
            berth_cgroup_json_set_u64(o, "failcnt", d, f);
        }
        json_object_set_new(out, *s, o);
    }
}

static void
v2_stats_cpu(struct berth_cgroup_dir *d, json_t *cpu)
{
    _cleanup_free_ char *text = NULL;
    if (berth_cgroup_read_alloc(d, "cpu.stat", &text) < 0)
        return;
    json_t *usage = berth_cgroup_json_section(cpu, "usage");
    json_t *thr = berth_cgroup_json_section(cpu, "throttling");
    static const struct {
        const char *file_key, *key;
        bool usage;
        uint64_t mul;
    } keys[] = {
        {"usage_usec", "total", true, 1000},
        {"user_usec", "user", true, 1000},
        {"system_usec", "kernel", true, 1000},
        {"nr_periods", "periods", false, 1},
        {"nr_throttled", "throttled_periods", false, 1},
        {"throttled_usec", "throttled_time", false, 1000},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
        uint64_t v;
        if (berth_cgroup_kv_u64(text, keys[i].file_key, &v))
            json_object_set_new(keys[i].usage ? usage : thr, keys[i].key,
                                berth_cgroup_json_u64(v * keys[i].mul));
    }
    json_object_set_new(usage, "percpu", json_array()); /* v2 has no per-cpu usage */
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
v2_stats_memory(struct berth_cgroup_dir *d, json_t *mem)
{
    json_t *usage = berth_cgroup_json_section(mem, "usage");
    json_t *swap = berth_cgroup_json_section(mem, "swap");
    uint64_t cur = 0, max = UINT64_MAX, scur, smax;
    _cleanup_free_ char *text = NULL;
    if (berth_cgroup_read_u64(d, "memory.current", &cur) == 0)
        json_object_set_new(usage, "usage", berth_cgroup_json_u64(cur));
    if (berth_cgroup_read_u64(d, "memory.max", &max) == 0)
        json_object_set_new(usage, "limit", berth_cgroup_json_u64(max));
    berth_cgroup_json_set_u64(usage, "max", d, "memory.peak");
    if (berth_cgroup_read_alloc(d, "memory.events", &text) == 0) {
        uint64_t v;
        if (berth_cgroup_kv_u64(text, "max", &v))
            json_object_set_new(usage, "failcnt", berth_cgroup_json_u64(v));
        free(TAKE_PTR(text));
    }
    /* like runc: "swap" is memory+swap, the v1 meaning */
    if (berth_cgroup_read_u64(d, "memory.swap.current", &scur) == 0)
        json_object_set_new(swap, "usage", berth_cgroup_json_u64(sat_add(scur, cur)));
    if (berth_cgroup_read_u64(d, "memory.swap.max", &smax) == 0)
        json_object_set_new(swap, "limit", berth_cgroup_json_u64(sat_add(smax, max)));
    if (berth_cgroup_read_alloc(d, "memory.stat", &text) == 0) {
        json_t *raw = berth_cgroup_json_section(mem, "raw");
        berth_cgroup_kv_to_json(text, raw);
        json_t *file = json_object_get(raw, "file");
        if (file)
            json_object_set(mem, "cache", file);
    }
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device */
static void
v2_stats_io(struct berth_cgroup_dir *d, json_t *blkio)
{
    json_t *bytes = json_array(), *ios = json_array();
    json_object_set_new(blkio, "ioServiceBytesRecursive", bytes);
    json_object_set_new(blkio, "ioServicedRecursive", ios);
    _cleanup_free_ char *text = NULL;
    if (berth_cgroup_read_alloc(d, "io.stat", &text) < 0)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned maj, min;
        int off = 0;
        if (sscanf(line, "%u:%u %n", &maj, &min, &off) != 2 || off <= 0)
            continue;
        char *save2 = NULL;
        for (char *kv = strtok_r(line + off, " ", &save2); kv; kv = strtok_r(NULL, " ", &save2)) {
            char *eq = strchr(kv, '=');
            uint64_t v;
            if (!eq || !berth_parse_u64(eq + 1, &v))
                continue;
            *eq = '\0';
            json_t *arr = !strcmp(kv, "rbytes") || !strcmp(kv, "wbytes") ? bytes
                          : !strcmp(kv, "rios") || !strcmp(kv, "wios")   ? ios
                                                                         : NULL;
            if (arr)
                json_array_append_new(arr,
                                      json_pack("{s:i,s:i,s:s,s:o}", "major", (int)maj, "minor",
                                                (int)min, "op", kv[0] == 'r' ? "Read" : "Write",
                                                "value", berth_cgroup_json_u64(v)));
        }
    }
}

static int
v2_stats(struct berth_cgroup *cg, json_t *out, struct berth_error **err)
{
    struct berth_cgroup_dir *d;
    /* cpu.stat's usage lines exist without the cpu controller */
    struct berth_cgroup_dir *c = berth_cgroup_dir_of(cg, BERTH_CG_CPU);
    struct berth_cgroup_dir *ca = berth_cgroup_dir_of(cg, BERTH_CG_CPUACCT);
    if ((!c || c->v2) && (!ca || ca->v2))
        v2_stats_cpu(&cg->dirs[cg->v2], berth_cgroup_json_section(out, "cpu"));
    if ((d = v2_dir(cg, BERTH_CG_MEMORY)))
        v2_stats_memory(d, berth_cgroup_json_section(out, "memory"));
    if ((d = v2_dir(cg, BERTH_CG_PIDS))) {
        json_t *p = berth_cgroup_json_section(out, "pids");
        uint64_t v;
        berth_cgroup_json_set_u64(p, "current", d, "pids.current");
        if (berth_cgroup_read_u64(d, "pids.max", &v) == 0)
            json_object_set_new(p, "limit", berth_cgroup_json_u64(v == UINT64_MAX ? 0 : v));
    }
    if ((d = v2_dir(cg, BERTH_CG_BLKIO)))
        v2_stats_io(d, berth_cgroup_json_section(out, "blkio"));
    if ((d = v2_dir(cg, BERTH_CG_HUGETLB)))
        berth_cgroup_hugetlb_stats(d, berth_cgroup_json_section(out, "hugetlb"), true);
    return 0;
}

static int
v2_oom_count(struct berth_cgroup_dir *d, uint64_t *ret, struct berth_error **err)
{
    char buf[512];
    ssize_t n = berth_cgroup_read_small(d, "memory.events", buf, sizeof(buf));
    if (n < 0)
        return berth_error_set(err, (int)-n, "read '%s/memory.events'", d->path);
    uint64_t v = 0;
    berth_cgroup_kv_u64(buf, "oom_kill", &v);
    *ret = v;
    return 0;
}

const struct berth_cgroup_ops berth_cgroup_v2_ops = {
    .name = "v2",
    .init_dir = v2_init_dir,
    .apply = v2_apply,
    .freeze = v2_freeze,
    .is_frozen = v2_is_frozen,
    .stats = v2_stats,
    .oom_count = v2_oom_count,
};
