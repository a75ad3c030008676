/* Exec instances: created on a running container, started once through a monitor in exec mode
 * (runtime exec --process), inspected for their exit code. Kept in memory as moby does; their
 * monitor directories live under the container's run directory. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "container/exec.h"
#include "container/monitor_client.h"
#include "container/spec_gen.h"
#include "container/spec_gen_internal.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "monitor/protocol.h"

struct berth_exec {
    struct berth_exec *next;
    char id[65];
    char cid[65];
    json_t *config; /* the create body */
    bool started;
    bool finished;
    int exit_code;
    int pid;
    int monitor_pid;
    uint64_t monitor_start_time;
    char *dir;
};

static struct berth_exec **
exec_list(struct berth_containers *cs)
{
    return (struct berth_exec **)&cs->execs;
}

static struct berth_exec *
exec_find(struct berth_containers *cs, const char *id)
{
    for (struct berth_exec *e = *exec_list(cs); e; e = e->next)
        if (!strcmp(e->id, id))
            return e;
    return NULL;
}

static void
exec_free(struct berth_exec *e)
{
    json_decref(e->config);
    free(e->dir);
    free(e);
}

void
berth_execs_drop_container(struct berth_containers *cs, const char *cid)
{
    for (struct berth_exec **p = exec_list(cs); *p;) {
        if (!strcmp((*p)->cid, cid)) {
            struct berth_exec *e = *p;
            *p = e->next;
            exec_free(e);
        } else {
            p = &(*p)->next;
        }
    }
}

json_t *
berth_execs_of(struct berth_containers *cs, const char *cid)
{
    json_t *ids = NULL;
    for (struct berth_exec *e = *exec_list(cs); e; e = e->next) {
        if (strcmp(e->cid, cid))
            continue;
        if (!ids)
            ids = json_array();
        json_array_append_new(ids, json_string(e->id));
    }
    return ids ? ids : json_null();
}

/* Notices an exit lazily (lock held): the monitor wrote exit.json, or it is gone. */
static void
exec_refresh(struct berth_exec *e)
{
    if (!e->started || e->finished || !e->dir)
        return;
    struct berth_monitor_exit ex;
    if (berth_monitor_read_exit(e->dir, &ex, NULL) == 0) {
        e->finished = true;
        e->exit_code = ex.exit_code;
        return;
    }
    if (e->monitor_pid > 0 && berth_proc_start_time(e->monitor_pid) != e->monitor_start_time) {
        e->finished = true; /* the monitor died without a record (the container went away) */
        e->exit_code = 137;
    }
}

int
berth_exec_create(struct berth_containers *cs, const char *ref, const json_t *body, char ret_id[65],
                  struct berth_error **err)
{
    json_t *cmd = json_object_get(body, "Cmd");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0)
        return berth_error_setq(err, EINVAL, "No exec command specified");
    int cr = berth_check_go_strings(cmd, "ExecConfig.Cmd", err);
    if (cr < 0)
        return cr;
    berth_containers_lock(cs);
    struct berth_container *c;
    int r = berth_containers_find(cs, ref, &c, err);
    if (r == 0 && c->state == BERTH_C_PAUSED)
        r = berth_error_setq(err, EBUSY,
                             "Container %s is paused, unpause the container before exec", c->id);
    else if (r == 0 && c->state != BERTH_C_RUNNING)
        r = berth_error_setq(err, EBUSY, "Container %s is not running", c->id);
    struct berth_exec *e = r == 0 ? calloc(1, sizeof(*e)) : NULL;
    if (r == 0 && !e)
        r = berth_error_set(err, ENOMEM, "exec");
    if (r == 0 && berth_container_random_id(e->id) < 0)
        r = berth_error_set(err, EIO, "exec id");
    if (r < 0) {
        free(e);
        berth_containers_unlock(cs);
        return r;
    }
    memcpy(e->cid, c->id, sizeof(e->cid));
    e->config = json_deep_copy(body);
    e->exit_code = -1;
    e->next = *exec_list(cs);
    *exec_list(cs) = e;
    _cleanup_free_ char *joined = NULL;
    {
        _cleanup_strv_ char **parts = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(cmd, i, v)
        {
            (void)berth_strv_push(&parts, json_string_value(v));
        }
        joined = parts ? berth_strv_join(parts, " ") : NULL;
    }
    char action[512];
    snprintf(action, sizeof(action), "exec_create: %s", joined ? joined : "");
    berth_container_event(cs, c, action, "execID", e->id);
    memcpy(ret_id, e->id, 65);
    berth_containers_unlock(cs);
    return 0;
}

