/* `exec`: a new process in a running container. The parent joins the container's pid (and time)
 * namespace for its children and forks one child; the child joins the rest and becomes the
 * process, so no intermediate process is needed. */
#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Order of joining: user first (it grants the rights for the rest), mount last. */
static const int join_order[] = {CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS,
                                 CLONE_NEWNET,  CLONE_NEWCGROUP, CLONE_NEWNS};

static bool
same_ns(pid_t pid, const char *name)
{
    char a[64], b[64];
    struct stat sa, sb;
    snprintf(a, sizeof(a), "/proc/self/ns/%s", name);
    snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, name);
    if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
        return true;
    return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static int
build_process(const struct berth_exec_opts *o, const struct berth_spec *spec,
              struct berth_spec_process **ret, struct berth_error **err)
{
    if (o->process_path) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = berth_read_file(o->process_path, 4u << 20, &text, &len, err);
        if (r < 0)
            return r;
        json_t *j = NULL;
        if ((r = berth_spec_json_load("process.json", text, len, &j, err)) < 0)
            return r;
        r = berth_spec_parse_process(j, ret, err);
        json_decref(j);
        if (r < 0)
            return r;
        if (!(*ret)->args || !(*ret)->args[0]) {
            berth_spec_process_free(*ret);
            return berth_error_setq(err, EINVAL, "process.args must not be empty");
        }
        return 0;
    }
    if (!o->args || !o->args[0])
        return berth_error_setq(err, EINVAL, "exec: a command is required");
    /* like runc: the container's process settings, with the command line's overrides */
    const struct berth_spec_process *base = spec->process;
    struct berth_spec_process *p = calloc(1, sizeof(*p));
    if (!p)
        return berth_error_set(err, ENOMEM, "exec");
    *ret = p;
    for (char **a = o->args; *a; a++)
        berth_strv_push(&p->args, *a);
    for (char **e = base->env; e && *e; e++)
        berth_strv_push(&p->env, *e);
    for (char **e = o->env; e && *e; e++) {
        if (!strchr(*e, '='))
            return berth_error_setq(err, EINVAL, "exec: --env \"%s\" is not KEY=value", *e);
        berth_strv_push(&p->env, *e);
    }
    p->cwd = strdup(o->cwd ? o->cwd : base->cwd);
    p->terminal = o->tty;
    p->user = base->user;
    p->user.additional_gids = NULL;
    p->user.n_additional_gids = 0;
    if (o->user) {
        char *colon = strchr(o->user, ':');
        uint64_t uid, gid = 0;
        _cleanup_free_ char *u =
            strndup(o->user, colon ? (size_t)(colon - o->user) : strlen(o->user));
        if (!berth_parse_u64(u, &uid) || uid > UINT32_MAX ||
            (colon && (!berth_parse_u64(colon + 1, &gid) || gid > UINT32_MAX)))
            return berth_error_setq(err, EINVAL, "exec: --user \"%s\" must be uid[:gid]", o->user);
        p->user.uid = (uid_t)uid;
        p->user.gid = (gid_t)gid;
    } else if (base->user.n_additional_gids) {
        p->user.additional_gids = malloc(base->user.n_additional_gids * sizeof(gid_t));
        if (p->user.additional_gids) {
            memcpy(p->user.additional_gids, base->user.additional_gids,
                   base->user.n_additional_gids * sizeof(gid_t));
            p->user.n_additional_gids = base->user.n_additional_gids;
        }
    }
    for (char **g = o->additional_gids; g && *g; g++) {
        uint64_t gid;
        if (!berth_parse_u64(*g, &gid) || gid > UINT32_MAX)
            return berth_error_setq(err, EINVAL, "exec: --additional-gids \"%s\" is not a gid", *g);
        gid_t *n =
            realloc(p->user.additional_gids, (p->user.n_additional_gids + 1) * sizeof(gid_t));
        if (!n)
            return berth_error_set(err, ENOMEM, "exec");
        p->user.additional_gids = n;
        n[p->user.n_additional_gids++] = (gid_t)gid;
    }
    p->caps = base->caps;
    for (char **c = o->caps; c && *c; c++) {
        int cap = berth_cap_from_name(*c);
        if (cap < 0)
            return berth_error_setq(err, EINVAL, "exec: unknown capability %s", *c);
        uint64_t bit = 1ULL << cap;
        p->caps.set = true;
        p->caps.bounding |= bit, p->caps.effective |= bit, p->caps.permitted |= bit;
        p->caps.inheritable |= bit, p->caps.ambient |= bit;
    }
    p->no_new_privileges = base->no_new_privileges || o->no_new_privs;
    if (base->n_rlimits) {
        p->rlimits = calloc(base->n_rlimits, sizeof(*p->rlimits));
        if (!p->rlimits)
            return berth_error_set(err, ENOMEM, "exec");
        for (size_t i = 0; i < base->n_rlimits; i++) {
            p->rlimits[i] = base->rlimits[i];
            p->rlimits[i].name = strdup(base->rlimits[i].name);
        }
        p->n_rlimits = base->n_rlimits;
    }
    return 0;
}

