/* Unit tests of lib/runtime/process.c: rlimits (set in forked children, read back; the message
 * when a hard limit cannot be raised), oom_score_adj, the $PATH lookup of the executable with
 * runc's wording, and HOME from /etc/passwd. Runs as root; files under a mkdtemp dir. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/process.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-process-XXXXXX";

/* Whether this process holds CAP_SYS_RESOURCE (sandboxes often drop it, even for root). */
static bool
has_sys_resource(void)
{
    cap_t c = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    if (c)
        cap_get_flag(c, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
    cap_free(c);
    return v == CAP_SET;
}

/* ---- running a function in a forked child, collecting what it writes ---- */

typedef void (*out_fn)(FILE *out, void *arg);

struct out_call {
    out_fn fn;
    void *arg;
};

/* In the child: fn writing to the pipe through a FILE. */
static void
call_with_file(int fd, void *arg)
{
    const struct out_call *c = arg;
    FILE *out = fdopen(fd, "w");
    c->fn(out, c->arg);
    fclose(out);
}

/* Runs fn in a child (where limits and capabilities may change freely) and returns its output,
 * malloc'd; NULL if the child did not exit 0. */
static char *
in_child(out_fn fn, void *arg)
{
    int status;
    char *out = capture_child(call_with_file, &(struct out_call){fn, arg}, -1, 4096, &status);
    if (out && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        free(out);
        return NULL;
    }
    return out;
}

struct rl_case {
    struct berth_spec_rlimit rl[3];
    size_t n;
    bool drop_cap; /* drop CAP_SYS_RESOURCE from the effective set first */
    int resource;  /* read back afterwards */
};

static void
drop_sys_resource(void)
{
    cap_t c = cap_get_proc();
    cap_value_t v = CAP_SYS_RESOURCE;
    if (!c || cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 || cap_set_proc(c) < 0)
        _exit(3);
    cap_free(c);
}

/* Output: "r=<code> soft=<cur> hard=<max> msg=<message>" */
static void
child_set_rlimits(FILE *out, void *arg)
{
    struct rl_case *c = arg;
    if (c->drop_cap)
        drop_sys_resource();
    struct berth_spec_process p = {.rlimits = c->rl, .n_rlimits = c->n};
    struct berth_error *e = NULL;
    int r = berth_process_set_rlimits(&p, &e);
    struct rlimit now;
    getrlimit(c->resource, &now);
    fprintf(out, "r=%d soft=%lld hard=%lld msg=%s", r,
            now.rlim_cur == RLIM_INFINITY ? -1LL : (long long)now.rlim_cur,
            now.rlim_max == RLIM_INFINITY ? -1LL : (long long)now.rlim_max, e ? e->msg : "");
    berth_error_free(e);
}

static char *
rl_run(struct rl_case *c)
{
    char *o = in_child(child_set_rlimits, c);
    if (!o)
        printf("#   the child failed\n");
    return o;
}

#define RL(res, soft, hard)                                                                        \
    {                                                                                              \
        (res), (char *)#res, (soft), (hard)                                                        \
    }

static void
test_rlimits(void)
{
    struct rlimit cur;
    getrlimit(RLIMIT_NOFILE, &cur);

    struct rl_case lower = {.rl = {RL(RLIMIT_NOFILE, 100, 200)}, .n = 1, .resource = RLIMIT_NOFILE};
    _cleanup_free_ char *o1 = rl_run(&lower);
    is_str(o1, "r=0 soft=100 hard=200 msg=", "NOFILE lowered to 100/200 and read back");

    struct rl_case inf = {
        .rl = {RL(RLIMIT_CORE, UINT64_MAX, UINT64_MAX)}, .n = 1, .resource = RLIMIT_CORE};
    _cleanup_free_ char *o2 = rl_run(&inf);
    is_str(o2, "r=0 soft=-1 hard=-1 msg=", "RLIMIT_CORE UINT64_MAX reads back as RLIM_INFINITY");

    struct rl_case two = {.rl = {RL(RLIMIT_CORE, 0, 0), RL(RLIMIT_NOFILE, 64, 64)},
                          .n = 2,
                          .resource = RLIMIT_NOFILE};
    _cleanup_free_ char *o3 = rl_run(&two);
    is_str(o3, "r=0 soft=64 hard=64 msg=", "two rlimits: both applied");

    struct rl_case inverted = {
        .rl = {RL(RLIMIT_NOFILE, 300, 200)}, .n = 1, .resource = RLIMIT_NOFILE};
    _cleanup_free_ char *o4 = rl_run(&inverted);
    char want[512];
    snprintf(want, sizeof(want), "r=%d soft=%lld hard=%lld msg=setrlimit RLIMIT_NOFILE: %s",
             -EINVAL, (long long)cur.rlim_cur, (long long)cur.rlim_max, strerror(EINVAL));
    is_str(o4, want, "soft above hard: EINVAL, limits unchanged");

    /* raising the hard limit without CAP_SYS_RESOURCE: the clear message */
    struct rl_case raise = {.rl = {RL(RLIMIT_NOFILE, 10, cur.rlim_max + 1)},
                            .n = 1,
                            .drop_cap = true,
                            .resource = RLIMIT_NOFILE};
    _cleanup_free_ char *o5 = rl_run(&raise);
    snprintf(want, sizeof(want),
             "r=%d soft=%lld hard=%lld msg=setrlimit RLIMIT_NOFILE: hard limit %llu is above this "
             "host's limit %llu, which cannot be raised without CAP_SYS_RESOURCE",
             -EPERM, (long long)cur.rlim_cur, (long long)cur.rlim_max,
             (unsigned long long)cur.rlim_max + 1, (unsigned long long)cur.rlim_max);
    is_str(o5, want, "raising hard NOFILE without CAP_SYS_RESOURCE: EPERM naming the capability");

    struct rl_case raise_inf = {.rl = {RL(RLIMIT_NOFILE, 10, UINT64_MAX)},
                                .n = 1,
                                .drop_cap = true,
                                .resource = RLIMIT_NOFILE};
    _cleanup_free_ char *o6 = rl_run(&raise_inf);
    /* NOFILE can never be unlimited: fs.nr_open bounds it, and the message says so */
    ok(o6 && strstr(o6, "RLIMIT_NOFILE to unlimited: above fs.nr_open"),
       "an unlimited hard limit is written 'unlimited'");
    if (!o6 || !strstr(o6, "unlimited"))
        printf("#   got: %s\n", o6 ? o6 : "(null)");

    /* the failing one is named, the ones before it applied */
    struct rl_case second = {
        .rl = {RL(RLIMIT_CORE, 0, 0), RL(RLIMIT_STACK, 10, 5)}, .n = 2, .resource = RLIMIT_CORE};
    _cleanup_free_ char *o7 = rl_run(&second);
    ok(o7 && !strncmp(o7, "r=-22 soft=0 hard=0 msg=setrlimit RLIMIT_STACK", 46),
       "the failing rlimit is named, the earlier one applied");
    if (!o7 || strncmp(o7, "r=-22 soft=0 hard=0 msg=setrlimit RLIMIT_STACK", 46))
        printf("#   got: %s\n", o7 ? o7 : "(null)");

    struct rl_case none = {.n = 0, .resource = RLIMIT_NOFILE};
    _cleanup_free_ char *o9 = rl_run(&none);
    snprintf(want, sizeof(want), "r=0 soft=%lld hard=%lld msg=", (long long)cur.rlim_cur,
             (long long)cur.rlim_max);
    is_str(o9, want, "no rlimits: nothing changes");
}

static void
test_rlimit_nr_open(void)
{
    /* CAP_SYS_RESOURCE held: NOFILE above fs.nr_open is refused for that reason */
    if (!has_sys_resource()) {
        ok(true, "# skip NOFILE above fs.nr_open: this host does not grant CAP_SYS_RESOURCE");
        return;
    }
    _cleanup_free_ char *nr = NULL;
    uint64_t nr_open = 0;
    if (berth_read_file("/proc/sys/fs/nr_open", 64, &nr, NULL, NULL) == 0) {
        nr[strcspn(nr, "\n")] = '\0';
        berth_parse_u64(nr, &nr_open);
    }
    struct rl_case above = {
        .rl = {RL(RLIMIT_NOFILE, 10, nr_open + 1)}, .n = 1, .resource = RLIMIT_NOFILE};
    _cleanup_free_ char *o8 = rl_run(&above);
    ok(o8 && strstr(o8, "r=-1 ") && strstr(o8, "fs.nr_open") && !strstr(o8, "CAP_SYS_RESOURCE"),
       "NOFILE hard above fs.nr_open (%llu) with CAP_SYS_RESOURCE: the message names fs.nr_open",
       (unsigned long long)nr_open);
    if (!o8 || !strstr(o8, "fs.nr_open"))
        printf("#   got: %s\n", o8 ? o8 : "(null)");
}

/* ---- oom_score_adj ---- */

struct oom_case {
    bool set;
    int64_t value;
    bool drop_cap;
};

static void
child_oom(FILE *out, void *arg)
{
    struct oom_case *c = arg;
    if (c->drop_cap)
        drop_sys_resource();
    struct berth_spec_process p = {.oom_score_adj = {c->set, c->value}};
    struct berth_error *e = NULL;
    int r = berth_process_set_oom_score_adj(&p, &e);
    _cleanup_free_ char *now = NULL;
    berth_read_file("/proc/self/oom_score_adj", 64, &now, NULL, NULL);
    if (now)
        now[strcspn(now, "\n")] = '\0';
    fprintf(out, "r=%d now=%s msg=%s", r, now ? now : "?", e ? e->msg : "");
    berth_error_free(e);
}

static void
test_oom(void)
{
    _cleanup_free_ char *base = NULL;
    berth_read_file("/proc/self/oom_score_adj", 64, &base, NULL, NULL);
    if (base)
        base[strcspn(base, "\n")] = '\0';

    _cleanup_free_ char *o1 = in_child(child_oom, &(struct oom_case){true, 500, false});
    is_str(o1, "r=0 now=500 msg=", "oomScoreAdj 500 written");
    _cleanup_free_ char *o2 = in_child(child_oom, &(struct oom_case){true, -500, false});
    if (has_sys_resource())
        is_str(o2, "r=0 now=-500 msg=", "oomScoreAdj -500 with CAP_SYS_RESOURCE");
    else
        ok(o2 && strstr(o2, "r=-13 ") &&
               strstr(o2, "lowering the OOM score needs CAP_SYS_RESOURCE"),
           "oomScoreAdj -500 on a host without CAP_SYS_RESOURCE: the clear message");
    char want[256];
    snprintf(want, sizeof(want), "r=0 now=%s msg=", base ? base : "?");
    _cleanup_free_ char *o3 = in_child(child_oom, &(struct oom_case){false, 999, false});
    is_str(o3, want, "not set: left alone");
    _cleanup_free_ char *o4 = in_child(child_oom, &(struct oom_case){true, -999, true});
    ok(o4 && strstr(o4, "r=-13 ") &&
           strstr(o4, "set oomScoreAdj -999: lowering the OOM score needs CAP_SYS_RESOURCE"),
       "lowering without CAP_SYS_RESOURCE: the clear message");
    if (!o4 || !strstr(o4, "CAP_SYS_RESOURCE"))
        printf("#   got: %s\n", o4 ? o4 : "(null)");
}

/* ---- find_executable ---- */

static char *
tpath(const char *rel)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", tmp, rel) < 0)
        abort();
    return p;
}

