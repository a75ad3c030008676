/* berth-runtime: an OCI runtime with runc's command line. Parses arguments, calls the library,
 * prints the one error line (stderr and --log) that engines read. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "runtime/cloned_binary.h"
#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/state.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

extern char **environ;

struct globals {
    const char *root;
    const char *log;
    const char *log_format;
    bool debug;
    bool systemd_cgroup;
    char **argv; /* the full command line, to re-exec from the sealed copy */
};

/* A command-line option: accepted as --name, -name, --name=value, -name value (urfave/cli
 * style, which containerd and docker rely on), plus a one-letter alias. */
struct opt {
    const char *name;
    char alias;
    bool takes_value;
    const char **value; /* for options with a value; repeated ones go to list */
    char ***list;
    bool *flag;
};

static int
parse_opts(int argc, char **argv, int start, struct opt *opts, int *ret_next,
           struct berth_error **err)
{
    int i = start;
    for (; i < argc; i++) {
        char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        struct opt *o = NULL;
        for (struct opt *p = opts; p && p->name; p++)
            if ((strlen(p->name) == nl && !strncmp(p->name, name, nl)) ||
                (nl == 1 && p->alias && p->alias == name[0]))
                o = p;
        if (!o)
            return berth_error_setq(err, EINVAL, "flag provided but not defined: %s", a);
        if (o->takes_value) {
            const char *v = eq ? eq + 1 : NULL;
            if (!v) {
                if (i + 1 >= argc)
                    return berth_error_setq(err, EINVAL, "flag needs an argument: %s", a);
                v = argv[++i];
            }
            if (o->list)
                berth_strv_push(o->list, v);
            else
                *o->value = v;
        } else {
            bool val = true;
            if (eq)
                val = !strcmp(eq + 1, "true") || !strcmp(eq + 1, "1");
            *o->flag = val;
        }
    }
    *ret_next = i;
    return 0;
}

static int
need_args(int have, int want, const char *cmd, struct berth_error **err)
{
    if (have < want)
        return berth_error_setq(err, EINVAL, "\"%s\" requires a minimum of %d argument%s", cmd,
                                want, want == 1 ? "" : "s");
    return 0;
}

static int
int_opt(const char *s, const char *name, int *ret, struct berth_error **err)
{
    int64_t v;
    if (!s)
        return 0;
    if (!berth_parse_i64(s, &v) || v < 0 || v > 65536)
        return berth_error_setq(err, EINVAL, "invalid value \"%s\" for --%s", s, name);
    *ret = (int)v;
    return 0;
}

static char *
absolute(const char *path)
{
    if (!path || !*path)
        path = ".";
    char *r = realpath(path, NULL);
    return r ? r : strdup(path);
}

static int
cmd_create_or_run(struct globals *g, const char *cmd, int argc, char **argv, int *exit_code,
                  struct berth_error **err)
{
    const char *bundle = NULL, *pid_file = NULL, *console = NULL, *preserve = NULL;
    bool no_pivot = false, no_keyring = false, detach = false, keep = false, no_subreaper = false;
    struct opt opts[] = {
        {"bundle", 'b', true, &bundle, NULL, NULL},
        {"pid-file", 0, true, &pid_file, NULL, NULL},
        {"console-socket", 0, true, &console, NULL, NULL},
        {"preserve-fds", 0, true, &preserve, NULL, NULL},
        {"no-pivot", 0, false, NULL, NULL, &no_pivot},
        {"no-new-keyring", 0, false, NULL, NULL, &no_keyring},
        {"detach", 'd', false, NULL, NULL, &detach},
        {"keep", 0, false, NULL, NULL, &keep},
        {"no-subreaper", 0, false, NULL, NULL, &no_subreaper},
        {NULL, 0, false, NULL, NULL, NULL},
    };
    int next, r;
    if ((r = parse_opts(argc, argv, 0, opts, &next, err)) < 0 ||
        (r = need_args(argc - next, 1, cmd, err)) < 0)
        return r;
    struct berth_create_opts o = {.root = g->root,
                                  .id = argv[next],
                                  .no_pivot = no_pivot,
                                  .no_new_keyring = no_keyring,
                                  .systemd_cgroup = g->systemd_cgroup,
                                  .detach = detach,
                                  .keep = keep};
    if ((r = int_opt(preserve, "preserve-fds", &o.preserve_fds, err)) < 0)
        return r;
    _cleanup_free_ char *b = absolute(bundle);
    _cleanup_free_ char *pf = pid_file ? absolute(pid_file) : NULL;
    o.bundle = b;
    o.pid_file = pid_file ? pf : NULL;
    o.console_socket = console;
    if (pid_file && pf && strcmp(pf, pid_file) && pid_file[0] != '/') {
        /* realpath fails for a file that does not exist yet: resolve its directory */
        char *slash = strrchr(pid_file, '/');
        _cleanup_free_ char *dir =
            slash ? strndup(pid_file, (size_t)(slash - pid_file)) : strdup(".");
        _cleanup_free_ char *absdir = absolute(dir);
        free(pf);
        if (asprintf(&pf, "%s/%s", absdir, slash ? slash + 1 : pid_file) < 0)
            pf = NULL;
        o.pid_file = pf;
    }
    if (berth_ensure_cloned_binary(g->argv, environ, err) < 0)
        return -1;
    if (!strcmp(cmd, "create"))
        return berth_container_create(&o, err);
    return berth_container_run(&o, exit_code, err);
}