__attribute__((noreturn)) static void
exec_child(const struct berth_exec_opts *o, struct berth_spec_process *p,
           const struct berth_spec *spec, int sock, const int *ns_fds)
{
    struct berth_error *err = NULL;
    struct berth_seccomp_filter *filter = NULL;
    char *exe = NULL;
    int r = 0;
    bool in_userns = false;
    /* nothing in the container may ptrace us or open our /proc files before execve */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if ((r = berth_sync_expect(sock, SYNC_PARENT_SETUP_DONE, NULL, NULL, &err)) < 0)
        goto fail;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(join_order); i++) {
        if (ns_fds[i] < 0)
            continue;
        if (setns(ns_fds[i], join_order[i]) < 0) {
            r = berth_error_set(&err, errno, "join %s namespace", berth_ns_name(join_order[i]));
            goto fail;
        }
        if (join_order[i] == CLONE_NEWUSER) {
            in_userns = true;
            if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
                r = berth_error_set(&err, errno, "become root in the user namespace");
                goto fail;
            }
        }
        close(ns_fds[i]);
    }
    if (p->terminal) {
        if (setsid() < 0) {
            r = berth_error_set(&err, errno, "setsid");
            goto fail;
        }
        int master = -1;
        if ((r = berth_terminal_setup(p->console_height, p->console_width, 0, &master, &err)) < 0)
            goto fail;
        r = berth_sync_send(sock, SYNC_CONSOLE, 0, NULL, 0, master, &err);
        close(master);
        if (r < 0)
            goto fail;
    }
    if ((r = berth_process_set_rlimits(p, &err)) < 0)
        goto fail;
    if (spec->linux_.seccomp && (r = berth_seccomp_build(spec->linux_.seccomp, &filter, &err)) < 0)
        goto fail;
    if ((r = berth_process_complete_env(p, &err)) < 0 ||
        (r = berth_process_find_executable(p, &exe, &err)) < 0)
        goto fail;
    if ((r = berth_process_finalize(p, filter, in_userns, NULL, &err)) < 0)
        goto fail;
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    if (berth_sync_send(sock, SYNC_READY, 0, NULL, 0, -1, &err) < 0)
        _exit(1);
    close(sock);
    berth_process_close_fds_from(3 + o->preserve_fds);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(exe, p->args, p->env);
    dprintf(STDERR_FILENO, "exec %s: %s\n", p->args[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
fail:
    berth_sync_send_error(sock, err);
    _exit(1);
}

int
berth_container_exec(const struct berth_exec_opts *o, int *ret_exit_code, struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(o->root, o->id, &s, err);
    if (r < 0)
        return r;
    enum berth_status st = berth_state_status(o->root, s);
    if (st == BERTH_STOPPED)
        return berth_error_setq(err, EINVAL, "cannot exec in a stopped container");
    if (st == BERTH_PAUSED && !o->ignore_paused)
        return berth_error_setq(err, EINVAL, "cannot exec in a paused container");
    _cleanup_spec_ struct berth_spec *spec = NULL;
    if ((r = berth_state_load_spec(o->root, o->id, &spec, err)) < 0)
        return r;
    struct berth_spec_process *p = NULL;
    if ((r = build_process(o, spec, &p, err)) < 0) {
        berth_spec_process_free(p);
        return r;
    }
    if (p->terminal && o->detach && !o->console_socket) {
        berth_spec_process_free(p);
        return berth_error_setq(
            err, EINVAL,
            "cannot allocate tty if the runtime will detach without setting console socket");
    }
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    if (s->cgroup && (r = berth_cgroup_from_json(s->cgroup, &cg, err)) < 0) {
        berth_spec_process_free(p);
        return r;
    }
    int ns_fds[BERTH_ARRAY_SIZE(join_order)];
    _cleanup_close_ int pidfd = -1, master = -1;
    int saved_pid = -1, saved_time = -1, target_pid = -1, target_time = -1;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(join_order); i++) {
        const char *name = berth_ns_proc_name(join_order[i]);
        ns_fds[i] = -1;
        if (same_ns(s->pid, name))
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)s->pid, name);
        ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (!same_ns(s->pid, "pid")) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)s->pid);
        target_pid = open(path, O_RDONLY | O_CLOEXEC);
        saved_pid = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
    }
    if (!same_ns(s->pid, "time")) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/time", (int)s->pid);
        target_time = open(path, O_RDONLY | O_CLOEXEC);
        saved_time = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
    }
    if ((target_pid >= 0 && setns(target_pid, CLONE_NEWPID) < 0) ||
        (target_time >= 0 && setns(target_time, CLONE_NEWTIME) < 0)) {
        r = berth_error_set(err, errno, "join the container's pid namespace");
        goto out;
    }
    sigset_t sigs, old;
    sigfillset(&sigs);
    sigdelset(&sigs, SIGSEGV);
    sigdelset(&sigs, SIGBUS);
    sigdelset(&sigs, SIGILL);
    sigdelset(&sigs, SIGFPE);
    sigprocmask(SIG_BLOCK, &sigs, &old);
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        r = berth_error_set(err, errno, "socketpair");
        goto out_mask;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        exec_child(o, p, spec, sp[1], ns_fds);
    }
    int fork_errno = errno;
    close(sp[1]);
    if (saved_pid >= 0)
        (void)setns(saved_pid, CLONE_NEWPID);
    if (saved_time >= 0)
        (void)setns(saved_time, CLONE_NEWTIME);
    if (pid < 0) {
        close(sp[0]);
        r = berth_error_set(err, fork_errno, "fork");
        goto out_mask;
    }
    pidfd = berth_pidfd_open(pid, 0);
    if (cg && (r = berth_cgroup_enter(cg, pid, err)) < 0)
        goto kill_child;
    if ((r = berth_sync_send(sp[0], SYNC_PARENT_SETUP_DONE, 0, NULL, 0, -1, err)) < 0)
        goto kill_child;
    if ((r = berth_terminal_wait_ready(sp[0], o->console_socket, &master, err)) < 0)
        goto kill_child;
    close(sp[0]);
    sp[0] = -1;
    if (o->pid_file) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        if ((r = berth_write_file_replace(o->pid_file, buf, (size_t)n, 0644, err)) < 0)
            goto kill_child;
    }
    if (o->detach) {
        *ret_exit_code = 0;
        r = 0;
        goto out_mask;
    }
    int status = 0;
    if ((r = berth_terminal_relay(master, pid, pidfd, &sigs, &status, err)) < 0)
        goto out_mask;
    *ret_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r = 0;
    goto out_mask;
kill_child:
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (sp[0] >= 0)
        close(sp[0]);
out_mask:
    sigprocmask(SIG_SETMASK, &old, NULL);
out:
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(join_order); i++)
        if (ns_fds[i] >= 0)
            close(ns_fds[i]);
    if (saved_pid >= 0)
        close(saved_pid);
    if (saved_time >= 0)
        close(saved_time);
    if (target_pid >= 0)
        close(target_pid);
    if (target_time >= 0)
        close(target_time);
    berth_spec_process_free(p);
    return r;
}
