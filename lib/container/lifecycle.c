/* Container lifecycle: create, start (through berth-monitor), stop, kill, pause, remove,
 * rename; the watcher thread that notices exits; restart policies; live restore. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "container/etc_files.h"
#include "container/exec.h"
#include "container/monitor_client.h"
#include "container/spec_gen.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "monitor/protocol.h"
#include "runtime/cgroup.h"
#include "runtime/commands.h"

#define RESTART_BACKOFF_MIN_NS (100LL * 1000000LL)
#define RESTART_BACKOFF_MAX_NS (60LL * 1000000000LL)

/* epoll data: the container's address, with this bit for its monitor's sync fd */
#define WATCH_SYNC ((uint64_t)1)
/* bounds the runtime delete the monitor runs after "exited" (it gives the runtime 10 s) */
#define MONITOR_GONE_TIMEOUT_NS (30LL * 1000000000LL)

static int
pidfd_open_(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

void
berth_container_event(struct berth_containers *cs, const struct berth_container *c,
                      const char *action, const char *extra_key, const char *extra_value)
{
    json_t *attrs = json_object();
    json_object_set_new(attrs, "image", json_string(c->image_name));
    json_object_set_new(attrs, "name", json_string(c->name + 1));
    json_t *labels = json_object_get(c->config, "Labels");
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (json_is_string(v))
            json_object_set(attrs, k, v);
    }
    if (extra_key)
        json_object_set_new(attrs, extra_key, json_string(extra_value));
    berth_events_publish(cs->daemon->events, "container", action, c->id, c->image_name, attrs);
}

void
berth_container_publish(struct berth_containers *cs, const struct berth_container *c,
                        const char *action)
{
    berth_container_event(cs, c, action, NULL, NULL);
}

/* ---- restart policy ---- */

static const char *
restart_policy(const struct berth_container *c, int *max_retries)
{
    json_t *rp = json_object_get(c->host_config, "RestartPolicy");
    const char *name = json_string_value(json_object_get(rp, "Name"));
    *max_retries = (int)json_integer_value(json_object_get(rp, "MaximumRetryCount"));
    return name && *name ? name : "no";
}

static bool
should_restart(const struct berth_container *c)
{
    if (c->manually_stopped || json_is_true(json_object_get(c->host_config, "AutoRemove")))
        return false;
    int max;
    const char *p = restart_policy(c, &max);
    if (!strcmp(p, "always") || !strcmp(p, "unless-stopped"))
        return true;
    if (!strcmp(p, "on-failure"))
        return c->exit_code != 0 && (max <= 0 || c->restart_count < max);
    return false;
}

/* moby's back-off: 100 ms doubling to a minute, reset after 10 s of running. */
static int64_t
restart_delay(const struct berth_container *c)
{
    if (c->finished_ns - c->started_ns >= 10LL * 1000000000LL)
        return RESTART_BACKOFF_MIN_NS;
    int64_t d = RESTART_BACKOFF_MIN_NS;
    for (int i = 0; i < c->restart_count && d < RESTART_BACKOFF_MAX_NS; i++)
        d *= 2;
    return d < RESTART_BACKOFF_MAX_NS ? d : RESTART_BACKOFF_MAX_NS;
}

static void
watcher_wake(struct berth_containers *cs)
{
    uint64_t one = 1;
    (void)!write(cs->wake_fd, &one, sizeof(one));
}

static int remove_locked(struct berth_containers *cs, struct berth_container *c,
                         struct berth_error **err);

/* The process of c has exited (lock held): record it, then remove, restart or leave it. */
static void
record_exit(struct berth_containers *cs, struct berth_container *c)
{
    _cleanup_free_ char *run_dir = berth_container_run_dir(cs, c->id);
    struct berth_monitor_exit ex = {.exit_code = 255};
    struct berth_error *e = NULL;
    if (!run_dir || berth_monitor_read_exit(run_dir, &ex, &e) < 0) {
        berth_log(BERTH_LOG_WARN, "container %s: no exit status (%s)", c->id,
                  e ? e->msg : "out of memory");
        berth_error_free(e);
        ex.exit_code = 255;
        free(c->error);
        c->error = strdup("the container monitor exited without an exit status");
    }
    berth_debug("exit of %.12s recorded %.1f ms after the process exited", c->id,
                ex.finished_ns ? (double)(berth_now_nano() - ex.finished_ns) / 1e6 : -1.0);
    c->exit_code = ex.exit_code;
    c->oom_killed = ex.oom_killed;
    c->finished_ns = ex.finished_ns ? ex.finished_ns : berth_now_nano();
    c->pid = 0;
    c->monitor_pid = 0;
    c->monitor_start_time = 0;
    c->state = BERTH_C_EXITED;
    c->exit_seq++;
    bool auto_remove = json_is_true(json_object_get(c->host_config, "AutoRemove"));
    if (!auto_remove) /* else the removal's background part unmounts it */
        berth_rwlayer_unmount(cs, c);
    if (c->oom_killed)
        berth_container_event(cs, c, "oom", NULL, NULL);
    char code[16];
    snprintf(code, sizeof(code), "%d", c->exit_code);
    berth_container_event(cs, c, "die", "exitCode", code);
    if (auto_remove) {
        struct berth_error *re = NULL;
        if (remove_locked(cs, c, &re) < 0) {
            berth_log(BERTH_LOG_WARN, "auto-remove %s: %s", c->id, re->msg);
            berth_error_free(re);
        }
        berth_containers_changed(cs);
        return;
    }
    if (should_restart(c)) {
        c->state = BERTH_C_RESTARTING;
        c->restart_at_ns = berth_now_nano() + restart_delay(c);
        watcher_wake(cs);
    }
    struct berth_error *se = NULL;
    if (berth_container_save(cs, c, &se) < 0) {
        berth_log(BERTH_LOG_WARN, "save container %s: %s", c->id, se->msg);
        berth_error_free(se);
    }
    berth_containers_changed(cs);
}

