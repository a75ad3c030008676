/* The parent side of the create sequence, and start/run. See docs/architecture.md. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/seccomp.h"
#include "runtime/hooks.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Namespaces that setns() moves the caller into at once (the parent joins them by path before
 * clone, so a child in a new user namespace never needs rights over them), and the ones that
 * only apply to children (pid, time). */
static const int parent_joined_ns[] = {CLONE_NEWNET,    CLONE_NEWIPC, CLONE_NEWUTS,
                                       CLONE_NEWCGROUP, CLONE_NEWPID, CLONE_NEWTIME};

struct created {
    pid_t pid;
    int pidfd;
    int master; /* pty master when the parent keeps it (run -t without console socket) */
    int sock;
    struct berth_cgroup *cg;
    struct berth_state *state;
};

static int
write_id_map(pid_t pid, const char *file, const struct berth_spec_idmap *m, size_t n,
             struct berth_error **err)
{
    char buf[340 * 36];
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
                                m[i].host_id, m[i].size);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    int r = berth_write_file(path, buf, len, err);
    return r < 0 ? berth_error_wrap(err, "write %s", file) : 0;
}

static int
check_preconditions(const struct berth_spec *spec, const struct berth_create_opts *o,
                    bool foreground, struct berth_error **err)
{
    if (!spec->process)
        return berth_error_setq(err, EINVAL,
                                "config.json: process is required to create a container");
    if (!berth_spec_find_ns(spec, CLONE_NEWNS))
        return berth_error_setq(err, EINVAL, "config.json: a mount namespace is required");
    if (spec->process->terminal && !o->console_socket && !foreground)
        return berth_error_setq(
            err, EINVAL,
            "cannot allocate tty if the runtime will detach without setting console socket");
    if (!spec->process->terminal && o->console_socket)
        return berth_error_setq(
            err, EINVAL,
            "cannot use console socket if the runtime will not detach or allocate tty");
    struct stat st;
    if (stat(spec->root_path, &st) < 0)
        return berth_error_set(err, errno, "rootfs (\"%s\")", spec->root_path);
    if (!S_ISDIR(st.st_mode))
        return berth_error_setq(err, ENOTDIR, "rootfs (\"%s\") is not a directory",
                                spec->root_path);
    for (size_t i = 0; i < spec->linux_.n_namespaces; i++) {
        const char *p = spec->linux_.namespaces[i].path;
        if (p && access(p, F_OK) < 0)
            return berth_error_set(err, errno, "%s namespace path \"%s\"",
                                   berth_ns_name(spec->linux_.namespaces[i].type), p);
    }
    return 0;
}

/* Like runc: a device listed in linux.devices is one the container may use, so the device
 * cgroup gets an allow rule for it after the configured rules. */
static int
allow_configured_devices(struct berth_spec *spec, struct berth_error **err)
{
    struct berth_spec_resources *res = &spec->linux_.resources;
    size_t n = spec->linux_.n_devices;
    if (!res->has_devices || n == 0)
        return 0;
    struct berth_spec_device_rule *rules =
        realloc(res->devices, (res->n_devices + n) * sizeof(*rules));
    if (!rules)
        return berth_error_set(err, ENOMEM, "device rules");
    res->devices = rules;
    for (size_t i = 0; i < n; i++) {
        const struct berth_spec_device *d = &spec->linux_.devices[i];
        if (d->type == 'p')
            continue;
        struct berth_spec_device_rule *rule = &rules[res->n_devices++];
        *rule = (struct berth_spec_device_rule){.allow = true,
                                                .type = d->type == 'b' ? 'b' : 'c',
                                                .major = d->major,
                                                .minor = d->minor};
        memcpy(rule->access, "rwm", 4);
    }
    return 0;
}

static void
created_cleanup(struct created *c, const char *dir)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (c->cg) {
        (void)berth_cgroup_kill_all(c->cg, SIGKILL, NULL);
        (void)berth_cgroup_destroy(c->cg, NULL);
    }
    if (dir)
        (void)berth_rm_rf(dir, NULL);
}

static void
created_free(struct created *c)
{
    if (c->pidfd >= 0)
        close(c->pidfd);
    if (c->master >= 0)
        close(c->master);
    if (c->sock >= 0)
        close(c->sock);
    berth_cgroup_free(c->cg);
    berth_state_free(c->state);
}

