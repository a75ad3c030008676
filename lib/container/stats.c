/* docker stats: the runtime's cgroup stats (v1 or v2, berth_cgroup_stats) in moby's StatsJSON
 * shape, with the host's CPU time and memory as moby's collector adds them. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "container/stats.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/state.h"

int
berth_stats_host_read(struct berth_stats_host *ret, struct berth_error **err)
{
    struct berth_stats_host h = {0};
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = berth_read_file("/proc/stat", 1 << 20, &text, &len, err);
    if (r < 0)
        return r;
    /* moby: user nice system idle iowait irq softirq, in clock ticks */
    if (!strncmp(text, "cpu ", 4)) {
        uint64_t ticks = 0;
        char *p = text + 4;
        for (int i = 0; i < 7; i++) {
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p)
                break;
            ticks += v;
            p = end;
        }
        long hz = sysconf(_SC_CLK_TCK);
        h.system_usage = ticks * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    h.online_cpus = n > 0 ? (unsigned)n : 1;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0)
        h.machine_memory = (uint64_t)pages * (uint64_t)psize;
    *ret = h;
    return 0;
}

static json_int_t
u64_of(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static json_t *
zero_cpu(void)
{
    return json_pack("{s:{s:i,s:i,s:i},s:{s:i,s:i,s:i}}", "cpu_usage", "total_usage", 0,
                     "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data", "periods",
                     0, "throttled_periods", 0, "throttled_time", 0);
}

static json_t *
null_blkio(void)
{
    return json_pack("{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "io_service_bytes_recursive",
                     "io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive",
                     "io_wait_time_recursive", "io_merged_recursive", "io_time_recursive",
                     "sectors_recursive");
}

json_t *
berth_stats_empty(const char *name, const char *id)
{
    char zero[64];
    berth_format_time_nano(0, zero, sizeof(zero));
    return json_pack("{s:s,s:s,s:{},s:o,s:i,s:{},s:o,s:o,s:{},s:s,s:s}", "read", zero, "preread",
                     zero, "pids_stats", "blkio_stats", null_blkio(), "num_procs", 0,
                     "storage_stats", "cpu_stats", zero_cpu(), "precpu_stats", zero_cpu(),
                     "memory_stats", "name", name, "id", id);
}

/* blkio entries, op names lowercased for v2 as moby does */
static json_t *
blkio_entries(const json_t *arr, bool lower)
{
    if (!json_array_size(arr))
        return json_null();
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        char op[32];
        snprintf(op, sizeof(op), "%s", json_string_value(json_object_get(e, "op")) ?: "");
        for (char *p = op; lower && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_array_append_new(out,
                              json_pack("{s:I,s:I,s:s,s:I}", "major", u64_of(e, "major"), "minor",
                                        u64_of(e, "minor"), "op", op, "value", u64_of(e, "value")));
    }
    return out;
}

json_t *
berth_stats_from_cgroup(const json_t *cg, const struct berth_stats_host *host, int64_t read_ns,
                        const char *name, const char *id, const json_t *prev)
{
    const json_t *cpu = json_object_get(cg, "cpu"), *mem = json_object_get(cg, "memory");
    const json_t *pids = json_object_get(cg, "pids"), *blkio = json_object_get(cg, "blkio");
    const json_t *usage = json_object_get(cpu, "usage"), *thr = json_object_get(cpu, "throttling");
    /* the runtime marks v1 memory stats with use_hierarchy */
    bool v1 = json_object_get(mem, "use_hierarchy") != NULL;

    json_t *cpu_usage =
        json_pack("{s:I,s:I,s:I}", "total_usage", u64_of(usage, "total"), "usage_in_kernelmode",
                  u64_of(usage, "kernel"), "usage_in_usermode", u64_of(usage, "user"));
    json_t *percpu = json_object_get(usage, "percpu");
    if (json_array_size(percpu))
        json_object_set(cpu_usage, "percpu_usage", percpu);
    json_t *cpu_stats =
        json_pack("{s:o,s:{s:I,s:I,s:I}}", "cpu_usage", cpu_usage, "throttling_data", "periods",
                  u64_of(thr, "periods"), "throttled_periods", u64_of(thr, "throttled_periods"),
                  "throttled_time", u64_of(thr, "throttled_time"));
    if (host->system_usage)
        json_object_set_new(cpu_stats, "system_cpu_usage",
                            json_integer((json_int_t)host->system_usage));
    if (host->online_cpus)
        json_object_set_new(cpu_stats, "online_cpus", json_integer(host->online_cpus));

    json_t *mem_stats = json_object();
    const json_t *mu = json_object_get(mem, "usage");
    if (mem) {
        json_int_t limit = u64_of(mu, "limit");
        if (host->machine_memory && (uint64_t)limit > host->machine_memory)
            limit = (json_int_t)host->machine_memory;
        if (u64_of(mu, "usage"))
            json_object_set_new(mem_stats, "usage", json_integer(u64_of(mu, "usage")));
        if (v1 && u64_of(mu, "max"))
            json_object_set_new(mem_stats, "max_usage", json_integer(u64_of(mu, "max")));
        json_t *raw = json_object_get(mem, "raw");
        if (json_object_size(raw))
            json_object_set(mem_stats, "stats", raw);
        if (v1 && u64_of(mu, "failcnt"))
            json_object_set_new(mem_stats, "failcnt", json_integer(u64_of(mu, "failcnt")));
        if (limit)
            json_object_set_new(mem_stats, "limit", json_integer(limit));
    }

    json_t *pids_stats = json_object();
    if (u64_of(pids, "current"))
        json_object_set_new(pids_stats, "current", json_integer(u64_of(pids, "current")));
    if (u64_of(pids, "limit"))
        json_object_set_new(pids_stats, "limit", json_integer(u64_of(pids, "limit")));

    json_t *blk = null_blkio();
    json_object_set_new(blk, "io_service_bytes_recursive",
                        blkio_entries(json_object_get(blkio, "ioServiceBytesRecursive"), !v1));
    if (v1)
        json_object_set_new(blk, "io_serviced_recursive",
                            blkio_entries(json_object_get(blkio, "ioServicedRecursive"), false));

    char read[64], preread[64];
    berth_format_time_nano(read_ns, read, sizeof(read));
    const char *pr = json_string_value(json_object_get(prev, "read"));
    berth_format_time_nano(0, preread, sizeof(preread));
    json_t *precpu = json_object_get(prev, "cpu_stats");
    return json_pack("{s:s,s:s,s:o,s:o,s:i,s:{},s:o,s:o,s:o,s:s,s:s}", "read", read, "preread",
                     pr ? pr : preread, "pids_stats", pids_stats, "blkio_stats", blk, "num_procs",
                     0, "storage_stats", "cpu_stats", cpu_stats, "precpu_stats",
                     precpu ? json_deep_copy(precpu) : zero_cpu(), "memory_stats", mem_stats,
                     "name", name, "id", id);
}

int
berth_container_stats(struct berth_containers *cs, const char *ref, const json_t *prev,
                      json_t **ret, bool *ret_running, struct berth_error **err)
{
    char id[65];
    _cleanup_free_ char *name = NULL;
    bool running = false;
    berth_containers_lock(cs);
    struct berth_container *c;
    int r = berth_containers_find(cs, ref, &c, err);
    if (r == 0) {
        snprintf(id, sizeof(id), "%s", c->id);
        name = strdup(c->name);
        running = c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED;
    }
    berth_containers_unlock(cs);
    if (r < 0)
        return r;
    if (!name)
        return berth_error_set(err, ENOMEM, "stats");
    json_t *cgs = NULL;
    if (running) {
        _cleanup_state_ struct berth_state *st = NULL;
        _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
        struct berth_error *e = NULL;
        if (berth_state_load(cs->runtime_root, id, &st, &e) < 0 ||
            berth_state_cgroup(st, &cg, &e) < 0 || berth_cgroup_stats(cg, &cgs, &e) < 0)
            running = false; /* it went away meanwhile: moby shows empty stats */
        berth_error_free(e);
    }
    if (!running) {
        *ret = berth_stats_empty(name, id);
        *ret_running = false;
        return *ret ? 0 : berth_error_set(err, ENOMEM, "stats");
    }
    struct berth_stats_host host;
    if ((r = berth_stats_host_read(&host, err)) < 0) {
        json_decref(cgs);
        return r;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    *ret = berth_stats_from_cgroup(cgs, &host, (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec,
                                   name, id, prev);
    json_decref(cgs);
    *ret_running = true;
    return *ret ? 0 : berth_error_set(err, ENOMEM, "stats");
}
