/* Unit tests of the client's container pieces: docker's stdcopy demultiplexing (frames split
 * anywhere), detach keys (moby/term's ToBytes and escape proxy), run's start-error statuses,
 * signal names, go-units RAMInBytes, NanoCPUs, env files and the time arguments of logs. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/commands.h"
#include "client/container.h"
#include "client/format.h"
#include "client/hijack.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "tap.h"

struct frames {
    char out[256], err[256];
    size_t nout, nerr;
};

static int
collect(void *ud, int stream, const char *data, size_t len)
{
    struct frames *f = ud;
    if (stream == 2) {
        memcpy(f->err + f->nerr, data, len);
        f->nerr += len;
    } else {
        memcpy(f->out + f->nout, data, len);
        f->nout += len;
    }
    return 0;
}

static void
test_stdcopy(void)
{
    /* stdout "hello", stderr "err!", stdout "" (an empty frame), stdout "x" */
    const unsigned char stream[] = {1, 0, 0, 0, 0, 0, 0, 5,   'h', 'e', 'l', 'l', 'o', 2,
                                    0, 0, 0, 0, 0, 0, 4, 'e', 'r', 'r', '!', 1,   0,   0,
                                    0, 0, 0, 0, 0, 1, 0, 0,   0,   0,   0,   0,   1,   'x'};
    for (size_t chunk = 1; chunk <= sizeof(stream); chunk++) {
        struct frames f = {0};
        struct berth_stdcopy s = {.on_frame = collect, .ud = &f};
        struct berth_error *err = NULL;
        int r = 0;
        for (size_t off = 0; off < sizeof(stream) && r == 0; off += chunk) {
            size_t n = sizeof(stream) - off < chunk ? sizeof(stream) - off : chunk;
            r = berth_stdcopy_feed(&s, (const char *)stream + off, n, &err);
        }
        f.out[f.nout] = f.err[f.nerr] = '\0';
        if (r != 0 || strcmp(f.out, "hellox") || strcmp(f.err, "err!")) {
            ok(0, "stdcopy with %zu-byte chunks: out '%s' err '%s'", chunk, f.out, f.err);
            berth_error_free(err);
            return;
        }
    }
    ok(1, "stdcopy: frames split at every possible point are put back together");
    const unsigned char bad[] = {7, 0, 0, 0, 0, 0, 0, 1, 'x'};
    struct frames f = {0};
    struct berth_stdcopy s = {.on_frame = collect, .ud = &f};
    struct berth_error *err = NULL;
    int r = berth_stdcopy_feed(&s, (const char *)bad, sizeof(bad), &err);
    ok(r < 0 && err && !strcmp(err->msg, "Unrecognized input header: 7"),
       "stdcopy: an unknown stream is docker's error (%s)", err ? err->msg : "none");
    berth_error_free(err);
}

static void
test_detach_keys(void)
{
    unsigned char k[16];
    size_t n = 0;
    struct berth_error *err = NULL;
    ok(berth_client_detach_keys_parse("ctrl-p,ctrl-q", k, sizeof(k), &n, &err) == 0 && n == 2 &&
           k[0] == 16 && k[1] == 17,
       "detach keys: ctrl-p,ctrl-q is 16 17");
    ok(berth_client_detach_keys_parse("a,ctrl-@,ctrl-[,ctrl-_", k, sizeof(k), &n, &err) == 0 &&
           n == 4 && k[0] == 'a' && k[1] == 0 && k[2] == 27 && k[3] == 31,
       "detach keys: single characters and ctrl-@ ctrl-[ ctrl-_");
    ok(berth_client_detach_keys_parse("ctrl-1", k, sizeof(k), &n, &err) < 0 && err &&
           !strcmp(err->msg, "Unknown character: 'ctrl-1'"),
       "detach keys: ctrl-1 is refused with term.ToBytes' message");
    berth_error_free(err);
    err = NULL;
    ok(berth_client_detach_keys_parse("shift-a", k, sizeof(k), &n, &err) < 0,
       "detach keys: shift-a");
    berth_error_free(err);

    const unsigned char keys[] = {16, 17};
    unsigned char out[64];
    size_t matched = 0;
    bool detached = false;
    const unsigned char p = 16, q = 17, a = 'a';
    size_t m = berth_client_detach_filter(keys, 2, &matched, &p, 1, out, sizeof(out), &detached);
    ok(m == 0 && matched == 1 && !detached, "escape proxy: ctrl-p alone is held back");
    m = berth_client_detach_filter(keys, 2, &matched, &q, 1, out, sizeof(out), &detached);
    ok(m == 0 && detached, "escape proxy: then ctrl-q detaches");
    matched = 0;
    berth_client_detach_filter(keys, 2, &matched, &p, 1, out, sizeof(out), &detached);
    m = berth_client_detach_filter(keys, 2, &matched, &a, 1, out, sizeof(out), &detached);
    ok(m == 2 && out[0] == 16 && out[1] == 'a' && !detached && matched == 0,
       "escape proxy: ctrl-p then 'a' passes both on");
    matched = 0;
    const unsigned char both[] = {16, 17};
    m = berth_client_detach_filter(keys, 2, &matched, both, 2, out, sizeof(out), &detached);
    ok(m == 2 && !detached, "escape proxy: the sequence in one read is data (as moby/term)");
}

