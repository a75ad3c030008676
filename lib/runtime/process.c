#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"

static const char *
limit_str(rlim_t v, char *buf, size_t len)
{
    if (v == RLIM_INFINITY)
        return "unlimited";
    snprintf(buf, len, "%llu", (unsigned long long)v);
    return buf;
}

/* fs.nr_open bounds RLIMIT_NOFILE even with CAP_SYS_RESOURCE. */
static bool
above_nr_open(rlim_t want)
{
    char *text = NULL;
    uint64_t nr_open;
    bool above = false;
    if (berth_read_file("/proc/sys/fs/nr_open", 64, &text, NULL, NULL) == 0) {
        text[strcspn(text, "\n")] = '\0';
        above = berth_parse_u64(text, &nr_open) && want > nr_open;
        free(text);
    }
    return above;
}

int
berth_process_set_rlimits(const struct berth_spec_process *p, struct berth_error **err)
{
    for (size_t i = 0; i < p->n_rlimits; i++) {
        const struct berth_spec_rlimit *l = &p->rlimits[i];
        struct rlimit rl = {.rlim_cur = l->soft == UINT64_MAX ? RLIM_INFINITY : l->soft,
                            .rlim_max = l->hard == UINT64_MAX ? RLIM_INFINITY : l->hard};
        if (setrlimit(l->resource, &rl) == 0)
            continue;
        int e = errno;
        struct rlimit cur;
        char a[32], b[32];
        if (e == EPERM && l->resource == RLIMIT_NOFILE && above_nr_open(rl.rlim_max))
            return berth_error_setq(err, EPERM, "setrlimit %s to %s: above fs.nr_open", l->name,
                                    limit_str(rl.rlim_max, a, sizeof(a)));
        if (e == EPERM && getrlimit(l->resource, &cur) == 0 && rl.rlim_max > cur.rlim_max)
            return berth_error_setq(err, EPERM,
                                    "setrlimit %s: hard limit %s is above this host's limit %s, "
                                    "which cannot be raised without CAP_SYS_RESOURCE",
                                    l->name, limit_str(rl.rlim_max, a, sizeof(a)),
                                    limit_str(cur.rlim_max, b, sizeof(b)));
        return berth_error_set(err, e, "setrlimit %s", l->name);
    }
    return 0;
}

int
berth_process_set_oom_score_adj(const struct berth_spec_process *p, struct berth_error **err)
{
    if (!p->oom_score_adj.set)
        return 0;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)p->oom_score_adj.value);
    _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "open /proc/self/oom_score_adj");
    if (write(fd, buf, (size_t)n) < 0) {
        int e = errno;
        if (e == EACCES || e == EPERM)
            return berth_error_setq(err, e,
                                    "set oomScoreAdj %lld: lowering the OOM score needs "
                                    "CAP_SYS_RESOURCE, which this host does not grant",
                                    (long long)p->oom_score_adj.value);
        return berth_error_set(err, e, "set oomScoreAdj %lld", (long long)p->oom_score_adj.value);
    }
    return 0;
}

static const char *
env_get(char *const *env, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; env && env[i]; i++)
        if (!strncmp(env[i], key, kl) && env[i][kl] == '=')
            return env[i] + kl + 1;
    return NULL;
}