static int start_container(struct berth_containers *cs, struct berth_container *c, bool is_restart,
                           struct berth_error **err);

/* Starts the containers whose back-off has passed; returns the next deadline (0 none). */
static int64_t
run_due_restarts(struct berth_containers *cs)
{
    int64_t now = berth_now_nano(), next = 0;
    for (size_t i = 0; i < cs->n; i++) {
        struct berth_container *c = cs->all[i];
        /* the old monitor still deletes the runtime's state: its exit wakes us again */
        if (c->state != BERTH_C_RESTARTING || !c->restart_at_ns || c->busy || c->monitor_pidfd >= 0)
            continue;
        if (c->restart_at_ns > now) {
            if (!next || c->restart_at_ns < next)
                next = c->restart_at_ns;
            continue;
        }
        c->restart_at_ns = 0;
        c->restart_count++;
        struct berth_error *e = NULL;
        if (start_container(cs, c, true, &e) < 0) {
            berth_log(BERTH_LOG_WARN, "restart %s: %s", c->id, e->msg);
            berth_error_free(e);
            if (!c->removed && c->state == BERTH_C_RESTARTING) {
                c->state = BERTH_C_EXITED;
                c->exit_code = 128;
                (void)berth_container_save(cs, c, NULL);
            }
        }
        /* the table may have changed while unlocked: rescan next round */
        return berth_now_nano();
    }
    return next;
}

static void
drop_monitor_sync(struct berth_containers *cs, struct berth_container *c)
{
    if (c->monitor_sync_fd < 0)
        return;
    epoll_ctl(cs->epfd, EPOLL_CTL_DEL, c->monitor_sync_fd, NULL);
    close(c->monitor_sync_fd);
    c->monitor_sync_fd = -1;
}

/* Hands the monitor's pidfd over (-1 if none): it leaves the watch. */
static int
take_monitor_pidfd(struct berth_containers *cs, struct berth_container *c)
{
    drop_monitor_sync(cs, c);
    int fd = c->monitor_pidfd;
    if (fd >= 0)
        epoll_ctl(cs->epfd, EPOLL_CTL_DEL, fd, NULL);
    c->monitor_pidfd = -1;
    return fd;
}

static bool is_running(const struct berth_container *c);

static void
monitor_event(struct berth_containers *cs, struct berth_container *c, bool sync)
{
    if (sync) {
        if (c->monitor_sync_fd < 0 || !berth_monitor_sync_exited(c->monitor_sync_fd))
            return;
        drop_monitor_sync(cs, c);
    } else {
        if (c->monitor_pidfd < 0)
            return;
        int fd = take_monitor_pidfd(cs, c);
        close(fd);
        berth_containers_changed(cs); /* a start waiting for the monitor's end goes on */
    }
    if (is_running(c)) /* not recorded yet: "exited" and the monitor's end both lead here */
        record_exit(cs, c);
}

static void *
watcher_main(void *arg)
{
    struct berth_containers *cs = arg;
    berth_containers_lock(cs);
    while (!cs->closing) {
        int64_t next = run_due_restarts(cs);
        int timeout = -1;
        if (next) {
            int64_t ms = (next - berth_now_nano()) / 1000000LL;
            timeout = ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
        }
        berth_containers_unlock(cs);
        struct epoll_event evs[16];
        int n = epoll_wait(cs->epfd, evs, 16, timeout);
        berth_containers_lock(cs);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                uint64_t v;
                (void)!read(cs->wake_fd, &v, sizeof(v));
                continue;
            }
            uint64_t tag = evs[i].data.u64;
            struct berth_container *c = (struct berth_container *)(uintptr_t)(tag & ~WATCH_SYNC);
            /* still ours? (a removed record keeps no fd in the set) */
            for (size_t k = 0; k < cs->n; k++) {
                if (cs->all[k] == c) {
                    monitor_event(cs, c, tag & WATCH_SYNC);
                    break;
                }
            }
        }
    }
    berth_containers_unlock(cs);
    return NULL;
}

static int
watch_monitor(struct berth_containers *cs, struct berth_container *c, int pidfd)
{
    c->monitor_pidfd = pidfd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uintptr_t)c};
    return epoll_ctl(cs->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0 ? -errno : 0;
}

/* The monitor's "exited" comes on the sync fd before its runtime delete: waiters get their
 * answer that much sooner. Without it (failure, or a monitor from before a restart of berthd)
 * the pidfd alone says it. */
static void
watch_monitor_sync(struct berth_containers *cs, struct berth_container *c, int sync_fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uintptr_t)c | WATCH_SYNC};
    if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, sync_fd, &ev) < 0)
        close(sync_fd);
    else
        c->monitor_sync_fd = sync_fd;
}

/* ---- open / restore ---- */

static char *
sibling_binary(const char *env, const char *name)
{
    const char *over = getenv(env);
    if (over && *over)
        return strdup(over);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    char *p = NULL;
    if (asprintf(&p, "%s/%s", self, name) < 0)
        return NULL;
    return p;
}

static void
restore_one(struct berth_containers *cs, struct berth_container *c)
{
    c->monitor_pidfd = -1;
    if (c->state == BERTH_C_REMOVING) {
        (void)remove_locked(cs, c, NULL);
        return;
    }
    bool was_running =
        c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED || c->state == BERTH_C_RESTARTING;
    if (!was_running)
        return;
    if (c->monitor_pid > 0 && berth_proc_start_time(c->monitor_pid) == c->monitor_start_time &&
        c->monitor_start_time) {
        int pidfd = pidfd_open_(c->monitor_pid);
        /* checked again after the pidfd is held: the pid cannot be reused under us now */
        if (pidfd >= 0 && berth_proc_start_time(c->monitor_pid) == c->monitor_start_time) {
            if (watch_monitor(cs, c, pidfd) == 0) {
                if (c->state == BERTH_C_RESTARTING)
                    c->state = BERTH_C_RUNNING;
                return;
            }
        }
        if (pidfd >= 0)
            close(pidfd);
    }
    if (c->state == BERTH_C_RESTARTING && !c->monitor_pid) {
        /* a back-off that berthd did not live to finish */
        c->restart_at_ns = berth_now_nano();
        return;
    }
    /* the monitor is gone: the process exited while berthd was away */
    record_exit(cs, c);
}