static char *
state_json_text(const struct berth_state *s, enum berth_status st)
{
    json_t *o = berth_state_to_oci_json(s, st);
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

/* Everything up to the container waiting for start. On failure nothing is left behind. */
static int
do_create(const struct berth_create_opts *o, bool foreground, struct created *c,
          struct berth_spec **ret_spec, struct berth_error **err)
{
    _cleanup_free_ char *dir = NULL, *text = NULL, *cfg_path = NULL;
    _cleanup_spec_ struct berth_spec *spec = NULL;
    _cleanup_close_ int state_dirfd = -1;
    _cleanup_free_ char *sj = NULL;
    size_t text_len = 0;
    int r;
    if ((r = berth_state_dir(o->root, o->id, &dir, err)) < 0)
        return r;
    if (asprintf(&cfg_path, "%s/config.json", o->bundle) < 0)
        return berth_error_set(err, ENOMEM, "create");
    if ((r = berth_read_file(cfg_path, 16u << 20, &text, &text_len, err)) < 0)
        return r;
    if ((r = berth_spec_parse(text, text_len, o->bundle, &spec, err)) < 0)
        return r;
    if ((r = check_preconditions(spec, o, foreground, err)) < 0)
        return r;
    if (mkdir(o->root, 0711) < 0 && errno != EEXIST && (r = berth_mkdir_p(o->root, 0711, err)) < 0)
        return r;
    if (mkdir(dir, 0711) < 0) {
        if (errno == EEXIST)
            return berth_error_setq(err, EEXIST, "container with id exists: %s", o->id);
        return berth_error_set(err, errno, "create state directory %s", dir);
    }
    /* searchable whatever the umask: the init opens exec.fifo in it as the container's user */
    (void)chmod(dir, 0711);
    /* from here on, failures remove what was made */
    const char *made_dir = dir;
    _cleanup_free_ char *copy = NULL;
    if (asprintf(&copy, "%s/config.json", dir) < 0) {
        r = berth_error_set(err, ENOMEM, "create");
        goto fail;
    }
    if ((r = berth_write_file_replace(copy, text, text_len, 0600, err)) < 0)
        goto fail;

    const struct berth_spec_namespace *userns = berth_spec_find_ns(spec, CLONE_NEWUSER);
    bool use_fifo = !foreground || o->detach;
    if (use_fifo) {
        char fifo[4096];
        snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
        /* 0622 whatever the umask: a non-root container process opens it for writing */
        if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
            r = berth_error_set(err, errno, "mkfifo %s", fifo);
            goto fail;
        }
        if (userns && !userns->path) {
            /* the init opens it as the namespace's root */
            uid_t host_uid = 0;
            gid_t host_gid = 0;
            for (size_t i = 0; i < spec->linux_.n_uid_mappings; i++)
                if (spec->linux_.uid_mappings[i].container_id == 0)
                    host_uid = spec->linux_.uid_mappings[i].host_id;
            for (size_t i = 0; i < spec->linux_.n_gid_mappings; i++)
                if (spec->linux_.gid_mappings[i].container_id == 0)
                    host_gid = spec->linux_.gid_mappings[i].host_id;
            (void)chown(fifo, host_uid, host_gid);
        }
        state_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (state_dirfd < 0) {
            r = berth_error_set(err, errno, "open %s", dir);
            goto fail;
        }
    }

    if ((r = allow_configured_devices(spec, err)) < 0)
        goto fail;
    if ((r = berth_cgroup_create(spec->linux_.cgroups_path, o->id, o->systemd_cgroup,
                                 &spec->linux_.resources, &c->cg, err)) < 0)
        goto fail;

    /* namespaces: which to create, which to join, and where */
    int new_flags = 0;
    struct berth_init_ctx ctx = {.spec = spec,
                                 .opts = o,
                                 .state_dirfd = use_fifo ? state_dirfd : -1,
                                 .user_ns_fd = -1,
                                 .mnt_ns_fd = -1};
    int saved_ns[BERTH_ARRAY_SIZE(parent_joined_ns)];
    int joined[BERTH_ARRAY_SIZE(parent_joined_ns)];
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(parent_joined_ns); i++)
        saved_ns[i] = joined[i] = -1;
    bool new_time = false;
    for (size_t i = 0; i < spec->linux_.n_namespaces; i++) {
        const struct berth_spec_namespace *ns = &spec->linux_.namespaces[i];
        if (!ns->path) {
            if (ns->type == CLONE_NEWCGROUP)
                ctx.new_cgroup_ns = true; /* after joining the cgroup, in the child */
            else if (ns->type == CLONE_NEWTIME)
                new_time = true;
            else
                new_flags |= ns->type;
            continue;
        }
        int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            r = berth_error_set(err, errno, "open %s namespace \"%s\"", berth_ns_name(ns->type),
                                ns->path);
            goto ns_fail;
        }
        if (ns->type == CLONE_NEWUSER) {
            ctx.user_ns_fd = fd;
            continue;
        }
        if (ns->type == CLONE_NEWNS) {
            ctx.mnt_ns_fd = fd;
            continue;
        }
        for (size_t j = 0; j < BERTH_ARRAY_SIZE(parent_joined_ns); j++)
            if (parent_joined_ns[j] == ns->type)
                joined[j] = fd;
    }
    ctx.in_userns = userns != NULL;
    for (size_t j = 0; j < BERTH_ARRAY_SIZE(parent_joined_ns); j++) {
        int t = parent_joined_ns[j];
        if (joined[j] < 0 && !(t == CLONE_NEWTIME && new_time))
            continue;
        char self[64];
        snprintf(self, sizeof(self), "/proc/self/ns/%s%s", berth_ns_proc_name(t),
                 (t == CLONE_NEWPID || t == CLONE_NEWTIME) ? "_for_children" : "");
        saved_ns[j] = open(self, O_RDONLY | O_CLOEXEC);
        if (saved_ns[j] < 0) {
            r = berth_error_set(err, errno, "open %s", self);
            goto ns_fail;
        }
        if (joined[j] >= 0 && setns(joined[j], t) < 0) {
            r = berth_error_set(err, errno, "join %s namespace", berth_ns_name(t));
            goto ns_fail;
        }
    }
    if (new_time) {
        if (unshare(CLONE_NEWTIME) < 0) {
            r = berth_error_set(err, errno, "create time namespace");
            goto ns_fail;
        }
        char offs[128];
        int n = 0;
        if (spec->linux_.time_offsets[0].set)
            n += snprintf(offs + n, sizeof(offs) - (size_t)n, "monotonic %lld %lld\n",
                          (long long)spec->linux_.time_offsets[0].secs,
                          (long long)spec->linux_.time_offsets[0].nanosecs);
        if (spec->linux_.time_offsets[1].set)
            n += snprintf(offs + n, sizeof(offs) - (size_t)n, "boottime %lld %lld\n",
                          (long long)spec->linux_.time_offsets[1].secs,
                          (long long)spec->linux_.time_offsets[1].nanosecs);
        if (n > 0 && (r = berth_write_file("/proc/self/timens_offsets", offs, (size_t)n, err)) < 0)
            goto ns_fail;
    }

    /* the filter is compiled here, through the cache; the child gets a copy */
    if (spec->linux_.seccomp &&
        (r = berth_seccomp_build_cached(spec->linux_.seccomp, berth_seccomp_cache_dir(),
                                        &ctx.seccomp, err)) < 0)
        goto ns_fail;
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        r = berth_error_set(err, errno, "socketpair");
        goto ns_fail;
    }
    c->sock = sp[0];
    ctx.sock = sp[1];
    fflush(NULL);
    pid_t pid =
        (pid_t)syscall(SYS_clone, (unsigned long)new_flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) {
        close(sp[0]);
        berth_container_init(&ctx);
    }
    int clone_errno = errno;
    close(sp[1]);
    berth_seccomp_free(ctx.seccomp);
    ctx.seccomp = NULL;
    /* back to our own namespaces: hooks run in the runtime's */
    for (size_t j = 0; j < BERTH_ARRAY_SIZE(parent_joined_ns); j++) {
        if (saved_ns[j] >= 0) {
            (void)setns(saved_ns[j], parent_joined_ns[j]);
            close(saved_ns[j]);
            saved_ns[j] = -1;
        }
        if (joined[j] >= 0) {
            close(joined[j]);
            joined[j] = -1;
        }
    }
    if (ctx.user_ns_fd >= 0)
        close(ctx.user_ns_fd);
    if (ctx.mnt_ns_fd >= 0)
        close(ctx.mnt_ns_fd);
    if (pid < 0) {
        r = berth_error_set(err, clone_errno, "clone the container init");
        goto fail;
    }
    c->pid = pid;
    c->pidfd = berth_pidfd_open(pid, 0);

    if (userns && !userns->path) {
        if ((r = write_id_map(pid, "uid_map", spec->linux_.uid_mappings,
                              spec->linux_.n_uid_mappings, err)) < 0 ||
            (r = write_id_map(pid, "gid_map", spec->linux_.gid_mappings,
                              spec->linux_.n_gid_mappings, err)) < 0)
            goto fail;
    }
    if ((r = berth_cgroup_enter(c->cg, pid, err)) < 0)
        goto fail;
    if ((r = berth_sync_send(c->sock, SYNC_PARENT_SETUP_DONE, 0, NULL, 0, -1, err)) < 0)
        goto fail;

    struct berth_state *s = calloc(1, sizeof(*s));
    if (!s) {
        r = berth_error_set(err, ENOMEM, "state");
        goto fail;
    }
    c->state = s;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char created[64];
    berth_format_time(&now, created, sizeof(created));
    s->id = strdup(o->id);
    s->pid = pid;
    s->pid_start = berth_proc_start_time(pid);
    s->bundle = strdup(o->bundle);
    s->rootfs = strdup(spec->root_path);
    s->created = strdup(created);
    s->owner = strdup("");
    s->systemd_cgroup = o->systemd_cgroup;
    s->use_fifo = use_fifo;
    s->cgroup = berth_cgroup_to_json(c->cg);
    s->annotations = spec->annotations;
    s->n_annotations = spec->n_annotations;
    spec->annotations = NULL; /* handed to the state */
    spec->n_annotations = 0;

    if ((r = berth_sync_expect(c->sock, SYNC_PRE_PIVOT, NULL, NULL, err)) < 0)
        goto fail;
    sj = state_json_text(s, BERTH_CREATING);
    if ((r = berth_hooks_run(spec, BERTH_HOOK_PRESTART, sj, err)) < 0 ||
        (r = berth_hooks_run(spec, BERTH_HOOK_CREATE_RUNTIME, sj, err)) < 0)
        goto fail;
    if ((r = berth_sync_send(c->sock, SYNC_HOOKS_DONE, 0, sj, strlen(sj), -1, err)) < 0)
        goto fail;
    if ((r = berth_terminal_wait_ready(c->sock, o->console_socket, &c->master, err)) < 0)
        goto fail;
    if ((r = berth_state_save(o->root, s, err)) < 0)
        goto fail;
    if (o->pid_file) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        if ((r = berth_write_file_replace(o->pid_file, buf, (size_t)n, 0644, err)) < 0)
            goto fail;
    }
    *ret_spec = TAKE_PTR(spec);
    return 0;