static void
test_start_status(void)
{
    ok(berth_run_start_status("Error response from daemon: failed to create task: exec: "
                              "\"/x\": stat /x: no such file or directory: unknown") == 127,
       "start error: no such file or directory is 127");
    ok(berth_run_start_status("exec: \"nosuch\": executable file not found in $PATH") == 127,
       "start error: executable file not found is 127");
    ok(berth_run_start_status("exec: \"/etc\": permission denied: unknown") == 126,
       "start error: permission denied is 126");
    ok(berth_run_start_status("read /x: is a directory") == 126, "start error: EISDIR is 126");
    ok(berth_run_start_status("Minimum memory limit allowed is 6MB") == 125,
       "start error: anything else is 125");
}

static void
test_signals(void)
{
    ok(berth_client_signal_parse("9") == 9 && berth_client_signal_parse("KILL") == 9 &&
           berth_client_signal_parse("SIGKILL") == 9 && berth_client_signal_parse("sigterm") == 15,
       "signals: numbers, names, SIG prefix, any case");
    ok(berth_client_signal_parse("NOPE") < 0 && berth_client_signal_parse("0") < 0 &&
           berth_client_signal_parse("") < 0,
       "signals: unknown ones are refused");
    is_str(berth_client_signal_name(2), "INT", "signal 2 is forwarded as INT");
    is_str(berth_client_signal_name(28), "WINCH", "signal 28 is WINCH");
}

static void
test_sizes(void)
{
    long long v;
    ok(berth_ram_in_bytes("64m", &v) && v == 64LL << 20, "RAMInBytes 64m");
    ok(berth_ram_in_bytes("1.5GiB", &v) && v == 3LL << 29, "RAMInBytes 1.5GiB");
    ok(berth_ram_in_bytes("100", &v) && v == 100, "RAMInBytes 100");
    ok(berth_ram_in_bytes("8 kb", &v) && v == 8192, "RAMInBytes '8 kb'");
    ok(!berth_ram_in_bytes("x", &v) && !berth_ram_in_bytes("-1", &v) &&
           !berth_ram_in_bytes("10q", &v) && !berth_ram_in_bytes("", &v),
       "RAMInBytes refuses x, -1, 10q and nothing");
    ok(berth_nano_cpus("0.5", &v) && v == 500000000, "NanoCPUs 0.5");
    ok(berth_nano_cpus("2", &v) && v == 2000000000LL, "NanoCPUs 2");
    ok(berth_nano_cpus("0.000000001", &v) && v == 1, "NanoCPUs to the nanosecond");
    ok(!berth_nano_cpus("x", &v) && !berth_nano_cpus("", &v) && !berth_nano_cpus("1e3", &v),
       "NanoCPUs refuses x, nothing and exponents");
}

static void
test_env_file(void)
{
    char path[] = "/tmp/berth-envfile-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    const char text[] = "# comment\n\nA=1\n  B=two words\nBERTH_TEST_FROM_ENV\nBERTH_TEST_UNSET\n";
    ssize_t w = fd >= 0 ? write(fd, text, sizeof(text) - 1) : -1;
    ok(w == (ssize_t)(sizeof(text) - 1), "env file written");
    close(fd);
    setenv("BERTH_TEST_FROM_ENV", "yes", 1);
    unsetenv("BERTH_TEST_UNSET");
    char **env = NULL;
    struct berth_error *err = NULL;
    int r = berth_parse_env_file(path, &env, &err);
    _cleanup_free_ char *joined = env ? berth_strv_join(env, "|") : NULL;
    ok(r == 0, "env file parsed");
    is_str(joined ? joined : "", "A=1|B=two words|BERTH_TEST_FROM_ENV=yes",
           "env file: comments and blank lines skipped, bare names from the environment");
    berth_strv_free(env);
    env = NULL;
    const char bad[] = "BAD NAME=1\n";
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    w = fd >= 0 ? write(fd, bad, sizeof(bad) - 1) : -1;
    ok(w > 0, "env file rewritten");
    close(fd);
    r = berth_parse_env_file(path, &env, &err);
    ok(r < 0 && err && !strcmp(err->msg, "variable 'BAD NAME' contains whitespaces"),
       "env file: a name with a space is docker's error (%s)", err ? err->msg : "none");
    berth_error_free(err);
    berth_strv_free(env);
    unlink(path);
}

static void
test_time_args(void)
{
    char *ts = NULL;
    struct berth_error *err = NULL;
    ok(berth_cli_timestamp("10m", 1700000600.5, &ts, &err) == 0 && !strcmp(ts, "1700000000"),
       "logs --since 10m is now minus ten minutes (%s)", ts ? ts : "");
    free(ts);
    ts = NULL;
    ok(berth_cli_timestamp("2023-11-14T22:13:20Z", 0, &ts, &err) == 0 &&
           !strcmp(ts, "1700000000.000000000"),
       "an RFC 3339 time (%s)", ts ? ts : "");
    free(ts);
    ts = NULL;
    ok(berth_cli_timestamp("1700000000", 0, &ts, &err) == 0 && !strcmp(ts, "1700000000"),
       "Unix seconds pass through");
    free(ts);
    ts = NULL;
    ok(berth_cli_timestamp("bogus", 0, &ts, &err) < 0 && err &&
           !strcmp(err->msg, "failed to parse value as time or duration: \"bogus\""),
       "a bad time is docker's error");
    berth_error_free(err);
}

int
main(void)
{
    test_stdcopy();
    test_detach_keys();
    test_start_status();
    test_signals();
    test_sizes();
    test_env_file();
    test_time_args();
    return tap_done();
}
