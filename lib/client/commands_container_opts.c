/* docker create / run flags → the /containers/create body (docker's opts.go parse()), with
 * docker's value parsers and messages. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/container.h"
#include "client/format.h"
#include "core/cleanup.h"
#include "core/util.h"

#define OPT(s, l, t, p, v, h)                                                                      \
    (struct berth_opt)                                                                             \
    {                                                                                              \
        s, l, t, p, v, h                                                                           \
    }

size_t
berth_run_opts_table(struct berth_run_opts *o, bool run, struct berth_opt *t)
{
    size_t n = 0;
    o->memory_swappiness = -1;
    if (run) {
        o->sig_proxy = true;
        t[n++] = OPT('d', "detach", BERTH_OPT_BOOL, &o->detach, NULL,
                     "Run container in background and print container ID");
        t[n++] = OPT(0, "sig-proxy", BERTH_OPT_BOOL, &o->sig_proxy, NULL,
                     "Proxy received signals to the process (default true)");
        t[n++] = OPT(0, "detach-keys", BERTH_OPT_STRING, &o->detach_keys, "string",
                     "Override the key sequence for detaching a container");
    }
    t[n++] = OPT(0, "name", BERTH_OPT_STRING, &o->name, "string", "Assign a name to the container");
    t[n++] = OPT(0, "pull", BERTH_OPT_STRING, &o->pull, "string",
                 "Pull image before running (\"always\", \"missing\", \"never\") (default "
                 "\"missing\")");
    t[n++] = OPT('q', "quiet", BERTH_OPT_BOOL, &o->quiet, NULL, "Suppress the pull output");
    t[n++] = OPT(0, "platform", BERTH_OPT_STRING, &o->platform, "string",
                 "Set platform if server is multi-platform capable");
    t[n++] = OPT(0, "cidfile", BERTH_OPT_STRING, &o->cidfile, "string",
                 "Write the container ID to the file");
    t[n++] =
        OPT('a', "attach", BERTH_OPT_LIST, &o->attach, "list", "Attach to STDIN, STDOUT or STDERR");
    t[n++] = OPT('i', "interactive", BERTH_OPT_BOOL, &o->interactive, NULL,
                 "Keep STDIN open even if not attached");
    t[n++] = OPT('t', "tty", BERTH_OPT_BOOL, &o->tty, NULL, "Allocate a pseudo-TTY");
    t[n++] = OPT(0, "rm", BERTH_OPT_BOOL, &o->rm, NULL,
                 "Automatically remove the container and its associated anonymous volumes when "
                 "it exits");
    t[n++] = OPT('e', "env", BERTH_OPT_LIST, &o->env, "list", "Set environment variables");
    t[n++] = OPT(0, "env-file", BERTH_OPT_LIST, &o->env_file, "list",
                 "Read in a file of environment variables");
    t[n++] = OPT('w', "workdir", BERTH_OPT_STRING, &o->workdir, "string",
                 "Working directory inside the container");
    t[n++] = OPT('u', "user", BERTH_OPT_STRING, &o->user, "string",
                 "Username or UID (format: <name|uid>[:<group|gid>])");
    t[n++] = OPT(0, "entrypoint", BERTH_OPT_STRING, &o->entrypoint, "string",
                 "Overwrite the default ENTRYPOINT of the image");
    t[n++] = OPT('l', "label", BERTH_OPT_LIST, &o->label, "list", "Set meta data on a container");
    t[n++] = OPT(0, "label-file", BERTH_OPT_LIST, &o->label_file, "list",
                 "Read in a line delimited file of labels");
    t[n++] = OPT('h', "hostname", BERTH_OPT_STRING, &o->hostname, "string", "Container host name");
    t[n++] = OPT(0, "domainname", BERTH_OPT_STRING, &o->domainname, "string",
                 "Container NIS domain name");
    t[n++] = OPT('m', "memory", BERTH_OPT_STRING, &o->memory, "bytes", "Memory limit");
    t[n++] = OPT(0, "memory-swap", BERTH_OPT_STRING, &o->memory_swap, "bytes",
                 "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
    t[n++] = OPT(0, "memory-reservation", BERTH_OPT_STRING, &o->memory_reservation, "bytes",
                 "Memory soft limit");
    t[n++] = OPT(0, "memory-swappiness", BERTH_OPT_INT, &o->memory_swappiness, "int",
                 "Tune container memory swappiness (0 to 100) (default -1)");
    t[n++] = OPT(0, "cpus", BERTH_OPT_STRING, &o->cpus, "decimal", "Number of CPUs");
    t[n++] = OPT('c', "cpu-shares", BERTH_OPT_INT, &o->cpu_shares, "int",
                 "CPU shares (relative weight)");
    t[n++] = OPT(0, "cpu-period", BERTH_OPT_INT, &o->cpu_period, "int",
                 "Limit CPU CFS (Completely Fair Scheduler) period");
    t[n++] = OPT(0, "cpu-quota", BERTH_OPT_INT, &o->cpu_quota, "int",
                 "Limit CPU CFS (Completely Fair Scheduler) quota");
    t[n++] = OPT(0, "cpuset-cpus", BERTH_OPT_STRING, &o->cpuset_cpus, "string",
                 "CPUs in which to allow execution (0-3, 0,1)");
    t[n++] = OPT(0, "cpuset-mems", BERTH_OPT_STRING, &o->cpuset_mems, "string",
                 "MEMs in which to allow execution (0-3, 0,1)");
    t[n++] = OPT(0, "pids-limit", BERTH_OPT_INT, &o->pids_limit, "int",
                 "Tune container pids limit (set -1 for unlimited)");
    t[n++] = OPT(0, "restart", BERTH_OPT_STRING, &o->restart, "string",
                 "Restart policy to apply when a container exits (default \"no\")");
    t[n++] = OPT(0, "read-only", BERTH_OPT_BOOL, &o->read_only, NULL,
                 "Mount the container's root filesystem as read only");
    t[n++] = OPT(0, "tmpfs", BERTH_OPT_LIST, &o->tmpfs, "list", "Mount a tmpfs directory");
    t[n++] = OPT(0, "cap-add", BERTH_OPT_LIST, &o->cap_add, "list", "Add Linux capabilities");
    t[n++] = OPT(0, "cap-drop", BERTH_OPT_LIST, &o->cap_drop, "list", "Drop Linux capabilities");
    t[n++] = OPT(0, "privileged", BERTH_OPT_BOOL, &o->privileged, NULL,
                 "Give extended privileges to this container");
    t[n++] = OPT(0, "security-opt", BERTH_OPT_LIST, &o->security_opt, "list", "Security Options");
    t[n++] = OPT(0, "init", BERTH_OPT_BOOL, &o->init, NULL,
                 "Run an init inside the container that forwards signals and reaps processes");
    t[n++] = OPT(0, "ulimit", BERTH_OPT_LIST, &o->ulimit, "ulimit", "Ulimit options");
    t[n++] = OPT(0, "stop-signal", BERTH_OPT_STRING, &o->stop_signal, "string",
                 "Signal to stop the container");
    t[n++] = OPT(0, "stop-timeout", BERTH_OPT_INT, &o->stop_timeout, "int",
                 "Timeout (in seconds) to stop a container");
    t[n++] = OPT(0, "network", BERTH_OPT_STRING, &o->network, "network",
                 "Connect a container to a network");
    t[n++] =
        OPT(0, "net", BERTH_OPT_STRING, &o->network, "network", "Connect a container to a network");
    t[n++] = OPT(0, "dns", BERTH_OPT_LIST, &o->dns, "list", "Set custom DNS servers");
    t[n++] = OPT(0, "dns-search", BERTH_OPT_LIST, &o->dns_search, "list",
                 "Set custom DNS search domains");
    t[n++] = OPT(0, "dns-option", BERTH_OPT_LIST, &o->dns_option, "list", "Set DNS options");
    t[n++] = OPT(0, "add-host", BERTH_OPT_LIST, &o->add_host, "list",
                 "Add a custom host-to-IP mapping (host:ip)");
    t[n++] = OPT(0, "shm-size", BERTH_OPT_STRING, &o->shm_size, "bytes", "Size of /dev/shm");
    t[n++] =
        OPT(0, "group-add", BERTH_OPT_LIST, &o->group_add, "list", "Add additional groups to join");
    t[n++] = OPT('v', "volume", BERTH_OPT_LIST, &o->volume, "list", "Bind mount a volume");
    t[n++] = OPT(0, "mount", BERTH_OPT_LIST, &o->mount, "mount",
                 "Attach a filesystem mount to the container");
    t[n++] = OPT(0, "volumes-from", BERTH_OPT_LIST, &o->volumes_from, "list",
                 "Mount volumes from the specified container(s)");
    t[n++] = OPT(0, "oom-kill-disable", BERTH_OPT_BOOL, &o->oom_kill_disable, NULL,
                 "Disable OOM Killer");
    t[n++] = OPT(0, "oom-score-adj", BERTH_OPT_INT, &o->oom_score_adj, "int",
                 "Tune host's OOM preferences (-1000 to 1000)");
    t[n++] = OPT(0, "sysctl", BERTH_OPT_LIST, &o->sysctl, "map", "Sysctl options");
    t[n++] = OPT(0, "log-driver", BERTH_OPT_STRING, &o->log_driver, "string",
                 "Logging driver for the container");
    t[n++] = OPT(0, "log-opt", BERTH_OPT_LIST, &o->log_opt, "list", "Log driver options");
    t[n++] = OPT(0, "ipc", BERTH_OPT_STRING, &o->ipc, "string", "IPC mode to use");
    t[n++] = OPT(0, "pid", BERTH_OPT_STRING, &o->pid, "string", "PID namespace to use");
    t[n++] = OPT(0, "uts", BERTH_OPT_STRING, &o->uts, "string", "UTS namespace to use");
    t[n++] = OPT(0, "userns", BERTH_OPT_STRING, &o->userns, "string", "User namespace to use");
    t[n++] = OPT(0, "cgroupns", BERTH_OPT_STRING, &o->cgroupns, "string",
                 "Cgroup namespace to use (host|private)");
    t[n++] = OPT(0, "cgroup-parent", BERTH_OPT_STRING, &o->cgroup_parent, "string",
                 "Optional parent cgroup for the container");
    t[n++] = OPT(0, "runtime", BERTH_OPT_STRING, &o->runtime, "string",
                 "Runtime to use for this container");
    t[n++] =
        OPT(0, "expose", BERTH_OPT_LIST, &o->expose, "list", "Expose a port or a range of ports");
    return n;
}

void
berth_run_opts_seen(struct berth_run_opts *o, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (a[0] != '-')
            break; /* run and create stop at the image */
        if (!strncmp(a, "--entrypoint", 12) && (a[12] == '\0' || a[12] == '='))
            o->entrypoint_set = true;
        if (!strncmp(a, "--init", 6) && (a[6] == '\0' || a[6] == '='))
            o->init_set = true;
        if (!strncmp(a, "--stop-timeout", 14))
            o->stop_timeout_set = true;
        if (!strncmp(a, "--pids-limit", 12))
            o->pids_limit_set = true;
        if (!strncmp(a, "--memory-swappiness", 19))
            o->swappiness_set = true;
        /* skip the value of a flag given as two arguments */
        static const char *const with_value[] = {"--name",
                                                 "--pull",
                                                 "--platform",
                                                 "--cidfile",
                                                 "-a",
                                                 "--attach",
                                                 "-e",
                                                 "--env",
                                                 "--env-file",
                                                 "-w",
                                                 "--workdir",
                                                 "-u",
                                                 "--user",
                                                 "--entrypoint",
                                                 "-l",
                                                 "--label",
                                                 "--label-file",
                                                 "-h",
                                                 "--hostname",
                                                 "--domainname",
                                                 "-m",
                                                 "--memory",
                                                 "--memory-swap",
                                                 "--memory-reservation",
                                                 "--memory-swappiness",
                                                 "--cpus",
                                                 "-c",
                                                 "--cpu-shares",
                                                 "--cpu-period",
                                                 "--cpu-quota",
                                                 "--cpuset-cpus",
                                                 "--cpuset-mems",
                                                 "--pids-limit",
                                                 "--restart",
                                                 "--tmpfs",
                                                 "--cap-add",
                                                 "--cap-drop",
                                                 "--security-opt",
                                                 "--ulimit",
                                                 "--stop-signal",
                                                 "--stop-timeout",
                                                 "--network",
                                                 "--net",
                                                 "--dns",
                                                 "--dns-search",
                                                 "--dns-option",
                                                 "--add-host",
                                                 "--shm-size",
                                                 "--group-add",
                                                 "-v",
                                                 "--volume",
                                                 "--mount",
                                                 "--volumes-from",
                                                 "--oom-score-adj",
                                                 "--sysctl",
                                                 "--log-driver",
                                                 "--log-opt",
                                                 "--ipc",
                                                 "--pid",
                                                 "--uts",
                                                 "--userns",
                                                 "--cgroupns",
                                                 "--cgroup-parent",
                                                 "--runtime",
                                                 "--expose",
                                                 "--detach-keys"};
        for (size_t k = 0; k < BERTH_ARRAY_SIZE(with_value); k++)
            if (!strcmp(a, with_value[k])) {
                i++;
                break;
            }
    }
}