int
berth_containers_open(struct berth_daemon *d, struct berth_containers **ret,
                      struct berth_error **err)
{
    int r;
    struct berth_containers *cs = calloc(1, sizeof(*cs));
    if (!cs)
        return berth_error_set(err, ENOMEM, "containers");
    cs->daemon = d;
    cs->epfd = cs->wake_fd = -1;
    pthread_mutex_init(&cs->lock, NULL);
    pthread_cond_init(&cs->changed, NULL);
    pthread_mutex_init(&cs->cleanup_lock, NULL);
    pthread_cond_init(&cs->cleanup_cond, NULL);
    cs->cleanup_tail = &cs->cleanup_head;
    if (asprintf(&cs->dir, "%s/containers", d->cfg.data_root) < 0 ||
        asprintf(&cs->run_dir, "%s/containers", d->cfg.exec_root) < 0 ||
        asprintf(&cs->runtime_root, "%s/runtime", d->cfg.exec_root) < 0 ||
        !(cs->runtime_path = sibling_binary("BERTH_RUNTIME", "berth-runtime")) ||
        !(cs->monitor_path = sibling_binary("BERTH_MONITOR", "berth-monitor")) ||
        !(cs->init_path = sibling_binary("BERTH_INIT", "berth-init"))) {
        berth_containers_close(cs);
        return berth_error_set(err, ENOMEM, "containers");
    }
    if ((r = berth_mkdir_p(cs->dir, 0710, err)) < 0 ||
        (r = berth_mkdir_p(cs->run_dir, 0710, err)) < 0 ||
        (r = berth_mkdir_p(cs->runtime_root, 0700, err)) < 0) {
        berth_containers_close(cs);
        return r;
    }
    cs->epfd = epoll_create1(EPOLL_CLOEXEC);
    cs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (cs->epfd < 0 || cs->wake_fd < 0) {
        r = berth_error_set(err, errno, "epoll");
        berth_containers_close(cs);
        return r;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(cs->epfd, EPOLL_CTL_ADD, cs->wake_fd, &ev);
    if ((r = berth_cleanup_start(cs, err)) < 0 || (r = berth_containers_load_all(cs, err)) < 0) {
        berth_containers_close(cs);
        return r;
    }
    berth_containers_lock(cs);
    /* restore_one may remove records: walk a copy */
    struct berth_container **v = NULL;
    size_t n = 0;
    if (berth_containers_all(cs, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            berth_container_ref(v[i]);
        for (size_t i = 0; i < n; i++) {
            restore_one(cs, v[i]);
            berth_container_unref(cs, v[i]);
        }
        free(v);
    }
    berth_containers_unlock(cs);
    if (pthread_create(&cs->watcher, NULL, watcher_main, cs) != 0) {
        berth_containers_close(cs);
        return berth_error_set(err, EAGAIN, "start the container watcher");
    }
    cs->watcher_running = true;
    *ret = cs;
    return 0;
}

void
berth_containers_close(struct berth_containers *cs)
{
    if (!cs)
        return;
    if (cs->watcher_running) {
        berth_containers_lock(cs);
        cs->closing = true;
        berth_containers_unlock(cs);
        watcher_wake(cs);
        pthread_join(cs->watcher, NULL);
    }
    berth_cleanup_stop(cs);
    for (size_t i = 0; i < cs->n; i++) {
        berth_execs_drop_container(cs, cs->all[i]->id);
        cs->all[i]->removed = true;
        if (--cs->all[i]->refs == 0)
            berth_container_free(cs->all[i]);
    }
    free(cs->all);
    if (cs->epfd >= 0)
        close(cs->epfd);
    if (cs->wake_fd >= 0)
        close(cs->wake_fd);
    free(cs->dir);
    free(cs->run_dir);
    free(cs->runtime_root);
    free(cs->runtime_path);
    free(cs->monitor_path);
    free(cs->init_path);
    pthread_mutex_destroy(&cs->lock);
    pthread_cond_destroy(&cs->changed);
    pthread_mutex_destroy(&cs->cleanup_lock);
    pthread_cond_destroy(&cs->cleanup_cond);
    free(cs);
}

/* ---- create ---- */

int
berth_check_go_strings(const json_t *arr, const char *go_field, struct berth_error **err)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            return berth_error_setq(err, EINVAL,
                                    "json: cannot unmarshal %s into Go struct field %s of type "
                                    "string",
                                    json_is_number(v) ? "number" : "value", go_field);
    }
    return 0;
}

/* Fields of the Config whose element types moby's decoder enforces (and spec generation relies
 * on): refused with Go's wording. */
static int
check_config_types(const json_t *body, struct berth_error **err)
{
    static const char *const strslices[] = {"Cmd", "Entrypoint", "Env", "OnBuild"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(strslices); i++) {
        char field[32];
        snprintf(field, sizeof(field), "Config.%s", strslices[i]);
        int r = berth_check_go_strings(json_object_get(body, strslices[i]), field, err);
        if (r < 0)
            return r;
    }
    const char *key;
    json_t *v;
    json_t *labels = json_object_get(body, "Labels");
    if (labels && !json_is_null(labels) && !json_is_object(labels))
        return berth_error_setq(err, EINVAL,
                                "json: cannot unmarshal value into Go struct field Config.Labels "
                                "of type map[string]string");
    json_object_foreach(labels, key, v)
    {
        if (!json_is_string(v))
            return berth_error_setq(err, EINVAL,
                                    "json: cannot unmarshal %s into Go struct field Config.Labels "
                                    "of type string",
                                    json_is_number(v) ? "number" : "value");
    }
    json_t *st = json_object_get(body, "StopTimeout");
    if (st && !json_is_null(st) && !json_is_integer(st))
        return berth_error_setq(err, EINVAL,
                                "json: cannot unmarshal value into Go struct field "
                                "Config.StopTimeout of type int");
    return 0;
}