static void
make_file(const char *rel, mode_t mode)
{
    _cleanup_free_ char *p = tpath(rel);
    _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd >= 0)
        (void)!write(fd, "#!/bin/sh\n", 10);
    chmod(p, mode);
}

static int
find(const char *name, const char *path_env, char **ret, struct berth_error **e)
{
    char *args[] = {(char *)name, NULL};
    char env_path[1024];
    snprintf(env_path, sizeof(env_path), "PATH=%s", path_env ? path_env : "");
    char *env[] = {"TERM=xterm", env_path, NULL};
    char *no_path[] = {"TERM=xterm", NULL};
    struct berth_spec_process p = {.args = args, .env = path_env ? env : no_path};
    *ret = NULL;
    return berth_process_find_executable(&p, ret, e);
}

static void
test_find_executable(void)
{
    _cleanup_free_ char *b0 = tpath("bin0"), *b1 = tpath("bin1"), *b2 = tpath("bin2"),
                        *b3 = tpath("bin3");
    mkdir(b0, 0755), mkdir(b1, 0755), mkdir(b2, 0755), mkdir(b3, 0755);
    _cleanup_free_ char *dir_tool = tpath("bin0/tool");
    mkdir(dir_tool, 0755);        /* a directory named like the command */
    make_file("bin1/tool", 0644); /* not executable */
    make_file("bin2/tool", 0755); /* the one to find */
    make_file("bin3/tool", 0755); /* later in PATH */
    make_file("bin3/other", 0700);

    struct berth_error *e = NULL;
    char *got = NULL;
    char path_env[1024];
    snprintf(path_env, sizeof(path_env), "%s:%s:%s:%s", b0, b1, b2, b3);
    int r = find("tool", path_env, &got, &e);
    _cleanup_free_ char *want = tpath("bin2/tool");
    check(r == 0, "tool found in $PATH");
    is_str(got, want, "the first executable regular file wins: directory and 0644 file skipped");
    free(got);

    snprintf(path_env, sizeof(path_env), "/nonexistent:%s", b3);
    r = find("other", path_env, &got, &e);
    _cleanup_free_ char *want_other = tpath("bin3/other");
    check(r == 0, "a missing PATH entry is skipped");
    is_str(got, want_other, "mode 0700 counts as executable");
    free(got);

    snprintf(path_env, sizeof(path_env), "%s:%s", b0, b1);
    r = find("tool", path_env, &got, &e);
    check(r == -ENOENT && !got, "only a directory and a non-executable file: ENOENT");
    check(msg_is(e, "exec: \"tool\": executable file not found in $PATH"), "runc's wording");
    berth_error_freep(&e);

    r = find("no-such-command-berth", "/usr/bin:/bin", &got, &e);
    check(r == -ENOENT && msg_is(e, "exec: \"no-such-command-berth\": executable file not found "
                                    "in $PATH"),
          "missing command: executable file not found in $PATH");
    berth_error_freep(&e);

    /* an absolute path is taken as it is */
    r = find(want, "/nonexistent", &got, &e);
    check(r == 0, "an absolute path");
    is_str(got, want, "returned unchanged");
    free(got);

    r = find(b0, "/usr/bin", &got, &e);
    char msg[512];
    snprintf(msg, sizeof(msg), "exec: \"%s\": is a directory", b0);
    check(r == -EACCES && msg_is(e, msg), "an absolute path to a directory: EACCES");
    berth_error_freep(&e);

    /* as Go's LookPath in runc: a file without execute permission is refused up front */
    _cleanup_free_ char *noexec = tpath("bin1/tool");
    r = find(noexec, "/usr/bin", &got, &e);
    snprintf(msg, sizeof(msg), "exec: \"%s\": permission denied", noexec);
    check(r == -EACCES && msg_is(e, msg), "an absolute path without execute permission: EACCES");
    berth_error_freep(&e);
    if (r == 0)
        free(got);

    _cleanup_free_ char *missing = tpath("bin2/missing");
    r = find(missing, "/usr/bin", &got, &e);
    snprintf(msg, sizeof(msg), "exec: \"%s\": stat %s: no such file or directory", missing,
             missing);
    check(r == -ENOENT && msg_is(e, msg), "an absolute path that does not exist: ENOENT");
    berth_error_freep(&e);

    /* without PATH in the env, the default list is searched */
    r = find("sh", NULL, &got, &e);
    check(r == 0 && got && berth_str_has_suffix(got, "/sh") && access(got, X_OK) == 0,
          "no PATH: sh found in the default path (%s)", got ? got : "-");
    free(got);
}