void
berth_run_opts_clear(struct berth_run_opts *o)
{
    char ***lists[] = {&o->attach,       &o->env,      &o->env_file,  &o->label,
                       &o->label_file,   &o->tmpfs,    &o->cap_add,   &o->cap_drop,
                       &o->security_opt, &o->ulimit,   &o->dns,       &o->dns_search,
                       &o->dns_option,   &o->add_host, &o->group_add, &o->volume,
                       &o->mount,        &o->sysctl,   &o->log_opt,   &o->volumes_from,
                       &o->expose};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(lists); i++) {
        berth_strv_free(*lists[i]);
        *lists[i] = NULL;
    }
}

/* ---- value parsers ---- */

bool
berth_ram_in_bytes(const char *s, long long *ret)
{
    /* ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ */
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    while (*p == '.' && isdigit((unsigned char)p[1])) {
        p++;
        while (isdigit((unsigned char)*p))
            p++;
    }
    _cleanup_free_ char *num = strndup(s, (size_t)(p - s));
    if (!num)
        return false;
    if (*p == ' ')
        p++;
    double mult = 1;
    const char *units = "kmgtp";
    const char *u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
    if (u) {
        for (const char *x = units; x <= u; x++)
            mult *= 1024;
        p++;
    }
    if (*p == 'i' || *p == 'I')
        p++;
    if (*p == 'b' || *p == 'B')
        p++;
    if (*p)
        return false;
    double v = strtod(num, NULL);
    *ret = (long long)(v * mult);
    return true;
}

