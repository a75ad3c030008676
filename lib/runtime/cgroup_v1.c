/* cgroup v1 backend: one directory per hierarchy (memory, cpu, cpuset, ...). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup_internal.h"

/* The dir of controller c if it is a v1 one (on a hybrid host some live in v2). */
static struct berth_cgroup_dir *
v1_dir(struct berth_cgroup *cg, enum berth_cgroup_ctrl c)
{
    struct berth_cgroup_dir *d = berth_cgroup_dir_of(cg, c);
    return d && !d->v2 ? d : NULL;
}

static int
write_i64(struct berth_cgroup_dir *d, const char *file, int64_t v, struct berth_error **err)
{
    return berth_cgroup_writef(d, file, err, "%" PRId64, v);
}

/* ---- cpuset: a new v1 cpuset cgroup has empty cpus and mems, and no task can join it ---- */

static int
read_path_small(const char *dir, const char *file, char *buf, size_t size)
{
    struct berth_cgroup_dir pd = {.path = (char *)dir, .fd = -1};
    ssize_t n = berth_cgroup_read_small(&pd, file, buf, size);
    if (n < 0)
        return (int)n;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static int
v1_init_dir(struct berth_cgroup *cg, struct berth_cgroup_dir *d,
            const struct berth_spec_resources *res, struct berth_error **err)
{
    if (!(d->mask & BERTH_CG_BIT(BERTH_CG_CPUSET)) || d->created == 0)
        return 0;
    /* the parent of the first directory made here has values to inherit */
    _cleanup_free_ char *copy = strdup(d->path);
    if (!copy)
        return berth_error_set(err, ENOMEM, "cpuset");
    char *cut[64];
    unsigned levels = d->created < 64 ? d->created : 64;
    for (unsigned i = 0; i < levels; i++) {
        char *slash = strrchr(copy, '/');
        if (!slash)
            return berth_error_setq(err, EINVAL, "cpuset: bad path '%s'", d->path);
        *slash = '\0';
        cut[i] = slash;
    }
    char cpus[4096], mems[4096];
    int r = read_path_small(copy, "cpuset.cpus", cpus, sizeof(cpus));
    if (r == 0)
        r = read_path_small(copy, "cpuset.mems", mems, sizeof(mems));
    if (r < 0)
        return berth_error_set(err, -r, "read '%s/cpuset.cpus'", copy);
    const char *want_cpus = res && res->cpu.cpus && *res->cpu.cpus ? res->cpu.cpus : NULL;
    const char *want_mems = res && res->cpu.mems && *res->cpu.mems ? res->cpu.mems : NULL;
    for (unsigned i = levels; i-- > 0;) {
        *cut[i] = '/';
        bool leaf = i == 0;
        struct berth_cgroup_dir lvl = {.path = copy, .fd = -1};
        struct berth_cgroup_dir *t = leaf ? d : &lvl;
        const char *c = leaf && want_cpus ? want_cpus : cpus;
        const char *m = leaf && want_mems ? want_mems : mems;
        r = 0;
        if (*c)
            r = berth_cgroup_write(t, "cpuset.cpus", c, err);
        if (r == 0 && *m)
            r = berth_cgroup_write(t, "cpuset.mems", m, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- resources ---- */

/* memory.memsw.* exist only with swap accounting: unlimited (-1) is then a no-op. */
static int
write_memsw(struct berth_cgroup_dir *d, int64_t swap, const char *value, struct berth_error **err)
{
    int r = berth_cgroup_try_write(d, "memory.memsw.limit_in_bytes", value);
    if (r == -ENOENT && swap < 0)
        return 0;
    if (r == -ENOENT)
        return berth_error_setq(err, EOPNOTSUPP,
                                "memory swap limit %s requested but memory.memsw.limit_in_bytes "
                                "does not exist (swap accounting is disabled in the kernel)",
                                value);
    if (r < 0)
        return berth_error_set(err, -r, "write 'memory.memsw.limit_in_bytes' = %s", value);
    return 0;
}

static int
v1_memory(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, bool update,
          struct berth_error **err)
{
    const __typeof__(res->memory) *m = &res->memory;
    bool lim = m->limit.set && m->limit.value, swap = m->swap.set && m->swap.value;
    char lv[32], sv[32];
    int r;
    snprintf(lv, sizeof(lv), "%" PRId64, m->limit.value);
    snprintf(sv, sizeof(sv), "%" PRId64, m->swap.value);
    if (lim && swap) {
        /* memsw must stay >= limit at every step: lowering writes the limit first, raising
         * the swap limit first. Try limit-first; EINVAL means we are raising. */
        r = berth_cgroup_try_write(d, "memory.limit_in_bytes", lv);
        if (r == -EINVAL) {
            if ((r = write_memsw(d, m->swap.value, sv, err)) < 0)
                return r;
            if ((r = berth_cgroup_write(d, "memory.limit_in_bytes", lv, err)) < 0)
                return r;
        } else if (r < 0) {
            return berth_error_set(err, -r, "write 'memory.limit_in_bytes' = %s", lv);
        } else if ((r = write_memsw(d, m->swap.value, sv, err)) < 0) {
            return r;
        }
    } else if (lim) {
        if ((r = berth_cgroup_write(d, "memory.limit_in_bytes", lv, err)) < 0)
            return r;
    } else if (swap) {
        if ((r = write_memsw(d, m->swap.value, sv, err)) < 0)
            return r;
    }
    if (m->reservation.set && m->reservation.value &&
        (r = write_i64(d, "memory.soft_limit_in_bytes", m->reservation.value, err)) < 0)
        return r;
    if (m->swappiness.set && m->swappiness.value >= 0 &&
        (r = write_i64(d, "memory.swappiness", m->swappiness.value, err)) < 0)
        return r;
    if (m->has_disable_oom_killer && (m->disable_oom_killer || update) &&
        (r = berth_cgroup_write(d, "memory.oom_control", m->disable_oom_killer ? "1" : "0", err)) <
            0)
        return r;
    /* kernel memory limits (memory.kmem.*) are deprecated and ignored, as runc does */
    return 0;
}

/* Writes a then b; if a is refused with EINVAL (b constrains it), b then a. */
static int
write_pair(struct berth_cgroup_dir *d, const char *fa, int64_t a, bool has_a, const char *fb,
           int64_t b, bool has_b, struct berth_error **err)
{
    char av[32], bv[32];
    snprintf(av, sizeof(av), "%" PRId64, a);
    snprintf(bv, sizeof(bv), "%" PRId64, b);
    if (!has_a)
        return has_b ? berth_cgroup_write(d, fb, bv, err) : 0;
    int r = berth_cgroup_try_write(d, fa, av);
    if (r == -EINVAL && has_b) {
        if ((r = berth_cgroup_write(d, fb, bv, err)) < 0)
            return r;
        return berth_cgroup_write(d, fa, av, err);
    }
    if (r < 0)
        return berth_error_set(err, -r, "write '%s' = %s", fa, av);
    return has_b ? berth_cgroup_write(d, fb, bv, err) : 0;
}

static int
v1_cpu(struct berth_cgroup_dir *d, const struct berth_spec_resources *res, struct berth_error **err)
{
    const __typeof__(res->cpu) *c = &res->cpu;
    int r;
    if (c->shares.set && c->shares.value &&
        (r = write_i64(d, "cpu.shares", c->shares.value, err)) < 0)
        return r;
    if ((r = write_pair(d, "cpu.cfs_period_us", c->period.value, c->period.set && c->period.value,
                        "cpu.cfs_quota_us", c->quota.value, c->quota.set && c->quota.value, err)) <
        0)
        return r;
    if (c->burst.set && (r = write_i64(d, "cpu.cfs_burst_us", c->burst.value, err)) < 0)
        return r;
    if ((r = write_pair(d, "cpu.rt_period_us", c->realtime_period.value,
                        c->realtime_period.set && c->realtime_period.value, "cpu.rt_runtime_us",
                        c->realtime_runtime.value,
                        c->realtime_runtime.set && c->realtime_runtime.value, err)) < 0)
        return r;
    if (c->idle.set && (r = write_i64(d, "cpu.idle", c->idle.value, err)) < 0)
        return r;
    return 0;
}

/* blkio.weight is CFQ's; with BFQ the file is blkio.bfq.weight. */
static int
write_weight(struct berth_cgroup_dir *d, const char *file, const char *bfq_file, const char *value,
             bool optional, struct berth_error **err)
{
    int r = berth_cgroup_try_write(d, file, value);
    if (r == -ENOENT && bfq_file)
        r = berth_cgroup_try_write(d, bfq_file, value);
    if (r == -ENOENT) {
        if (optional)
            return 0;
        return berth_error_setq(err, EOPNOTSUPP,
                                "write '%s' = %s: the kernel has no %s%s%s "
                                "(no CFQ/BFQ io scheduler?)",
                                file, value, file, bfq_file ? " or " : "",
                                bfq_file ? bfq_file : "");
    }
    if (r < 0)
        return berth_error_set(err, -r, "write '%s' = %s", file, value);
    return 0;
}

static int
v1_blkio(struct berth_cgroup_dir *d, const struct berth_spec_resources *res,
         struct berth_error **err)
{
    const __typeof__(res->block_io) *b = &res->block_io;
    char v[64];
    int r;
    if (b->weight.set && b->weight.value) {
        snprintf(v, sizeof(v), "%" PRId64, b->weight.value);
        if ((r = write_weight(d, "blkio.weight", "blkio.bfq.weight", v, false, err)) < 0)
            return r;
    }
    if (b->leaf_weight.set && b->leaf_weight.value) {
        /* CFQ only, gone from current kernels: skipped where absent */
        snprintf(v, sizeof(v), "%" PRId64, b->leaf_weight.value);
        if ((r = write_weight(d, "blkio.leaf_weight", NULL, v, true, err)) < 0)
            return r;
    }
    for (size_t i = 0; i < b->n_weight_devices; i++) {
        const struct berth_spec_weight_device *w = &b->weight_devices[i];
        if (w->weight.set) {
            snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor,
                     w->weight.value);
            if ((r = write_weight(d, "blkio.weight_device", "blkio.bfq.weight_device", v, false,
                                  err)) < 0)
                return r;
        }
        if (w->leaf_weight.set) {
            snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %" PRId64, w->major, w->minor,
                     w->leaf_weight.value);
            if ((r = write_weight(d, "blkio.leaf_weight_device", NULL, v, true, err)) < 0)
                return r;
        }
    }
    static const char *const files[4] = {
        "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < b->n_throttle[t]; i++) {
            const struct berth_spec_throttle_device *td = &b->throttle[t][i];
            snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %" PRIu64, td->major, td->minor,
                     td->rate);
            if ((r = berth_cgroup_write(d, files[t], v, err)) < 0)
                return r;
        }
    return 0;
}

/* "c 1:3 rwm", "*" for any number; type 'a' is the whole-list reset "a". */
static void
format_rule(const struct berth_spec_device_rule *rule, char *buf, size_t size)
{
    if (rule->type == 'a') {
        snprintf(buf, size, "a");
        return;
    }
    char maj[24] = "*", min[24] = "*";
    if (rule->major >= 0)
        snprintf(maj, sizeof(maj), "%" PRId64, rule->major);
    if (rule->minor >= 0)
        snprintf(min, sizeof(min), "%" PRId64, rule->minor);
    snprintf(buf, size, "%c %s:%s %s", rule->type, maj, min, rule->access);
}

static int
v1_devices(struct berth_cgroup_dir *d, const struct berth_spec_resources *res,
           struct berth_error **err)
{
    /* each write() is one rule: one open of devices.allow / devices.deny for all of them */
    int fds[2] = {-1, -1}, r = 0;
    for (size_t i = 0; r == 0 && i < res->n_devices; i++) {
        const struct berth_spec_device_rule *rule = &res->devices[i];
        const char *file = rule->allow ? "devices.allow" : "devices.deny";
        int *fd = &fds[rule->allow];
        char buf[80];
        if (rule->type != 'a' && !rule->access[0])
            continue; /* no access named: nothing to allow or deny */
        format_rule(rule, buf, sizeof(buf));
        int dfd = *fd < 0 ? berth_cgroup_dir_fd(d, err) : 0;
        if (dfd < 0) {
            r = dfd;
            break;
        }
        if (*fd < 0 && (*fd = openat(dfd, file, O_WRONLY | O_CLOEXEC)) < 0) {
            r = berth_error_set(err, errno, "open '%s'", file);
            break;
        }
        if (write(*fd, buf, strlen(buf)) < 0)
            r = berth_error_set(err, errno, "write '%s' = %s", file, buf);
    }
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return r;
}

static int
v1_hugetlb(struct berth_cgroup_dir *d, const struct berth_spec_resources *res,
           struct berth_error **err)
{
    for (size_t i = 0; i < res->n_hugepages; i++) {
        char file[64], v[32];
        snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", res->hugepages[i].page_size);
        snprintf(v, sizeof(v), "%" PRIu64, res->hugepages[i].limit);
        int r = berth_cgroup_try_write(d, file, v);
        if (r == -ENOENT)
            return berth_error_setq(err, EOPNOTSUPP, "hugepage size %s is not supported (no %s)",
                                    res->hugepages[i].page_size, file);
        if (r < 0)
            return berth_error_set(err, -r, "write '%s' = %s", file, v);
        /* reservations too (Linux 5.7), or reserved-but-unfaulted pages escape the limit */
        snprintf(file, sizeof(file), "hugetlb.%s.rsvd.limit_in_bytes", res->hugepages[i].page_size);
        r = berth_cgroup_try_write(d, file, v);
        if (r < 0 && r != -ENOENT)
            return berth_error_set(err, -r, "write '%s' = %s", file, v);
    }
    return 0;
}

static int
v1_apply(struct berth_cgroup *cg, const struct berth_spec_resources *res, bool update,
         struct berth_error **err)
{
    struct berth_cgroup_dir *d;
    int r;
    if ((d = v1_dir(cg, BERTH_CG_MEMORY)) && (r = v1_memory(d, res, update, err)) < 0)
        return r;
    if ((d = v1_dir(cg, BERTH_CG_CPU)) && (r = v1_cpu(d, res, err)) < 0)
        return r;
    /* on create, a new cpuset dir got its values in init_dir */
    if ((d = v1_dir(cg, BERTH_CG_CPUSET)) && (update || d->created == 0)) {
        if (res->cpu.cpus && *res->cpu.cpus &&
            (r = berth_cgroup_write(d, "cpuset.cpus", res->cpu.cpus, err)) < 0)
            return r;
        if (res->cpu.mems && *res->cpu.mems &&
            (r = berth_cgroup_write(d, "cpuset.mems", res->cpu.mems, err)) < 0)
            return r;
    }
    if ((d = v1_dir(cg, BERTH_CG_PIDS)) && res->pids.limit.set) {
        if (res->pids.limit.value > 0)
            r = write_i64(d, "pids.max", res->pids.limit.value, err);
        else
            r = berth_cgroup_write(d, "pids.max", "max", err);
        if (r < 0)
            return r;
    }
    if ((d = v1_dir(cg, BERTH_CG_BLKIO)) && (r = v1_blkio(d, res, err)) < 0)
        return r;
    if ((d = v1_dir(cg, BERTH_CG_DEVICES)) && res->has_devices && (r = v1_devices(d, res, err)) < 0)
        return r;
    if ((d = v1_dir(cg, BERTH_CG_HUGETLB)) && (r = v1_hugetlb(d, res, err)) < 0)
        return r;
    if ((d = v1_dir(cg, BERTH_CG_NET_CLS)) && res->network.class_id.set &&
        (r = write_i64(d, "net_cls.classid", res->network.class_id.value, err)) < 0)
        return r;
    return 0;
}

/* ---- freezer ---- */

static int
read_state(struct berth_cgroup_dir *d, char *buf, size_t size)
{
    ssize_t n = berth_cgroup_read_small(d, "freezer.state", buf, size);
    if (n < 0)
        return (int)n;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static int
v1_freeze(struct berth_cgroup_dir *d, bool freeze, struct berth_error **err)
{
    const char *want = freeze ? "FROZEN" : "THAWED";
    int r = berth_cgroup_write(d, "freezer.state", want, err);
    if (r < 0)
        return r;
    /* FREEZING until every task stopped; a task stuck in the kernel can hold it there, so
     * the request is repeated now and then. 5 s in all. */
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long delay_us = 50;
    for (int i = 1;; i++) {
        char state[32];
        if ((r = read_state(d, state, sizeof(state))) < 0)
            return berth_error_set(err, -r, "read 'freezer.state'");
        if (!strcmp(state, want))
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= 5)
            break;
        if (freeze && i % 50 == 0) {
            berth_cgroup_try_write(d, "freezer.state", "THAWED");
            berth_cgroup_try_write(d, "freezer.state", "FROZEN");
        }
        struct timespec ts = {0, delay_us * 1000};
        nanosleep(&ts, NULL);
        if (delay_us < 10000)
            delay_us *= 2;
    }
    if (freeze)
        berth_cgroup_try_write(d, "freezer.state", "THAWED");
    return berth_error_setq(err, ETIMEDOUT, "freezer.state did not become %s", want);
}

static int
v1_is_frozen(struct berth_cgroup_dir *d)
{
    char state[32];
    int r = read_state(d, state, sizeof(state));
    if (r < 0)
        return r;
    return !strcmp(state, "FROZEN");
}

/* ---- stats ---- */

static void
v1_stats_cpu(struct berth_cgroup *cg, json_t *cpu)
{
    struct berth_cgroup_dir *d = v1_dir(cg, BERTH_CG_CPUACCT);
    _cleanup_free_ char *text = NULL;
    if (d) {
        json_t *usage = berth_cgroup_json_section(cpu, "usage");
        berth_cgroup_json_set_u64(usage, "total", d, "cpuacct.usage");
        if (berth_cgroup_read_alloc(d, "cpuacct.usage_percpu", &text) == 0) {
            json_t *arr = json_array();
            char *save = NULL;
            for (char *t = strtok_r(text, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                uint64_t v;
                if (berth_parse_u64(t, &v))
                    json_array_append_new(arr, berth_cgroup_json_u64(v));
            }
            json_object_set_new(usage, "percpu", arr);
            free(TAKE_PTR(text));
        }
        if (berth_cgroup_read_alloc(d, "cpuacct.stat", &text) == 0) {
            /* in USER_HZ ticks; runc reports nanoseconds */
            long hz = sysconf(_SC_CLK_TCK);
            uint64_t v, mul = hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
            if (berth_cgroup_kv_u64(text, "user", &v))
                json_object_set_new(usage, "user", berth_cgroup_json_u64(v * mul));
            if (berth_cgroup_kv_u64(text, "system", &v))
                json_object_set_new(usage, "kernel", berth_cgroup_json_u64(v * mul));
            free(TAKE_PTR(text));
        }
    }
    if ((d = v1_dir(cg, BERTH_CG_CPU)) && berth_cgroup_read_alloc(d, "cpu.stat", &text) == 0) {
        json_t *thr = berth_cgroup_json_section(cpu, "throttling");
        static const char *const keys[][2] = {{"nr_periods", "periods"},
                                              {"nr_throttled", "throttled_periods"},
                                              {"throttled_time", "throttled_time"}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
            uint64_t v;
            if (berth_cgroup_kv_u64(text, keys[i][0], &v))
                json_object_set_new(thr, keys[i][1], berth_cgroup_json_u64(v));
        }
    }
}

static void
v1_stats_memory(struct berth_cgroup_dir *d, json_t *mem)
{
    static const char *const groups[][2] = {{"usage", "memory"}, {"swap", "memory.memsw"}};
    for (size_t g = 0; g < BERTH_ARRAY_SIZE(groups); g++) {
        char f[64];
        json_t *o = berth_cgroup_json_section(mem, groups[g][0]);
        snprintf(f, sizeof(f), "%s.usage_in_bytes", groups[g][1]);
        berth_cgroup_json_set_u64(o, "usage", d, f);
        snprintf(f, sizeof(f), "%s.max_usage_in_bytes", groups[g][1]);
        berth_cgroup_json_set_u64(o, "max", d, f);
        snprintf(f, sizeof(f), "%s.failcnt", groups[g][1]);
        berth_cgroup_json_set_u64(o, "failcnt", d, f);
        snprintf(f, sizeof(f), "%s.limit_in_bytes", groups[g][1]);
        berth_cgroup_json_set_u64(o, "limit", d, f);
    }
    _cleanup_free_ char *text = NULL;
    if (berth_cgroup_read_alloc(d, "memory.stat", &text) == 0) {
        json_t *raw = berth_cgroup_json_section(mem, "raw");
        berth_cgroup_kv_to_json(text, raw);
        json_t *cache = json_object_get(raw, "cache");
        if (cache)
            json_object_set(mem, "cache", cache);
    }
    json_object_set_new(mem, "use_hierarchy", json_true());
}

/* "8:0 Read 4096" lines into [{"major":8,"minor":0,"op":"Read","value":4096}] */
static json_t *
blkio_entries(struct berth_cgroup_dir *d, const char *file)
{
    _cleanup_free_ char *text = NULL;
    json_t *arr = json_array();
    if (!arr || berth_cgroup_read_alloc(d, file, &text) < 0)
        return arr;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned maj, min;
        char op[16];
        uint64_t v;
        if (sscanf(line, "%u:%u %15s %" SCNu64, &maj, &min, op, &v) == 4)
            json_array_append_new(arr,
                                  json_pack("{s:i,s:i,s:s,s:o}", "major", (int)maj, "minor",
                                            (int)min, "op", op, "value", berth_cgroup_json_u64(v)));
    }
    return arr;
}

static int
v1_stats(struct berth_cgroup *cg, json_t *out, struct berth_error **err)
{
    struct berth_cgroup_dir *d;
    if (v1_dir(cg, BERTH_CG_CPU) || v1_dir(cg, BERTH_CG_CPUACCT))
        v1_stats_cpu(cg, berth_cgroup_json_section(out, "cpu"));
    if ((d = v1_dir(cg, BERTH_CG_MEMORY)))
        v1_stats_memory(d, berth_cgroup_json_section(out, "memory"));
    if ((d = v1_dir(cg, BERTH_CG_PIDS))) {
        json_t *p = berth_cgroup_json_section(out, "pids");
        uint64_t v;
        berth_cgroup_json_set_u64(p, "current", d, "pids.current");
        if (berth_cgroup_read_u64(d, "pids.max", &v) == 0)
            json_object_set_new(p, "limit", berth_cgroup_json_u64(v == UINT64_MAX ? 0 : v));
    }
    if ((d = v1_dir(cg, BERTH_CG_BLKIO))) {
        json_t *b = berth_cgroup_json_section(out, "blkio");
        json_object_set_new(b, "ioServiceBytesRecursive",
                            blkio_entries(d, "blkio.throttle.io_service_bytes_recursive"));
        json_object_set_new(b, "ioServicedRecursive",
                            blkio_entries(d, "blkio.throttle.io_serviced_recursive"));
    }
    if ((d = v1_dir(cg, BERTH_CG_HUGETLB)))
        berth_cgroup_hugetlb_stats(d, berth_cgroup_json_section(out, "hugetlb"), false);
    return 0;
}

static int
v1_oom_count(struct berth_cgroup_dir *d, uint64_t *ret, struct berth_error **err)
{
    char buf[256];
    ssize_t n = berth_cgroup_read_small(d, "memory.oom_control", buf, sizeof(buf));
    if (n < 0)
        return berth_error_set(err, (int)-n, "read '%s/memory.oom_control'", d->path);
    uint64_t v = 0;
    berth_cgroup_kv_u64(buf, "oom_kill", &v); /* absent before Linux 4.13 */
    *ret = v;
    return 0;
}

const struct berth_cgroup_ops berth_cgroup_v1_ops = {
    .name = "v1",
    .init_dir = v1_init_dir,
    .apply = v1_apply,
    .freeze = v1_freeze,
    .is_frozen = v1_is_frozen,
    .stats = v1_stats,
    .oom_count = v1_oom_count,
};
