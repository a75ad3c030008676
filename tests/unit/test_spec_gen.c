/* Unit tests of lib/container/spec_gen*: the image config merge, create-time validation (moby's
 * messages), capabilities, the user lookup in a temporary rootfs, every HostConfig field's
 * place in the OCI spec, Docker's seccomp profile, and that what comes out is a spec
 * berth-runtime's own parser (and seccomp compiler) accepts. JSON inputs are written with
 * single quotes. */
#include <jansson.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "container/spec_gen.h"
#include "container/spec_gen_internal.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "testutil.h"

static const char *ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static char *rootfs;

/* Parses JSON written with single quotes; aborts on bad test input. */
static json_t *
jq(const char *q)
{
    if (!q)
        return NULL;
    _cleanup_free_ char *s = strdup(q);
    if (!s)
        abort();
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t jerr;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &jerr);
    if (!j) {
        printf("# bad test JSON: %s: %s\n", q, jerr.text);
        abort();
    }
    return j;
}

/* A member by dotted path, array indexes as numbers: "linux.namespaces.0.type". */
static json_t *
at(const json_t *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    char *save = NULL;
    json_t *cur = (json_t *)j;
    for (char *p = strtok_r(buf, ".", &save); p && cur; p = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur)) {
            char *end;
            long i = strtol(p, &end, 10);
            cur = *end ? NULL : json_array_get(cur, (size_t)i);
        } else {
            cur = json_object_get(cur, p);
        }
    }
    return cur;
}

static const char *
at_str(const json_t *j, const char *path)
{
    const char *s = json_string_value(at(j, path));
    return s ? s : "(none)";
}

static long long
at_int(const json_t *j, const char *path)
{
    json_t *v = at(j, path);
    return v && json_is_integer(v) ? (long long)json_integer_value(v) : -12345;
}

static bool
has_str(const json_t *array, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(array, i,
                       e) if (json_is_string(e) && !strcmp(json_string_value(e), s)) return true;
    return false;
}

/* The mount at dest, NULL if none. */
static json_t *
mount_at(const json_t *spec, const char *dest)
{
    size_t i;
    json_t *m;
    json_array_foreach(
        json_object_get(spec, "mounts"), i,
        m) if (!strcmp(json_string_value(json_object_get(m, "destination")), dest)) return m;
    return NULL;
}

static bool
has_ns(const json_t *spec, const char *type)
{
    size_t i;
    json_t *n;
    json_array_foreach(
        at(spec, "linux.namespaces"), i,
        n) if (!strcmp(json_string_value(json_object_get(n, "type")), type)) return true;
    return false;
}

/* Builds the spec for config/host_config (single-quoted JSON; host_config may be NULL). */
static json_t *
build_full(const char *config_q, const char *hc_q, const char *netns, const char *init,
           struct berth_error **err)
{
    json_t *config = jq(config_q), *hc = jq(hc_q), *spec = NULL;
    struct berth_spec_gen_input in = {
        .id = ID,
        .config = config,
        .host_config = hc,
        .rootfs = rootfs,
        .cgroups_path = "/berth/test",
        .netns_path = netns,
        .init_path = init,
        .hosts_path = "/etc/hosts",
    };
    if (berth_container_spec_build(&in, &spec, err) < 0)
        spec = NULL;
    json_decref(config);
    json_decref(hc);
    return spec;
}

static json_t *
build(const char *config_q, const char *hc_q)
{
    _cleanup_error_ struct berth_error *err = NULL;
    json_t *spec = build_full(config_q, hc_q, NULL, NULL, &err);
    if (!spec)
        printf("# build failed: %s\n", err ? err->msg : "?");
    return spec;
}

/* ---- merge ---- */

static json_t *
merge(const char *config_q, const char *image_q, struct berth_error **err)
{
    json_t *c = jq(config_q), *i = jq(image_q), *out = NULL;
    if (berth_container_config_merge(c, i, &out, err) < 0)
        out = NULL;
    json_decref(c);
    json_decref(i);
    return out;
}

static void
test_merge(void)
{
    _cleanup_error_ struct berth_error *err = NULL;
    json_t *m = merge("{'Env': ['B=user', 'C=3']}",
                      "{'Env': ['PATH=/img', 'B=image'], 'Cmd': ['sh'], 'WorkingDir': '/w',"
                      " 'User': 'nobody', 'Labels': {'a': 'img', 'b': 'img'},"
                      " 'StopSignal': 'SIGQUIT', 'ExposedPorts': {'80/tcp': {}},"
                      " 'Volumes': {'/data': {}}}",
                      &err);
    ok(m != NULL, "merge succeeds");
    char *env = json_dumps(at(m, "Env"), JSON_COMPACT);
    is_str(env, "[\"B=user\",\"C=3\",\"PATH=/img\"]",
           "Env: the user's entries, then the image's not overridden by name");
    free(env);
    is_str(at_str(m, "Cmd.0"), "sh", "Cmd comes from the image when none is given");
    is_str(at_str(m, "WorkingDir"), "/w", "WorkingDir defaults from the image");
    is_str(at_str(m, "User"), "nobody", "User defaults from the image");
    is_str(at_str(m, "StopSignal"), "SIGQUIT", "StopSignal defaults from the image");
    is_str(at_str(m, "Labels.a"), "img", "image labels are merged");
    ok(at(m, "ExposedPorts.80/tcp") != NULL, "ExposedPorts from the image");
    ok(at(m, "Volumes./data") != NULL, "Volumes from the image");
    json_decref(m);

    m = merge("{'Labels': {'a': 'user'}, 'User': '1000', 'WorkingDir': '/u', 'Cmd': 'echo hi'}",
              "{'Labels': {'a': 'img', 'b': 'img'}, 'User': 'nobody', 'WorkingDir': '/w',"
              " 'Cmd': ['sh'], 'Entrypoint': ['/ep']}",
              &err);
    is_str(at_str(m, "Labels.a"), "user", "a user label wins over the image's");
    is_str(at_str(m, "Labels.b"), "img", "the image's other labels are kept");
    is_str(at_str(m, "User"), "1000", "the user's User wins");
    is_str(at_str(m, "WorkingDir"), "/u", "the user's WorkingDir wins");
    ok(json_is_array(at(m, "Cmd")) && !strcmp(at_str(m, "Cmd.0"), "echo hi"),
       "a Cmd given as a string becomes an array");
    is_str(at_str(m, "Entrypoint.0"), "/ep", "the image's Entrypoint stays with a user Cmd");
    json_decref(m);

    m = merge("{'Entrypoint': ['/bin/true']}", "{'Cmd': ['sh'], 'Entrypoint': ['/ep']}", &err);
    is_str(at_str(m, "Entrypoint.0"), "/bin/true", "a given Entrypoint replaces the image's");
    ok(at(m, "Cmd") == NULL || json_array_size(at(m, "Cmd")) == 0,
       "a given Entrypoint drops the image's Cmd");
    json_decref(m);

    m = merge("{'Entrypoint': [''], 'Cmd': ['ls']}", "{'Entrypoint': ['/ep'], 'Cmd': ['x']}", &err);
    ok(m && json_is_null(at(m, "Entrypoint")) && !strcmp(at_str(m, "Cmd.0"), "ls"),
       "Entrypoint [\"\"] means no entrypoint (the image's is not used)");
    json_decref(m);

    m = merge("{'Healthcheck': {'Interval': 5000000000}}",
              "{'Healthcheck': {'Test': ['CMD', 'true'], 'Interval': 1000000000, 'Retries': 3}, "
              "'Cmd': ['x']}",
              &err);
    ok(at_int(m, "Healthcheck.Interval") == 5000000000LL &&
           !strcmp(at_str(m, "Healthcheck.Test.1"), "true") &&
           at_int(m, "Healthcheck.Retries") == 3,
       "Healthcheck: the user's fields win, the image's fill the rest");
    json_decref(m);

    berth_error_free(TAKE_PTR(err));
    m = merge("{'Env': ['A=1']}", "{'Env': ['B=2']}", &err);
    ok(m == NULL && msg_is(err, "No command specified") && err->code == EINVAL,
       "nothing to run: \"No command specified\" (400)");
    berth_error_free(TAKE_PTR(err));
    m = merge("{'Entrypoint': ['']}", "{'Cmd': ['sh']}", &err);
    ok(m == NULL && msg_is(err, "No command specified"),
       "Entrypoint [\"\"] without Cmd: nothing to run");
    berth_error_free(TAKE_PTR(err));
    m = merge("{'Cmd': ['x'], 'HostConfig': {'Memory': 1}, 'NetworkingConfig': {}}", NULL, &err);
    ok(m && !at(m, "HostConfig") && !at(m, "NetworkingConfig"),
       "a whole create body: HostConfig and NetworkingConfig are not Config");
    json_decref(m);
    m = merge("{'Cmd': ['x']}", NULL, &err);
    ok(m != NULL && !strcmp(at_str(m, "Cmd.0"), "x"), "no image config: the Config as given");
    json_decref(m);
}