bool
berth_nano_cpus(const char *s, long long *ret)
{
    /* big.Rat's SetString for decimals: [+-]digits[.digits] */
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = false;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits = true;
        }
    }
    if (!digits || *p)
        return false;
    /* exact: integer part * 1e9 + at most 9 fraction digits (more would be "too precise") */
    const char *q = s;
    bool neg = *q == '-';
    if (*q == '+' || *q == '-')
        q++;
    long long v = 0;
    while (isdigit((unsigned char)*q) && v < 1000000000LL)
        v = v * 10 + (*q++ - '0');
    v *= 1000000000LL;
    if (*q == '.') {
        q++;
        long long scale = 100000000LL;
        while (isdigit((unsigned char)*q) && scale > 0) {
            v += (*q++ - '0') * scale;
            scale /= 10;
        }
    }
    *ret = neg ? -v : v;
    return true;
}

int
berth_parse_env_file(const char *path, char ***env, struct berth_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (berth_read_file(path, 16 * 1024 * 1024, &text, &len, NULL) < 0) {
        int e = errno ? errno : ENOENT;
        char msg[128];
        snprintf(msg, sizeof(msg), "%s", strerror(e));
        msg[0] = (char)tolower((unsigned char)msg[0]);
        return berth_error_setq(err, e, "open %s: %s", path, msg);
    }
    char *save = NULL;
    int lineno = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        while (*line == ' ' || *line == '\t')
            line++;
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == '\r')
            line[--l] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *eq = strchr(line, '=');
        size_t kl = eq ? (size_t)(eq - line) : l;
        if (kl == 0)
            return berth_error_setq(err, EINVAL, "no variable name on line '%s'", line);
        for (size_t i = 0; i < kl; i++)
            if (isspace((unsigned char)line[i]))
                return berth_error_setq(err, EINVAL, "variable '%.*s' contains whitespaces",
                                        (int)kl, line);
        if (eq) {
            berth_strv_push(env, line);
            continue;
        }
        const char *v = getenv(line);
        if (v) {
            _cleanup_free_ char *kv = NULL;
            if (asprintf(&kv, "%s=%s", line, v) >= 0)
                berth_strv_push(env, kv);
        }
    }
    return 0;
}

