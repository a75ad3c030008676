/* Unit tests of lib/runtime/commands.c and features.c, the parts that need no container: signal
 * names and numbers for `kill`, `update --resources FILE|-` input (stdin through a pipe in a
 * forked child), `spec` (and --rootless) read back with berth_spec_load, and the JSON that
 * `features` prints (stdout captured in a forked child). Files under a mkdtemp directory. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/caps.h"
#include "runtime/commands.h"
#include "runtime/spec.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-commands-XXXXXX";

/* ---- signals ---- */

static void
test_signal_parse(void)
{
    static const struct {
        const char *in;
        int want;
    } cases[] = {
        {"KILL", SIGKILL},
        {"SIGKILL", SIGKILL},
        {"sigkill", SIGKILL},
        {"Kill", SIGKILL},
        {"9", SIGKILL},
        {"TERM", SIGTERM},
        {"SIGTERM", SIGTERM},
        {"15", SIGTERM},
        {"HUP", SIGHUP},
        {"SIGUSR1", SIGUSR1},
        {"usr2", SIGUSR2},
        {"WINCH", SIGWINCH},
        {"SIGCHLD", SIGCHLD},
        {"IOT", SIGABRT},
        {"POLL", SIGIO},
        {"1", 1},
        {"64", 64},
        /* real-time signals counted from RTMIN, as runc's signal table names them */
        {"RTMIN", 0},   /* SIGRTMIN: filled in below */
        {"RTMIN+3", 3}, /* SIGRTMIN + 3 */
        {"SIGRTMIN+1", 1},
        {"rtmin+0", 0},
        /* refused */
        {"bogus", -1},
        {"", -1},
        {"SIG", -1},
        {"SIGBOGUS", -1},
        {"0", -1},
        {"65", -1},
        {"-9", -1},
        {"9x", -1},
        {" 9", -1},
        {"SIG9", -1},
        {"KILLX", -1},
        {"RTMINX", -1},
        {"RTMIN+", -1},
        {"RTMIN+x", -1},
        {"RTMIN+31", -1},         /* past SIGRTMAX */
        {"RTMIN+-3", -1},         /* would be SIGSYS */
        {"RTMIN+-34", -1},        /* would be 0 */
        {"RTMIN+4294967299", -1}, /* would wrap to RTMIN+3 as an int */
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
        const char *in = cases[i].in;
        int want = cases[i].want;
        if (berth_str_has_prefix(in, "RTMIN") || berth_str_has_prefix(in, "rtmin") ||
            berth_str_has_prefix(in, "SIGRTMIN"))
            if (want >= 0)
                want += SIGRTMIN;
        int got = berth_signal_parse(in);
        ok(got == want, "signal \"%s\": %d (got %d)", in, want, got);
    }
    int max = SIGRTMAX - SIGRTMIN;
    char name[32];
    snprintf(name, sizeof(name), "RTMIN+%d", max);
    int got = berth_signal_parse(name);
    ok(got == SIGRTMAX, "%s is SIGRTMAX (%d)", name, got);
}

/* ---- update --resources ---- */

static const char resources_json[] =
    "{\"memory\": {\"limit\": 104857600, \"swap\": 209715200},\n"
    " \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\"},\n"
    " \"pids\": {\"limit\": 42}}\n";

/* "mem=… swap=… shares=… quota=… cpus=… pids=…" for what was parsed */
static void
describe(const struct berth_spec_resources *r, char *out, size_t len)
{
    snprintf(out, len, "mem=%lld swap=%lld shares=%lld quota=%lld cpus=%s pids=%lld",
             r->memory.limit.set ? (long long)r->memory.limit.value : -1,
             r->memory.swap.set ? (long long)r->memory.swap.value : -1,
             r->cpu.shares.set ? (long long)r->cpu.shares.value : -1,
             r->cpu.quota.set ? (long long)r->cpu.quota.value : -1, r->cpu.cpus ? r->cpu.cpus : "-",
             r->pids.limit.set ? (long long)r->pids.limit.value : -1);
}

