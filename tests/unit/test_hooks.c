/* Unit tests of lib/runtime/hooks.c: real hooks (/bin/sh scripts) configured through
 * berth_spec_parse, run with berth_hooks_run: the state JSON on stdin, args and env as given,
 * the exit status and the (bounded) output of a failing hook in the error, timeouts that kill the
 * hook and whatever it started, and missing binaries. Files go to a mkdtemp dir, removed at the
 * end. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/hooks.h"
#include "runtime/spec.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-hooks-XXXXXX";

static const char state_json[] = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\","
                                 "\"pid\":4242,\"bundle\":\"/srv/b\"}";

/* A hook object: {"path": path, "args": [args...], "env": [env...], "timeout": timeout}. args
 * and env are NULL-terminated; NULL leaves the key out, as does timeout 0. */
static json_t *
hook(const char *path, const char *const *args, const char *const *env, int timeout)
{
    json_t *h = json_pack("{s:s}", "path", path);
    if (args) {
        json_t *a = json_array();
        for (size_t i = 0; args[i]; i++)
            json_array_append_new(a, json_string(args[i]));
        json_object_set_new(h, "args", a);
    }
    if (env) {
        json_t *a = json_array();
        for (size_t i = 0; env[i]; i++)
            json_array_append_new(a, json_string(env[i]));
        json_object_set_new(h, "env", a);
    }
    if (timeout)
        json_object_set_new(h, "timeout", json_integer(timeout));
    return h;
}

/* A /bin/sh -c hook. */
static json_t *
sh(const char *script, const char *const *env, int timeout)
{
    return hook("/bin/sh", (const char *const[]){"sh", "-c", script, NULL}, env, timeout);
}

/* Parses a config with the given hooks (stolen) under kind; NULL on failure. */
static struct berth_spec *
spec_with(const char *kind, json_t *h1, json_t *h2)
{
    json_t *arr = json_array();
    json_array_append_new(arr, h1);
    if (h2)
        json_array_append_new(arr, h2);
    json_t *cfg = json_pack("{s:s,s:{s:s},s:{s:o}}", "ociVersion", "1.0.2", "root", "path", "/r",
                            "hooks", kind, arr);
    char *text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    struct berth_spec *spec = NULL;
    struct berth_error *e = NULL;
    if (!text || berth_spec_parse(text, strlen(text), NULL, &spec, &e) < 0) {
        printf("#   spec: %s\n", e ? e->msg : "json");
        spec = NULL;
    }
    berth_error_free(e);
    free(text);
    return spec;
}