/* ---- validation ---- */

static void
expect_invalid(const char *config_q, const char *hc_q, const char *msg)
{
    _cleanup_error_ struct berth_error *err = NULL;
    json_t *c = jq(config_q), *h = jq(hc_q);
    int r = berth_container_validate(c, h, &err);
    ok(r == -EINVAL && msg_is(err, msg), "refused: %s", msg);
    json_decref(c);
    json_decref(h);
}

static void
expect_valid(const char *config_q, const char *hc_q, const char *what)
{
    _cleanup_error_ struct berth_error *err = NULL;
    json_t *c = jq(config_q), *h = jq(hc_q);
    int r = berth_container_validate(c, h, &err);
    ok(r == 0, "accepted: %s%s%s", what, err ? ": " : "", err ? err->msg : "");
    json_decref(c);
    json_decref(h);
}

static void
test_validate(void)
{
    expect_invalid(NULL, "{'Memory': 1000}", "Minimum memory limit allowed is 6MB");
    expect_invalid(NULL, "{'Memory': 104857600, 'MemorySwap': 52428800}",
                   "Minimum memoryswap limit should be larger than memory limit, see usage");
    expect_invalid(NULL, "{'MemorySwap': 52428800}",
                   "You should always set the Memory limit when using Memoryswap limit, see usage");
    expect_invalid(NULL, "{'MemoryReservation': 1024}",
                   "Minimum memory reservation allowed is 6MB");
    expect_invalid(NULL, "{'Memory': 10485760, 'MemoryReservation': 20971520}",
                   "Minimum memory limit can not be less than memory reservation limit, see usage");
    expect_invalid(NULL, "{'MemorySwappiness': 101}",
                   "Invalid value: 101, valid memory swappiness range is 0-100");
    expect_invalid(NULL, "{'NanoCpus': 1000000000, 'CpuPeriod': 100000}",
                   "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    expect_invalid(NULL, "{'NanoCpus': 1000000000, 'CpuQuota': 100000}",
                   "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char q[128], msg[160];
    snprintf(q, sizeof(q), "{'NanoCpus': %ld}", (ncpu + 1) * 1000000000L);
    snprintf(msg, sizeof(msg),
             "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available", ncpu,
             ncpu);
    expect_invalid(NULL, q, msg);
    expect_invalid(NULL, "{'CpuPeriod': 999}",
                   "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. "
                   "1000000)");
    expect_invalid(NULL, "{'CpuQuota': 999}", "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    expect_invalid(NULL, "{'CpusetCpus': '1-0'}",
                   "Invalid value 1-0 for cpuset cpus: invalid format: 1-0");
    _cleanup_free_ char *online = NULL;
    if (berth_read_file("/sys/devices/system/cpu/online", 4096, &online, NULL, NULL) == 0) {
        online[strcspn(online, "\n")] = '\0';
        snprintf(msg, sizeof(msg),
                 "Requested CPUs are not available - requested 1023, available: %s", online);
        expect_invalid(NULL, "{'CpusetCpus': '1023'}", msg);
    }
    expect_invalid(NULL, "{'BlkioWeight': 5}", "Range of blkio weight is from 10 to 1000");
    expect_invalid(NULL, "{'OomScoreAdj': 1001}",
                   "Invalid value 1001, range for oom score adj is [-1000, 1000]");
    expect_invalid(NULL, "{'ShmSize': -1}", "SHM size can not be less than 0");
    expect_invalid(NULL, "{'IOMaximumIOps': 5}",
                   "Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum "
                   "IO IOps");
    expect_invalid(NULL, "{'RestartPolicy': {'Name': 'sometimes'}}",
                   "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
                   "'on-failure', or 'unless-stopped'");
    expect_invalid(NULL, "{'RestartPolicy': {'Name': 'always', 'MaximumRetryCount': 3}}",
                   "invalid restart policy: maximum retry count can only be used with "
                   "'on-failure'");
    expect_invalid(NULL, "{'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': -1}}",
                   "invalid restart policy: maximum retry count cannot be negative");
    expect_invalid(NULL, "{'AutoRemove': true, 'RestartPolicy': {'Name': 'always'}}",
                   "can't create 'AutoRemove' container with restart policy");
    expect_invalid(NULL, "{'Ulimits': [{'Name': 'nofiles', 'Soft': 1, 'Hard': 1}]}",
                   "invalid ulimit type: nofiles");
    expect_invalid(NULL, "{'Ulimits': [{'Name': 'nofile', 'Soft': 10, 'Hard': 5}]}",
                   "ulimit soft limit must be less than or equal to hard limit: 10 > 5");
    expect_invalid(NULL, "{'CapAdd': ['CAP_FOO']}", "unknown capability: \"CAP_FOO\"");
    expect_invalid(NULL, "{'CapDrop': ['foo']}", "unknown capability: \"CAP_FOO\"");
    expect_invalid(NULL, "{'Tmpfs': {'/run': 'size=1m,bogus'}}",
                   "Invalid tmpfs option [\"bogus\"]");
    expect_invalid(NULL, "{'Tmpfs': {'/run': 'color=red'}}",
                   "Invalid tmpfs option [\"color\" \"red\"]");
    expect_invalid(NULL, "{'Tmpfs': {'run': ''}}",
                   "invalid mount path: 'run' mount path must be absolute");
    expect_invalid(NULL, "{'Tmpfs': {'/': ''}}", "invalid specification: destination can't be '/'");
    expect_invalid(NULL, "{'SecurityOpt': ['bogus']}", "invalid --security-opt 1: \"bogus\"");
    expect_invalid(NULL, "{'SecurityOpt': ['foo=bar']}", "invalid --security-opt 2: \"foo=bar\"");
    expect_invalid(NULL, "{'SecurityOpt': ['no-new-privileges=maybe']}",
                   "invalid --security-opt 2: \"no-new-privileges=maybe\"");
    expect_invalid(NULL, "{'SecurityOpt': ['seccomp={not json']}",
                   "Decoding seccomp profile failed: string or '}' expected near 'not'");
    expect_invalid(NULL, "{'Binds': ['data:/data']}",
                   "invalid volume specification: 'data:/data': named volumes are not supported "
                   "yet");
    expect_invalid(NULL, "{'Binds': ['/tmp:/x:rx']}", "invalid mode: rx");
    expect_invalid(NULL, "{'Binds': ['/tmp:/x:ro:extra']}",
                   "invalid volume specification: '/tmp:/x:ro:extra'");
    expect_invalid(NULL,
                   "{'Mounts': [{'Type': 'bind', 'Source': '/nonexistent-xyz', 'Target': '/x'}]}",
                   "invalid mount config for type \"bind\": bind source path does not exist: "
                   "/nonexistent-xyz");
    expect_invalid(NULL, "{'Mounts': [{'Type': 'tmpfs', 'Source': '/x', 'Target': '/x'}]}",
                   "invalid mount config for type \"tmpfs\": field Source must not be specified");
    expect_invalid(NULL, "{'Mounts': [{'Type': 'volume', 'Source': 'v', 'Target': '/x'}]}",
                   "invalid mount config for type \"volume\": named volumes are not supported yet");
    expect_invalid(NULL, "{'Binds': ['/tmp:/x'], 'Tmpfs': {'/x': ''}}",
                   "Duplicate mount point: /x");
    expect_invalid(NULL, "{'IpcMode': 'weird'}", "invalid IPC mode: weird");
    expect_invalid(NULL, "{'PidMode': 'weird'}", "invalid PID mode: weird");
    expect_invalid(NULL, "{'UTSMode': 'weird'}", "invalid UTS mode: weird");
    expect_invalid(NULL, "{'CgroupnsMode': 'weird'}", "invalid cgroup namespace mode: weird");
    expect_invalid(NULL, "{'DeviceCgroupRules': ['c 1:3 rwx']}",
                   "invalid device cgroup format 'c 1:3 rwx'");
    expect_invalid(NULL, "{'NetworkMode': 'host', 'Sysctls': {'net.ipv4.ip_forward': '1'}}",
                   "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace");
    expect_invalid(NULL, "{'Sysctls': {'kernel.panic': '1'}}",
                   "sysctl \"kernel.panic\" is not in a separate kernel namespace");
    expect_invalid(NULL, "{'Memory': '1g'}",
                   "json: cannot unmarshal string into Go struct field HostConfig.Memory of type "
                   "int64");
    expect_invalid("{'WorkingDir': 'relative'}", NULL,
                   "the working directory 'relative' is invalid, it needs to be an absolute path");
    expect_invalid("{'StopSignal': 'SIGFOO'}", NULL, "Invalid signal: SIGFOO");
    expect_invalid("{'Healthcheck': {'Interval': 5}}", NULL,
                   "Interval in Healthcheck cannot be less than 1ms");
    expect_invalid("{'Healthcheck': {'Retries': -1}}", NULL,
                   "Retries in Healthcheck cannot be negative");

    expect_valid(
        "{'StopSignal': 'SIGRTMIN+3', 'WorkingDir': '/app'}",
        "{'Memory': 104857600, 'MemorySwap': -1, 'MemorySwappiness': -1,"
        " 'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': 3},"
        " 'CapAdd': ['net_admin', 'CAP_SYS_PTRACE', 'ALL'], 'CapDrop': 'chown',"
        " 'Ulimits': [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}],"
        " 'Tmpfs': {'/run': 'size=64m,mode=1777,noexec'}, 'Binds': ['/tmp:/hosttmp:ro,rslave'],"
        " 'SecurityOpt': ['no-new-privileges', 'seccomp=unconfined', 'label=disable'],"
        " 'Sysctls': {'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100'},"
        " 'DeviceCgroupRules': ['c 1:3 rwm', 'b *:* m'], 'CgroupnsMode': 'private'}",
        "a full, valid HostConfig");
    expect_valid("{'StopSignal': '9'}", "{'RestartPolicy': {'Name': ''}}", "numeric stop signal");
    expect_valid(NULL, NULL, "no HostConfig at all");
}

/* ---- capabilities ---- */

static char *
caps_str(const char *add_q, const char *drop_q, bool priv)
{
    json_t *a = jq(add_q), *d = jq(drop_q), *out = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    char *s = NULL;
    if (berth_container_caps(a, d, priv, &out, &err) == 0) {
        s = json_dumps(out, JSON_COMPACT);
        json_decref(out);
    }
    json_decref(a);
    json_decref(d);
    return s ? s : strdup("error");
}

static void
test_caps(void)
{
    char *s = caps_str(NULL, NULL, false);
    is_str(s,
           "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\","
           "\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\","
           "\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"]",
           "Docker's 14 default capabilities");
    free(s);
    s = caps_str("['sys_admin', 'CAP_net_admin']", "['CHOWN', 'cap_kill']", false);
    ok(strstr(s, "CAP_SYS_ADMIN") && strstr(s, "CAP_NET_ADMIN") && !strstr(s, "CAP_CHOWN") &&
           !strstr(s, "CAP_KILL") && strstr(s, "CAP_MKNOD"),
       "CapAdd/CapDrop, any case, with or without CAP_: %s", s);
    free(s);
    s = caps_str("['NET_ADMIN']", "['ALL']", false);
    is_str(s, "[\"CAP_NET_ADMIN\"]", "CapDrop ALL keeps only CapAdd");
    free(s);
    s = caps_str("['ALL']", "['SYS_ADMIN']", false);
    ok(strstr(s, "CAP_SYS_MODULE") && !strstr(s, "CAP_SYS_ADMIN"), "CapAdd ALL minus CapDrop");
    free(s);
    s = caps_str(NULL, "['ALL']", true);
    json_t *j = jq(s);
    ok(json_array_size(j) == (size_t)berth_cap_last() + 1,
       "privileged: every capability the kernel knows (%zu)", json_array_size(j));
    json_decref(j);
    free(s);
    s = caps_str("'NET_ADMIN'", NULL, false);
    ok(strstr(s, "CAP_NET_ADMIN") != NULL, "CapAdd as one string");
    free(s);
}

