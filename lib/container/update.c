/* docker update: moby's UpdateContainer rules on the stored HostConfig, then the new limits on
 * the running container's cgroup through the runtime library. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/container_internal.h"
#include "container/spec_gen.h"
#include "container/stats.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/commands.h"
#include "runtime/spec.h"

int
berth_container_update_host_config(struct berth_containers *cs, const char *ref,
                                   int (*apply)(json_t *hc, const struct berth_container *c,
                                                void *cls, struct berth_error **err),
                                   void *cls, struct berth_error **err)
{
    berth_containers_lock(cs);
    struct berth_container *c;
    int r = berth_containers_find(cs, ref, &c, err);
    if (r < 0)
        goto out;
    json_t *copy = c->host_config ? json_deep_copy(c->host_config) : json_object();
    if (!copy) {
        r = berth_error_set(err, ENOMEM, "update %s", c->id);
        goto out;
    }
    if ((r = apply(copy, c, cls, err)) < 0) {
        json_decref(copy);
        goto out;
    }
    json_t *old = c->host_config;
    c->host_config = copy;
    if ((r = berth_container_save(cs, c, err)) < 0) {
        c->host_config = old;
        json_decref(copy);
        goto out;
    }
    json_decref(old);
    berth_container_list_cache_drop(c);
out:
    berth_containers_unlock(cs);
    return r;
}

/* The Resources fields an update may carry, with moby's "zero means unchanged". */
static const char *const int_fields[] = {
    "BlkioWeight", "CpuShares",         "NanoCpus",     "CpuPeriod",         "CpuQuota",
    "MemorySwap",  "MemoryReservation", "KernelMemory", "CpuRealtimePeriod", "CpuRealtimeRuntime",
};

static int64_t
i64(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

struct update_ctx {
    const json_t *body;
    char id[65];
    bool running;
    json_t *previous;
};

static int
conflict(struct berth_error **err, const char *id, const char *msg)
{
    return berth_error_setq(err, EBUSY, "Cannot update container %s: %s", id, msg);
}

/* moby's container.UpdateContainer, on a copy of the HostConfig (lock held). */
static int
apply_update(json_t *hc, const struct berth_container *c, void *cls, struct berth_error **err)
{
    struct update_ctx *u = cls;
    const json_t *b = u->body;
    snprintf(u->id, sizeof(u->id), "%s", c->id);
    json_decref(u->previous);
    if (!(u->previous = json_deep_copy(hc)))
        return berth_error_set(err, ENOMEM, "update %s", c->id);
    if (c->state == BERTH_C_REMOVING || c->state == BERTH_C_DEAD)
        return conflict(err, c->id, "container is marked for removal and cannot be \"update\"");
    if (i64(b, "NanoCpus") > 0 && i64(hc, "CpuPeriod") > 0)
        return conflict(err, c->id,
                        "Conflicting options: Nano CPUs cannot be updated as CPU Period has "
                        "already been set");
    if (i64(b, "NanoCpus") > 0 && i64(hc, "CpuQuota") > 0)
        return conflict(err, c->id,
                        "Conflicting options: Nano CPUs cannot be updated as CPU Quota has "
                        "already been set");
    if (i64(b, "CpuPeriod") > 0 && i64(hc, "NanoCpus") > 0)
        return conflict(err, c->id,
                        "Conflicting options: CPU Period cannot be updated as NanoCPUs has "
                        "already been set");
    if (i64(b, "CpuQuota") > 0 && i64(hc, "NanoCpus") > 0)
        return conflict(err, c->id,
                        "Conflicting options: CPU Quota cannot be updated as NanoCPUs has "
                        "already been set");
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(int_fields); i++)
        if (i64(b, int_fields[i]))
            json_object_set_new(hc, int_fields[i], json_integer(i64(b, int_fields[i])));
    static const char *const str_fields[] = {"CpusetCpus", "CpusetMems"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(str_fields); i++) {
        const char *s = json_string_value(json_object_get(b, str_fields[i]));
        if (s && *s)
            json_object_set_new(hc, str_fields[i], json_string(s));
    }
    int64_t mem = i64(b, "Memory");
    if (mem) {
        /* moby compares with the swap limit stored before this update */
        int64_t old_swap = i64(u->previous, "MemorySwap");
        if (mem > old_swap && i64(b, "MemorySwap") == 0)
            return conflict(err, c->id,
                            "Memory limit should be smaller than already set memoryswap limit, "
                            "update the memoryswap at the same time");
        json_object_set_new(hc, "Memory", json_integer(mem));
    }
    const json_t *pl = json_object_get(b, "PidsLimit");
    if (json_is_integer(pl))
        json_object_set_new(hc, "PidsLimit", json_integer(json_integer_value(pl)));
    const json_t *rp = json_object_get(b, "RestartPolicy");
    const char *rp_name = json_string_value(json_object_get(rp, "Name"));
    if (rp_name && *rp_name) {
        if (strcmp(rp_name, "no") && json_is_true(json_object_get(hc, "AutoRemove")))
            return conflict(err, c->id,
                            "Restart policy cannot be updated because AutoRemove is enabled for "
                            "the container");
        json_object_set_new(hc, "RestartPolicy", json_deep_copy(rp));
    }
    u->running = c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED;
    return 0;
}