static int
cmd_exec(struct globals *g, int argc, char **argv, int *exit_code, struct berth_error **err)
{
    struct berth_exec_opts o = {.root = g->root};
    const char *preserve = NULL, *process = NULL, *cwd = NULL, *user = NULL, *pid_file = NULL,
               *console = NULL, *apparmor = NULL, *label = NULL, *cgroup = NULL;
    _cleanup_strv_ char **env = NULL, **caps = NULL, **gids = NULL;
    bool tty = false, detach = false, nnp = false, ignore_paused = false;
    struct opt opts[] = {
        {"process", 'p', true, &process, NULL, NULL},
        {"cwd", 0, true, &cwd, NULL, NULL},
        {"env", 'e', true, NULL, &env, NULL},
        {"user", 'u', true, &user, NULL, NULL},
        {"additional-gids", 'g', true, NULL, &gids, NULL},
        {"cap", 'c', true, NULL, &caps, NULL},
        {"pid-file", 0, true, &pid_file, NULL, NULL},
        {"console-socket", 0, true, &console, NULL, NULL},
        {"preserve-fds", 0, true, &preserve, NULL, NULL},
        {"apparmor", 0, true, &apparmor, NULL, NULL},
        {"process-label", 0, true, &label, NULL, NULL},
        {"cgroup", 0, true, &cgroup, NULL, NULL},
        {"tty", 't', false, NULL, NULL, &tty},
        {"detach", 'd', false, NULL, NULL, &detach},
        {"no-new-privs", 0, false, NULL, NULL, &nnp},
        {"ignore-paused", 0, false, NULL, NULL, &ignore_paused},
        {NULL, 0, false, NULL, NULL, NULL},
    };
    int next, r;
    if ((r = parse_opts(argc, argv, 0, opts, &next, err)) < 0 ||
        (r = need_args(argc - next, 1, "exec", err)) < 0)
        return r;
    if ((r = int_opt(preserve, "preserve-fds", &o.preserve_fds, err)) < 0)
        return r;
    o.id = argv[next];
    o.args = argv + next + 1;
    o.process_path = process;
    o.env = env;
    o.caps = caps;
    o.additional_gids = gids;
    o.cwd = cwd;
    o.user = user;
    o.pid_file = pid_file;
    o.console_socket = console;
    o.tty = tty;
    o.detach = detach;
    o.no_new_privs = nnp;
    o.ignore_paused = ignore_paused;
    if (!process && !o.args[0])
        return berth_error_setq(err, EINVAL, "exec: a command is required (or --process)");
    if (berth_ensure_cloned_binary(g->argv, environ, err) < 0)
        return -1;
    return berth_container_exec(&o, exit_code, err);
}