int
berth_ctr_create(struct berth_containers *cs, const char *name, const json_t *body, char ret_id[65],
                 char ***ret_warnings, struct berth_error **err)
{
    int r;
    *ret_warnings = NULL;
    const char *image = json_string_value(json_object_get(body, "Image"));
    if (!image || !*image)
        return berth_error_setq(err, EINVAL,
                                "Config cannot be empty in order to create a container");
    if (name && *name && !berth_container_name_valid(name))
        return berth_error_setq(err, EINVAL,
                                "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                "allowed",
                                name);
    if ((r = check_config_types(body, err)) < 0)
        return r;
    json_t *hc_in = json_object_get(body, "HostConfig");
    json_t *host_config = hc_in ? json_deep_copy(hc_in) : json_object();
    if (!host_config)
        return berth_error_set(err, ENOMEM, "create");
    if ((r = berth_container_validate(body, host_config, err)) < 0 ||
        (r = berth_container_hostconfig_adapt(host_config, err)) < 0) {
        json_decref(host_config);
        return r;
    }
    /* the resolved log driver is stored and shown (docker-py reads it) */
    json_t *lc = json_object_get(host_config, "LogConfig");
    const char *lt = json_string_value(json_object_get(lc, "Type"));
    if (!json_is_object(lc) || !lt || !*lt) {
        json_t *opts = json_object_get(lc, "Config");
        json_object_set_new(host_config, "LogConfig",
                            json_pack("{s:s, s:o}", "Type", "json-file", "Config",
                                      json_is_object(opts) ? json_incref(opts) : json_object()));
    } else if (strcmp(lt, "json-file") && strcmp(lt, "local")) {
        r = berth_error_setq(err, EINVAL, "logger: no log driver named '%s' is registered", lt);
        json_decref(host_config); /* lt points into it */
        return r;
    }
    _cleanup_image_ struct berth_image *img = NULL;
    if ((r = berth_store_lookup(cs->daemon->store, image, &img, err)) < 0) {
        json_decref(host_config);
        if (r == -ENOENT) {
            berth_error_free(*err);
            *err = NULL;
            return berth_error_setq(err, ENOENT, "No such image: %s", image);
        }
        return r;
    }
    json_t *config = NULL;
    json_t *img_cfg = json_object_get(img->config, "config");
    if ((r = berth_container_config_merge(body, img_cfg, &config, err)) < 0) {
        json_decref(host_config);
        return r;
    }
    json_object_set_new(config, "Image", json_string(image));
    struct berth_container *c = calloc(1, sizeof(*c));
    if (!c) {
        json_decref(config);
        json_decref(host_config);
        return berth_error_set(err, ENOMEM, "create");
    }
    c->monitor_pidfd = -1;
    c->monitor_sync_fd = -1;
    c->config = config;
    c->host_config = host_config;
    snprintf(c->image_id, sizeof(c->image_id), "%s", img->id);
    c->image_name = strdup(image);
    c->created_ns = berth_now_nano();
    c->state = BERTH_C_CREATED;
    if (berth_container_random_id(c->id) < 0 || !c->image_name) {
        berth_container_free(c);
        return berth_error_set(err, EIO, "create a container id");
    }
    if (!json_is_string(json_object_get(config, "Hostname")) ||
        !*json_string_value(json_object_get(config, "Hostname"))) {
        char host[13];
        snprintf(host, sizeof(host), "%.12s", c->id);
        json_object_set_new(config, "Hostname", json_string(host));
    }
    berth_containers_lock(cs);
    if (name && *name) {
        if (asprintf(&c->name, "%s%s", name[0] == '/' ? "" : "/", name) < 0)
            c->name = NULL;
        struct berth_container *other = c->name ? berth_containers_by_name(cs, c->name) : NULL;
        if (other) {
            r = berth_error_setq(err, EEXIST,
                                 "Conflict. The container name \"%s\" is already in use by "
                                 "container \"%s\". You have to remove (or rename) that container "
                                 "to be able to reuse that name.",
                                 c->name, other->id);
            berth_containers_unlock(cs);
            berth_container_free(c);
            return r;
        }
    } else {
        c->name = berth_containers_generate_name(cs);
    }
    _cleanup_free_ char *dir = berth_container_dir(cs, c->id);
    if (!c->name || !dir) {
        berth_containers_unlock(cs);
        berth_container_free(c);
        return berth_error_set(err, ENOMEM, "create");
    }
    /* the directory, the writable layer, then the record: a crash before the record leaves a
     * directory without container.json, which the next open removes */
    if ((r = berth_mkdir_p(dir, 0710, err)) < 0 || (r = berth_rwlayer_create(cs, c, err)) < 0 ||
        (r = (json_is_true(json_object_get(c->host_config, "AutoRemove"))
                  ? berth_container_save(cs, c, err) /* --rm: nothing to keep across a crash */
                  : berth_container_save_durable(cs, c, err))) < 0 ||
        (r = berth_containers_insert(cs, c)) < 0) {
        if (r == -ENOMEM && !*err)
            berth_error_set(err, ENOMEM, "create");
        (void)berth_rm_rf(dir, NULL);
        berth_containers_unlock(cs);
        berth_container_free(c);
        return r;
    }
    memcpy(ret_id, c->id, 65);
    berth_container_event(cs, c, "create", NULL, NULL);
    berth_containers_unlock(cs);
    return 0;
}

/* ---- start ---- */

/* Waits until no other start/stop/remove works on c (lock held). */
static void
wait_not_busy(struct berth_containers *cs, struct berth_container *c)
{
    while (c->busy && !c->removed)
        berth_containers_wait_change(cs, 1000);
}