/* ---- users ---- */

static const char *PASSWD = "root:x:0:0:root:/root:/bin/sh\n"
                            "user:x:1000:1000:user:/home/user:/bin/sh\n"
                            "  \n"
                            "web:x:33:33::/var/www:/bin/false\n"
                            "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char *GROUP = "root:x:0:\n"
                           "user:x:1000:\n"
                           "staff:x:50:user,web\n"
                           "audio:x:29:user\n"
                           "web:x:33:\n"
                           "nogroup:x:65534:\n";

static char *
user_str(const char *passwd, const char *group, const char *spec, char *const *add)
{
    struct sg_user u = {0};
    _cleanup_error_ struct berth_error *err = NULL;
    char *s = NULL;
    if (sg_user_resolve_text(passwd, group, spec, add, &u, &err) < 0) {
        if (asprintf(&s, "error: %s", err->msg) < 0)
            abort();
        return s;
    }
    char gids[256] = "";
    size_t o = 0;
    for (size_t i = 0; i < u.n_gids && o < sizeof(gids); i++)
        o += (size_t)snprintf(gids + o, sizeof(gids) - o, "%s%u", i ? "," : "", u.gids[i]);
    if (asprintf(&s, "%u:%u [%s]", u.uid, u.gid, gids) < 0)
        abort();
    free(u.gids);
    return s;
}

