/* berth-monitor: the per-container monitor berthd spawns (see lib/monitor/protocol.h). Parses
 * the command line and runs the monitor; errors before it detaches go to stderr (exit 2). */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "monitor/monitor.h"

enum {
    OPT_ID = 256,
    OPT_DIR,
    OPT_RUNTIME,
    OPT_RUNTIME_ROOT,
    OPT_BUNDLE,
    OPT_EXEC_PROCESS,
    OPT_LOG_PATH,
    OPT_LOG_MAX_SIZE,
    OPT_LOG_MAX_FILE,
    OPT_TTY,
    OPT_STDIN,
    OPT_STDIN_ONCE,
    OPT_OOM_FILE,
    OPT_SYNC_FD,
};

static const struct option options[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"dir", required_argument, NULL, OPT_DIR},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT},
    {"bundle", required_argument, NULL, OPT_BUNDLE},
    {"exec-process", required_argument, NULL, OPT_EXEC_PROCESS},
    {"log-path", required_argument, NULL, OPT_LOG_PATH},
    {"log-max-size", required_argument, NULL, OPT_LOG_MAX_SIZE},
    {"log-max-file", required_argument, NULL, OPT_LOG_MAX_FILE},
    {"tty", no_argument, NULL, OPT_TTY},
    {"stdin", no_argument, NULL, OPT_STDIN},
    {"stdin-once", no_argument, NULL, OPT_STDIN_ONCE},
    {"oom-file", required_argument, NULL, OPT_OOM_FILE},
    {"sync-fd", required_argument, NULL, OPT_SYNC_FD},
    {NULL, 0, NULL, 0},
};

static int
usage(const char *msg)
{
    fprintf(stderr,
            "berth-monitor: %s\nusage: berth-monitor --id ID --dir DIR --runtime PATH "
            "--runtime-root DIR (--bundle DIR | --exec-process FILE) [--log-path FILE "
            "--log-max-size BYTES --log-max-file N] [--tty] [--stdin] [--stdin-once] "
            "[--oom-file FILE] [--sync-fd N]\n",
            msg);
    return 2;
}

int
main(int argc, char **argv)
{
    struct berth_monitor_config c = {.sync_fd = 3, .log_max_file = 1};
    int64_t v;
    int o;
    while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (o) {
        case OPT_ID:
            c.id = optarg;
            break;
        case OPT_DIR:
            c.dir = optarg;
            break;
        case OPT_RUNTIME:
            c.runtime = optarg;
            break;
        case OPT_RUNTIME_ROOT:
            c.runtime_root = optarg;
            break;
        case OPT_BUNDLE:
            c.bundle = optarg;
            break;
        case OPT_EXEC_PROCESS:
            c.exec_process = optarg;
            break;
        case OPT_LOG_PATH:
            c.log_path = optarg;
            break;
        case OPT_LOG_MAX_SIZE:
            /* docker's unset max-size is -1: no rotation, like 0 */
            if (!berth_parse_i64(optarg, &v) && !berth_parse_size(optarg, &v))
                return usage("bad --log-max-size");
            c.log_max_size = v > 0 ? v : 0;
            break;
        case OPT_LOG_MAX_FILE:
            if (!berth_parse_i64(optarg, &v) || v < 0 || v > 100)
                return usage("bad --log-max-file (0..100)");
            c.log_max_file = v > 0 ? (unsigned)v : 1;
            break;
        case OPT_TTY:
            c.tty = true;
            break;
        case OPT_STDIN:
            c.stdin_open = true;
            break;
        case OPT_STDIN_ONCE:
            c.stdin_once = true;
            break;
        case OPT_OOM_FILE:
            c.oom_file = optarg;
            break;
        case OPT_SYNC_FD:
            if (!berth_parse_i64(optarg, &v) || v < 0 || v > 65535)
                return usage("bad --sync-fd");
            c.sync_fd = (int)v;
            break;
        default:
            return usage("unknown option");
        }
    }
    if (optind != argc)
        return usage("unexpected argument");
    struct berth_error *err = NULL;
    if (berth_monitor_config_check(&c, &err) < 0) {
        int r = usage(err->msg);
        berth_error_free(err);
        return r;
    }
    int r = berth_monitor_main(&c, &err);
    if (err) {
        fprintf(stderr, "berth-monitor: %s\n", err->msg);
        berth_error_free(err);
    }
    return r;
}