ns_fail:
    berth_seccomp_free(ctx.seccomp);
    for (size_t j = 0; j < BERTH_ARRAY_SIZE(parent_joined_ns); j++) {
        if (saved_ns[j] >= 0) {
            (void)setns(saved_ns[j], parent_joined_ns[j]);
            close(saved_ns[j]);
        }
        if (joined[j] >= 0)
            close(joined[j]);
    }
    if (ctx.user_ns_fd >= 0)
        close(ctx.user_ns_fd);
    if (ctx.mnt_ns_fd >= 0)
        close(ctx.mnt_ns_fd);
fail:
    created_cleanup(c, made_dir);
    c->pid = -1;
    return r;
}

int
berth_container_create(const struct berth_create_opts *o, struct berth_error **err)
{
    struct created c = {.pid = -1, .pidfd = -1, .master = -1, .sock = -1};
    _cleanup_spec_ struct berth_spec *spec = NULL;
    int r = do_create(o, false, &c, &spec, err);
    created_free(&c);
    return r;
}

/* Releases a created container's init by opening its fifo; fails if the init is gone. */
static int
release_fifo(const char *root, const struct berth_state *s, struct berth_error **err)
{
    char fifo[4096];
    snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", root, s->id);
    _cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return berth_error_setq(err, EINVAL, "cannot start an already running container");
        return berth_error_set(err, errno, "open %s", fifo);
    }
    _cleanup_close_ int pidfd = berth_pidfd_open(s->pid, 0);
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        int n = poll(p, 2, pidfd >= 0 ? -1 : 100);
        if (n < 0 && errno != EINTR)
            return berth_error_set(err, errno, "poll exec fifo");
        if (p[0].revents & POLLIN) {
            char b;
            if (read(fd, &b, 1) == 1)
                break;
        }
        if ((pidfd >= 0 && (p[1].revents & POLLIN)) || !berth_state_alive(s))
            return berth_error_setq(err, ESRCH, "cannot start a container that has stopped");
    }
    unlink(fifo);
    return 0;
}