static char *
oom_file_for(const char *cgroups_path)
{
    char *p = NULL;
    enum berth_cgroup_mode m = berth_cgroup_detect_mode();
    if (m == BERTH_CGROUP_UNIFIED) {
        const char *root = getenv("BERTH_CGROUP2_ROOT");
        if (asprintf(&p, "%s%s/memory.events", root && *root ? root : "/sys/fs/cgroup",
                     cgroups_path) < 0)
            return NULL;
    } else if (asprintf(&p, "/sys/fs/cgroup/memory%s/memory.oom_control", cgroups_path) < 0) {
        return NULL;
    }
    return p;
}

static void
log_options(const struct berth_container *c, int64_t *max_size, unsigned *max_file)
{
    /* rotation on by default (docker's "local" driver defaults), unlike json-file in docker */
    *max_size = 20LL << 20;
    *max_file = 5;
    json_t *cfg = json_object_get(json_object_get(c->host_config, "LogConfig"), "Config");
    const char *ms = json_string_value(json_object_get(cfg, "max-size"));
    const char *mf = json_string_value(json_object_get(cfg, "max-file"));
    int64_t v;
    if (ms && berth_parse_size(ms, &v) && v > 0)
        *max_size = v;
    if (mf && berth_parse_i64(mf, &v) && v >= 1 && v <= 100)
        *max_file = (unsigned)v;
}

/* HostConfig.CgroupParent, else the daemon's --cgroup-parent, else /berth; then the id. */
static int
cgroups_path_of(struct berth_containers *cs, const struct berth_container *c, char **ret)
{
    const char *parent = json_string_value(json_object_get(c->host_config, "CgroupParent"));
    if (!parent || !*parent)
        parent = cs->daemon->cfg.cgroup_parent;
    if (!parent || !*parent)
        parent = "/berth";
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        n--;
    return asprintf(ret, "%s%.*s/%s", parent[0] == '/' ? "" : "/", (int)n, parent, c->id) < 0
               ? -ENOMEM
               : 0;
}

struct start_prep {
    char *rootfs, *run_dir, *dir, *log_path, *oom_file, *cgroups_path;
    char *hostname_path, *hosts_path, *resolv_path;
};

static void
start_prep_clear(struct start_prep *p)
{
    free(p->rootfs), free(p->run_dir), free(p->dir), free(p->log_path), free(p->oom_file);
    free(p->cgroups_path), free(p->hostname_path), free(p->hosts_path), free(p->resolv_path);
}

/* Everything before the monitor: the root filesystem, /etc files, config.json (unlocked). */
static int
prepare_bundle(struct berth_containers *cs, const struct berth_container *c, const json_t *config,
               const json_t *host_config, struct start_prep *p, struct berth_error **err)
{
    int r;
    p->run_dir = berth_container_run_dir(cs, c->id);
    p->dir = berth_container_dir(cs, c->id);
    p->log_path = berth_container_log_path(cs, c->id);
    if (!p->run_dir || !p->dir || !p->log_path || cgroups_path_of(cs, c, &p->cgroups_path) < 0 ||
        asprintf(&p->hostname_path, "%s/hostname", p->dir) < 0 ||
        asprintf(&p->hosts_path, "%s/hosts", p->dir) < 0 ||
        asprintf(&p->resolv_path, "%s/resolv.conf", p->dir) < 0 ||
        !(p->oom_file = oom_file_for(p->cgroups_path)))
        return berth_error_set(err, ENOMEM, "start");
    if ((r = berth_mkdir_p(p->run_dir, 0700, err)) < 0)
        return r;
    /* what a previous run left */
    const char *stale[] = {BERTH_MONITOR_EXIT_FILE, BERTH_MONITOR_PID_FILE,
                           BERTH_MONITOR_RUNTIME_LOG, BERTH_MONITOR_ATTACH_SOCK};
    _cleanup_close_ int rfd = open(p->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; rfd >= 0 && i < BERTH_ARRAY_SIZE(stale); i++)
        (void)unlinkat(rfd, stale[i], 0);
    if ((r = berth_rwlayer_mount(cs, c, &p->rootfs, err)) < 0)
        return r;
    if ((r = berth_etc_files_write(config, host_config, p->hostname_path, p->hosts_path,
                                   p->resolv_path, err)) < 0)
        return r;
    const char *net = json_string_value(json_object_get(host_config, "NetworkMode"));
    struct berth_spec_gen_input in = {
        .id = c->id,
        .config = config,
        .host_config = host_config,
        .rootfs = p->rootfs,
        .hostname_path = p->hostname_path,
        .hosts_path = p->hosts_path,
        .resolv_conf_path = p->resolv_path,
        .init_path = cs->init_path,
        .cgroups_path = p->cgroups_path,
        .netns_path = net && !strcmp(net, "host") ? "host" : NULL,
    };
    json_t *spec = NULL;
    if ((r = berth_container_spec_build(&in, &spec, err)) < 0)
        return r;
    _cleanup_free_ char *text = json_dumps(spec, JSON_COMPACT);
    json_decref(spec);
    _cleanup_free_ char *path = NULL;
    if (!text || asprintf(&path, "%s/config.json", p->run_dir) < 0)
        return berth_error_set(err, ENOMEM, "start");
    return berth_write_file_replace(path, text, strlen(text), 0600, err);
}

int
berth_runtime_error_exit_code(const char *msg)
{
    if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
        return 127;
    if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
        return 126;
    return 0;
}

/* Docker's wording around the runtime's error; exit codes 126/127 come from its text. */
static int
start_error(struct berth_container *c, struct berth_error **err)
{
    const char *msg = (*err)->msg;
    int code = berth_runtime_error_exit_code(msg);
    c->exit_code = code ? code : 128;
    free(c->error);
    c->error = strdup(msg);
    return berth_error_wrap(err, "OCI runtime create failed");
}