/* update's flags, as runc names them. */
static int
cmd_update(struct globals *g, int argc, char **argv, struct berth_error **err)
{
    const char *resources = NULL, *memory = NULL, *swap = NULL, *reservation = NULL, *kernel = NULL,
               *kernel_tcp = NULL, *shares = NULL, *quota = NULL, *period = NULL, *cpus = NULL,
               *mems = NULL, *pids = NULL, *blkio = NULL, *rt_period = NULL, *rt_runtime = NULL,
               *l3 = NULL, *mem_bw = NULL;
    struct opt opts[] = {
        {"resources", 'r', true, &resources, NULL, NULL},
        {"memory", 0, true, &memory, NULL, NULL},
        {"memory-swap", 0, true, &swap, NULL, NULL},
        {"memory-reservation", 0, true, &reservation, NULL, NULL},
        {"kernel-memory", 0, true, &kernel, NULL, NULL},
        {"kernel-memory-tcp", 0, true, &kernel_tcp, NULL, NULL},
        {"cpu-shares", 0, true, &shares, NULL, NULL},
        {"cpu-quota", 0, true, &quota, NULL, NULL},
        {"cpu-period", 0, true, &period, NULL, NULL},
        {"cpu-rt-period", 0, true, &rt_period, NULL, NULL},
        {"cpu-rt-runtime", 0, true, &rt_runtime, NULL, NULL},
        {"cpuset-cpus", 0, true, &cpus, NULL, NULL},
        {"cpuset-mems", 0, true, &mems, NULL, NULL},
        {"pids-limit", 0, true, &pids, NULL, NULL},
        {"blkio-weight", 0, true, &blkio, NULL, NULL},
        {"l3-cache-schema", 0, true, &l3, NULL, NULL},
        {"mem-bw-schema", 0, true, &mem_bw, NULL, NULL},
        {NULL, 0, false, NULL, NULL, NULL},
    };
    int next, r;
    if ((r = parse_opts(argc, argv, 0, opts, &next, err)) < 0 ||
        (r = need_args(argc - next, 1, "update", err)) < 0)
        return r;
    struct berth_spec_resources res = {0};
    if (resources) {
        if ((r = berth_cmd_update_parse(resources, &res, err)) < 0)
            goto out;
    }
    struct {
        const char *text, *name;
        struct berth_opt_i64 *dst;
        bool size;
    } nums[] = {
        {memory, "memory", &res.memory.limit, true},
        {swap, "memory-swap", &res.memory.swap, true},
        {reservation, "memory-reservation", &res.memory.reservation, true},
        {shares, "cpu-shares", &res.cpu.shares, false},
        {quota, "cpu-quota", &res.cpu.quota, false},
        {period, "cpu-period", &res.cpu.period, false},
        {rt_period, "cpu-rt-period", &res.cpu.realtime_period, false},
        {rt_runtime, "cpu-rt-runtime", &res.cpu.realtime_runtime, false},
        {pids, "pids-limit", &res.pids.limit, false},
        {blkio, "blkio-weight", &res.block_io.weight, false},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(nums); i++) {
        if (!nums[i].text)
            continue;
        int64_t v;
        bool ok = nums[i].size ? (!strcmp(nums[i].text, "-1") ? (v = -1, true)
                                                              : berth_parse_size(nums[i].text, &v))
                               : berth_parse_i64(nums[i].text, &v);
        if (!ok) {
            r = berth_error_setq(err, EINVAL, "invalid value \"%s\" for --%s", nums[i].text,
                                 nums[i].name);
            goto out;
        }
        nums[i].dst->set = true;
        nums[i].dst->value = v;
    }
    if (cpus) {
        free(res.cpu.cpus);
        res.cpu.cpus = strdup(cpus);
    }
    if (mems) {
        free(res.cpu.mems);
        res.cpu.mems = strdup(mems);
    }
    if (l3 || mem_bw) {
        r = berth_error_setq(err, EOPNOTSUPP, "Intel RDT is not supported by this runtime");
        goto out;
    }
    r = berth_cmd_update(g->root, argv[next], &res, err);
out:
    berth_spec_resources_clear(&res);
    return r;
}

static int
parse_interval(const char *s, int *ret_ms, struct berth_error **err)
{
    /* Go durations as runc takes them: "5s", "500ms", "1m" */
    char *end;
    double v = strtod(s, &end);
    double mul = 1000;
    if (!strcmp(end, "ms"))
        mul = 1;
    else if (!strcmp(end, "s") || !*end)
        mul = 1000;
    else if (!strcmp(end, "m"))
        mul = 60000;
    else
        return berth_error_setq(err, EINVAL, "invalid interval \"%s\"", s);
    if (v <= 0 || v * mul > 86400000)
        return berth_error_setq(err, EINVAL, "invalid interval \"%s\"", s);
    *ret_ms = (int)(v * mul);
    return 0;
}