/* ---- complete_env ---- */

static void
test_complete_env(void)
{
    struct berth_error *e = NULL;
    char **env = NULL;
    berth_strv_push(&env, "PATH=/bin");
    berth_strv_push(&env, "HOMEDIR=/not-home");
    struct berth_spec_process p = {.env = env, .user = {.uid = 0}};
    int r = berth_process_complete_env(&p, &e);
    check(r == 0, "complete_env for uid 0");
    ok(berth_strv_len(p.env) == 3 && !strcmp(p.env[2], "HOME=/root"),
       "HOME=/root added from /etc/passwd (HOMEDIR does not count)");
    berth_strv_free(p.env);

    env = NULL;
    berth_strv_push(&env, "HOME=/custom");
    berth_strv_push(&env, "A=b");
    p = (struct berth_spec_process){.env = env, .user = {.uid = 0}};
    r = berth_process_complete_env(&p, &e);
    ok(r == 0 && berth_strv_len(p.env) == 2 && !strcmp(p.env[0], "HOME=/custom"),
       "an existing HOME is kept, nothing added");
    berth_strv_free(p.env);

    env = NULL;
    berth_strv_push(&env, "HOME=");
    p = (struct berth_spec_process){.env = env, .user = {.uid = 0}};
    r = berth_process_complete_env(&p, &e);
    ok(r == 0 && berth_strv_len(p.env) == 1, "an empty HOME= is kept too");
    berth_strv_free(p.env);

    /* a uid without a passwd entry: "/" */
    p = (struct berth_spec_process){.env = NULL, .user = {.uid = 3999999}};
    r = berth_process_complete_env(&p, &e);
    ok(r == 0 && berth_strv_len(p.env) == 1 && !strcmp(p.env[0], "HOME=/"),
       "an unknown uid gets HOME=/ (and a NULL env becomes a vector)");
    berth_strv_free(p.env);

    /* uid 65534 is nobody on Debian: its home from the file */
    p = (struct berth_spec_process){.env = NULL, .user = {.uid = 65534}};
    r = berth_process_complete_env(&p, &e);
    ok(r == 0 && p.env && !strcmp(p.env[0], "HOME=/nonexistent"), "nobody's HOME from /etc/passwd");
    berth_strv_free(p.env);
    berth_error_free(e);
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    test_rlimits();
    test_rlimit_nr_open();
    test_oom();
    test_find_executable();
    test_complete_env();
    tmpdir_remove(tmp, "temporary directory removed");
    return tap_done();
}