/* Lock held on entry and exit; c->busy is set around the unlocked part. */
static int
start_container(struct berth_containers *cs, struct berth_container *c, bool is_restart,
                struct berth_error **err)
{
    int r;
    /* the last run's monitor may still be deleting the runtime's state of this id */
    for (int64_t until = berth_now_nano() + MONITOR_GONE_TIMEOUT_NS;
         (c->monitor_pidfd >= 0 || c->busy) && !c->removed;) {
        if (berth_now_nano() > until)
            return berth_error_set(err, EBUSY, "the monitor of the last run of %s has not exited",
                                   c->id);
        berth_containers_wait_change(cs, 1000);
    }
    if (c->removed)
        return berth_error_setq(err, ENOENT, "No such container: %s", c->id);
    if (is_running(c)) /* started by another request meanwhile */
        return -EALREADY;
    c->busy = true;
    berth_container_ref(c);
    json_t *config = json_incref(c->config);
    json_t *host_config = json_incref(c->host_config);
    struct start_prep p = {0};
    struct berth_monitor_handle h = {.sync_fd = -1};
    int pid = 0, pidfd = -1;
    berth_containers_unlock(cs);

    int64_t t0 = berth_now_nano();
    r = prepare_bundle(cs, c, config, host_config, &p, err);
    int64_t t1 = berth_now_nano();
    if (r == 0) {
        int64_t max_size;
        unsigned max_file;
        log_options(c, &max_size, &max_file);
        bool tty = json_is_true(json_object_get(config, "Tty"));
        bool open_stdin = json_is_true(json_object_get(config, "OpenStdin"));
        struct berth_monitor_args a = {
            .monitor_path = cs->monitor_path,
            .runtime_path = cs->runtime_path,
            .runtime_root = cs->runtime_root,
            .id = c->id,
            .dir = p.run_dir,
            .bundle = p.run_dir,
            .log_path = p.log_path,
            .log_max_size = max_size,
            .log_max_file = max_file,
            .tty = tty,
            .open_stdin = open_stdin,
            .stdin_once = open_stdin && !tty && json_is_true(json_object_get(config, "StdinOnce")),
            .oom_file = p.oom_file,
        };
        r = berth_monitor_spawn(&a, &h, err);
    }
    if (r == 0) {
        pidfd = pidfd_open_(h.monitor_pid);
        if (pidfd < 0)
            r = berth_error_set(err, errno, "watch the container monitor");
    }
    if (r == 0) {
        /* attach sessions that came before start get their connection now */
        berth_containers_lock(cs);
        for (struct berth_attach_waiter *w = c->waiters; w; w = w->next) {
            if (w->monitor_fd >= 0 || w->cancelled)
                continue;
            struct berth_error *ae = NULL;
            if (berth_monitor_attach_connect(p.run_dir, w->want_in, w->want_out, w->want_err,
                                             &w->monitor_fd, &ae) < 0) {
                berth_log(BERTH_LOG_WARN, "attach to %s: %s", c->id, ae->msg);
                berth_error_free(ae);
                w->cancelled = true;
            }
        }
        berth_containers_changed(cs);
        berth_containers_unlock(cs);
        int64_t t2 = berth_now_nano();
        r = berth_monitor_go(&h, &pid, err);
        berth_debug("start %.12s: bundle %.1f ms, monitor ready %.1f ms, process started %.1f ms",
                    c->id, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6,
                    (double)(berth_now_nano() - t2) / 1e6);
    } else {
        berth_monitor_abandon(&h);
    }

    berth_containers_lock(cs);
    if (r < 0) {
        if (pidfd >= 0)
            close(pidfd);
        if ((*err)->code == EIO)
            r = start_error(c, err);
        if (p.rootfs)
            berth_rwlayer_unmount(cs, c);
        if (is_restart)
            c->state = BERTH_C_EXITED;
        (void)berth_container_save(cs, c, NULL);
        /* waiters of this start get nothing: tell them */
        for (struct berth_attach_waiter *w = c->waiters; w; w = w->next)
            if (w->monitor_fd < 0)
                w->cancelled = true;
    } else {
        c->state = BERTH_C_RUNNING;
        c->pid = pid;
        c->monitor_pid = h.monitor_pid;
        c->monitor_start_time = berth_proc_start_time(h.monitor_pid);
        c->started_ns = berth_now_nano();
        c->finished_ns = 0;
        c->exit_code = 0;
        c->oom_killed = false;
        free(c->error);
        c->error = NULL;
        c->has_been_started = true;
        c->manually_stopped = false;
        if (watch_monitor(cs, c, pidfd) < 0)
            berth_log(BERTH_LOG_WARN, "watch monitor of %s: %s", c->id, strerror(errno));
        watch_monitor_sync(cs, c, h.sync_fd);
        h.sync_fd = -1;
        struct berth_error *se = NULL;
        if (berth_container_save(cs, c, &se) < 0) {
            berth_log(BERTH_LOG_WARN, "save container %s: %s", c->id, se->msg);
            berth_error_free(se);
        }
        berth_container_event(cs, c, is_restart ? "restart" : "start", NULL, NULL);
        if (is_restart)
            berth_container_event(cs, c, "start", NULL, NULL);
    }
    c->busy = false;
    berth_containers_changed(cs);
    json_decref(config);
    json_decref(host_config);
    start_prep_clear(&p);
    berth_container_unref(cs, c);
    return r;
}

int
berth_ctr_start(struct berth_containers *cs, const char *ref, struct berth_error **err)
{
    berth_containers_lock(cs);
    struct berth_container *c;
    int r = berth_containers_find(cs, ref, &c, err);
    if (r == 0) {
        berth_container_ref(c);
        wait_not_busy(cs, c);
        if (c->removed)
            r = berth_error_setq(err, ENOENT, "No such container: %s", ref);
        else if (c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED)
            r = -EALREADY;
        else if (c->state == BERTH_C_REMOVING)
            r = berth_error_setq(err, EBUSY,
                                 "container is marked for removal and cannot be started");
        else {
            c->restart_at_ns = 0;
            c->restart_count = 0;
            r = start_container(cs, c, false, err);
            /* moby: a --rm container that cannot start is removed (its waiters get the code) */
            if (r < 0 && !c->removed &&
                json_is_true(json_object_get(c->host_config, "AutoRemove"))) {
                c->exit_seq++;
                (void)remove_locked(cs, c, NULL);
            }
        }
        berth_container_unref(cs, c);
    }
    berth_containers_unlock(cs);
    return r;
}

