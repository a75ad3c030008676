/* docker top: ps(1) on the host, filtered to the pids of the container's cgroup, as moby's
 * ContainerTop does. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "container/stats.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/state.h"

#define PS_OUTPUT_MAX (16u << 20)

extern char **environ;

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int
berth_top_validate_args(const char *ps_args, struct berth_error **err)
{
    /* moby: \s+([^\s]*)=\s*(PID[^\s]*) must have "pid" as its key */
    for (const char *eq = strchr(ps_args, '='); eq; eq = strchr(eq + 1, '=')) {
        const char *k = eq;
        while (k > ps_args && !is_space(k[-1]))
            k--;
        if (k == ps_args)
            continue; /* \s+ needs a blank before the key */
        const char *v = eq + 1;
        while (is_space(*v))
            v++;
        if (strncmp(v, "PID", 3))
            continue;
        size_t vlen = 0;
        while (v[vlen] && !is_space(v[vlen]))
            vlen++;
        if ((size_t)(eq - k) == 3 && !strncmp(k, "pid", 3))
            continue;
        return berth_error_setq(err, EINVAL, "specifying \"%.*s=%.*s\" is not allowed",
                                (int)(eq - k), k, (int)vlen, v);
    }
    return 0;
}

/* Splits on ASCII blanks (moby's fieldsASCII). */
static char **
fields(const char *line, size_t *ret_n)
{
    char **v = calloc(1, sizeof(char *));
    size_t n = 0;
    for (const char *p = line; v && *p;) {
        while (*p && is_space(*p))
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && !is_space(*p))
            p++;
        char **nv = realloc(v, (n + 2) * sizeof(char *));
        if (!nv || !(nv[n] = strndup(s, (size_t)(p - s)))) {
            if (nv)
                nv[n] = NULL;
            berth_strv_free(nv ? nv : v);
            return NULL;
        }
        v = nv;
        v[++n] = NULL;
    }
    *ret_n = n;
    return v;
}

static json_t *
process_row(char **f, size_t n, size_t n_titles)
{
    json_t *row = json_array();
    for (size_t i = 0; i + 1 < n_titles && i < n; i++)
        json_array_append_new(row, json_string(f[i]));
    /* the overhanging fields join into the last column */
    _cleanup_free_ char *rest = n >= n_titles ? berth_strv_join(f + n_titles - 1, " ") : NULL;
    json_array_append_new(row, json_string(rest ? rest : ""));
    return row;
}

int
berth_top_parse(const char *output, const pid_t *pids, size_t n_pids, json_t **ret,
                struct berth_error **err)
{
    _cleanup_free_ char *copy = strdup(output);
    if (!copy)
        return berth_error_set(err, ENOMEM, "ps output");
    char *save = NULL;
    char *line = strtok_r(copy, "\n", &save);
    size_t n_titles = 0;
    _cleanup_strv_ char **titles = fields(line ? line : "", &n_titles);
    if (!titles)
        return berth_error_set(err, ENOMEM, "ps output");
    size_t pid_idx = n_titles;
    for (size_t i = 0; i < n_titles; i++)
        if (!strcmp(titles[i], "PID")) {
            pid_idx = i;
            break;
        }
    if (pid_idx == n_titles)
        return berth_error_setq(err, EINVAL, "Couldn't find PID field in ps output");
    json_t *jt = json_array(), *procs = json_array();
    for (size_t i = 0; i < n_titles; i++)
        json_array_append_new(jt, json_string(titles[i]));
    bool prev_contained = false;
    int r = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        size_t n = 0;
        _cleanup_strv_ char **f = fields(line, &n);
        if (!f) {
            r = berth_error_set(err, ENOMEM, "ps output");
            break;
        }
        if (n == 0)
            continue;
        if (pid_idx >= n) {
            r = berth_error_setq(err, EINVAL, "Unexpected pid '': line \"%.100s\"", line);
            break;
        }
        if (!strcmp(f[pid_idx], "-")) {
            if (prev_contained)
                json_array_append_new(procs, process_row(f, n, n_titles));
            continue;
        }
        int64_t p;
        if (!berth_parse_i64(f[pid_idx], &p)) {
            r = berth_error_setq(err, EINVAL, "Unexpected pid '%.40s'", f[pid_idx]);
            break;
        }
        prev_contained = false;
        for (size_t i = 0; i < n_pids; i++)
            if (pids[i] == p)
                prev_contained = true;
        if (prev_contained)
            json_array_append_new(procs, process_row(f, n, n_titles));
    }
    if (r < 0) {
        json_decref(jt);
        json_decref(procs);
        return r;
    }
    *ret = json_pack("{s:o,s:o}", "Titles", jt, "Processes", procs);
    return 0;
}