/* pflag's "invalid argument" message for a flag value */
static int
flag_error(struct berth_error **err, bool *is_usage, const char *flag, const char *value,
           const char *why)
{
    *is_usage = true;
    return berth_error_setq(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag: %s", value, flag,
                            why);
}

static int
mem_flag(const char *v, const char *flag, long long *ret, bool *is_usage, struct berth_error **err)
{
    *ret = 0;
    if (!v)
        return 0;
    if (!berth_ram_in_bytes(v, ret)) {
        char why[256];
        snprintf(why, sizeof(why), "invalid size: '%s'", v);
        return flag_error(err, is_usage, flag, v, why);
    }
    return 0;
}

static json_t *
strv_json(char **v, bool null_when_empty)
{
    if (!v && null_when_empty)
        return json_null();
    json_t *a = json_array();
    for (char **p = v; p && *p; p++)
        json_array_append_new(a, json_string(*p));
    return a;
}

/* "k=v" items into an object; a bare "k" is k="" */
static json_t *
kv_json(char **v)
{
    json_t *o = json_object();
    for (char **p = v; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        _cleanup_free_ char *k = strndup(*p, eq ? (size_t)(eq - *p) : strlen(*p));
        if (k)
            json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
    }
    return o;
}

static char *
cap_name(const char *c)
{
    _cleanup_free_ char *up = strdup(c);
    if (!up)
        return NULL;
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (!strcmp(up, "ALL") || !strncmp(up, "CAP_", 4))
        return TAKE_PTR(up);
    char *r = NULL;
    if (asprintf(&r, "CAP_%s", up) < 0)
        return NULL;
    return r;
}

static int
parse_security_opts(char **in, json_t *out, struct berth_error **err)
{
    for (char **p = in; p && *p; p++) {
        const char *opt = *p;
        const char *sep = strchr(opt, '=');
        if (!sep)
            sep = strchr(opt, ':');
        if (!sep) {
            if (!strcmp(opt, "no-new-privileges")) {
                json_array_append_new(out, json_string(opt));
                continue;
            }
            return berth_error_setq(err, EINVAL, "Invalid --security-opt: \"%s\"", opt);
        }
        size_t kl = (size_t)(sep - opt);
        if (kl == 7 && !strncmp(opt, "seccomp", 7) && strcmp(sep + 1, "unconfined") &&
            strcmp(sep + 1, "builtin")) {
            _cleanup_free_ char *text = NULL;
            size_t len;
            if (berth_read_file(sep + 1, 4 * 1024 * 1024, &text, &len, NULL) < 0) {
                char msg[128];
                snprintf(msg, sizeof(msg), "%s", strerror(errno ? errno : ENOENT));
                msg[0] = (char)tolower((unsigned char)msg[0]);
                return berth_error_setq(err, EINVAL,
                                        "opening seccomp profile (%s) failed: open %s: %s", sep + 1,
                                        sep + 1, msg);
            }
            _cleanup_strbuf_ struct berth_strbuf compact = {0};
            struct berth_error *e = NULL;
            if (berth_json_compact(text, len, &compact, &e) < 0) {
                int r = berth_error_setq(err, EINVAL,
                                         "compacting json for seccomp profile (%s) failed: %s",
                                         sep + 1, e ? e->msg : "invalid JSON");
                berth_error_free(e);
                return r;
            }
            _cleanup_free_ char *v = NULL;
            if (asprintf(&v, "seccomp=%s", berth_strbuf_str(&compact)) < 0)
                return berth_error_set(err, ENOMEM, "security options");
            json_array_append_new(out, json_string(v));
            continue;
        }
        json_array_append_new(out, json_string(opt));
    }
    return 0;
}