int
berth_exec_info(struct berth_containers *cs, const char *id, struct berth_exec_info *info,
                struct berth_error **err)
{
    berth_containers_lock(cs);
    struct berth_exec *e = exec_find(cs, id);
    if (!e) {
        berth_containers_unlock(cs);
        return berth_error_setq(err, ENOENT, "No such exec instance: %s", id);
    }
    memset(info, 0, sizeof(*info));
    memcpy(info->id, e->id, 65);
    memcpy(info->cid, e->cid, 65);
    info->tty = json_is_true(json_object_get(e->config, "Tty"));
    info->attach_in = json_is_true(json_object_get(e->config, "AttachStdin"));
    info->attach_out = json_is_true(json_object_get(e->config, "AttachStdout"));
    info->attach_err = json_is_true(json_object_get(e->config, "AttachStderr"));
    const char *keys = json_string_value(json_object_get(e->config, "DetachKeys"));
    snprintf(info->detach_keys, sizeof(info->detach_keys), "%s", keys ? keys : "");
    int r = 0;
    if (e->started)
        r = berth_error_setq(err, EEXIST, "Error: Exec command %s is already running", id);
    berth_containers_unlock(cs);
    return r;
}

/* The exec's OCI process: the container's, with the exec's command, env, cwd, user, tty and
 * (privileged) capabilities. */
static int
build_process(const struct berth_exec *e, const char *run_dir, const char *rootfs, json_t **ret,
              struct berth_error **err)
{
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/config.json", run_dir) < 0)
        return berth_error_set(err, ENOMEM, "exec");
    json_error_t je;
    json_t *spec = json_load_file(path, 0, &je);
    if (!spec)
        return berth_error_set(err, EIO, "exec: %s: %s", path, je.text);
    json_t *proc = json_deep_copy(json_object_get(spec, "process"));
    json_decref(spec);
    if (!proc)
        return berth_error_set(err, EIO, "exec: no process in %s", path);
    json_object_set(proc, "args", json_object_get(e->config, "Cmd"));
    json_object_set_new(proc, "terminal",
                        json_boolean(json_is_true(json_object_get(e->config, "Tty"))));
    json_t *size = json_object_get(e->config, "ConsoleSize");
    if (json_array_size(size) == 2 && json_integer_value(json_array_get(size, 0)) > 0)
        json_object_set_new(proc, "consoleSize",
                            json_pack("{s:I, s:I}", "height",
                                      json_integer_value(json_array_get(size, 0)), "width",
                                      json_integer_value(json_array_get(size, 1))));
    else
        json_object_del(proc, "consoleSize");
    const char *wd = json_string_value(json_object_get(e->config, "WorkingDir"));
    if (wd && *wd)
        json_object_set_new(proc, "cwd", json_string(wd));
    /* env: the container's, then the exec's by name */
    json_t *env = json_object_get(proc, "env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(proc, "env", env);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(e->config, "Env"), i, v)
    {
        const char *kv = json_string_value(v);
        if (!kv)
            continue;
        size_t klen = strcspn(kv, "=");
        bool replaced = false;
        for (size_t k = 0; k < json_array_size(env); k++) {
            const char *old = json_string_value(json_array_get(env, k));
            if (old && !strncmp(old, kv, klen) && (old[klen] == '=' || old[klen] == '\0')) {
                json_array_set(env, k, v);
                replaced = true;
                break;
            }
        }
        if (!replaced)
            json_array_append(env, v);
    }
    const char *user = json_string_value(json_object_get(e->config, "User"));
    if (user && *user) {
        struct sg_user u = {0};
        if (sg_user_resolve(rootfs, user, NULL, &u, err) < 0) {
            json_decref(proc);
            return -EINVAL;
        }
        json_t *gids = json_array();
        for (size_t k = 0; k < u.n_gids; k++)
            json_array_append_new(gids, json_integer(u.gids[k]));
        json_object_set_new(proc, "user",
                            json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)u.uid, "gid",
                                      (json_int_t)u.gid, "additionalGids", gids));
        free(u.gids);
    }
    if (json_is_true(json_object_get(e->config, "Privileged"))) {
        json_t *caps = NULL;
        if (berth_container_caps(NULL, NULL, true, &caps, err) < 0) {
            json_decref(proc);
            return -EINVAL;
        }
        json_object_set_new(proc, "capabilities",
                            json_pack("{s:O, s:O, s:O, s:O}", "bounding", caps, "effective", caps,
                                      "permitted", caps, "inheritable", caps));
        json_decref(caps);
    }
    *ret = proc;
    return 0;
}