static void
test_users(void)
{
    static const struct {
        const char *spec;
        const char *add[3];
        const char *want;
    } cases[] = {
        {"", {NULL}, "0:0 []"},
        {"root", {NULL}, "0:0 []"},
        {"user", {NULL}, "1000:1000 [50,29]"},
        {"1000", {NULL}, "1000:1000 [50,29]"},
        {"web", {NULL}, "33:33 [50]"},
        {"user:staff", {NULL}, "1000:50 []"},
        {"user:33", {NULL}, "1000:33 []"},
        {"1000:4242", {NULL}, "1000:4242 []"},
        {"4242", {NULL}, "4242:0 []"},
        {"4242:4242", {NULL}, "4242:4242 []"},
        {"nobody", {"audio", "4000"}, "65534:65534 [29,4000]"},
        {"user", {"staff", "nogroup"}, "1000:1000 [50,29,65534]"},
        {"foo", {NULL}, "error: unable to find user foo: no matching entries in passwd file"},
        {"user:foo", {NULL}, "error: unable to find group foo: no matching entries in group file"},
        {"user", {"wheel"}, "error: Unable to find group wheel: no matching entries in group file"},
        {"-5", {NULL}, "error: uids and gids must be in range 0-2147483647"},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
        char *s = user_str(PASSWD, GROUP, cases[i].spec, (char *const *)cases[i].add);
        is_str(s, cases[i].want, "user '%s'%s%s", cases[i].spec, cases[i].add[0] ? " + " : "",
               cases[i].add[0] ? cases[i].add[0] : "");
        free(s);
    }
    char *s = user_str(NULL, NULL, "1000:1000", NULL);
    is_str(s, "1000:1000 []", "no passwd/group files: numeric ids are fine");
    free(s);
    s = user_str(NULL, NULL, "user", NULL);
    is_str(s, "error: unable to find user user: no matching entries in passwd file",
           "no passwd file: a name fails");
    free(s);
    s = user_str(NULL, NULL, "", NULL);
    is_str(s, "0:0 []", "no passwd file: the default is root");
    free(s);

    /* through the rootfs: /etc/passwd a symlink that points out of the root stays inside */
    _cleanup_free_ char *etc = pathf("rootfs/etc"), *pw = pathf("rootfs/etc/passwd"),
                        *gr = pathf("rootfs/etc/group"), *decoy = pathf("decoy");
    unlink(pw);
    check(put_file(decoy, "user:x:7:7::/:/bin/sh\n") &&
              symlink("../../../../../../decoy", pw) == 0 && put_file(gr, GROUP),
          "rootfs with /etc/passwd -> ../../../decoy");
    struct sg_user u = {0};
    _cleanup_error_ struct berth_error *err = NULL;
    int r = sg_user_resolve(rootfs, "user", NULL, &u, &err);
    ok(r < 0 && msg_is(err, "unable to find user user: no matching entries in passwd file"),
       "a symlink out of the rootfs is resolved inside it (no host file is read)");
    free(u.gids);
    u = (struct sg_user){0};
    berth_error_free(TAKE_PTR(err));
    unlink(pw);
    check(put_file(pw, PASSWD), "a real /etc/passwd");
    r = sg_user_resolve(rootfs, "user", NULL, &u, &err);
    ok(r == 0 && u.uid == 1000 && u.gid == 1000 && u.n_gids == 2,
       "the rootfs's files are used (uid %u gid %u, %zu groups)", u.uid, u.gid, u.n_gids);
    free(u.gids);
    (void)etc;
}

/* ---- the spec ---- */