/* Runs ps with args; *ret_out its stdout, or the first line of its stderr as the error. */
static int
run_ps(char **args, char **ret_out, struct berth_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return berth_error_set(err, errno, "pipe");
    _cleanup_close_ int rd = p[0], wr = p[1];
    _cleanup_close_ int errfd = memfd_create("ps-stderr", MFD_CLOEXEC);
    if (errfd < 0)
        return berth_error_set(err, errno, "memfd");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, wr, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int e = posix_spawnp(&pid, "ps", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e)
        return berth_error_set(err, e, "ps");
    close(TAKE_FD(wr));
    _cleanup_free_ char *out = NULL;
    size_t len = 0;
    struct berth_error *rerr = NULL;
    int r = berth_read_fd(rd, "ps output", PS_OUTPUT_MAX, &out, &len, &rerr);
    close(TAKE_FD(rd));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        berth_error_free(rerr);
        return berth_error_setq(err, EIO, "ps: output too large");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char line[512] = "";
        ssize_t n = pread(errfd, line, sizeof(line) - 1, 0);
        if (n > 0) {
            line[n] = '\0';
            line[strcspn(line, "\n")] = '\0';
        }
        return berth_error_setq(err, EIO, "ps: %s", line[0] ? line : "exit status");
    }
    *ret_out = TAKE_PTR(out);
    return 0;
}

int
berth_container_top(struct berth_containers *cs, const char *ref, const char *ps_args, json_t **ret,
                    struct berth_error **err)
{
    if (!ps_args || !*ps_args)
        ps_args = "-ef";
    int r = berth_top_validate_args(ps_args, err);
    if (r < 0)
        return r;
    char id[65];
    berth_containers_lock(cs);
    struct berth_container *c;
    if ((r = berth_containers_find(cs, ref, &c, err)) == 0) {
        snprintf(id, sizeof(id), "%s", c->id);
        if (c->state == BERTH_C_RESTARTING)
            r = berth_error_setq(err, EBUSY,
                                 "Container %s is restarting, wait until the container is running",
                                 c->id);
        else if (c->state != BERTH_C_RUNNING && c->state != BERTH_C_PAUSED)
            r = berth_error_setq(err, EBUSY, "Container %s is not running", c->id);
    }
    berth_containers_unlock(cs);
    if (r < 0)
        return r;
    _cleanup_state_ struct berth_state *st = NULL;
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if ((r = berth_state_load(cs->runtime_root, id, &st, err)) < 0 ||
        (r = berth_state_cgroup(st, &cg, err)) < 0 ||
        (r = berth_cgroup_pids(cg, &pids, &n, err)) < 0)
        return berth_error_wrap(err, "top %s", id);
    /* argv: ps, the user's args split on spaces (as moby), then -q pid,pid,... */
    _cleanup_free_ char *args_copy = strdup(ps_args);
    _cleanup_free_ char *pid_list = calloc(n + 1, 12);
    _cleanup_free_ char **argv = calloc(strlen(ps_args) + 4, sizeof(char *));
    if (!args_copy || !pid_list || !argv)
        return berth_error_set(err, ENOMEM, "top");
    size_t argc = 0;
    argv[argc++] = (char *)"ps";
    char *save = NULL;
    for (char *t = strtok_r(args_copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    size_t plen = 0;
    for (size_t i = 0; i < n; i++)
        plen += (size_t)snprintf(pid_list + plen, 12, "%s%d", i ? "," : "", (int)pids[i]);
    size_t base_argc = argc;
    if (n) {
        argv[argc++] = (char *)"-q";
        argv[argc++] = pid_list;
    }
    argv[argc] = NULL;
    _cleanup_free_ char *out = NULL;
    struct berth_error *first = NULL;
    if (run_ps(argv, &out, &first) < 0) {
        /* some ps options (f) do not go with -q: again without it */
        berth_error_free(first);
        argv[base_argc] = NULL;
        if ((r = run_ps(argv, &out, err)) < 0)
            return r;
    }
    return berth_top_parse(out, pids, n, ret, err);
}