int
berth_exec_start(struct berth_containers *cs, const char *id, bool detach, int *ret_attach_fd,
                 struct berth_error **err)
{
    *ret_attach_fd = -1;
    berth_containers_lock(cs);
    struct berth_exec *e = exec_find(cs, id);
    struct berth_container *c = NULL;
    int r = 0;
    if (!e)
        r = berth_error_setq(err, ENOENT, "No such exec instance: %s", id);
    else if (e->started)
        r = berth_error_setq(err, EEXIST, "Error: Exec command %s is already running", id);
    else if (berth_containers_find(cs, e->cid, &c, err) < 0)
        r = -ENOENT;
    else if (c->state != BERTH_C_RUNNING)
        r = berth_error_setq(err, EBUSY, "Container %s is not running", c->id);
    if (r < 0) {
        berth_containers_unlock(cs);
        return r;
    }
    e->started = true;
    json_t *config = json_incref(e->config);
    char eid[65], cid[65];
    memcpy(eid, e->id, 65);
    memcpy(cid, c->id, 65);
    _cleanup_free_ char *run_dir = berth_container_run_dir(cs, c->id);
    _cleanup_free_ char *rootfs = berth_container_merged_dir(cs, c);
    _cleanup_free_ char *dir = NULL;
    if (run_dir)
        (void)!asprintf(&dir, "%s/exec-%s", run_dir, eid);
    e->dir = dir ? strdup(dir) : NULL;
    json_t *proc = NULL;
    r = (!run_dir || !rootfs || !dir) ? berth_error_set(err, ENOMEM, "exec")
                                      : build_process(e, run_dir, rootfs, &proc, err);
    berth_containers_unlock(cs);

    bool tty = json_is_true(json_object_get(config, "Tty"));
    bool in = json_is_true(json_object_get(config, "AttachStdin")) && !detach;
    bool out = json_is_true(json_object_get(config, "AttachStdout")) && !detach;
    bool er = json_is_true(json_object_get(config, "AttachStderr")) && !detach;
    _cleanup_free_ char *proc_path = NULL;
    if (r == 0 && (r = berth_mkdir_p(dir, 0700, err)) == 0) {
        _cleanup_free_ char *text = json_dumps(proc, JSON_COMPACT);
        if (!text || asprintf(&proc_path, "%s/process.json", dir) < 0)
            r = berth_error_set(err, ENOMEM, "exec");
        else
            r = berth_write_file_replace(proc_path, text, strlen(text), 0600, err);
    }
    json_decref(proc);
    struct berth_monitor_handle h = {.sync_fd = -1};
    int pid = 0, attach_fd = -1;
    if (r == 0) {
        struct berth_monitor_args a = {
            .monitor_path = cs->monitor_path,
            .runtime_path = cs->runtime_path,
            .runtime_root = cs->runtime_root,
            .id = cid,
            .dir = dir,
            .exec_process = proc_path,
            .tty = tty,
            .open_stdin = in,
            .stdin_once = in && !tty,
        };
        r = berth_monitor_spawn(&a, &h, err);
    }
    if (r == 0 && (in || out || er) &&
        (r = berth_monitor_attach_connect(dir, in, out, er, &attach_fd, err)) < 0)
        berth_monitor_abandon(&h);
    if (r == 0 && (r = berth_monitor_go(&h, &pid, err)) < 0 && attach_fd >= 0) {
        close(attach_fd);
        attach_fd = -1;
    }
    berth_monitor_abandon(&h); /* an exec's end is read from its monitor's files */
    json_decref(config);