static int
parse_ulimits(char **in, json_t *out, bool *is_usage, struct berth_error **err)
{
    for (char **p = in; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        char why[256];
        if (!eq) {
            snprintf(why, sizeof(why), "invalid ulimit argument: %s", *p);
            return flag_error(err, is_usage, "--ulimit", *p, why);
        }
        _cleanup_free_ char *name = strndup(*p, (size_t)(eq - *p));
        const char *colon = strchr(eq + 1, ':');
        if (colon && strchr(colon + 1, ':')) {
            snprintf(why, sizeof(why),
                     "too many limit value arguments - %s, can only have up to two, "
                     "`soft[:hard]`",
                     eq + 1);
            return flag_error(err, is_usage, "--ulimit", *p, why);
        }
        _cleanup_free_ char *sv =
            strndup(eq + 1, colon ? (size_t)(colon - eq - 1) : strlen(eq + 1));
        const char *hv = colon ? colon + 1 : NULL;
        char *end = NULL;
        errno = 0;
        long long soft = sv ? strtoll(sv, &end, 10) : 0, hard = soft;
        if (!sv || !sv[0] || *end || errno) {
            snprintf(why, sizeof(why), "strconv.ParseInt: parsing \"%s\": invalid syntax",
                     sv ? sv : "");
            return flag_error(err, is_usage, "--ulimit", *p, why);
        }
        if (hv) {
            hard = strtoll(hv, &end, 10);
            if (!hv[0] || *end) {
                snprintf(why, sizeof(why), "strconv.ParseInt: parsing \"%s\": invalid syntax", hv);
                return flag_error(err, is_usage, "--ulimit", *p, why);
            }
        }
        if (soft > hard) {
            snprintf(why, sizeof(why),
                     "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                     soft, hard);
            return flag_error(err, is_usage, "--ulimit", *p, why);
        }
        json_array_append_new(out, json_pack("{s:s, s:I, s:I}", "Name", name ? name : "", "Hard",
                                             (json_int_t)hard, "Soft", (json_int_t)soft));
    }
    return 0;
}

/* --mount type=bind|tmpfs|volume,src=,dst=,readonly,... (docker's opts.MountOpt) */
static int
parse_mount(const char *spec, json_t *mounts, bool *is_usage, struct berth_error **err)
{
    _cleanup_free_ char *copy = strdup(spec);
    if (!copy)
        return berth_error_set(err, ENOMEM, "mount");
    json_t *m = json_object();
    json_t *bind = NULL, *tmpfs = NULL;
    const char *type = "volume";
    char *save = NULL;
    char why[512];
    int r = 0;
    for (char *kv = strtok_r(copy, ",", &save); kv && r == 0; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        const char *k = kv, *v = eq ? eq + 1 : NULL;
        if (eq)
            *eq = '\0';
        if (!v) {
            if (!strcasecmp(k, "readonly") || !strcasecmp(k, "ro")) {
                json_object_set_new(m, "ReadOnly", json_true());
                continue;
            }
            snprintf(why, sizeof(why), "invalid field '%s' must be a key=value pair", k);
            r = flag_error(err, is_usage, "--mount", spec, why);
            break;
        }
        if (!strcasecmp(k, "type"))
            type = v;
        else if (!strcasecmp(k, "source") || !strcasecmp(k, "src"))
            json_object_set_new(m, "Source", json_string(v));
        else if (!strcasecmp(k, "target") || !strcasecmp(k, "dst") || !strcasecmp(k, "destination"))
            json_object_set_new(m, "Target", json_string(v));
        else if (!strcasecmp(k, "readonly") || !strcasecmp(k, "ro"))
            json_object_set_new(m, "ReadOnly",
                                json_boolean(!strcasecmp(v, "true") || !strcmp(v, "1")));
        else if (!strcasecmp(k, "bind-propagation")) {
            if (!bind)
                bind = json_object();
            json_object_set_new(bind, "Propagation", json_string(v));
        } else if (!strcasecmp(k, "tmpfs-size")) {
            long long sz;
            if (!berth_ram_in_bytes(v, &sz)) {
                snprintf(why, sizeof(why), "invalid value for %s: %s", k, v);
                r = flag_error(err, is_usage, "--mount", spec, why);
                break;
            }
            if (!tmpfs)
                tmpfs = json_object();
            json_object_set_new(tmpfs, "SizeBytes", json_integer(sz));
        } else if (!strcasecmp(k, "tmpfs-mode")) {
            char *end;
            long mode = strtol(v, &end, 8);
            if (*end || !v[0]) {
                snprintf(why, sizeof(why), "invalid value for %s: %s", k, v);
                r = flag_error(err, is_usage, "--mount", spec, why);
                break;
            }
            if (!tmpfs)
                tmpfs = json_object();
            json_object_set_new(tmpfs, "Mode", json_integer(mode));
        } else if (!strcasecmp(k, "consistency")) {
            json_object_set_new(m, "Consistency", json_string(v));
        } else {
            snprintf(why, sizeof(why), "unexpected key '%s' in '%s'", k, kv);
            r = flag_error(err, is_usage, "--mount", spec, why);
        }
    }
    if (r == 0 && !json_object_get(m, "Target")) {
        r = flag_error(err, is_usage, "--mount", spec, "target is required");
    }
    if (r < 0) {
        json_decref(m);
        json_decref(bind);
        json_decref(tmpfs);
        return r;
    }
    /* docker's key order: Type, Source, Target, ReadOnly, Consistency, BindOptions,
     * TmpfsOptions */
    json_t *out = json_pack("{s:s}", "Type", type);
    const char *keys[] = {"Source", "Target", "ReadOnly", "Consistency"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
        if (json_object_get(m, keys[i]))
            json_object_set(out, keys[i], json_object_get(m, keys[i]));
    if (bind)
        json_object_set_new(out, "BindOptions", bind);
    if (tmpfs)
        json_object_set_new(out, "TmpfsOptions", tmpfs);
    json_decref(m);
    json_array_append_new(mounts, out);
    return 0;
}

static int
parse_restart(const char *s, json_t **ret, struct berth_error **err)
{
    const char *colon = strchr(s, ':');
    _cleanup_free_ char *name = strndup(s, colon ? (size_t)(colon - s) : strlen(s));
    long long max = 0;
    if (!name)
        return berth_error_set(err, ENOMEM, "restart");
    if (colon) {
        char *end;
        max = strtoll(colon + 1, &end, 10);
        if (!colon[1] || *end)
            return berth_error_setq(err, EINVAL,
                                    "invalid restart policy format: maximum retry "
                                    "count must be an integer");
        if (strcmp(name, "on-failure"))
            return berth_error_setq(err, EINVAL,
                                    "invalid restart policy format: maximum retry count can "
                                    "only be used with 'on-failure'");
    }
    if (!name[0])
        return berth_error_setq(err, EINVAL,
                                "invalid restart policy format: no policy provided "
                                "before colon");
    *ret = json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t)max);
    return 0;
}