static void
set_opt(struct berth_opt_i64 *o, int64_t v)
{
    o->set = true;
    o->value = v;
}

/* The limits of a HostConfig as the runtime takes them (moby's toContainerdResources). */
static void
resources_of(const json_t *hc, struct berth_spec_resources *res)
{
    memset(res, 0, sizeof(*res));
    if (i64(hc, "Memory"))
        set_opt(&res->memory.limit, i64(hc, "Memory"));
    if (i64(hc, "MemoryReservation"))
        set_opt(&res->memory.reservation, i64(hc, "MemoryReservation"));
    if (i64(hc, "MemorySwap"))
        set_opt(&res->memory.swap, i64(hc, "MemorySwap"));
    if (i64(hc, "CpuShares"))
        set_opt(&res->cpu.shares, i64(hc, "CpuShares"));
    int64_t nano = i64(hc, "NanoCpus");
    if (nano > 0) {
        set_opt(&res->cpu.period, 100000);
        set_opt(&res->cpu.quota, nano * 100000 / 1000000000LL);
    } else {
        if (i64(hc, "CpuPeriod"))
            set_opt(&res->cpu.period, i64(hc, "CpuPeriod"));
        if (i64(hc, "CpuQuota"))
            set_opt(&res->cpu.quota, i64(hc, "CpuQuota"));
    }
    const char *cpus = json_string_value(json_object_get(hc, "CpusetCpus"));
    const char *mems = json_string_value(json_object_get(hc, "CpusetMems"));
    res->cpu.cpus = cpus && *cpus ? (char *)cpus : NULL;
    res->cpu.mems = mems && *mems ? (char *)mems : NULL;
    const json_t *pl = json_object_get(hc, "PidsLimit");
    if (json_is_integer(pl))
        set_opt(&res->pids.limit, json_integer_value(pl) > 0 ? json_integer_value(pl) : -1);
    if (i64(hc, "BlkioWeight"))
        set_opt(&res->block_io.weight, i64(hc, "BlkioWeight"));
}

static int
restore_previous(json_t *hc, const struct berth_container *c, void *cls, struct berth_error **err)
{
    const json_t *prev = cls;
    json_object_clear(hc);
    return json_object_update(hc, (json_t *)prev) == 0 ? 0
                                                       : berth_error_set(err, ENOMEM, "restore");
}

int
berth_container_update(struct berth_containers *cs, const char *ref, const json_t *body,
                       struct berth_error **err)
{
    if (!json_is_object(body))
        return berth_error_setq(err, EINVAL, "invalid update: not an object");
    /* the update's own fields, as moby's verifyContainerSettings sees them */
    int r = berth_container_validate(NULL, body, err);
    if (r < 0)
        return r;
    struct update_ctx u = {.body = body};
    r = berth_container_update_host_config(cs, ref, apply_update, &u, err);
    if (r < 0) {
        json_decref(u.previous);
        return r;
    }
    if (u.running) {
        json_t *hc = NULL;
        berth_containers_lock(cs);
        struct berth_container *c;
        if (berth_containers_find(cs, u.id, &c, NULL) == 0)
            hc = json_deep_copy(c->host_config);
        berth_containers_unlock(cs);
        struct berth_spec_resources res;
        resources_of(hc, &res);
        r = berth_cmd_update(cs->runtime_root, u.id, &res, err);
        json_decref(hc);
        if (r < 0) {
            (void)berth_container_update_host_config(cs, u.id, restore_previous, u.previous, NULL);
            json_decref(u.previous);
            return berth_error_wrap(err, "Cannot update container %s", u.id);
        }
    }
    json_decref(u.previous);
    berth_containers_lock(cs);
    struct berth_container *c;
    if (berth_containers_find(cs, u.id, &c, NULL) == 0)
        berth_container_event(cs, c, "update", NULL, NULL);
    berth_containers_unlock(cs);
    return 0;
}