/* ---- signals, stop, pause ---- */

static bool
is_running(const struct berth_container *c)
{
    return c->state == BERTH_C_RUNNING || c->state == BERTH_C_PAUSED;
}

static int
signal_locked(struct berth_containers *cs, struct berth_container *c, int sig,
              struct berth_error **err)
{
    char num[16];
    snprintf(num, sizeof(num), "%d", sig);
    int r = berth_cmd_kill(cs->runtime_root, c->id, num, false, err);
    if (r < 0 && c->pid > 0 && kill(c->pid, 0) == 0) {
        /* the runtime's state may be gone already (exiting): signal the pid we know */
        berth_error_free(*err);
        *err = NULL;
        r = kill(c->pid, sig) < 0 ? berth_error_set(err, errno, "kill %d", c->pid) : 0;
    }
    if (c->state == BERTH_C_PAUSED && (sig == SIGKILL || sig == SIGTERM)) {
        /* a frozen process cannot act on it */
        (void)berth_cmd_pause(cs->runtime_root, c->id, false, NULL);
        c->state = BERTH_C_RUNNING;
    }
    return r;
}

/* Waits (lock held) until c exited after seq, at most timeout_ms (<0 forever); true if so. */
static bool
wait_exit(struct berth_containers *cs, struct berth_container *c, uint64_t seq, int timeout_ms)
{
    int64_t end = berth_now_nano() + (int64_t)timeout_ms * 1000000LL;
    while (c->exit_seq == seq && !c->removed) {
        int64_t left = (end - berth_now_nano()) / 1000000LL;
        if (timeout_ms >= 0 && left <= 0)
            return false;
        berth_containers_wait_change(cs, timeout_ms < 0 || left > 1000 ? 1000 : (int)left);
    }
    return true;
}

static int
parse_signal(const char *s, int def)
{
    if (!s || !*s)
        return def;
    return berth_signal_parse(s);
}

static int
stop_locked(struct berth_containers *cs, struct berth_container *c, const char *signal,
            int timeout_s, struct berth_error **err)
{
    const char *cfg_sig = json_string_value(json_object_get(c->config, "StopSignal"));
    int sig = parse_signal(signal && *signal ? signal : cfg_sig, SIGTERM);
    if (sig <= 0)
        return berth_error_setq(err, EINVAL, "Invalid signal: %s", signal ? signal : cfg_sig);
    if (timeout_s < 0) {
        json_t *t = json_object_get(c->config, "StopTimeout");
        timeout_s = json_is_integer(t) ? (int)json_integer_value(t) : 10;
    }
    c->manually_stopped = true;
    if (c->state == BERTH_C_RESTARTING) {
        c->restart_at_ns = 0;
        c->state = BERTH_C_EXITED;
        (void)berth_container_save(cs, c, NULL);
        berth_containers_changed(cs);
        return 0;
    }
    uint64_t seq = c->exit_seq;
    struct berth_error *e = NULL;
    if (signal_locked(cs, c, sig, &e) < 0)
        berth_error_free(e); /* exiting already: the wait below sees it */
    if (timeout_s < 0 || !wait_exit(cs, c, seq, timeout_s * 1000)) {
        e = NULL;
        if (signal_locked(cs, c, SIGKILL, &e) < 0)
            berth_error_free(e);
        if (!wait_exit(cs, c, seq, 30000))
            return berth_error_set(err, ETIMEDOUT, "container %s did not exit after SIGKILL",
                                   c->id);
    }
    berth_container_event(cs, c, "stop", NULL, NULL);
    return 0;
}

#define WITH_CONTAINER(cs, ref, c, err, body)                                                      \
    do {                                                                                           \
        berth_containers_lock(cs);                                                                 \
        struct berth_container *c = NULL;                                                          \
        int r_ = berth_containers_find(cs, ref, &c, err);                                          \
        if (r_ == 0) {                                                                             \
            berth_container_ref(c);                                                                \
            wait_not_busy(cs, c);                                                                  \
            if (c->removed)                                                                        \
                r_ = berth_error_setq(err, ENOENT, "No such container: %s", ref);                  \
            else {                                                                                 \
                body;                                                                              \
            }                                                                                      \
            berth_container_unref(cs, c);                                                          \
        }                                                                                          \
        berth_containers_unlock(cs);                                                               \
        return r_;                                                                                 \
    } while (0)

int
berth_ctr_stop(struct berth_containers *cs, const char *ref, const char *signal, int timeout_s,
               struct berth_error **err)
{
    WITH_CONTAINER(cs, ref, c, err, {
        if (!is_running(c) && c->state != BERTH_C_RESTARTING) {
            r_ = -EALREADY;
        } else {
            c->busy = true;
            r_ = stop_locked(cs, c, signal, timeout_s, err);
            c->busy = false;
            berth_containers_changed(cs);
        }
    });
}

int
berth_ctr_kill(struct berth_containers *cs, const char *ref, const char *signal,
               struct berth_error **err)
{
    WITH_CONTAINER(cs, ref, c, err, {
        int sig = parse_signal(signal, SIGKILL);
        if (sig <= 0)
            r_ = berth_error_setq(err, EINVAL, "Invalid signal: %s", signal);
        else if (!is_running(c))
            r_ = berth_error_setq(
                err, EBUSY, "Cannot kill container: %s: Container %s is not running", ref, c->id);
        else {
            char num[16];
            snprintf(num, sizeof(num), "%d", sig);
            if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT)
                c->manually_stopped = true;
            r_ = signal_locked(cs, c, sig, err);
            if (r_ == 0)
                berth_container_event(cs, c, "kill", "signal", num);
        }
    });
}