static void
test_spec_defaults(void)
{
    json_t *s =
        build("{'Cmd': ['/bin/sh', '-c', 'true'], 'Env': ['FOO=bar', 'PATH=/custom']}", NULL);
    ok(s != NULL, "a minimal spec builds");
    if (!s)
        return;
    is_str(at_str(s, "ociVersion"), "1.0.2", "ociVersion");
    is_str(at_str(s, "root.path"), rootfs, "root.path is the rootfs");
    ok(json_is_false(at(s, "root.readonly")), "root writable by default");
    is_str(at_str(s, "hostname"), "0123456789ab", "hostname: the first 12 characters of the id");
    is_str(at_str(s, "process.args.2"), "true", "args: Entrypoint + Cmd");
    is_str(at_str(s, "process.cwd"), "/", "cwd defaults to /");
    is_str(at_str(s, "process.env.0"), "PATH=/custom", "a user PATH replaces the default in place");
    is_str(at_str(s, "process.env.1"), "HOSTNAME=0123456789ab", "HOSTNAME");
    is_str(at_str(s, "process.env.2"), "FOO=bar", "user env appended");
    ok(json_array_size(at(s, "process.env")) == 3, "no TERM without a tty");
    ok(at_int(s, "process.user.uid") == 0 && at_int(s, "process.user.gid") == 0, "root user");
    ok(json_array_size(at(s, "process.capabilities.bounding")) == 14 &&
           json_array_size(at(s, "process.capabilities.effective")) == 14 &&
           json_array_size(at(s, "process.capabilities.permitted")) == 14 &&
           !at(s, "process.capabilities.inheritable") && !at(s, "process.capabilities.ambient"),
       "Docker's 14 capabilities in bounding, effective, permitted; none inheritable or ambient");
    is_str(at_str(s, "process.rlimits.0.type"), "RLIMIT_NOFILE", "default RLIMIT_NOFILE");
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    long long want = rl.rlim_max >= 1048576 ? 1048576 : (long long)sg_default_nofile();
    ok(at_int(s, "process.rlimits.0.soft") == want && at_int(s, "process.rlimits.0.hard") == want,
       "RLIMIT_NOFILE 1048576 if allowed, else the host's hard limit (%lld)", want);
    ok(json_is_false(at(s, "process.noNewPrivileges")), "no_new_privs off by default");
    ok(at_int(s, "process.oomScoreAdj") == 0, "oomScoreAdj 0");

    static const char *const masked[] = {
        "/proc/asound",     "/proc/acpi",        "/proc/interrupts",
        "/proc/kcore",      "/proc/keys",        "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap"};
    bool same = json_array_size(at(s, "linux.maskedPaths")) == BERTH_ARRAY_SIZE(masked);
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(masked) && same; i++)
        same = !strcmp(json_string_value(json_array_get(at(s, "linux.maskedPaths"), i)), masked[i]);
    ok(same, "maskedPaths: exactly Docker's list");
    static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                     "/proc/sysrq-trigger"};
    same = json_array_size(at(s, "linux.readonlyPaths")) == BERTH_ARRAY_SIZE(ro);
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(ro) && same; i++)
        same = !strcmp(json_string_value(json_array_get(at(s, "linux.readonlyPaths"), i)), ro[i]);
    ok(same, "readonlyPaths: exactly Docker's list");

    ok(has_ns(s, "mount") && has_ns(s, "network") && has_ns(s, "uts") && has_ns(s, "pid") &&
           has_ns(s, "ipc"),
       "namespaces: mount, network, uts, pid, ipc");
    ok(!at(s, "linux.namespaces.1.path"), "network: a new (empty) namespace without netns_path");
    ok(has_ns(s, "cgroup") == sg_cgroup_unified(),
       "cgroup namespace: private on cgroup v2, host on v1");
    is_str(at_str(s, "linux.cgroupsPath"), "/berth/test", "cgroupsPath");
    is_str(at_str(s, "linux.sysctl.net.ipv4.ping_group_range"), "(none)",
           "(dotted sysctl names are not paths)");
    json_t *sysctl = at(s, "linux.sysctl");
    ok(!strcmp(json_string_value(json_object_get(sysctl, "net.ipv4.ip_unprivileged_port_start")),
               "0"),
       "unprivileged low ports");

    /* devices: deny all, the basic nodes, fuse denied */
    json_t *rules = at(s, "linux.resources.devices");
    ok(json_array_size(rules) == 8 && json_is_false(at(rules, "0.allow")) && !at(rules, "0.type") &&
           !strcmp(at_str(rules, "0.access"), "rwm"),
       "device rules start with deny all");
    static const int allowed[][2] = {{1, 5}, {1, 3}, {1, 9}, {1, 8}, {5, 0}, {5, 1}};
    bool good = true;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(allowed); i++) {
        char p[16];
        snprintf(p, sizeof(p), "%zu", i + 1);
        json_t *r = json_array_get(rules, i + 1);
        good = good && json_is_true(json_object_get(r, "allow")) &&
               at_int(r, "major") == allowed[i][0] && at_int(r, "minor") == allowed[i][1] &&
               !strcmp(at_str(r, "type"), "c");
    }
    ok(good, "allowed: zero, null, urandom, random, tty, console");
    ok(json_is_false(at(rules, "7.allow")) && at_int(rules, "7.major") == 10 &&
           at_int(rules, "7.minor") == 229,
       "fuse (10:229) denied");
    ok(json_array_size(at(s, "linux.devices")) == 0, "no extra device nodes");

    /* mounts */
    static const char *const order[] = {"/proc",          "/dev",        "/dev/pts", "/sys",
                                        "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm", "/etc/hosts"};
    good = json_array_size(at(s, "mounts")) == BERTH_ARRAY_SIZE(order);
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(order) && good; i++)
        good = !strcmp(json_string_value(at(json_array_get(at(s, "mounts"), i), "destination")),
                       order[i]);
    ok(good, "mounts: Docker's defaults, then the network files");
    json_t *pts = mount_at(s, "/dev/pts");
    ok(pts && has_str(at(pts, "options"), "newinstance") &&
           has_str(at(pts, "options"), "ptmxmode=0666") &&
           has_str(at(pts, "options"), "mode=0620") && has_str(at(pts, "options"), "gid=5"),
       "devpts: newinstance, ptmxmode=0666, mode=0620, gid=5");
    json_t *shm = mount_at(s, "/dev/shm");
    ok(shm && has_str(at(shm, "options"), "size=67108864") &&
           has_str(at(shm, "options"), "mode=1777"),
       "/dev/shm: 64m tmpfs");
    ok(has_str(at(mount_at(s, "/sys"), "options"), "ro"), "sysfs read-only");
    ok(has_str(at(mount_at(s, "/sys/fs/cgroup"), "options"), "ro"), "cgroup read-only");
    is_str(at_str(mount_at(s, "/sys/fs/cgroup"), "type"), "cgroup", "cgroup mount type");
    json_t *hosts = mount_at(s, "/etc/hosts");
    ok(hosts && !strcmp(at_str(hosts, "type"), "bind") &&
           !strcmp(at_str(hosts, "source"), "/etc/hosts") &&
           has_str(at(hosts, "options"), "rbind") && !has_str(at(hosts, "options"), "ro"),
       "/etc/hosts bind, writable");

    /* seccomp */
    json_t *sc = at(s, "linux.seccomp");
    ok(sc && !strcmp(at_str(sc, "defaultAction"), "SCMP_ACT_ERRNO") &&
           at_int(sc, "defaultErrnoRet") == 1,
       "seccomp: errno default, EPERM");
    json_decref(s);
}

/* Whether the OCI seccomp object allows name unconditionally (an ALLOW rule without args). */
static bool
sc_allows(const json_t *sc, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(at(sc, "syscalls"), i,
                       r) if (!strcmp(at_str(r, "action"), "SCMP_ACT_ALLOW") && !at(r, "args") &&
                              has_str(at(r, "names"), name)) return true;
    return false;
}

static json_t *
sc_rule(const json_t *sc, const char *name, const char *action)
{
    size_t i;
    json_t *r;
    json_array_foreach(at(sc, "syscalls"), i, r) if (!strcmp(at_str(r, "action"), action) &&
                                                     has_str(at(r, "names"), name)) return r;
    return NULL;
}