static void
usage(FILE *f)
{
    fputs("usage: berth-runtime [global options] command [command options] [arguments...]\n\n"
          "An OCI runtime with runc's command line.\n\n"
          "commands:\n"
          "  create    create a container\n"
          "  start     start a created container\n"
          "  run       create and start a container\n"
          "  state     output the state of a container\n"
          "  kill      send a signal to the container's init (--all: to every process)\n"
          "  delete    delete a container (--force: even if running)\n"
          "  exec      run a new process inside a container\n"
          "  list      list containers (--format table|json, -q)\n"
          "  ps        processes of a container (--format table|json)\n"
          "  pause     suspend all processes of a container\n"
          "  resume    resume a paused container\n"
          "  update    change a container's resource limits\n"
          "  events    resource usage statistics and OOM notices (--stats, --interval)\n"
          "  spec      create a new config.json\n"
          "  features  show what this runtime supports\n\n"
          "global options:\n"
          "  --root DIR           state directory (default " BERTH_DEFAULT_ROOT ")\n"
          "  --log FILE           log file (default stderr)\n"
          "  --log-format text|json\n"
          "  --debug              debug logging\n"
          "  --systemd-cgroup     cgroupsPath is slice:prefix:name\n"
          "  --version, -v        print the version\n",
          f);
}

static int
dispatch(struct globals *g, int argc, char **argv, int *exit_code, struct berth_error **err)
{
    const char *cmd = argv[0];
    int sub_argc = argc - 1;
    char **sub = argv + 1;
    int next, r;
    if (!strcmp(cmd, "create") || !strcmp(cmd, "run"))
        return cmd_create_or_run(g, cmd, sub_argc, sub, exit_code, err);
    if (!strcmp(cmd, "exec"))
        return cmd_exec(g, sub_argc, sub, exit_code, err);
    if (!strcmp(cmd, "update"))
        return cmd_update(g, sub_argc, sub, err);
    if (!strcmp(cmd, "start") || !strcmp(cmd, "state") || !strcmp(cmd, "pause") ||
        !strcmp(cmd, "resume")) {
        if ((r = parse_opts(sub_argc, sub, 0, NULL, &next, err)) < 0 ||
            (r = need_args(sub_argc - next, 1, cmd, err)) < 0)
            return r;
        const char *id = sub[next];
        if (!strcmp(cmd, "start"))
            return berth_container_start(g->root, id, err);
        if (!strcmp(cmd, "state"))
            return berth_cmd_state(g->root, id, err);
        return berth_cmd_pause(g->root, id, !strcmp(cmd, "pause"), err);
    }
    if (!strcmp(cmd, "kill")) {
        bool all = false;
        const char *signal = NULL;
        struct opt opts[] = {{"all", 'a', false, NULL, NULL, &all},
                             {"signal", 's', true, &signal, NULL, NULL},
                             {NULL, 0, false, NULL, NULL, NULL}};
        if ((r = parse_opts(sub_argc, sub, 0, opts, &next, err)) < 0 ||
            (r = need_args(sub_argc - next, 1, cmd, err)) < 0)
            return r;
        /* runc also accepts flags after the id (kill ID SIG --all) */
        int extra = next + 1;
        const char *sig = signal;
        for (; extra < sub_argc; extra++) {
            if (!strcmp(sub[extra], "--all") || !strcmp(sub[extra], "-a"))
                all = true;
            else if (!sig)
                sig = sub[extra];
        }
        return berth_cmd_kill(g->root, sub[next], sig, all, err);
    }
    if (!strcmp(cmd, "delete")) {
        bool force = false;
        struct opt opts[] = {{"force", 'f', false, NULL, NULL, &force},
                             {NULL, 0, false, NULL, NULL, NULL}};
        if ((r = parse_opts(sub_argc, sub, 0, opts, &next, err)) < 0 ||
            (r = need_args(sub_argc - next, 1, cmd, err)) < 0)
            return r;
        for (int i = next; i < sub_argc; i++)
            if ((r = berth_cmd_delete(g->root, sub[i], force, err)) < 0)
                return r;
        return 0;
    }
    if (!strcmp(cmd, "list")) {
        const char *format = "table";
        bool quiet = false;
        struct opt opts[] = {{"format", 'f', true, &format, NULL, NULL},
                             {"quiet", 'q', false, NULL, NULL, &quiet},
                             {NULL, 0, false, NULL, NULL, NULL}};
        if ((r = parse_opts(sub_argc, sub, 0, opts, &next, err)) < 0)
            return r;
        if (strcmp(format, "table") && strcmp(format, "json"))
            return berth_error_setq(err, EINVAL, "invalid format option");
        return berth_cmd_list(g->root, !strcmp(format, "json"), quiet, err);
    }
    if (!strcmp(cmd, "ps")) {
        const char *format = "table";
        struct opt opts[] = {{"format", 'f', true, &format, NULL, NULL},
                             {NULL, 0, false, NULL, NULL, NULL}};
        if ((r = parse_opts(sub_argc, sub, 0, opts, &next, err)) < 0 ||
            (r = need_args(sub_argc - next, 1, cmd, err)) < 0)
            return r;
        if (strcmp(format, "table") && strcmp(format, "json"))
            return berth_error_setq(err, EINVAL, "invalid format option");
        return berth_cmd_ps(g->root, sub[next], !strcmp(format, "json"), sub + next + 1, err);
    }
    if (!strcmp(cmd, "events")) {
        bool stats = false;
        const char *interval = "5s";
        struct opt opts[] = {{"stats", 0, false, NULL, NULL, &stats},
                             {"interval", 0, true, &interval, NULL, NULL},
                             {NULL, 0, false, NULL, NULL, NULL}};
        int ms = 5000;
        if ((r = parse_opts(sub_argc, sub, 0, opts, &next, err)) < 0 ||
            (r = need_args(sub_argc - next, 1, cmd, err)) < 0 ||
            (r = parse_interval(interval, &ms, err)) < 0)
            return r;
        return berth_cmd_events(g->root, sub[next], stats, ms, err);
    }
    if (!strcmp(cmd, "spec")) {
        const char *bundle = NULL;
        bool rootless = false;
        struct opt opts[] = {{"bundle", 'b', true, &bundle, NULL, NULL},
                             {"rootless", 0, false, NULL, NULL, &rootless},
                             {NULL, 0, false, NULL, NULL, NULL}};
        if ((r = parse_opts(sub_argc, sub, 0, opts, &next, err)) < 0)
            return r;
        return berth_cmd_spec(bundle, rootless, err);
    }
    if (!strcmp(cmd, "features"))
        return berth_cmd_features(err);
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    return berth_error_setq(err, EINVAL, "No help topic for '%s'", cmd);
}