static const char want_described[] =
    "mem=104857600 swap=209715200 shares=512 quota=50000 cpus=0-1 pids=42";

static void
test_update_file(void)
{
    _cleanup_free_ char *path = pathf("resources.json");
    check(put_file(path, resources_json), "write resources.json");
    struct berth_spec_resources res = {0};
    struct berth_error *e = NULL;
    int r = berth_cmd_update_parse(path, &res, &e);
    check(r == 0, "parse resources from a file");
    char got[256];
    describe(&res, got, sizeof(got));
    is_str(got, want_described, "memory, cpu and pids values");
    ok(!res.pids.limit.set || res.pids.limit.value == 42, "pids.limit 42");
    berth_spec_resources_clear(&res);
    berth_error_freep(&e);

    /* an empty object changes nothing */
    check(put_file(path, "{}"), "write {}");
    memset(&res, 0, sizeof(res));
    r = berth_cmd_update_parse(path, &res, &e);
    describe(&res, got, sizeof(got));
    check(r == 0, "{} parses");
    is_str(got, "mem=-1 swap=-1 shares=-1 quota=-1 cpus=- pids=-1", "nothing set");
    berth_spec_resources_clear(&res);

    /* malformed JSON: EINVAL naming the input, line and column */
    check(put_file(path, "{\"memory\": {\"limit\": 1,}}"), "write malformed JSON");
    memset(&res, 0, sizeof(res));
    r = berth_cmd_update_parse(path, &res, &e);
    check(r == -EINVAL && e && e->code == EINVAL, "malformed JSON: EINVAL");
    ok(e && e->msg && berth_str_has_prefix(e->msg, "resources: line 1 column"),
       "the message names the input and the position: %s", e && e->msg ? e->msg : "(none)");
    berth_error_freep(&e);
    berth_spec_resources_clear(&res);

    check(put_file(path, "{\"memory\": {\"limit\": \"lots\"}}"), "write a wrong type");
    memset(&res, 0, sizeof(res));
    r = berth_cmd_update_parse(path, &res, &e);
    ok(r == -EINVAL && e && e->msg && strstr(e->msg, "limit"),
       "a string where a number belongs: EINVAL naming the field (%s)",
       e && e->msg ? e->msg : "(none)");
    berth_error_freep(&e);
    berth_spec_resources_clear(&res);

    check(put_file(path, "{\"pids\": {\"limit\": 1}, \"pids\": {\"limit\": 2}}"),
          "write a duplicate key");
    memset(&res, 0, sizeof(res));
    r = berth_cmd_update_parse(path, &res, &e);
    check(r == -EINVAL, "duplicate keys are refused, as in config.json");
    berth_error_freep(&e);
    berth_spec_resources_clear(&res);

    _cleanup_free_ char *missing = pathf("missing.json");
    memset(&res, 0, sizeof(res));
    r = berth_cmd_update_parse(missing, &res, &e);
    check(r == -ENOENT && e && e->code == ENOENT, "a missing file: ENOENT");
    ok(e && e->msg && strstr(e->msg, missing), "the message names the file");
    berth_error_freep(&e);
    berth_spec_resources_clear(&res);
}

/* Runs berth_cmd_update_parse("-") in a child whose stdin is a pipe fed with len bytes of input
 * (repeated from the start of input when len is larger). Returns "r=<r> <description> msg=<msg>",
 * malloc'd, or NULL if the child failed. */
