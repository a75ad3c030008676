/* berthd: the daemon. Serves the Docker Engine API; see docs/architecture.md. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/daemon.h"

static void
usage(FILE *f)
{
    fputs("Usage: berthd [OPTIONS]\n\n"
          "A self-sufficient runtime for containers: the Docker Engine API, served by berth.\n\n"
          "Options:\n"
          "      --config-file string      Daemon configuration file (default "
          "/etc/berth/daemon.json)\n"
          "      --data-root string        Root directory of persistent state "
          "(default " BERTH_DEFAULT_DATA_ROOT ")\n"
          "      --exec-root string        Root directory for execution state "
          "(default " BERTH_DEFAULT_EXEC_ROOT ")\n"
          "  -G, --group string            Group for the unix socket (default \"berth\")\n"
          "  -H, --host list               Daemon socket(s) to connect to (default "
          "unix://" BERTH_DEFAULT_SOCKET ")\n"
          "  -l, --log-level string        Set the logging level "
          "(\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\") (default \"info\")\n"
          "  -p, --pidfile string          Path to use for daemon PID file "
          "(default " BERTH_DEFAULT_EXEC_ROOT "/berthd.pid)\n"
          "  -s, --storage-driver string   Storage driver to use (overlay2, vfs)\n"
          "      --cgroup-parent string    Parent cgroup for all containers (default \"/berth\")\n"
          "      --tlsverify               Use TLS and verify the remote\n"
          "      --tlscacert string        Trust certs signed only by this CA\n"
          "      --tlscert string          Path to TLS certificate file\n"
          "      --tlskey string           Path to TLS key file\n"
          "  -D, --debug                   Enable debug mode\n"
          "  -v, --version                 Print version information and quit\n",
          f);
}

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* dockerd's flags: --name value, --name=value, -X value. */
static int
parse_args(int argc, char **argv, struct berth_daemon_config *cfg, char **config_file,
           char ***set_by_flag, bool *show_version, struct berth_error **err)
{
    static const struct {
        const char *name;
        char alias;
        const char *key; /* daemon.json key; NULL for flags without one */
        bool has_value;
    } flags[] = {
        {"host", 'H', "hosts", true},
        {"data-root", 0, "data-root", true},
        {"exec-root", 0, "exec-root", true},
        {"pidfile", 'p', "pidfile", true},
        {"log-level", 'l', "log-level", true},
        {"storage-driver", 's', "storage-driver", true},
        {"cgroup-parent", 0, "cgroup-parent", true},
        {"group", 'G', "group", true},
        {"tlsverify", 0, "tlsverify", false},
        {"tlscacert", 0, "tlscacert", true},
        {"tlscert", 0, "tlscert", true},
        {"tlskey", 0, "tlskey", true},
        {"debug", 'D', "debug", false},
        {"config-file", 0, NULL, true},
        {"version", 'v', NULL, false},
        {"help", 'h', NULL, false},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-')
            return berth_error_setq(err, EINVAL, "berthd takes no arguments: \"%s\"", a);
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        int f = -1;
        for (size_t k = 0; k < BERTH_ARRAY_SIZE(flags); k++)
            if ((strlen(flags[k].name) == nl && !strncmp(flags[k].name, name, nl)) ||
                (a[1] != '-' && nl == 1 && flags[k].alias == name[0]))
                f = (int)k;
        if (f < 0)
            return berth_error_setq(err, EINVAL, "unknown flag: %s", a);
        const char *v = NULL;
        if (flags[f].has_value) {
            v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                return berth_error_setq(err, EINVAL, "flag needs an argument: %s", a);
        }
        if (flags[f].key)
            berth_strv_push(set_by_flag, flags[f].key);
        const char *fname = flags[f].name;
        char **dst = NULL;
        if (!strcmp(fname, "host"))
            berth_strv_push(&cfg->hosts, v);
        else if (!strcmp(fname, "data-root"))
            dst = &cfg->data_root;
        else if (!strcmp(fname, "exec-root"))
            dst = &cfg->exec_root;
        else if (!strcmp(fname, "pidfile"))
            dst = &cfg->pidfile;
        else if (!strcmp(fname, "log-level"))
            dst = &cfg->log_level;
        else if (!strcmp(fname, "storage-driver"))
            dst = &cfg->storage_driver;
        else if (!strcmp(fname, "group"))
            dst = &cfg->group;
        else if (!strcmp(fname, "cgroup-parent"))
            dst = &cfg->cgroup_parent;
        else if (!strcmp(fname, "tlscacert"))
            dst = &cfg->tlscacert;
        else if (!strcmp(fname, "tlscert"))
            dst = &cfg->tlscert;
        else if (!strcmp(fname, "tlskey"))
            dst = &cfg->tlskey;
        else if (!strcmp(fname, "tlsverify"))
            cfg->tlsverify = !eq || !strcmp(eq + 1, "true");
        else if (!strcmp(fname, "debug")) {
            free(cfg->log_level);
            cfg->log_level = strdup("debug");
        } else if (!strcmp(fname, "config-file"))
            dst = config_file;
        else if (!strcmp(fname, "version"))
            *show_version = true;
        else if (!strcmp(fname, "help")) {
            usage(stdout);
            exit(0);
        }
        if (dst) {
            free(*dst);
            *dst = strdup(v);
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    /* one thread per connection: without a cap glibc gives busy threads arenas of their own
     * and keeps what they freed (17 MB after listing 500 containers repeatedly) */
    mallopt(M_ARENA_MAX, 2);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024);
    struct berth_daemon d = {.pidfile_fd = -1};
    struct berth_error *err = NULL;
    _cleanup_free_ char *config_file = NULL;
    _cleanup_strv_ char **set_by_flag = calloc(1, sizeof(char *));
    bool show_version = false;
    int r = parse_args(argc, argv, &d.cfg, &config_file, &set_by_flag, &show_version, &err);
    if (r == 0 && show_version) {
        printf("Berth version 0.1.0, API 1.44\n");
        return 0;
    }
    if (r == 0) {
        const char *path = config_file ? config_file : "/etc/berth/daemon.json";
        if (config_file || access(path, F_OK) == 0)
            r = berth_daemon_config_load(path, set_by_flag, &d.cfg, &err);
    }
    if (r == 0)
        r = berth_daemon_config_finish(&d.cfg, &err);
    if (r == 0) {
        enum berth_log_level lvl = !strcmp(d.cfg.log_level, "debug")  ? BERTH_LOG_DEBUG
                                   : !strcmp(d.cfg.log_level, "info") ? BERTH_LOG_INFO
                                   : !strcmp(d.cfg.log_level, "warn") ? BERTH_LOG_WARN
                                                                      : BERTH_LOG_ERROR;
        berth_log_open(NULL, BERTH_LOG_TEXT, lvl);
        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = berth_daemon_start(&d, &err);
    }
    if (r < 0) {
        berth_log(BERTH_LOG_ERROR, "berthd: %s", err ? err->msg : strerror(-r));
        berth_error_free(err);
        berth_daemon_stop(&d);
        berth_daemon_config_clear(&d.cfg);
        return 1;
    }
    berth_log(BERTH_LOG_INFO, "berthd %s started (data-root %s, storage driver %s)", "0.1.0",
              d.cfg.data_root, d.driver);
    while (!stop_requested)
        pause();
    berth_log(BERTH_LOG_INFO, "berthd: stopping (finishing requests in flight)");
    berth_daemon_stop(&d);
    berth_daemon_config_clear(&d.cfg);
    return 0;
}