static bool
is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int
berth_process_find_executable(const struct berth_spec_process *p, char **ret,
                              struct berth_error **err)
{
    const char *name = p->args[0];
    if (strchr(name, '/')) {
        struct stat st;
        if (stat(name, &st) < 0)
            return berth_error_setq(err, ENOENT, "exec: \"%s\": stat %s: no such file or directory",
                                    name, name);
        if (S_ISDIR(st.st_mode))
            return berth_error_setq(err, EACCES, "exec: \"%s\": is a directory", name);
        /* as runc (Go's LookPath): a file without execute permission fails create, which
         * engines turn into exit code 126 */
        if (!(st.st_mode & 0111))
            return berth_error_setq(err, EACCES, "exec: \"%s\": permission denied", name);
        *ret = strdup(name);
        return *ret ? 0 : berth_error_set(err, ENOMEM, "exec");
    }
    const char *path = env_get(p->env, "PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return berth_error_set(err, ENOMEM, "exec");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *full;
        if (asprintf(&full, "%s/%s", *dir ? dir : ".", name) < 0)
            return berth_error_set(err, ENOMEM, "exec");
        if (is_executable(full)) {
            *ret = full;
            return 0;
        }
        free(full);
    }
    return berth_error_setq(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

int
berth_process_complete_env(struct berth_spec_process *p, struct berth_error **err)
{
    if (env_get(p->env, "HOME"))
        return 0;
    const char *home = "/";
    _cleanup_free_ char *passwd = NULL;
    char found[4096] = "";
    if (berth_read_file("/etc/passwd", 4u << 20, &passwd, NULL, NULL) == 0) {
        char *save = NULL;
        for (char *line = strtok_r(passwd, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            /* name:pw:uid:gid:gecos:home:shell */
            char *f[7] = {0};
            int n = 0;
            for (char *q = line; n < 7; n++) {
                f[n] = q;
                char *c = strchr(q, ':');
                if (!c)
                    break;
                *c = '\0';
                q = c + 1;
            }
            uint64_t uid;
            if (n >= 5 && f[2] && f[5] && berth_parse_u64(f[2], &uid) && uid == p->user.uid) {
                snprintf(found, sizeof(found), "%s", f[5]);
                break;
            }
        }
    }
    if (found[0])
        home = found;
    char *entry;
    if (asprintf(&entry, "HOME=%s", home) < 0)
        return berth_error_set(err, ENOMEM, "env");
    int r = berth_strv_push(&p->env, entry);
    free(entry);
    return r < 0 ? berth_error_set(err, ENOMEM, "env") : 0;
}

int
berth_process_finalize(const struct berth_spec_process *p, struct berth_seccomp_filter *filter,
                       bool in_userns, int *ret_notify_fd, struct berth_error **err)
{
    int r;
    if (ret_notify_fd)
        *ret_notify_fd = -1;
    /* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it while we hold it */
    if (filter && !p->no_new_privileges) {
        if ((r = berth_seccomp_load(filter, ret_notify_fd, err)) < 0)
            return r;
    }
    if (p->caps.set && (r = berth_caps_drop_bounding(&p->caps, err)) < 0)
        return r;
    bool cwd_done = !p->cwd || chdir(p->cwd) == 0;
    if (!cwd_done && errno != EACCES && errno != EPERM)
        return berth_error_set(err, errno, "chdir to cwd (\"%s\") set in config.json", p->cwd);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return berth_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (setgroups(p->user.n_additional_gids, p->user.additional_gids) < 0) {
        /* a user namespace with setgroups denied: only an empty list is acceptable */
        if (!(in_userns && errno == EPERM && p->user.n_additional_gids == 0))
            return berth_error_set(err, errno, "setgroups");
    }
    if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
        return berth_error_set(err, errno, "setgid %u", p->user.gid);
    if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
        return berth_error_set(err, errno, "setuid %u", p->user.uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return berth_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (p->caps.set && (r = berth_caps_apply(&p->caps, err)) < 0)
        return r;
    if (!cwd_done && chdir(p->cwd) < 0)
        return berth_error_set(err, errno, "chdir to cwd (\"%s\") set in config.json", p->cwd);
    umask(p->user.has_umask ? p->user.umask : 022);
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return berth_error_set(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (filter && p->no_new_privileges) {
        if ((r = berth_seccomp_load(filter, ret_notify_fd, err)) < 0)
            return r;
    }
    return 0;
}

void
berth_process_close_fds_from(int first)
{
    if (berth_close_range((unsigned)first, ~0U, 0) == 0)
        return;
    /* close_range is missing (kernel < 5.9): mark them close-on-exec one by one */
    for (int fd = first; fd < 65536; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
}