static char *
parse_stdin(const char *input, size_t len)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        return NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return NULL;
    if (pid == 0) {
        close(in[1]);
        close(out[0]);
        if (dup2(in[0], STDIN_FILENO) < 0)
            _exit(2);
        struct berth_spec_resources res = {0};
        struct berth_error *e = NULL;
        int r = berth_cmd_update_parse("-", &res, &e);
        char desc[256], line[1024];
        describe(&res, desc, sizeof(desc));
        int n = snprintf(line, sizeof(line), "r=%d %s msg=%s", r, desc, e ? e->msg : "");
        (void)berth_write_all(out[1], line, (size_t)n < sizeof(line) ? (size_t)n : 0);
        berth_spec_resources_clear(&res);
        berth_error_free(e);
        _exit(0);
    }
    close(in[0]);
    close(out[1]);
    /* feed the pipe; the child may stop reading early (too large): no SIGPIPE */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    size_t in_len = strlen(input), sent = 0;
    while (sent < len) {
        size_t chunk = len - sent < in_len ? len - sent : in_len;
        if (berth_write_all(in[1], input, chunk) < 0)
            break;
        sent += chunk;
    }
    close(in[1]);
    sigaction(SIGPIPE, &old, NULL);
    char buf[1024];
    ssize_t n = berth_read_all(out[0], buf, sizeof(buf) - 1);
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("#   the child failed: status 0x%x\n", status);
        return NULL;
    }
    buf[n] = '\0';
    return strdup(buf);
}