static void
test_seccomp_profile(void)
{
    json_t *def = build("{'Cmd': ['x']}", NULL);
    json_t *admin = build("{'Cmd': ['x']}", "{'CapAdd': ['SYS_ADMIN', 'SYS_PTRACE', 'SYS_TIME']}");
    json_t *sc = at(def, "linux.seccomp"), *sca = at(admin, "linux.seccomp");
    ok(sc && sca, "both profiles built");
    if (!sc || !sca)
        return;
    char *archs = json_dumps(at(sc, "architectures"), JSON_COMPACT);
#if defined(__x86_64__)
    is_str(archs, "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]",
           "architectures: the native one and its sub-architectures (archMap)");
    ok(sc_allows(sc, "arch_prctl") && sc_allows(sc, "modify_ldt"), "amd64 extras allowed");
    ok(!sc_allows(sc, "s390_runtime_instr") && !sc_allows(sc, "riscv_flush_icache"),
       "other architectures' extras left out");
#endif
    free(archs);
    static const char *const common[] = {"read", "write", "openat", "execve", "clone3" /*no*/};
    for (size_t i = 0; i < 4; i++)
        ok(sc_allows(sc, common[i]), "%s allowed", common[i]);
    ok(sc_allows(sc, "ptrace"), "ptrace allowed on kernels >= 4.8 (minKernel include)");
    ok(sc_allows(sc, "chroot"), "chroot allowed with CAP_SYS_CHROOT (a default capability)");
    static const char *const admin_only[] = {"mount",       "umount2", "unshare", "setns",
                                             "sethostname", "bpf",     "fsopen",  "open_tree"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(admin_only); i++)
        ok(!sc_allows(sc, admin_only[i]) && sc_allows(sca, admin_only[i]),
           "%s allowed only with CAP_SYS_ADMIN", admin_only[i]);
    ok(!sc_allows(sc, "kcmp") && sc_allows(sca, "kcmp"), "kcmp only with CAP_SYS_PTRACE");
    ok(!sc_allows(sc, "settimeofday") && sc_allows(sca, "clock_settime"),
       "time setting only with CAP_SYS_TIME");
    ok(!sc_allows(sc, "reboot") && !sc_allows(sc, "init_module") && !sc_allows(sc, "keyctl") &&
           !sc_allows(sc, "add_key") && !sc_allows(sc, "kexec_load"),
       "reboot, modules, keyrings, kexec: never by default");
    json_t *c3 = sc_rule(sc, "clone3", "SCMP_ACT_ERRNO");
    ok(c3 && at_int(c3, "errnoRet") == 38, "clone3: ENOSYS (errnoRet 38) without CAP_SYS_ADMIN");
    ok(!sc_rule(sca, "clone3", "SCMP_ACT_ERRNO") && sc_allows(sca, "clone3"),
       "clone3 allowed with CAP_SYS_ADMIN");
    json_t *cl = sc_rule(sc, "clone", "SCMP_ACT_ALLOW");
    ok(cl && at_int(cl, "args.0.index") == 0 && at_int(cl, "args.0.value") == 2114060288 &&
           at_int(cl, "args.0.valueTwo") == 0 &&
           !strcmp(at_str(cl, "args.0.op"), "SCMP_CMP_MASKED_EQ"),
       "clone: only without namespace flags (masked arg 0)");
    json_t *so = sc_rule(sc, "socket", "SCMP_ACT_ALLOW");
    ok(so && at_int(so, "args.0.value") == 40 && !strcmp(at_str(so, "args.0.op"), "SCMP_CMP_NE"),
       "socket: any family but AF_VSOCK");
    int personalities = 0;
    size_t i;
    json_t *r;
    json_array_foreach(at(sc, "syscalls"), i, r) if (has_str(at(r, "names"), "personality") &&
                                                     !strcmp(at_str(r, "args.0.op"), "SCMP_CMP_EQ"))
        personalities++;
    ok(personalities == 5, "personality: 5 allowed values (%d)", personalities);

    /* the spec compiles with the runtime's seccomp code */
    char *text = json_dumps(def, 0);
    _cleanup_spec_ struct berth_spec *spec = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int rr = berth_spec_parse(text, strlen(text), NULL, &spec, &err);
    ok(rr == 0, "the default spec parses with berth_spec_parse%s%s", err ? ": " : "",
       err ? err->msg : "");
    struct berth_seccomp_filter *f = NULL;
    check(spec && berth_seccomp_build(spec->linux_.seccomp, &f, &err) == 0,
          "Docker's profile compiles with berth_seccomp_build");
    berth_seccomp_free(f);
    free(text);
    json_decref(def);
    json_decref(admin);

    /* the raw profile and custom ones */
    json_t *p = berth_seccomp_default_profile();
    ok(at(p, "archMap") && !at(p, "architectures") && at(p, "syscalls.0.names"),
       "the builtin profile is in Docker's format (archMap, names)");
    json_decref(p);
    json_t *custom =
        build("{'Cmd': ['x']}",
              "{'SecurityOpt': ['seccomp={\\'defaultAction\\': \\'SCMP_ACT_ALLOW\\', "
              "\\'architectures\\': [\\'SCMP_ARCH_X86_64\\'], \\'syscalls\\': [{\\'name\\': "
              "\\'mkdir\\', \\'action\\': \\'SCMP_ACT_ERRNO\\'}, {\\'names\\': [\\'chmod\\'], "
              "\\'action\\': \\'SCMP_ACT_ERRNO\\', \\'includes\\': {\\'caps\\': "
              "[\\'CAP_SYS_ADMIN\\']}}]}']}");
    ok(custom && !strcmp(at_str(custom, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW") &&
           !strcmp(at_str(custom, "linux.seccomp.syscalls.0.names.0"), "mkdir") &&
           json_array_size(at(custom, "linux.seccomp.syscalls")) == 1 &&
           !strcmp(at_str(custom, "linux.seccomp.architectures.0"), "SCMP_ARCH_X86_64"),
       "seccomp=<json>: the given profile, 'name' as names, includes evaluated");
    json_decref(custom);
    json_t *both = build("{'Cmd': ['x']}",
                         "{'SecurityOpt': ['seccomp={\\'defaultAction\\': \\'SCMP_ACT_ALLOW\\', "
                         "\\'architectures\\': [\\'SCMP_ARCH_X86_64\\'], \\'archMap\\': "
                         "[{\\'architecture\\': \\'SCMP_ARCH_X86_64\\'}]}']}");
    ok(both == NULL, "architectures and archMap together are refused");
    json_t *unconf = build("{'Cmd': ['x']}", "{'SecurityOpt': ['seccomp=unconfined']}");
    ok(unconf && !at(unconf, "linux.seccomp"), "seccomp=unconfined: no filter");
    json_decref(unconf);
    json_t *builtin = build("{'Cmd': ['x']}", "{'SecurityOpt': ['seccomp=builtin']}");
    ok(builtin && at(builtin, "linux.seccomp.syscalls"), "seccomp=builtin: the default profile");
    json_decref(builtin);
}

static void
test_spec_fields(void)
{
    json_t *s = build("{'Cmd': ['x'], 'Tty': true, 'User': 'user', 'WorkingDir': '/app',"
                      " 'Hostname': 'box', 'Domainname': 'example.org',"
                      " 'Env': ['HOSTNAME=override', 'PATH', 'A=1']}",
                      "{'Memory': 104857600, 'MemoryReservation': 52428800,"
                      " 'MemorySwappiness': 10, 'OomKillDisable': true,"
                      " 'NanoCpus': 1500000000, 'CpuShares': 512, 'CpusetCpus': '0',"
                      " 'CpusetMems': '0', 'PidsLimit': 100, 'BlkioWeight': 300,"
                      " 'OomScoreAdj': 500, 'ShmSize': 1048576, 'ReadonlyRootfs': true,"
                      " 'GroupAdd': ['audio', '4000'], 'ConsoleSize': [30, 100],"
                      " 'Ulimits': [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048},"
                      "             {'Name': 'core', 'Soft': -1, 'Hard': -1}],"
                      " 'SecurityOpt': ['no-new-privileges:true'],"
                      " 'Sysctls': {'net.ipv4.ip_unprivileged_port_start': '1024',"
                      "             'kernel.shmmax': '4096'},"
                      " 'Tmpfs': {'/run': 'size=1m,defaults,exec', '/run/lock': ''},"
                      " 'Binds': ['/tmp:/hosttmp:ro,rslave'],"
                      " 'Mounts': [{'Type': 'tmpfs', 'Target': '/scratch',"
                      "             'TmpfsOptions': {'SizeBytes': 2097152, 'Mode': 448}}],"
                      " 'CapDrop': ['NET_RAW']}");
    ok(s != NULL, "a spec with most fields builds");
    if (!s)
        return;
    ok(json_is_true(at(s, "process.terminal")), "Tty -> terminal");
    ok(at_int(s, "process.consoleSize.height") == 30 &&
           at_int(s, "process.consoleSize.width") == 100,
       "ConsoleSize -> consoleSize");
    is_str(at_str(s, "process.env.0"), "HOSTNAME=override", "env: HOSTNAME overridable");
    is_str(at_str(s, "process.env.1"), "TERM=xterm", "env: TERM=xterm with a tty; PATH unset");
    is_str(at_str(s, "process.env.2"), "A=1", "env: the rest appended");
    is_str(at_str(s, "process.cwd"), "/app", "WorkingDir -> cwd");
    is_str(at_str(s, "hostname"), "box", "Hostname");
    is_str(at_str(s, "domainname"), "example.org", "Domainname");
    ok(at_int(s, "process.user.uid") == 1000 && at_int(s, "process.user.gid") == 1000, "user");
    char *g = json_dumps(at(s, "process.user.additionalGids"), JSON_COMPACT);
    is_str(g, "[50,29,4000]", "additionalGids: the user's groups + GroupAdd (audio deduplicated)");
    free(g);
    ok(json_is_true(at(s, "process.noNewPrivileges")), "no-new-privileges:true");
    ok(at_int(s, "process.oomScoreAdj") == 500, "OomScoreAdj");
    ok(json_array_size(at(s, "process.rlimits")) == 2 &&
           !strcmp(at_str(s, "process.rlimits.0.type"), "RLIMIT_NOFILE") &&
           at_int(s, "process.rlimits.0.soft") == 1024 &&
           at_int(s, "process.rlimits.0.hard") == 2048,
       "Ulimits nofile replaces the default");
    ok(!strcmp(at_str(s, "process.rlimits.1.type"), "RLIMIT_CORE") &&
           json_is_real(at(s, "process.rlimits.1.soft")) &&
           json_real_value(at(s, "process.rlimits.1.soft")) >= 1.8e19,
       "-1 is unlimited");
    ok(!has_str(at(s, "process.capabilities.bounding"), "CAP_NET_RAW") &&
           json_array_size(at(s, "process.capabilities.bounding")) == 13,
       "CapDrop NET_RAW");
    ok(json_is_true(at(s, "root.readonly")), "ReadonlyRootfs -> root.readonly");
    ok(has_str(at(mount_at(s, "/etc/hosts"), "options"), "ro"),
       "network files read-only with a read-only rootfs");

    ok(at_int(s, "linux.resources.memory.limit") == 104857600, "Memory");
    ok(at_int(s, "linux.resources.memory.swap") == 209715200, "MemorySwap 0: twice Memory");
    ok(at_int(s, "linux.resources.memory.reservation") == 52428800, "MemoryReservation");
    ok(at_int(s, "linux.resources.memory.swappiness") == 10, "MemorySwappiness");
    ok(json_is_true(at(s, "linux.resources.memory.disableOOMKiller")), "OomKillDisable");
    ok(at_int(s, "linux.resources.cpu.period") == 100000 &&
           at_int(s, "linux.resources.cpu.quota") == 150000,
       "NanoCpus 1.5 -> quota 150000 / period 100000");
    ok(at_int(s, "linux.resources.cpu.shares") == 512, "CpuShares");
    is_str(at_str(s, "linux.resources.cpu.cpus"), "0", "CpusetCpus");
    is_str(at_str(s, "linux.resources.cpu.mems"), "0", "CpusetMems");
    ok(at_int(s, "linux.resources.pids.limit") == 100, "PidsLimit");
    ok(at_int(s, "linux.resources.blockIO.weight") == 300, "BlkioWeight");
    json_t *sysctl = at(s, "linux.sysctl");
    ok(!strcmp(json_string_value(json_object_get(sysctl, "net.ipv4.ip_unprivileged_port_start")),
               "1024") &&
           !strcmp(json_string_value(json_object_get(sysctl, "kernel.shmmax")), "4096"),
       "Sysctls (the user's win over the defaults)");

    json_t *shm = mount_at(s, "/dev/shm");
    ok(shm && has_str(at(shm, "options"), "size=1048576"), "ShmSize -> /dev/shm size");
    json_t *run = mount_at(s, "/run");
    char *o = run ? json_dumps(at(run, "options"), JSON_COMPACT) : NULL;
    is_str(o, "[\"nosuid\",\"nodev\",\"rprivate\",\"size=1m\",\"exec\"]",
           "--tmpfs /run: moby's defaults merged, exec overrides noexec");
    free(o);
    json_t *lock = mount_at(s, "/run/lock");
    o = lock ? json_dumps(at(lock, "options"), JSON_COMPACT) : NULL;
    is_str(o, "[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\"]", "--tmpfs without options");
    free(o);
    json_t *scratch = mount_at(s, "/scratch");
    ok(scratch && has_str(at(scratch, "options"), "size=2m") &&
           has_str(at(scratch, "options"), "mode=700") && !strcmp(at_str(scratch, "type"), "tmpfs"),
       "--mount type=tmpfs: size and mode (octal)");
    json_t *b = mount_at(s, "/hosttmp");
    o = b ? json_dumps(at(b, "options"), JSON_COMPACT) : NULL;
    is_str(o, "[\"rbind\",\"ro\",\"rslave\"]", "-v /tmp:/hosttmp:ro,rslave");
    free(o);
    is_str(at_str(s, "linux.rootfsPropagation"), "rslave", "a slave bind makes the root rslave");
    /* order: parents before children */
    size_t i_run = 0, i_lock = 0, i;
    json_t *m;
    json_array_foreach(at(s, "mounts"), i, m)
    {
        if (!strcmp(at_str(m, "destination"), "/run"))
            i_run = i;
        if (!strcmp(at_str(m, "destination"), "/run/lock"))
            i_lock = i;
    }
    ok(i_run < i_lock, "/run before /run/lock");

    /* the spec parses with the runtime's own parser */
    char *text = json_dumps(s, 0);
    _cleanup_spec_ struct berth_spec *spec = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    int r = berth_spec_parse(text, strlen(text), NULL, &spec, &err);
    ok(r == 0, "berth_spec_parse accepts it%s%s", err ? ": " : "", err ? err->msg : "");
    if (spec) {
        ok(spec->process->rlimits[1].soft == UINT64_MAX,
           "the runtime reads unlimited as UINT64_MAX");
        ok(spec->linux_.resources.memory.limit.value == 104857600 &&
               spec->linux_.resources.pids.limit.value == 100,
           "the runtime reads the resources");
        ok(spec->process->user.n_additional_gids == 3, "the runtime reads additionalGids");
    }
    free(text);
    json_decref(s);
}

static void
test_spec_modes(void)
{
    _cleanup_error_ struct berth_error *err = NULL;
    json_t *s = build("{'Cmd': ['x']}", "{'Privileged': true, 'CapDrop': ['ALL']}");
    ok(s && json_array_size(at(s, "process.capabilities.bounding")) == (size_t)berth_cap_last() + 1,
       "privileged: all capabilities");
    ok(s && !at(s, "linux.seccomp"), "privileged: no seccomp");
    ok(s && !at(s, "linux.maskedPaths") && !at(s, "linux.readonlyPaths"),
       "privileged: no masked or read-only paths");
    ok(s && json_array_size(at(s, "linux.resources.devices")) == 1 &&
           json_is_true(at(s, "linux.resources.devices.0.allow")),
       "privileged: every device allowed");
    ok(s && json_array_size(at(s, "linux.devices")) > 3, "privileged: the host's devices (%zu)",
       s ? json_array_size(at(s, "linux.devices")) : 0);
    ok(s && has_str(at(mount_at(s, "/sys"), "options"), "rw") &&
           has_str(at(mount_at(s, "/sys/fs/cgroup"), "options"), "rw"),
       "privileged: /sys and the cgroup mount writable");
    json_decref(s);

    s = build("{'Cmd': ['x']}", "{'IpcMode': 'none', 'PidMode': 'host', 'UTSMode': 'host',"
                                " 'CgroupnsMode': 'private', 'PidsLimit': 0,"
                                " 'MaskedPaths': [], 'ReadonlyPaths': ['/proc/sys']}");
    ok(s && !mount_at(s, "/dev/shm"), "IpcMode none: no /dev/shm");
    ok(s && !has_ns(s, "pid") && has_ns(s, "ipc"), "PidMode host: no pid namespace");
    ok(s && !has_ns(s, "uts") && !at(s, "hostname"), "UTSMode host: no uts namespace, no hostname");
    ok(s && has_ns(s, "cgroup"), "CgroupnsMode private: a cgroup namespace");
    ok(s && at_int(s, "linux.resources.pids.limit") == -1, "PidsLimit 0: unlimited (-1)");
    ok(s && json_array_size(at(s, "linux.maskedPaths")) == 0 &&
           json_array_size(at(s, "linux.readonlyPaths")) == 1,
       "HostConfig.MaskedPaths/ReadonlyPaths replace the defaults");
    json_decref(s);

    s = build("{'Cmd': ['x']}", "{'IpcMode': 'host', 'CgroupnsMode': 'host', 'Memory': 8388608,"
                                " 'MemorySwap': -1, 'Tmpfs': {'/dev/shm': 'size=2m'}}");
    ok(s && !has_ns(s, "ipc") && !has_ns(s, "cgroup"), "IpcMode host, CgroupnsMode host");
    ok(s && at_int(s, "linux.resources.memory.swap") == -1, "MemorySwap -1: unlimited");
    json_t *shm = s ? mount_at(s, "/dev/shm") : NULL;
    ok(shm && !strcmp(at_str(shm, "type"), "tmpfs") && has_str(at(shm, "options"), "size=2m"),
       "a user mount on /dev/shm replaces the default one");
    json_decref(s);

    s = build_full("{'Cmd': ['x']}", "{}", "host", NULL, &err);
    char hn[256] = "";
    gethostname(hn, sizeof(hn) - 1);
    ok(s && !has_ns(s, "network") && !strcmp(at_str(s, "hostname"), hn),
       "host network: no network namespace, the host's name");
    ok(s && !json_object_get(at(s, "linux.sysctl"), "net.ipv4.ping_group_range"),
       "host network: no net.* sysctls");
    json_decref(s);
    s = build_full("{'Cmd': ['x']}", "{}", "/run/netns/x", NULL, &err);
    json_t *netns = NULL;
    size_t i;
    json_t *n;
    json_array_foreach(s ? at(s, "linux.namespaces") : NULL, i,
                       n) if (!strcmp(at_str(n, "type"), "network")) netns = n;
    ok(netns && !strcmp(at_str(netns, "path"), "/run/netns/x"), "a netns path is joined");
    json_decref(s);

    s = build_full("{'Entrypoint': ['/ep'], 'Cmd': ['a']}", "{'Init': true}", NULL,
                   "/usr/libexec/berth-init", &err);
    ok(s && !strcmp(at_str(s, "process.args.0"), "/sbin/docker-init") &&
           !strcmp(at_str(s, "process.args.1"), "--") &&
           !strcmp(at_str(s, "process.args.2"), "/ep") && !strcmp(at_str(s, "process.args.3"), "a"),
       "Init: /sbin/docker-init -- entrypoint cmd");
    json_t *im = s ? mount_at(s, "/sbin/docker-init") : NULL;
    ok(im && !strcmp(at_str(im, "source"), "/usr/libexec/berth-init") &&
           has_str(at(im, "options"), "ro") && has_str(at(im, "options"), "bind"),
       "Init: the binary bind-mounted read-only");
    json_decref(s);
    berth_error_free(TAKE_PTR(err));
    s = build_full("{'Cmd': ['a']}", "{'Init': true}", NULL, NULL, &err);
    ok(!s && err && err->code == EINVAL, "Init without an init binary fails");
    berth_error_free(TAKE_PTR(err));

    s = build_full("{'Cmd': ['a'], 'User': 'ghost'}", NULL, NULL, NULL, &err);
    ok(!s && msg_is(err, "unable to find user ghost: no matching entries in passwd file"),
       "an unknown user fails the build with moby's message");
    berth_error_free(TAKE_PTR(err));

    s = build("{'Cmd': ['x']}",
              "{'DeviceCgroupRules': ['c 42:* rmw', 'b *:* m'], 'Devices': [{'PathOnHost':"
              " '/dev/null', 'PathInContainer': '/dev/mynull', 'CgroupPermissions': 'rw'}]}");
    json_t *rules = s ? at(s, "linux.resources.devices") : NULL;
    size_t nr = json_array_size(rules);
    ok(s && !strcmp(at_str(s, "linux.devices.0.path"), "/dev/mynull") &&
           at_int(s, "linux.devices.0.major") == 1 && at_int(s, "linux.devices.0.minor") == 3,
       "Devices: the host node under its container path");
    ok(nr == 11 && at_int(rules, "8.major") == 1 && !strcmp(at_str(rules, "8.access"), "rw") &&
           at_int(rules, "9.major") == 42 && !at(rules, "9.minor") &&
           !strcmp(at_str(rules, "10.type"), "b") && !at(rules, "10.major"),
       "device cgroup rules: Devices, then DeviceCgroupRules (* = any)");
    json_decref(s);
    s = build_full("{'Cmd': ['x']}", "{'Devices': [{'PathOnHost': '/nonexistent-dev'}]}", NULL,
                   NULL, &err);
    ok(!s && msg_has(err, "error gathering device information while adding custom device "
                          "\"/nonexistent-dev\""),
       "a missing device fails the build");
}

static void
test_adapt(void)
{
    json_t *hc = jq("{'Memory': 104857600, 'CpuShares': -5}");
    _cleanup_error_ struct berth_error *err = NULL;
    check(berth_container_hostconfig_adapt(hc, &err) == 0, "adapt");
    ok(at_int(hc, "MemorySwap") == 209715200 && at_int(hc, "ShmSize") == 67108864 &&
           at_int(hc, "CpuShares") == 2 && !strcmp(at_str(hc, "IpcMode"), "private") &&
           json_is_false(at(hc, "OomKillDisable")) &&
           json_array_size(at(hc, "MaskedPaths")) == 12 &&
           json_array_size(at(hc, "ReadonlyPaths")) == 5,
       "adapt fills moby's defaults (swap 2x, shm 64m, shares clamp, ipc private, paths)");
    is_str(at_str(hc, "CgroupnsMode"), sg_cgroup_unified() ? "private" : "host",
           "adapt: CgroupnsMode by cgroup version");
    json_decref(hc);
}

int
main(void)
{
    char tmpl[] = "/tmp/berth-specgen-XXXXXX";
    if (!tmpdir_make(tmpl))
        return tap_done();
    rootfs = pathf("rootfs");
    _cleanup_free_ char *etc = pathf("rootfs/etc"), *pw = pathf("rootfs/etc/passwd"),
                        *gr = pathf("rootfs/etc/group");
    check(mkdir(rootfs, 0755) == 0 && mkdir(etc, 0755) == 0 && put_file(pw, PASSWD) &&
              put_file(gr, GROUP),
          "a temporary rootfs with /etc/passwd and /etc/group");
    test_merge();
    test_validate();
    test_caps();
    test_spec_defaults();
    test_spec_fields();
    test_spec_modes();
    test_seccomp_profile();
    test_adapt();
    test_users(); /* last: replaces the rootfs's passwd */
    tmpdir_remove(tmpl, "temporary directory removed");
    free(rootfs);
    return tap_done();
}