int
main(int argc, char **argv)
{
    struct globals g = {.root = BERTH_DEFAULT_ROOT, .argv = argv};
    bool version = false, help = false;
    const char *criu = NULL, *rootless = NULL;
    struct opt opts[] = {
        {"root", 0, true, &g.root, NULL, NULL},
        {"log", 0, true, &g.log, NULL, NULL},
        {"log-format", 0, true, &g.log_format, NULL, NULL},
        {"criu", 0, true, &criu, NULL, NULL},
        {"rootless", 0, true, &rootless, NULL, NULL},
        {"debug", 0, false, NULL, NULL, &g.debug},
        {"systemd-cgroup", 0, false, NULL, NULL, &g.systemd_cgroup},
        {"version", 'v', false, NULL, NULL, &version},
        {"help", 'h', false, NULL, NULL, &help},
        {NULL, 0, false, NULL, NULL, NULL},
    };
    struct berth_error *err = NULL;
    int next = 1, exit_code = 0;
    int r = parse_opts(argc, argv, 1, opts, &next, &err);
    enum berth_log_format fmt = BERTH_LOG_TEXT;
    if (g.log_format && !strcmp(g.log_format, "json"))
        fmt = BERTH_LOG_JSON;
    else if (g.log_format && strcmp(g.log_format, "text") && r == 0)
        r = berth_error_setq(&err, EINVAL, "unknown log-format \"%s\"", g.log_format);
    if (berth_log_open(g.log, fmt, g.debug ? BERTH_LOG_DEBUG : BERTH_LOG_WARN) < 0)
        fprintf(stderr, "cannot open log file %s: %s\n", g.log, strerror(errno));
    if (r == 0 && version) {
        const struct scmp_version *sv = seccomp_version();
        printf("berth-runtime version " BERTH_VERSION "\nspec: " BERTH_OCI_VERSION
               "\nlibseccomp: %u.%u.%u\n",
               sv->major, sv->minor, sv->micro);
        return 0;
    }
    if (r == 0 && (help || next >= argc)) {
        usage(help ? stdout : stderr);
        return help ? 0 : 1;
    }
    if (r == 0)
        r = dispatch(&g, argc - next, argv + next, &exit_code, &err);
    fflush(stdout);
    if (r < 0) {
        berth_log(BERTH_LOG_ERROR, "%s", err ? err->msg : strerror(-r));
        berth_error_free(err);
        return 1;
    }
    return exit_code;
}
