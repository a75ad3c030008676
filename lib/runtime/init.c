/* The container init: runs in the cloned child, inside the new namespaces, and ends in execve
 * of the container's process. Every failure goes back to the parent over the sync socket. */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

static int
write_sysctls(const struct berth_spec *spec, struct berth_error **err)
{
    for (size_t i = 0; i < spec->linux_.n_sysctl; i++) {
        char path[512];
        int n = snprintf(path, sizeof(path), "/proc/sys/%s", spec->linux_.sysctl[i].key);
        if (n < 0 || (size_t)n >= sizeof(path))
            return berth_error_setq(err, ENAMETOOLONG, "sysctl key too long");
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
        const char *v = spec->linux_.sysctl[i].value;
        int r = berth_write_file(path, v, strlen(v), err);
        if (r < 0)
            return berth_error_wrap(err, "sysctl %s", spec->linux_.sysctl[i].key);
    }
    return 0;
}

static int
init_setup(struct berth_init_ctx *ctx, char **ret_exe, struct berth_seccomp_filter **ret_filter,
           char **ret_state_json, struct berth_error **err)
{
    const struct berth_spec *spec = ctx->spec;
    struct berth_spec_process *proc = spec->process;
    int r;

    if ((r = berth_sync_expect(ctx->sock, SYNC_PARENT_SETUP_DONE, NULL, NULL, err)) < 0)
        return r;
    if (ctx->user_ns_fd >= 0 && setns(ctx->user_ns_fd, CLONE_NEWUSER) < 0)
        return berth_error_set(err, errno, "join user namespace");
    if (ctx->in_userns) {
        /* become the namespace's root (host root may be unmapped in it) */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
            return berth_error_set(err, errno, "become root in the user namespace (is 0 mapped?)");
    }
    if (ctx->mnt_ns_fd >= 0 && setns(ctx->mnt_ns_fd, CLONE_NEWNS) < 0)
        return berth_error_set(err, errno, "join mount namespace");
    if (ctx->new_cgroup_ns && unshare(CLONE_NEWCGROUP) < 0)
        return berth_error_set(err, errno, "create cgroup namespace");
    if (spec->hostname && *spec->hostname &&
        sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        return berth_error_set(err, errno, "sethostname");
    if (spec->domainname && *spec->domainname &&
        setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
        return berth_error_set(err, errno, "setdomainname");
    if (setsid() < 0)
        return berth_error_set(err, errno, "setsid");

    if ((r = berth_rootfs_prepare(spec, ctx->in_userns, err)) < 0)
        return r;
    if ((r = berth_sync_send(ctx->sock, SYNC_PRE_PIVOT, 0, NULL, 0, -1, err)) < 0)
        return r;
    _cleanup_free_ struct berth_sync_msg *hooks_msg = NULL;
    if ((r = berth_sync_expect(ctx->sock, SYNC_HOOKS_DONE, &hooks_msg, NULL, err)) < 0)
        return r;
    *ret_state_json = strdup(hooks_msg->data);
    if (!*ret_state_json)
        return berth_error_set(err, ENOMEM, "state");
    if ((r = berth_hooks_run(spec, BERTH_HOOK_CREATE_CONTAINER, *ret_state_json, err)) < 0)
        return r;
    if ((r = berth_rootfs_pivot(spec, ctx->opts->no_pivot, err)) < 0)
        return r;
    if ((r = write_sysctls(spec, err)) < 0)
        return r;
    if (proc->terminal) {
        _cleanup_close_ int master = -1;
        if ((r = berth_terminal_setup(proc->console_height, proc->console_width, 1, &master, err)) <
            0)
            return r;
        if ((r = berth_sync_send(ctx->sock, SYNC_CONSOLE, 0, NULL, 0, master, err)) < 0)
            return r;
    }
    if ((r = berth_rootfs_finalize(spec, ctx->in_userns, err)) < 0)
        return r;
    if (!ctx->opts->no_new_keyring) {
        /* a fresh session keyring, so the container cannot read the host's keys */
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "_ses.berth") < 0 && errno != ENOSYS &&
            errno != EPERM && errno != EACCES && errno != EDQUOT)
            return berth_error_set(err, errno, "join a session keyring");
    }
    if ((r = berth_process_set_rlimits(proc, err)) < 0 ||
        (r = berth_process_set_oom_score_adj(proc, err)) < 0)
        return r;
    if (spec->linux_.has_personality && personality(spec->linux_.personality) < 0)
        return berth_error_set(err, errno, "personality");
    if (spec->linux_.seccomp && ctx->seccomp)
        *ret_filter = ctx->seccomp; /* this process's copy of the parent's */
    else if (spec->linux_.seccomp &&
             (r = berth_seccomp_build(spec->linux_.seccomp, ret_filter, err)) < 0)
        return r;
    if ((r = berth_process_complete_env(proc, err)) < 0 ||
        (r = berth_process_find_executable(proc, ret_exe, err)) < 0)
        return r;
    int notify_fd = -1;
    if ((r = berth_process_finalize(proc, proc->no_new_privileges ? NULL : *ret_filter,
                                    ctx->in_userns, &notify_fd, err)) < 0)
        return r;
    if (notify_fd >= 0) {
        r = berth_seccomp_send_listener(spec->linux_.seccomp->listener_path, notify_fd,
                                        *ret_state_json, err);
        close(notify_fd);
        if (r < 0)
            return r;
    }
    return 0;
}

void
berth_container_init(struct berth_init_ctx *ctx)
{
    struct berth_error *err = NULL;
    char *exe = NULL, *state_json = NULL;
    struct berth_seccomp_filter *filter = NULL;
    const struct berth_spec_process *proc = ctx->spec->process;

    /* if the runtime dies while setting us up, we must not linger */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (init_setup(ctx, &exe, &filter, &state_json, &err) < 0) {
        berth_sync_send_error(ctx->sock, err);
        _exit(1);
    }
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    if (berth_sync_send(ctx->sock, SYNC_READY, 0, NULL, 0, -1, &err) < 0)
        _exit(1);
    if (ctx->state_dirfd >= 0) {
        /* blocks until `start` opens the fifo for reading */
        int fd = openat(ctx->state_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1)
            _exit(1);
        close(fd);
        close(ctx->state_dirfd);
    } else if (berth_sync_expect(ctx->sock, SYNC_START, NULL, NULL, &err) < 0) {
        _exit(1);
    }
    close(ctx->sock);
    if (berth_hooks_run(ctx->spec, BERTH_HOOK_START_CONTAINER, state_json, &err) < 0) {
        dprintf(STDERR_FILENO, "%s\n", err->msg);
        _exit(1);
    }
    if (filter && proc->no_new_privileges && berth_seccomp_load(filter, NULL, &err) < 0) {
        dprintf(STDERR_FILENO, "%s\n", err->msg);
        _exit(1);
    }
    berth_process_close_fds_from(3 + ctx->opts->preserve_fds);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(exe, proc->args, proc->env);
    int e = errno;
    dprintf(STDERR_FILENO, "exec %s: %s\n", proc->args[0], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}