int
berth_container_start(const char *root, const char *id, struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    enum berth_status st = berth_state_status(root, s);
    if (st == BERTH_STOPPED)
        return berth_error_setq(err, EINVAL, "cannot start a container that has stopped");
    if (st != BERTH_CREATED)
        return berth_error_setq(err, EINVAL, "cannot start an already running container");
    _cleanup_spec_ struct berth_spec *spec = NULL;
    if ((r = berth_state_load_spec(root, id, &spec, err)) < 0)
        return r;
    if ((r = release_fifo(root, s, err)) < 0)
        return r;
    _cleanup_free_ char *sj = state_json_text(s, BERTH_RUNNING);
    if ((r = berth_hooks_run(spec, BERTH_HOOK_POSTSTART, sj, err)) < 0) {
        /* runc: a failing poststart hook is reported; the container is stopped and removed */
        (void)berth_container_destroy(root, id, true, NULL);
        return r;
    }
    return 0;
}

int
berth_container_run(const struct berth_create_opts *o, int *ret_exit_code, struct berth_error **err)
{
    struct created c = {.pid = -1, .pidfd = -1, .master = -1, .sock = -1};
    _cleanup_spec_ struct berth_spec *spec = NULL;
    _cleanup_free_ char *sj = NULL;
    sigset_t sigs, old;
    sigfillset(&sigs);
    sigdelset(&sigs, SIGSEGV);
    sigdelset(&sigs, SIGBUS);
    sigdelset(&sigs, SIGILL);
    sigdelset(&sigs, SIGFPE);
    if (!o->detach)
        sigprocmask(SIG_BLOCK, &sigs, &old); /* forwarded from the first moment */
    int r = do_create(o, true, &c, &spec, err);
    if (r < 0)
        goto out;
    if (o->detach) {
        r = berth_container_start(o->root, o->id, err);
        *ret_exit_code = 0;
        goto out;
    }
    if ((r = berth_sync_send(c.sock, SYNC_START, 0, NULL, 0, -1, err)) < 0) {
        created_cleanup(&c, NULL);
        goto out;
    }
    close(c.sock);
    c.sock = -1;
    sj = state_json_text(c.state, BERTH_RUNNING);
    if ((r = berth_hooks_run(spec, BERTH_HOOK_POSTSTART, sj, err)) < 0) {
        (void)berth_container_destroy(o->root, o->id, true, NULL);
        goto out;
    }
    int status = 0;
    if ((r = berth_terminal_relay(c.master, c.pid, c.pidfd, &sigs, &status, err)) < 0)
        goto out;
    c.pid = -1;
    *ret_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!o->keep)
        r = berth_container_destroy(o->root, o->id, true, err);