static void
test_update_stdin(void)
{
    char want[512];
    snprintf(want, sizeof(want), "r=0 %s msg=", want_described);
    _cleanup_free_ char *o1 = parse_stdin(resources_json, strlen(resources_json));
    is_str(o1, want, "resources from stdin (\"-\")");

    /* larger than the first read buffer: 200 KB of leading blanks */
    size_t pad = 200 * 1024;
    char *big = malloc(pad + sizeof(resources_json));
    if (!big)
        abort();
    memset(big, ' ', pad);
    memcpy(big + pad, resources_json, sizeof(resources_json));
    _cleanup_free_ char *o2 = parse_stdin(big, strlen(big));
    is_str(o2, want, "200 KB on stdin: the buffer grows");
    free(big);

    _cleanup_free_ char *o3 = parse_stdin("{\"cpu\": {\"shares\": }", 20);
    ok(o3 && berth_str_has_prefix(o3, "r=-22 ") && strstr(o3, "msg=resources: line 1"),
       "malformed JSON on stdin: EINVAL with the position (%s)", o3 ? o3 : "(null)");

    _cleanup_free_ char *o4 = parse_stdin("", 0);
    ok(o4 && berth_str_has_prefix(o4, "r=-22 "), "empty stdin: EINVAL (%s)", o4 ? o4 : "(null)");

    /* the bound: a file over 4 MiB is EFBIG; stdin has the same bound */
    _cleanup_free_ char *o5 = parse_stdin("                ", 5u << 20);
    ok(o5 && berth_str_has_prefix(o5, "r=-27 ") &&
           strstr(o5, "msg=resources on stdin are too large"),
       "5 MiB on stdin: EFBIG (%s)", o5 ? o5 : "(null)");
    /* just under the bound is fine */
    pad = (4u << 20) - 64 * 1024;
    big = malloc(pad + sizeof(resources_json));
    if (!big)
        abort();
    memset(big, ' ', pad);
    memcpy(big + pad, resources_json, sizeof(resources_json));
    _cleanup_free_ char *o6 = parse_stdin(big, strlen(big));
    is_str(o6, want, "4 MiB - 64 KiB on stdin is accepted");
    free(big);
    _cleanup_free_ char *huge = pathf("huge.json");
    {
        _cleanup_close_ int fd = open(huge, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        check(fd >= 0 && ftruncate(fd, 5u << 20) == 0, "a 5 MiB file");
    }
    struct berth_spec_resources res = {0};
    struct berth_error *e = NULL;
    int r = berth_cmd_update_parse(huge, &res, &e);
    check(r == -EFBIG, "a 5 MiB file: EFBIG");
    berth_error_freep(&e);
    berth_spec_resources_clear(&res);
    unlink(huge);
}

/* ---- spec ---- */

static bool
has_ns(const struct berth_spec *s, int type)
{
    return berth_spec_find_ns(s, type) != NULL;
}

static const struct berth_spec_mount *
find_mount(const struct berth_spec *s, const char *dest)
{
    for (size_t i = 0; i < s->n_mounts; i++)
        if (!strcmp(s->mounts[i].destination, dest))
            return &s->mounts[i];
    return NULL;
}

static void
test_spec(void)
{
    _cleanup_free_ char *bundle = pathf("bundle");
    _cleanup_free_ char *config = pathf("bundle/config.json");
    _cleanup_free_ char *rootfs = pathf("bundle/rootfs");
    check(mkdir(bundle, 0755) == 0, "mkdir bundle");
    struct berth_error *e = NULL;
    int r = berth_cmd_spec(bundle, false, &e);
    check(r == 0, "spec writes config.json");
    berth_error_freep(&e);
    struct stat st;
    check(stat(config, &st) == 0 && S_ISREG(st.st_mode), "config.json exists");

    struct berth_spec *s = NULL;
    r = berth_spec_load(bundle, &s, &e);
    check(r == 0 && s, "berth_spec_load parses it");
    if (r < 0)
        printf("#   %s\n", e->msg);
    berth_error_freep(&e);
    if (s) {
        is_str(s->root_path, rootfs, "root.path is rootfs in the bundle");
        ok(s->root_readonly, "root read-only");
        ok(s->process && s->process->terminal && s->process->args &&
               !strcmp(s->process->args[0], "sh") && !s->process->args[1],
           "process: terminal, args [sh]");
        ok(s->process && s->process->no_new_privileges, "noNewPrivileges");
        uint64_t three =
            (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE);
        ok(s->process && s->process->caps.set && s->process->caps.bounding == three &&
               s->process->caps.effective == three && s->process->caps.permitted == three &&
               s->process->caps.ambient == three && s->process->caps.inheritable == 0,
           "capabilities: AUDIT_WRITE, KILL, NET_BIND_SERVICE");
        ok(s->process && s->process->n_rlimits == 1 && s->process->rlimits[0].soft == 1024,
           "rlimits: NOFILE 1024");
        is_str(s->hostname, "berth", "hostname");
        ok(has_ns(s, CLONE_NEWPID) && has_ns(s, CLONE_NEWNET) && has_ns(s, CLONE_NEWIPC) &&
               has_ns(s, CLONE_NEWUTS) && has_ns(s, CLONE_NEWNS) && has_ns(s, CLONE_NEWCGROUP) &&
               !has_ns(s, CLONE_NEWUSER) && s->linux_.n_namespaces == 6,
           "namespaces: pid network ipc uts mount cgroup, no user");
        ok(s->n_mounts == 7 && find_mount(s, "/proc") && find_mount(s, "/dev/pts") &&
               find_mount(s, "/sys/fs/cgroup"),
           "seven mounts");
        const struct berth_spec_mount *sys = find_mount(s, "/sys");
        ok(sys && !sys->bind && sys->type && !strcmp(sys->type, "sysfs"), "/sys is a sysfs");
        ok(berth_strv_len(s->linux_.masked_paths) == 10 &&
               berth_strv_len(s->linux_.readonly_paths) == 5,
           "ten masked paths, five read-only paths");
        ok(s->linux_.resources.has_devices && s->linux_.resources.n_devices == 1 &&
               !s->linux_.resources.devices[0].allow,
           "devices: deny all");
    }
    berth_spec_free(s);

    /* never overwrites */
    _cleanup_free_ char *before = NULL;
    berth_read_file(config, 1u << 20, &before, NULL, NULL);
    check(put_file(config, "{\"mine\": true}\n"), "replace config.json with our own");
    r = berth_cmd_spec(bundle, false, &e);
    check(r == -EEXIST && e && e->code == EEXIST, "spec again: EEXIST");
    char want[1024];
    snprintf(want, sizeof(want), "File %s exists. Remove it first", config);
    check(msg_is(e, want), "runc's message");
    berth_error_freep(&e);
    _cleanup_free_ char *after = NULL;
    berth_read_file(config, 1u << 20, &after, NULL, NULL);
    is_str(after, "{\"mine\": true}\n", "the existing file is untouched");
    r = berth_cmd_spec(bundle, true, &e);
    check(r == -EEXIST, "spec --rootless does not overwrite either");
    berth_error_freep(&e);

    /* a bundle directory that does not exist */
    _cleanup_free_ char *nodir = pathf("no-such-bundle");
    r = berth_cmd_spec(nodir, false, &e);
    check(r == -ENOENT && e && e->msg && strstr(e->msg, "no-such-bundle/config.json"),
          "a missing bundle directory: ENOENT naming the file");
    berth_error_freep(&e);
}

static void
test_spec_rootless(void)
{
    _cleanup_free_ char *bundle = pathf("rootless");
    check(mkdir(bundle, 0755) == 0, "mkdir rootless bundle");
    struct berth_error *e = NULL;
    int r = berth_cmd_spec(bundle, true, &e);
    check(r == 0, "spec --rootless");
    berth_error_freep(&e);
    struct berth_spec *s = NULL;
    r = berth_spec_load(bundle, &s, &e);
    check(r == 0 && s, "it parses");
    if (r < 0)
        printf("#   %s\n", e->msg);
    berth_error_freep(&e);
    if (!s)
        return;
    ok(has_ns(s, CLONE_NEWUSER) && !has_ns(s, CLONE_NEWNET) && has_ns(s, CLONE_NEWNS) &&
           has_ns(s, CLONE_NEWPID),
       "a user namespace, no network namespace");
    const struct berth_spec_linux *l = &s->linux_;
    ok(l->n_uid_mappings == 1 && l->uid_mappings[0].container_id == 0 &&
           l->uid_mappings[0].host_id == getuid() && l->uid_mappings[0].size == 1,
       "uidMappings: 0 -> our uid %d, size 1", (int)getuid());
    ok(l->n_gid_mappings == 1 && l->gid_mappings[0].container_id == 0 &&
           l->gid_mappings[0].host_id == getgid() && l->gid_mappings[0].size == 1,
       "gidMappings: 0 -> our gid %d, size 1", (int)getgid());
    const struct berth_spec_mount *sys = find_mount(s, "/sys");
    ok(sys && sys->bind && sys->source && !strcmp(sys->source, "/sys") && (sys->flags & MS_REC) &&
           (sys->flags & MS_RDONLY),
       "/sys is an rbind of the host's, read-only");
    ok(!l->resources.has_devices, "no device rules (no cgroup control without root)");
    berth_spec_free(s);
}

/* spec without a bundle writes ./config.json */
static void
test_spec_cwd(void)
{
    _cleanup_free_ char *dir = pathf("cwd");
    check(mkdir(dir, 0755) == 0, "mkdir cwd");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) < 0)
            _exit(2);
        struct berth_error *e = NULL;
        _exit(berth_cmd_spec(NULL, false, &e) == 0 ? 0 : 3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    _cleanup_free_ char *config = pathf("cwd/config.json");
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0 && access(config, F_OK) == 0,
          "no bundle: config.json in the current directory");
}