static json_t *
endpoint_settings(void)
{
    return json_pack("{s:n, s:n, s:n, s:s, s:n, s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, "
                     "s:n}",
                     "IPAMConfig", "Links", "Aliases", "MacAddress", "", "DriverOpts", "GwPriority",
                     0, "NetworkID", "", "EndpointID", "", "Gateway", "", "IPAddress", "",
                     "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "",
                     "GlobalIPv6PrefixLen", 0, "DNSNames");
}

int
berth_run_opts_build(struct berth_cli *cli, struct berth_run_opts *o, const char *image, char **cmd,
                     int ncmd, json_t **ret, bool *is_usage, struct berth_error **err)
{
    *is_usage = false;
    bool a_in = false, a_out = false, a_err = false;
    for (char **p = o->attach; p && *p; p++) {
        if (!strcasecmp(*p, "stdin"))
            a_in = true;
        else if (!strcasecmp(*p, "stdout"))
            a_out = true;
        else if (!strcasecmp(*p, "stderr"))
            a_err = true;
        else
            return flag_error(err, is_usage, "-a, --attach", *p,
                              "valid streams are STDIN, STDOUT and STDERR");
    }
    if (o->interactive)
        a_in = true;
    if (!o->attach) {
        a_out = true;
        a_err = true;
    }
    long long memory, swap = 0, reservation, shm, nano = 0;
    int r;
    if ((r = mem_flag(o->memory, "-m, --memory", &memory, is_usage, err)) < 0 ||
        (r = mem_flag(o->memory_reservation, "--memory-reservation", &reservation, is_usage, err)) <
            0 ||
        (r = mem_flag(o->shm_size, "--shm-size", &shm, is_usage, err)) < 0)
        return r;
    if (o->memory_swap) {
        if (!strcmp(o->memory_swap, "-1"))
            swap = -1;
        else if ((r = mem_flag(o->memory_swap, "--memory-swap", &swap, is_usage, err)) < 0)
            return r;
    }
    if (o->cpus && !berth_nano_cpus(o->cpus, &nano)) {
        char why[256];
        snprintf(why, sizeof(why), "failed to parse %s as a rational number", o->cpus);
        return flag_error(err, is_usage, "--cpus", o->cpus, why);
    }
    if (o->rm && o->restart && strcmp(o->restart, "no") && o->restart[0])
        return berth_error_setq(err, EINVAL, "Conflicting options: --restart and --rm");
    /* environment: env files first, then -e */
    _cleanup_strv_ char **env = NULL;
    for (char **p = o->env_file; p && *p; p++)
        if ((r = berth_parse_env_file(*p, &env, err)) < 0)
            return r;
    for (char **p = o->env; p && *p; p++) {
        if (strchr(*p, '=') || !getenv(*p)) {
            berth_strv_push(&env, *p);
            continue;
        }
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", *p, getenv(*p)) >= 0)
            berth_strv_push(&env, kv);
    }
    _cleanup_strv_ char **labels = NULL;
    for (char **p = o->label_file; p && *p; p++)
        if ((r = berth_parse_env_file(*p, &labels, err)) < 0)
            return r;
    for (char **p = o->label; p && *p; p++)
        berth_strv_push(&labels, *p);

    json_t *host = json_object();
    json_t *cfg = json_object();
    *ret = cfg;
    json_object_set_new(cfg, "Hostname", json_string(o->hostname ? o->hostname : ""));
    json_object_set_new(cfg, "Domainname", json_string(o->domainname ? o->domainname : ""));
    json_object_set_new(cfg, "User", json_string(o->user ? o->user : ""));
    json_object_set_new(cfg, "AttachStdin", json_boolean(a_in));
    json_object_set_new(cfg, "AttachStdout", json_boolean(a_out));
    json_object_set_new(cfg, "AttachStderr", json_boolean(a_err));
    if (o->expose) {
        json_t *ports = json_object();
        for (char **p = o->expose; *p; p++) {
            _cleanup_free_ char *k = NULL;
            if (asprintf(&k, "%s%s", *p, strchr(*p, '/') ? "" : "/tcp") >= 0)
                json_object_set_new(ports, k, json_object());
        }
        json_object_set_new(cfg, "ExposedPorts", ports);
    }
    json_object_set_new(cfg, "Tty", json_boolean(o->tty));
    json_object_set_new(cfg, "OpenStdin", json_boolean(o->interactive));
    json_object_set_new(cfg, "StdinOnce", json_boolean(a_in));
    json_object_set_new(cfg, "Env", strv_json(env, true));
    json_t *jcmd = ncmd > 0 ? json_array() : json_null();
    for (int i = 0; i < ncmd; i++)
        json_array_append_new(jcmd, json_string(cmd[i]));
    json_object_set_new(cfg, "Cmd", jcmd);
    json_object_set_new(cfg, "Image", json_string(image));
    json_t *vols = json_object();
    _cleanup_strv_ char **binds = NULL;
    for (char **p = o->volume; p && *p; p++) {
        if (strchr(*p, ':'))
            berth_strv_push(&binds, *p);
        else
            json_object_set_new(vols, *p, json_object());
    }
    json_object_set_new(cfg, "Volumes", vols);
    json_object_set_new(cfg, "WorkingDir", json_string(o->workdir ? o->workdir : ""));
    json_t *ep = json_null();
    if (o->entrypoint && o->entrypoint[0])
        ep = json_pack("[s]", o->entrypoint);
    else if (o->entrypoint_set)
        ep = json_pack("[s]", "");
    json_object_set_new(cfg, "Entrypoint", ep);
    json_object_set_new(cfg, "OnBuild", json_null());
    json_object_set_new(cfg, "Labels", kv_json(labels));
    if (o->stop_signal && o->stop_signal[0])
        json_object_set_new(cfg, "StopSignal", json_string(o->stop_signal));
    if (o->stop_timeout_set)
        json_object_set_new(cfg, "StopTimeout", json_integer(o->stop_timeout));
    json_object_set_new(cfg, "HostConfig", host);

    json_object_set_new(host, "Binds", strv_json(binds, true));
    json_object_set_new(host, "ContainerIDFile", json_string(o->cidfile ? o->cidfile : ""));
    json_object_set_new(host, "LogConfig",
                        json_pack("{s:s, s:o}", "Type", o->log_driver ? o->log_driver : "",
                                  "Config", kv_json(o->log_opt)));
    const char *net = o->network && o->network[0] ? o->network : "default";
    json_object_set_new(host, "NetworkMode", json_string(net));
    json_object_set_new(host, "PortBindings", json_object());
    json_t *restart = NULL;
    if ((r = parse_restart(o->restart && o->restart[0] ? o->restart : "no", &restart, err)) < 0)
        goto fail;
    json_object_set_new(host, "RestartPolicy", restart);
    json_object_set_new(host, "AutoRemove", json_boolean(o->rm));
    json_object_set_new(host, "VolumeDriver", json_string(""));
    json_object_set_new(host, "VolumesFrom", strv_json(o->volumes_from, true));
    unsigned rows = 0, cols = 0;
    if (!berth_tty_size(fileno(cli->out), &rows, &cols))
        rows = cols = 0;
    json_object_set_new(host, "ConsoleSize",
                        json_pack("[I, I]", (json_int_t)rows, (json_int_t)cols));
    json_t *caps = o->cap_add ? json_array() : json_null();
    for (char **p = o->cap_add; p && *p; p++) {
        char *c = cap_name(*p);
        json_array_append_new(caps, json_string(c ? c : *p));
        free(c);
    }
    json_object_set_new(host, "CapAdd", caps);
    caps = o->cap_drop ? json_array() : json_null();
    for (char **p = o->cap_drop; p && *p; p++) {
        char *c = cap_name(*p);
        json_array_append_new(caps, json_string(c ? c : *p));
        free(c);
    }
    json_object_set_new(host, "CapDrop", caps);
    json_object_set_new(host, "CgroupnsMode", json_string(o->cgroupns ? o->cgroupns : ""));
    json_object_set_new(host, "Dns", strv_json(o->dns, false));
    json_object_set_new(host, "DnsOptions", strv_json(o->dns_option, false));
    json_object_set_new(host, "DnsSearch", strv_json(o->dns_search, false));
    json_object_set_new(host, "ExtraHosts", strv_json(o->add_host, true));
    json_object_set_new(host, "GroupAdd", strv_json(o->group_add, true));
    json_object_set_new(host, "IpcMode", json_string(o->ipc ? o->ipc : ""));
    json_object_set_new(host, "Cgroup", json_string(""));
    json_object_set_new(host, "Links", json_null());
    json_object_set_new(host, "OomScoreAdj", json_integer(o->oom_score_adj));
    json_object_set_new(host, "PidMode", json_string(o->pid ? o->pid : ""));
    json_object_set_new(host, "Privileged", json_boolean(o->privileged));
    json_object_set_new(host, "PublishAllPorts", json_false());
    json_object_set_new(host, "ReadonlyRootfs", json_boolean(o->read_only));
    json_t *secopts = o->security_opt ? json_array() : json_null();
    if (o->security_opt && (r = parse_security_opts(o->security_opt, secopts, err)) < 0) {
        json_decref(secopts);
        goto fail;
    }
    json_object_set_new(host, "SecurityOpt", secopts);
    if (o->tmpfs) {
        json_t *t = json_object();
        for (char **p = o->tmpfs; *p; p++) {
            const char *colon = strchr(*p, ':');
            _cleanup_free_ char *k = strndup(*p, colon ? (size_t)(colon - *p) : strlen(*p));
            if (k)
                json_object_set_new(t, k, json_string(colon ? colon + 1 : ""));
        }
        json_object_set_new(host, "Tmpfs", t);
    }
    json_object_set_new(host, "UTSMode", json_string(o->uts ? o->uts : ""));
    json_object_set_new(host, "UsernsMode", json_string(o->userns ? o->userns : ""));
    json_object_set_new(host, "ShmSize", json_integer(shm));
    if (o->sysctl)
        json_object_set_new(host, "Sysctls", kv_json(o->sysctl));
    if (o->runtime)
        json_object_set_new(host, "Runtime", json_string(o->runtime));
    json_object_set_new(host, "Isolation", json_string(""));
    json_object_set_new(host, "CpuShares", json_integer(o->cpu_shares));
    json_object_set_new(host, "Memory", json_integer(memory));
    json_object_set_new(host, "NanoCpus", json_integer(nano));
    json_object_set_new(host, "CgroupParent",
                        json_string(o->cgroup_parent ? o->cgroup_parent : ""));
    json_object_set_new(host, "BlkioWeight", json_integer(0));
    static const char *const empty_lists[] = {"BlkioWeightDevice", "BlkioDeviceReadBps",
                                              "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                                              "BlkioDeviceWriteIOps"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(empty_lists); i++)
        json_object_set_new(host, empty_lists[i], json_array());
    json_object_set_new(host, "CpuPeriod", json_integer(o->cpu_period));
    json_object_set_new(host, "CpuQuota", json_integer(o->cpu_quota));
    json_object_set_new(host, "CpuRealtimePeriod", json_integer(0));
    json_object_set_new(host, "CpuRealtimeRuntime", json_integer(0));
    json_object_set_new(host, "CpusetCpus", json_string(o->cpuset_cpus ? o->cpuset_cpus : ""));
    json_object_set_new(host, "CpusetMems", json_string(o->cpuset_mems ? o->cpuset_mems : ""));
    json_object_set_new(host, "Devices", json_array());
    json_object_set_new(host, "DeviceCgroupRules", json_null());
    json_object_set_new(host, "DeviceRequests", json_null());
    json_object_set_new(host, "MemoryReservation", json_integer(reservation));
    json_object_set_new(host, "MemorySwap", json_integer(swap));
    json_object_set_new(host, "MemorySwappiness", json_integer(o->memory_swappiness));
    json_object_set_new(host, "OomKillDisable", json_boolean(o->oom_kill_disable));
    json_object_set_new(host, "PidsLimit", json_integer(o->pids_limit));
    json_t *ul = json_array();
    if ((r = parse_ulimits(o->ulimit, ul, is_usage, err)) < 0) {
        json_decref(ul);
        goto fail;
    }
    json_object_set_new(host, "Ulimits", ul);
    json_object_set_new(host, "CpuCount", json_integer(0));
    json_object_set_new(host, "CpuPercent", json_integer(0));
    json_object_set_new(host, "IOMaximumIOps", json_integer(0));
    json_object_set_new(host, "IOMaximumBandwidth", json_integer(0));
    if (o->mount) {
        json_t *mounts = json_array();
        json_object_set_new(host, "Mounts", mounts);
        for (char **p = o->mount; *p; p++)
            if ((r = parse_mount(*p, mounts, is_usage, err)) < 0)
                goto fail;
    }
    json_object_set_new(host, "MaskedPaths", json_null());
    json_object_set_new(host, "ReadonlyPaths", json_null());
    if (o->init_set)
        json_object_set_new(host, "Init", json_boolean(o->init));
    json_t *eps = json_object();
    if (strcmp(net, "none") && strcmp(net, "host") && strncmp(net, "container:", 10))
        json_object_set_new(eps, net, endpoint_settings());
    json_object_set_new(cfg, "NetworkingConfig", json_pack("{s:o}", "EndpointsConfig", eps));
    return 0;
fail:
    json_decref(cfg);
    *ret = NULL;
    return r;
}