/* The content of <tmp>/<name>, or NULL. */
static char *
slurp(const char *name)
{
    _cleanup_free_ char *p = pathf("%s", name);
    char *text = NULL;
    if (berth_read_file(p, 1 << 20, &text, NULL, NULL) < 0)
        return NULL;
    return text;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the hooks of spec's kind; frees spec. */
static int
run(struct berth_spec *spec, enum berth_hook_kind kind, const char *state, struct berth_error **e)
{
    if (!spec)
        return -1000;
    int r = berth_hooks_run(spec, kind, state, e);
    berth_spec_free(spec);
    return r;
}

static void
test_stdin_args_env(void)
{
    struct berth_error *e = NULL;
    char script[512];

    snprintf(script, sizeof(script), "cat > %s/stdin.out", tmp);
    int r =
        run(spec_with("prestart", sh(script, NULL, 0), NULL), BERTH_HOOK_PRESTART, state_json, &e);
    check(r == 0, "a hook that reads stdin succeeds");
    _cleanup_free_ char *in = slurp("stdin.out");
    is_str(in, state_json, "the hook got the state JSON on stdin");
    berth_error_freep(&e);

    snprintf(script, sizeof(script),
             "printf '%%s|%%s|%%s|%%s|%%s' \"$0\" \"$1\" \"$FOO\" \"$BAR\" \"${LEAK-unset}\" "
             "> %s/args.out",
             tmp);
    setenv("LEAK", "from the runtime", 1);
    json_t *h = hook("/bin/sh", (const char *const[]){"sh", "-c", script, "zero", "one", NULL},
                     (const char *const[]){"FOO=foo val", "BAR=", NULL}, 5);
    r = run(spec_with("createRuntime", h, NULL), BERTH_HOOK_CREATE_RUNTIME, state_json, &e);
    check(r == 0, "a hook with args and env");
    _cleanup_free_ char *args = slurp("args.out");
    is_str(args, "zero|one|foo val||unset",
           "args as given; env exactly as given, nothing inherited");
    berth_error_freep(&e);

    /* without "env" the hook gets an empty environment */
    snprintf(script, sizeof(script), "printf '[%%s]' \"${LEAK-unset}\" > %s/noenv.out", tmp);
    r = run(spec_with("poststart", sh(script, NULL, 0), NULL), BERTH_HOOK_POSTSTART, state_json,
            &e);
    _cleanup_free_ char *noenv = slurp("noenv.out");
    check(r == 0, "a hook without env");
    is_str(noenv, "[unset]", "no env: the runtime's environment is not passed");
    unsetenv("LEAK");
    berth_error_freep(&e);

    /* without "args" argv is just the path */
    _cleanup_free_ char *exe = pathf("hook.sh");
    FILE *f = fopen(exe, "we");
    fprintf(f, "#!/bin/sh\nprintf '%%s %%s' \"$0\" \"$#\" > %s/argv0.out\n", tmp);
    fclose(f);
    chmod(exe, 0755);
    r = run(spec_with("startContainer", hook(exe, NULL, NULL, 0), NULL), BERTH_HOOK_START_CONTAINER,
            state_json, &e);
    check(r == 0, "a hook without args");
    _cleanup_free_ char *argv0 = slurp("argv0.out");
    char want[256];
    snprintf(want, sizeof(want), "%s 0", exe);
    is_str(argv0, want, "no args: argv is [path]");
    berth_error_freep(&e);

    /* a descriptor the runtime left open (without O_CLOEXEC) does not reach the hook */
    int leak = open("/dev/null", O_RDONLY); /* deliberately inheritable */
    int fd50 = leak >= 0 ? dup2(leak, 50) : -1;
    snprintf(script, sizeof(script),
             "if [ -e /proc/$$/fd/50 ]; then echo leaked; else echo clean; fi > %s/fds.out", tmp);
    r = run(spec_with("prestart", sh(script, NULL, 0), NULL), BERTH_HOOK_PRESTART, state_json, &e);
    _cleanup_free_ char *fds = slurp("fds.out");
    check(r == 0 && fd50 == 50, "a hook with fd 50 open in the runtime");
    is_str(fds, "clean\n", "fds above 2 are closed in the hook");
    if (leak >= 0)
        close(leak);
    if (fd50 >= 0)
        close(fd50);
    berth_error_freep(&e);
}

static void
test_order_and_failure(void)
{
    struct berth_error *e = NULL;
    char s1[256], s2[256];
    snprintf(s1, sizeof(s1), "printf 1 >> %s/order.out", tmp);
    snprintf(s2, sizeof(s2), "printf 2 >> %s/order.out", tmp);
    int r = run(spec_with("prestart", sh(s1, NULL, 0), sh(s2, NULL, 0)), BERTH_HOOK_PRESTART,
                state_json, &e);
    _cleanup_free_ char *order = slurp("order.out");
    check(r == 0, "two hooks");
    is_str(order, "12", "hooks run in order");
    berth_error_freep(&e);

    snprintf(s2, sizeof(s2), "printf ran > %s/after.out", tmp);
    r = run(spec_with("prestart", sh("exit 1", NULL, 0), sh(s2, NULL, 0)), BERTH_HOOK_PRESTART,
            state_json, &e);
    _cleanup_free_ char *after = slurp("after.out");
    check(r == -ECANCELED, "a failing first hook fails the run");
    ok(after == NULL, "the hooks after a failing one do not run");
    berth_error_freep(&e);

    r = run(spec_with("prestart", sh("echo oops >&2; exit 3", NULL, 0), NULL), BERTH_HOOK_PRESTART,
            state_json, &e);
    check(r == -ECANCELED && e && e->code == ECANCELED, "exit status 3: ECANCELED");
    check(msg_is(e, "prestart hook /bin/sh: exit status 3: oops"),
          "the message names kind, path, exit status and the hook's stderr");
    berth_error_freep(&e);

    r = run(spec_with("createContainer", sh("echo to-stdout; echo to-stderr >&2; exit 1", NULL, 0),
                      NULL),
            BERTH_HOOK_CREATE_CONTAINER, state_json, &e);
    check(r < 0 && msg_is(e, "createContainer hook /bin/sh: exit status 1: to-stdout\nto-stderr"),
          "stdout and stderr both quoted, trailing newline dropped");
    berth_error_freep(&e);

    r = run(spec_with("poststop", sh("exit 2", NULL, 0), NULL), BERTH_HOOK_POSTSTOP, state_json,
            &e);
    check(r < 0 && msg_is(e, "poststop hook /bin/sh: exit status 2"),
          "no output: no trailing ': '");
    berth_error_freep(&e);

    /* a lot of output: the quote is bounded */
    r = run(spec_with("prestart",
                      sh("i=0; while [ $i -lt 2000 ]; do printf 0123456789; i=$((i+1)); done >&2;"
                         " exit 1",
                         NULL, 0),
                      NULL),
            BERTH_HOOK_PRESTART, state_json, &e);
    const char *prefix = "prestart hook /bin/sh: exit status 1: ";
    check(r == -ECANCELED && e && !strncmp(e->msg, prefix, strlen(prefix)),
          "20000 bytes of output: still the exit status first");
    size_t quoted = e ? strlen(e->msg) - strlen(prefix) : 0;
    ok(quoted > 0 && quoted <= 512, "the output quote is bounded (%zu bytes)", quoted);
    ok(e && !strncmp(e->msg + strlen(prefix), "0123456789", 10), "the quote is the output's start");
    berth_error_freep(&e);

    r = run(spec_with("prestart", sh("echo bye; kill -9 $$", NULL, 0), NULL), BERTH_HOOK_PRESTART,
            state_json, &e);
    check(r == -ECANCELED && msg_is(e, "prestart hook /bin/sh: killed by signal 9: bye"),
          "a hook killed by a signal");
    berth_error_freep(&e);

    /* a successful hook's output is not an error */
    r = run(spec_with("prestart", sh("echo fine; echo also >&2", NULL, 0), NULL),
            BERTH_HOOK_PRESTART, state_json, &e);
    check(r == 0 && e == NULL, "output from a successful hook is fine");

    /* no hooks of this kind */
    struct berth_spec *spec = spec_with("prestart", sh("exit 1", NULL, 0), NULL);
    r = run(spec, BERTH_HOOK_POSTSTOP, state_json, &e);
    check(r == 0, "no hooks of the kind asked: nothing runs");
}

static void
test_missing(void)
{
    struct berth_error *e = NULL;
    int r = run(spec_with("prestart", hook("/nonexistent/berth-hook", NULL, NULL, 0), NULL),
                BERTH_HOOK_PRESTART, state_json, &e);
    check(r < 0 && e, "a missing hook binary is an error");
    check(msg_has(e, "prestart hook /nonexistent/berth-hook"), "naming the hook");
    check(msg_has(e, "No such file or directory"), "with the cause");
    berth_error_freep(&e);

    _cleanup_free_ char *noexec = pathf("noexec.sh");
    FILE *f = fopen(noexec, "we");
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    chmod(noexec, 0644);
    r = run(spec_with("prestart", hook(noexec, NULL, NULL, 0), NULL), BERTH_HOOK_PRESTART,
            state_json, &e);
    check(r < 0 && msg_has(e, "Permission denied"), "a hook that is not executable: EACCES cause");
    berth_error_freep(&e);
}

/* Whether pid is gone (or a zombie), waiting up to about 1 s. */
static bool
gone(pid_t pid)
{
    for (int i = 0; i < 100; i++) {
        if (berth_proc_start_time(pid) == 0)
            return true;
        usleep(10000);
    }
    return false;
}

static pid_t
read_pid(const char *name)
{
    _cleanup_free_ char *text = slurp(name);
    int64_t v = 0;
    if (!text)
        return -1;
    text[strcspn(text, "\n")] = '\0';
    return berth_parse_i64(text, &v) && v > 0 ? (pid_t)v : -1;
}

static void
test_timeouts(void)
{
    struct berth_error *e = NULL;
    char script[256];

    /* the hook and a grandchild holding the output pipe: both killed at the timeout */
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s/bg.pid; sleep 30", tmp);
    double t0 = now_s();
    int r =
        run(spec_with("prestart", sh(script, NULL, 1), NULL), BERTH_HOOK_PRESTART, state_json, &e);
    double took = now_s() - t0;
    check(r == -ETIMEDOUT && e && e->code == ETIMEDOUT, "a hook past its timeout: ETIMEDOUT");
    check(msg_is(e, "prestart hook /bin/sh: timed out after 1 s"), "the message says so");
    ok(took >= 0.9 && took < 2.5, "returned after about 1 s (%.2f s)", took);
    pid_t bg = read_pid("bg.pid");
    ok(bg > 0 && gone(bg), "the hook's background child was killed too");
    berth_error_freep(&e);

    /* a hook that exits but leaves a process holding its output pipe: no hang */
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s/bg2.pid", tmp);
    t0 = now_s();
    r = run(spec_with("poststart", sh(script, NULL, 0), NULL), BERTH_HOOK_POSTSTART, state_json,
            &e);
    took = now_s() - t0;
    check(r == 0, "a hook leaving a background process succeeds");
    ok(took < 1.0, "without waiting for the background process (%.2f s)", took);
    pid_t bg2 = read_pid("bg2.pid");
    /* kill the sleep this test started: it may still be the forked sh, not yet exec'd */
    char commp[64];
    snprintf(commp, sizeof(commp), "/proc/%d/comm", (int)bg2);
    for (int i = 0; bg2 > 0 && i < 100; i++) {
        _cleanup_free_ char *comm = NULL;
        if (berth_read_file(commp, 64, &comm, NULL, NULL) < 0)
            break;
        if (!strcmp(comm, "sleep\n")) {
            kill(bg2, SIGKILL);
            break;
        }
        usleep(10000);
    }
    berth_error_freep(&e);

    /* a fast hook with a timeout is not affected by it */
    t0 = now_s();
    r = run(spec_with("prestart", sh("exit 0", NULL, 10), NULL), BERTH_HOOK_PRESTART, state_json,
            &e);
    check(r == 0 && now_s() - t0 < 1.0, "a timeout does not delay a fast hook");
    berth_error_freep(&e);
}

static void
test_big_state(void)
{
    struct berth_error *e = NULL;
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';

    /* a hook that never reads stdin must not block the runtime on a full pipe */
    double t0 = now_s();
    int r = run(spec_with("prestart", hook("/bin/true", NULL, NULL, 0), NULL), BERTH_HOOK_PRESTART,
                big, &e);
    check(r == 0 && now_s() - t0 < 2.0, "1 MiB of state to a hook that does not read it");
    berth_error_freep(&e);

    char script[256];
    snprintf(script, sizeof(script), "head -c 10 > %s/head.out", tmp);
    r = run(spec_with("prestart", sh(script, NULL, 0), NULL), BERTH_HOOK_PRESTART, big, &e);
    _cleanup_free_ char *head = slurp("head.out");
    check(r == 0, "a hook that reads 10 bytes and exits");
    is_str(head, "xxxxxxxxxx", "it got the first 10 bytes");
    berth_error_freep(&e);

    snprintf(script, sizeof(script), "wc -c > %s/wc.out", tmp);
    r = run(spec_with("prestart", sh(script, NULL, 0), NULL), BERTH_HOOK_PRESTART, big, &e);
    _cleanup_free_ char *wc = slurp("wc.out");
    check(r == 0 && wc && strtol(wc, NULL, 10) == (long)n, "a hook reading all 1 MiB gets it all");
    berth_error_freep(&e);
    free(big);

    r = run(spec_with("prestart", sh("exit 0", NULL, 0), NULL), BERTH_HOOK_PRESTART, "", &e);
    check(r == 0, "an empty state");
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    test_stdin_args_env();
    test_order_and_failure();
    test_missing();
    test_timeouts();
    test_big_state();
    tmpdir_remove(tmp, "temporary directory removed");
    return tap_done();
}