/* ---- features ---- */

/* In the child, stdout already on the pipe: exits 0 when features succeeded, 101 if not. */
static void
print_features(int fd, void *arg)
{
    struct berth_error *e = NULL;
    int r = berth_cmd_features(&e);
    fflush(stdout);
    _exit(r == 0 ? 0 : 101);
}

static char *
capture_features(int *ret_r)
{
    int status;
    char *out = capture_child(print_features, NULL, STDOUT_FILENO, 1 << 20, &status);
    *ret_r = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

static bool
array_has(json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), s))
            return true;
    }
    return false;
}

static bool
all_strings(json_t *a)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

static void
test_features(void)
{
    int rc = -1;
    _cleanup_free_ char *out = capture_features(&rc);
    ok(out && rc == 0, "features prints and returns 0");
    json_error_t jerr;
    json_t *o = out ? json_loads(out, 0, &jerr) : NULL;
    ok(json_is_object(o), "stdout is one JSON object");
    if (!o) {
        printf("#   %s\n", out ? jerr.text : "no output");
        return;
    }
    is_str(json_string_value(json_object_get(o, "ociVersionMin")), "1.0.0", "ociVersionMin");
    const char *max = json_string_value(json_object_get(o, "ociVersionMax"));
    ok(max && berth_str_has_prefix(max, "1."), "ociVersionMax 1.x (%s)", max ? max : "-");
    json_t *hooks = json_object_get(o, "hooks");
    ok(all_strings(hooks) && json_array_size(hooks) == 6 && array_has(hooks, "prestart") &&
           array_has(hooks, "createRuntime") && array_has(hooks, "poststop"),
       "hooks: the six kinds");
    json_t *mo = json_object_get(o, "mountOptions");
    ok(all_strings(mo) && array_has(mo, "rbind") && array_has(mo, "ro") &&
           array_has(mo, "tmpcopyup") && array_has(mo, "rslave") && !array_has(mo, "idmap"),
       "mountOptions: rbind, ro, tmpcopyup, rslave; not idmap (refused by the parser)");
    json_t *lin = json_object_get(o, "linux");
    ok(json_is_object(lin), "linux object");
    json_t *ns = json_object_get(lin, "namespaces");
    ok(all_strings(ns) && json_array_size(ns) == 8 && array_has(ns, "user") &&
           array_has(ns, "cgroup") && array_has(ns, "time") && array_has(ns, "network"),
       "linux.namespaces: the eight kinds");
    json_t *caps = json_object_get(lin, "capabilities");
    size_t ncap = json_array_size(caps);
    ok(all_strings(caps) && ncap == (size_t)berth_cap_last() + 1 &&
           !strcmp(json_string_value(json_array_get(caps, 0)), "CAP_CHOWN") &&
           !strcmp(json_string_value(json_array_get(caps, 21)), "CAP_SYS_ADMIN"),
       "linux.capabilities: CAP_CHOWN..%s, %zu of them", berth_cap_to_name(berth_cap_last()), ncap);
    json_t *cg = json_object_get(lin, "cgroup");
    ok(json_is_boolean(json_object_get(cg, "v1")) && json_is_boolean(json_object_get(cg, "v2")) &&
           json_is_false(json_object_get(cg, "systemd")),
       "linux.cgroup: v1 and v2 booleans, no systemd");
    json_t *sc = json_object_get(lin, "seccomp");
    json_t *known = json_object_get(sc, "knownFlags"),
           *supp = json_object_get(sc, "supportedFlags");
    bool subset = all_strings(supp);
    size_t i;
    json_t *v;
    json_array_foreach(supp, i, v)
    {
        if (!array_has(known, json_string_value(v)))
            subset = false;
    }
    ok(json_is_true(json_object_get(sc, "enabled")) &&
           array_has(json_object_get(sc, "actions"), "SCMP_ACT_ERRNO") &&
           array_has(json_object_get(sc, "operators"), "SCMP_CMP_MASKED_EQ") &&
           array_has(json_object_get(sc, "archs"), "SCMP_ARCH_X86_64") && all_strings(known),
       "linux.seccomp: enabled, actions, operators, archs, knownFlags");
    ok(subset, "supportedFlags is a subset of knownFlags");
    ok(json_is_false(json_object_get(json_object_get(lin, "apparmor"), "enabled")) &&
           json_is_false(json_object_get(json_object_get(lin, "selinux"), "enabled")) &&
           json_is_false(json_object_get(json_object_get(lin, "intelRdt"), "enabled")),
       "apparmor, selinux, intelRdt: disabled");
    json_t *ann = json_object_get(o, "annotations");
    ok(json_is_object(ann) &&
           json_is_string(json_object_get(ann, "org.opencontainers.runtime-spec.features")),
       "annotations");
    json_decref(o);
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    test_signal_parse();
    test_update_file();
    test_update_stdin();
    test_spec();
    test_spec_rootless();
    test_spec_cwd();
    test_features();
    tmpdir_remove(tmp, "temp dir removed");
    return tap_done();
}