out:
    if (!o->detach)
        sigprocmask(SIG_SETMASK, &old, NULL);
    created_free(&c);
    return r;
}

int
berth_container_destroy(const char *root, const char *id, bool run_poststop,
                        struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    if (s->cgroup && berth_cgroup_from_json(s->cgroup, &cg, NULL) == 0) {
        (void)berth_cgroup_kill_all(cg, SIGKILL, NULL);
    }
    if (berth_state_alive(s))
        kill(s->pid, SIGKILL);
    /* wait for the init to be gone so the cgroup can go */
    for (int i = 0; i < 500 && berth_state_alive(s); i++)
        usleep(2000);
    _cleanup_spec_ struct berth_spec *spec = NULL;
    struct berth_error *hook_err = NULL;
    if (run_poststop && berth_state_load_spec(root, id, &spec, NULL) == 0) {
        _cleanup_free_ char *sj = state_json_text(s, BERTH_STOPPED);
        /* runc logs a failing poststop hook and still removes the container */
        (void)berth_hooks_run(spec, BERTH_HOOK_POSTSTOP, sj, &hook_err);
    }
    if (cg && (r = berth_cgroup_destroy(cg, err)) < 0) {
        berth_error_free(hook_err);
        return r;
    }
    _cleanup_free_ char *dir = NULL;
    if ((r = berth_state_dir(root, id, &dir, err)) < 0 || (r = berth_rm_rf(dir, err)) < 0) {
        berth_error_free(hook_err);
        return r;
    }
    if (hook_err) {
        r = berth_error_setq(err, hook_err->code, "%s", hook_err->msg);
        berth_error_free(hook_err);
        return r;
    }
    return 0;
}