    berth_containers_lock(cs);
    e = exec_find(cs, eid);
    if (e) {
        if (r < 0) {
            const char *m = *err ? (*err)->msg : "";
            e->finished = true;
            int code = berth_runtime_error_exit_code(m);
            e->exit_code = code ? code : 126;
        } else {
            e->pid = pid;
            e->monitor_pid = h.monitor_pid;
            e->monitor_start_time = berth_proc_start_time(h.monitor_pid);
            if (berth_containers_find(cs, cid, &c, NULL) == 0)
                berth_container_event(cs, c, "exec_start", "execID", eid);
        }
    }
    berth_containers_unlock(cs);
    if (r < 0 && *err && (*err)->code == EIO)
        r = berth_error_wrap(err, "OCI runtime exec failed");
    *ret_attach_fd = attach_fd;
    return r;
}

json_t *
berth_exec_inspect(struct berth_containers *cs, const char *id, struct berth_error **err)
{
    berth_containers_lock(cs);
    struct berth_exec *e = exec_find(cs, id);
    if (!e) {
        berth_containers_unlock(cs);
        berth_error_setq(err, ENOENT, "No such exec instance: %s", id);
        return NULL;
    }
    exec_refresh(e);
    json_t *cmd = json_object_get(e->config, "Cmd");
    json_t *args = json_array();
    for (size_t i = 1; i < json_array_size(cmd); i++)
        json_array_append(args, json_array_get(cmd, i));
    const char *user = json_string_value(json_object_get(e->config, "User"));
    const char *keys = json_string_value(json_object_get(e->config, "DetachKeys"));
    bool running = e->started && !e->finished;
    json_t *j = json_pack(
        "{s:b, s:s, s:s, s:o, s:s, s:b, s:b, s:b, s:{s:o, s:s, s:b, s:b, s:s}, s:b, s:i}",
        "CanRemove", false, "ContainerID", e->cid, "DetachKeys", keys ? keys : "", "ExitCode",
        e->finished ? json_integer(e->exit_code) : json_null(), "ID", e->id, "OpenStderr",
        json_is_true(json_object_get(e->config, "AttachStderr")), "OpenStdin",
        json_is_true(json_object_get(e->config, "AttachStdin")), "OpenStdout",
        json_is_true(json_object_get(e->config, "AttachStdout")), "ProcessConfig", "arguments",
        args, "entrypoint", json_string_value(json_array_get(cmd, 0)) ?: "", "privileged",
        json_is_true(json_object_get(e->config, "Privileged")), "tty",
        json_is_true(json_object_get(e->config, "Tty")), "user", user ? user : "", "Running",
        running, "Pid", running ? e->pid : 0);
    berth_containers_unlock(cs);
    return j;
}

int
berth_exec_resize(struct berth_containers *cs, const char *id, unsigned rows, unsigned cols,
                  struct berth_error **err)
{
    berth_containers_lock(cs);
    struct berth_exec *e = exec_find(cs, id);
    _cleanup_free_ char *dir = e && e->dir ? strdup(e->dir) : NULL;
    bool running = e && e->started && !e->finished;
    berth_containers_unlock(cs);
    if (!e)
        return berth_error_setq(err, ENOENT, "No such exec instance: %s", id);
    if (!running || !dir)
        return berth_error_setq(err, EBUSY, "Exec %s is not running", id);
    return berth_monitor_resize(dir, rows, cols, err);
}

/* Waits until the exec's exit is recorded (after its attach stream ended), bounded. */
void
berth_exec_wait_recorded(struct berth_containers *cs, const char *id, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        berth_containers_lock(cs);
        struct berth_exec *e = exec_find(cs, id);
        if (e)
            exec_refresh(e);
        bool done = !e || e->finished;
        berth_containers_unlock(cs);
        if (done)
            return;
        usleep(5000);
    }
}