int
berth_ctr_restart(struct berth_containers *cs, const char *ref, const char *signal, int timeout_s,
                  struct berth_error **err)
{
    WITH_CONTAINER(cs, ref, c, err, {
        r_ = 0;
        if (is_running(c) || c->state == BERTH_C_RESTARTING) {
            c->busy = true;
            r_ = stop_locked(cs, c, signal, timeout_s, err);
            c->busy = false;
        }
        if (r_ == 0 && !c->removed) {
            c->restart_count = 0;
            r_ = start_container(cs, c, false, err);
            if (r_ == 0)
                berth_container_event(cs, c, "restart", NULL, NULL);
        }
        berth_containers_changed(cs);
    });
}

int
berth_ctr_pause(struct berth_containers *cs, const char *ref, bool pause, struct berth_error **err)
{
    WITH_CONTAINER(cs, ref, c, err, {
        if (!is_running(c))
            r_ = berth_error_setq(err, EBUSY, "Container %s is not running", c->id);
        else if (pause && c->state == BERTH_C_PAUSED)
            r_ = berth_error_setq(err, EBUSY, "Container %s is already paused", c->id);
        else if (!pause && c->state != BERTH_C_PAUSED)
            r_ = berth_error_setq(err, EBUSY, "Container %s is not paused", c->id);
        else if ((r_ = berth_cmd_pause(cs->runtime_root, c->id, pause, err)) == 0) {
            c->state = pause ? BERTH_C_PAUSED : BERTH_C_RUNNING;
            (void)berth_container_save(cs, c, NULL);
            berth_container_event(cs, c, pause ? "pause" : "unpause", NULL, NULL);
            berth_containers_changed(cs);
        }
    });
}

/* ---- remove, rename, resize ---- */

static int
remove_locked(struct berth_containers *cs, struct berth_container *c, struct berth_error **err)
{
    c->state = BERTH_C_REMOVING;
    /* says REMOVING on disk: if berthd dies before the files are gone, its restart goes on */
    int r = berth_container_save(cs, c, err);
    if (r < 0) {
        c->state = BERTH_C_DEAD;
        return r;
    }
    berth_cleanup_queue(cs, c, take_monitor_pidfd(cs, c));
    for (struct berth_attach_waiter *w = c->waiters; w; w = w->next)
        w->cancelled = true;
    berth_execs_drop_container(cs, c->id);
    berth_container_event(cs, c, "destroy", NULL, NULL);
    berth_containers_table_remove(cs, c);
    berth_containers_changed(cs);
    return 0;
}

int
berth_ctr_remove(struct berth_containers *cs, const char *ref, bool force, bool volumes,
                 struct berth_error **err)
{
    (void)volumes; /* no volumes yet */
    WITH_CONTAINER(cs, ref, c, err, {
        if ((is_running(c) || c->state == BERTH_C_RESTARTING) && !force) {
            r_ = berth_error_setq(
                err, EEXIST,
                "cannot remove container \"%s\": container is %s: stop the container before "
                "removing or force remove",
                c->name,
                c->state == BERTH_C_PAUSED       ? "paused"
                : c->state == BERTH_C_RESTARTING ? "restarting"
                                                 : "running");
        } else {
            r_ = 0;
            c->busy = true;
            if (c->state == BERTH_C_RESTARTING) {
                c->restart_at_ns = 0;
                c->state = BERTH_C_EXITED;
            }
            if (is_running(c)) {
                c->manually_stopped = true;
                uint64_t seq = c->exit_seq;
                struct berth_error *e = NULL;
                if (signal_locked(cs, c, SIGKILL, &e) < 0)
                    berth_error_free(e);
                if (!wait_exit(cs, c, seq, 30000))
                    r_ = berth_error_set(err, ETIMEDOUT, "container %s did not exit", c->id);
            }
            c->busy = false;
            /* --rm may have removed it when it exited */
            if (r_ == 0 && !c->removed)
                r_ = remove_locked(cs, c, err);
        }
    });
}

int
berth_ctr_rename(struct berth_containers *cs, const char *ref, const char *new_name,
                 struct berth_error **err)
{
    WITH_CONTAINER(cs, ref, c, err, {
        _cleanup_free_ char *slash = NULL;
        if (!new_name || !*new_name || !berth_container_name_valid(new_name))
            r_ = berth_error_setq(err, EINVAL,
                                  "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                                  "are allowed",
                                  new_name ? new_name : "");
        else if (asprintf(&slash, "%s%s", new_name[0] == '/' ? "" : "/", new_name) < 0)
            r_ = berth_error_set(err, ENOMEM, "rename");
        else if (!strcmp(slash, c->name))
            r_ = berth_error_setq(err, EINVAL,
                                  "Renaming a container with the same name as its "
                                  "current name");
        else if (berth_containers_by_name(cs, slash))
            r_ = berth_error_setq(err, EEXIST,
                                  "Error when allocating new name: Conflict. The container name "
                                  "\"%s\" is already in use by container \"%s\". You have to "
                                  "remove (or rename) that container to be able to reuse that "
                                  "name.",
                                  slash, berth_containers_by_name(cs, slash)->id);
        else {
            char *old = c->name;
            c->name = TAKE_PTR(slash);
            r_ = berth_container_save(cs, c, err);
            if (r_ < 0) {
                slash = c->name;
                c->name = old;
            } else {
                berth_container_event(cs, c, "rename", "oldName", old);
                free(old);
            }
        }
    });
}

int
berth_ctr_resize(struct berth_containers *cs, const char *ref, unsigned rows, unsigned cols,
                 struct berth_error **err)
{
    _cleanup_free_ char *run_dir = NULL;
    berth_containers_lock(cs);
    struct berth_container *c;
    int r = berth_containers_find(cs, ref, &c, err);
    if (r == 0 && !is_running(c))
        r = berth_error_setq(err, EBUSY, "Container %s is not running", c->id);
    if (r == 0 && !json_is_true(json_object_get(c->config, "Tty")))
        r = 1; /* nothing to resize: moby answers 200 too */
    if (r == 0 && !(run_dir = berth_container_run_dir(cs, c->id)))
        r = berth_error_set(err, ENOMEM, "resize");
    berth_containers_unlock(cs);
    if (r != 0)
        return r < 0 ? r : 0;
    return berth_monitor_resize(run_dir, rows, cols, err);
}
