/* berth: docker's command line for the berth daemon (or any Docker-compatible engine).
 * Parses the global flags, picks the daemon (-H, then BERTH_HOST, then DOCKER_HOST, then
 * unix:///run/berth.sock) and dispatches to the command in lib/client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/commands.h"
#include "core/cleanup.h"
#include "core/log.h"

struct command {
    const char *name;
    int (*run)(struct berth_cli *cli, int argc, char **argv);
    const char *summary;
};

static const struct command top_commands[] = {
    {"attach", berth_cli_cmd_attach,
     "Attach local standard input, output, and error streams to a running container"},
    {"commit", berth_cli_cmd_commit, "Create a new image from a container's changes"},
    {"cp", berth_cli_cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"create", berth_cli_cmd_create, "Create a new container"},
    {"diff", berth_cli_cmd_diff,
     "Inspect changes to files or directories on a container's filesystem"},
    {"events", berth_cli_cmd_events, "Get real time events from the server"},
    {"exec", berth_cli_cmd_exec, "Execute a command in a running container"},
    {"export", berth_cli_cmd_export, "Export a container's filesystem as a tar archive"},
    {"history", berth_cli_cmd_history, "Show the history of an image"},
    {"images", berth_cli_cmd_images, "List images"},
    {"import", berth_cli_cmd_import,
     "Import the contents from a tarball to create a filesystem image"},
    {"info", berth_cli_cmd_info, "Display system-wide information"},
    {"inspect", berth_cli_cmd_inspect, "Return low-level information on Docker objects"},
    {"kill", berth_cli_cmd_kill, "Kill one or more running containers"},
    {"load", berth_cli_cmd_load, "Load an image from a tar archive or STDIN"},
    {"logs", berth_cli_cmd_logs, "Fetch the logs of a container"},
    {"pause", berth_cli_cmd_pause, "Pause all processes within one or more containers"},
    {"pull", berth_cli_cmd_pull, "Download an image from a registry"},
    {"port", berth_cli_cmd_port, "List port mappings or a specific mapping for the container"},
    {"ps", berth_cli_cmd_ps, "List containers"},
    {"rename", berth_cli_cmd_rename, "Rename a container"},
    {"restart", berth_cli_cmd_restart, "Restart one or more containers"},
    {"rm", berth_cli_cmd_rm, "Remove one or more containers"},
    {"rmi", berth_cli_cmd_rmi, "Remove one or more images"},
    {"run", berth_cli_cmd_run, "Create and run a new container from an image"},
    {"save", berth_cli_cmd_save,
     "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"start", berth_cli_cmd_start, "Start one or more stopped containers"},
    {"stats", berth_cli_cmd_stats,
     "Display a live stream of container(s) resource usage statistics"},
    {"stop", berth_cli_cmd_stop, "Stop one or more running containers"},
    {"tag", berth_cli_cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"top", berth_cli_cmd_top, "Display the running processes of a container"},
    {"unpause", berth_cli_cmd_unpause, "Unpause all processes within one or more containers"},
    {"update", berth_cli_cmd_update, "Update configuration of one or more containers"},
    {"version", berth_cli_cmd_version, "Show the berth version information"},
    {"wait", berth_cli_cmd_wait,
     "Block until one or more containers stop, then print their exit "
     "codes"},
};

static const struct command container_commands[] = {
    {"attach", berth_cli_cmd_attach,
     "Attach local standard input, output, and error streams to a running container"},
    {"commit", berth_cli_cmd_commit, "Create a new image from a container's changes"},
    {"cp", berth_cli_cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"create", berth_cli_cmd_create, "Create a new container"},
    {"diff", berth_cli_cmd_diff,
     "Inspect changes to files or directories on a container's filesystem"},
    {"exec", berth_cli_cmd_exec, "Execute a command in a running container"},
    {"export", berth_cli_cmd_export, "Export a container's filesystem as a tar archive"},
    {"inspect", berth_cli_cmd_container_inspect,
     "Display detailed information on one or more containers"},
    {"kill", berth_cli_cmd_kill, "Kill one or more running containers"},
    {"list", berth_cli_cmd_ps, NULL},
    {"logs", berth_cli_cmd_logs, "Fetch the logs of a container"},
    {"ls", berth_cli_cmd_ps, "List containers"},
    {"pause", berth_cli_cmd_pause, "Pause all processes within one or more containers"},
    {"port", berth_cli_cmd_port, "List port mappings or a specific mapping for the container"},
    {"prune", berth_cli_cmd_container_prune, "Remove all stopped containers"},
    {"ps", berth_cli_cmd_ps, NULL},
    {"remove", berth_cli_cmd_rm, NULL},
    {"rename", berth_cli_cmd_rename, "Rename a container"},
    {"restart", berth_cli_cmd_restart, "Restart one or more containers"},
    {"rm", berth_cli_cmd_rm, "Remove one or more containers"},
    {"run", berth_cli_cmd_run, "Create and run a new container from an image"},
    {"start", berth_cli_cmd_start, "Start one or more stopped containers"},
    {"stats", berth_cli_cmd_stats,
     "Display a live stream of container(s) resource usage statistics"},
    {"stop", berth_cli_cmd_stop, "Stop one or more running containers"},
    {"top", berth_cli_cmd_top, "Display the running processes of a container"},
    {"unpause", berth_cli_cmd_unpause, "Unpause all processes within one or more containers"},
    {"update", berth_cli_cmd_update, "Update configuration of one or more containers"},
    {"wait", berth_cli_cmd_wait,
     "Block until one or more containers stop, then print their exit "
     "codes"},
};

static const struct command image_commands[] = {
    {"history", berth_cli_cmd_history, "Show the history of an image"},
    {"import", berth_cli_cmd_import,
     "Import the contents from a tarball to create a filesystem image"},
    {"inspect", berth_cli_cmd_image_inspect, "Display detailed information on one or more images"},
    {"list", berth_cli_cmd_images, NULL},
    {"load", berth_cli_cmd_load, "Load an image from a tar archive or STDIN"},
    {"ls", berth_cli_cmd_images, "List images"},
    {"pull", berth_cli_cmd_pull, "Download an image from a registry"},
    {"prune", berth_cli_cmd_image_prune, "Remove unused images"},
    {"remove", berth_cli_cmd_rmi, NULL},
    {"rm", berth_cli_cmd_rmi, "Remove one or more images"},
    {"save", berth_cli_cmd_save,
     "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"tag", berth_cli_cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
};

static const struct command system_commands[] = {
    {"df", berth_cli_cmd_system_df, "Show disk usage"},
    {"events", berth_cli_cmd_events, "Get real time events from the server"},
    {"info", berth_cli_cmd_info, "Display system-wide information"},
};

struct group {
    const char *name;
    const char *summary;
    const struct command *commands;
    size_t n;
};

static const struct group groups[] = {
    {"container", "Manage containers", container_commands, BERTH_ARRAY_SIZE(container_commands)},
    {"image", "Manage images", image_commands, BERTH_ARRAY_SIZE(image_commands)},
    {"system", "Manage berth", system_commands, BERTH_ARRAY_SIZE(system_commands)},
};

static void
print_main_help(FILE *f)
{
    fprintf(f, "Usage:  berth [OPTIONS] COMMAND\n\n"
               "A Docker-compatible container engine client\n\nCommands:\n");
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(top_commands); i++)
        fprintf(f, "  %-11s %s\n", top_commands[i].name, top_commands[i].summary);
    fprintf(f, "\nManagement Commands:\n");
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(groups); i++)
        fprintf(f, "  %-11s %s\n", groups[i].name, groups[i].summary);
    fprintf(f, "\nGlobal Options:\n"
               "  -D, --debug              Enable debug mode\n"
               "  -H, --host string        Daemon socket to connect to (default: $BERTH_HOST, "
               "$DOCKER_HOST, unix:///run/berth.sock)\n"
               "  -l, --log-level string   Set the logging level (\"debug\", \"info\", \"warn\", "
               "\"error\", \"fatal\") (default \"info\")\n"
               "      --tls                Use TLS; implied by --tlsverify\n"
               "      --tlscacert string   Trust certs signed only by this CA\n"
               "      --tlscert string     Path to TLS certificate file\n"
               "      --tlskey string      Path to TLS key file\n"
               "      --tlsverify          Use TLS and verify the remote\n"
               "  -v, --version            Print version information and quit\n\n"
               "Run 'berth COMMAND --help' for more information on a command.\n");
}

static void
print_group_help(FILE *f, const struct group *g)
{
    fprintf(f, "Usage:  berth %s COMMAND\n\n%s\n\nCommands:\n", g->name, g->summary);
    for (size_t i = 0; i < g->n; i++)
        if (g->commands[i].summary)
            fprintf(f, "  %-11s %s\n", g->commands[i].name, g->commands[i].summary);
    fprintf(f, "\nRun 'berth %s COMMAND --help' for more information on a command.\n", g->name);
}

static int
global_usage_error(const char *msg)
{
    fprintf(stderr,
            "%s\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\n"
            "Run 'berth --help' for more information\n",
            msg);
    return 125;
}

static int
unknown_command(const char *path, const char *group)
{
    fprintf(stderr, "berth: unknown command: berth %s\n\n", path);
    if (group)
        fprintf(stderr, "Usage:  berth %s\n\nRun 'berth %s --help' for more information\n", group,
                group);
    else
        fprintf(stderr, "Run 'berth --help' for more information\n");
    return 1;
}

/* A TLS file from --tlsX, else $DOCKER_CERT_PATH/name or ~/.docker/name when it exists. */
static const char *
default_cert(const char *given, const char *name, char *buf, size_t len)
{
    if (given)
        return given;
    const char *dir = getenv("DOCKER_CERT_PATH");
    char home[512];
    if (!dir || !dir[0]) {
        const char *h = getenv("HOME");
        if (!h)
            return NULL;
        snprintf(home, sizeof(home), "%s/.docker", h);
        dir = home;
    }
    snprintf(buf, len, "%s/%s", dir, name);
    struct stat st;
    return stat(buf, &st) == 0 ? buf : NULL;
}

static bool
take_value(int argc, char **argv, int *i, const char *flag, const char **ret, int *ret_status)
{
    const char *a = argv[*i];
    size_t fl = strlen(flag);
    if (!strncmp(a, flag, fl) && a[fl] == '=') {
        *ret = a + fl + 1;
        return true;
    }
    if (flag[1] != '-' && a[fl]) { /* -Hunix:///x */
        *ret = a + fl;
        return true;
    }
    if (*i + 1 >= argc) {
        char msg[128];
        if (flag[1] == '-')
            snprintf(msg, sizeof(msg), "flag needs an argument: %s", flag);
        else
            snprintf(msg, sizeof(msg), "flag needs an argument: '%c' in %s", flag[1], flag);
        *ret_status = global_usage_error(msg);
        return false;
    }
    *ret = argv[++*i];
    return true;
}

static bool
flag_is(const char *a, const char *flag)
{
    size_t fl = strlen(flag);
    return !strncmp(a, flag, fl) && (a[fl] == '\0' || a[fl] == '=' || (flag[1] != '-' && fl == 2));
}

int
main(int argc, char **argv)
{
    struct berth_cli cli = {.out = stdout, .err = stderr, .in_fd = STDIN_FILENO, .prog = "berth"};
    const char *host = NULL, *log_level = NULL;
    const char *cacert = NULL, *cert = NULL, *key = NULL;
    int hosts = 0, status = 0;
    bool tls = false, tls_verify = getenv("DOCKER_TLS_VERIFY") && getenv("DOCKER_TLS_VERIFY")[0];
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_main_help(stdout);
            return 0;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
            printf("Berth version %s\n", BERTH_CLIENT_VERSION);
            return 0;
        }
        if (!strcmp(a, "-D") || !strcmp(a, "--debug")) {
            cli.debug = true;
        } else if (!strcmp(a, "--tls")) {
            tls = true;
        } else if (!strcmp(a, "--tlsverify")) {
            tls_verify = true;
        } else if (flag_is(a, "-H") || flag_is(a, "--host")) {
            if (!take_value(argc, argv, &i, a[1] == '-' ? "--host" : "-H", &host, &status))
                return status;
            hosts++;
        } else if (flag_is(a, "-l") || flag_is(a, "--log-level")) {
            if (!take_value(argc, argv, &i, a[1] == '-' ? "--log-level" : "-l", &log_level,
                            &status))
                return status;
        } else if (flag_is(a, "--tlscacert")) {
            if (!take_value(argc, argv, &i, "--tlscacert", &cacert, &status))
                return status;
        } else if (flag_is(a, "--tlscert")) {
            if (!take_value(argc, argv, &i, "--tlscert", &cert, &status))
                return status;
        } else if (flag_is(a, "--tlskey")) {
            if (!take_value(argc, argv, &i, "--tlskey", &key, &status))
                return status;
        } else {
            char msg[256];
            if (a[1] == '-')
                snprintf(msg, sizeof(msg), "unknown flag: %.*s", (int)strcspn(a, "="), a);
            else
                snprintf(msg, sizeof(msg), "unknown shorthand flag: '%c' in %s", a[1], a);
            return global_usage_error(msg);
        }
    }
    if (hosts > 1) {
        fprintf(stderr, "Specify only one -H\n");
        return 1;
    }
    enum berth_log_level level = BERTH_LOG_WARN;
    if (log_level) {
        if (!strcmp(log_level, "debug"))
            level = BERTH_LOG_DEBUG;
        else if (!strcmp(log_level, "info"))
            level = BERTH_LOG_INFO;
        else if (!strcmp(log_level, "warn") || !strcmp(log_level, "warning"))
            level = BERTH_LOG_WARN;
        else if (!strcmp(log_level, "error") || !strcmp(log_level, "fatal") ||
                 !strcmp(log_level, "panic"))
            level = BERTH_LOG_ERROR;
        else {
            fprintf(stderr, "Unable to parse logging level: %s\n", log_level);
            return 1;
        }
    }
    if (cli.debug)
        level = BERTH_LOG_DEBUG;
    berth_log_open(NULL, BERTH_LOG_TEXT, level);

    if (!host || !host[0])
        host = getenv("BERTH_HOST");
    if (!host || !host[0])
        host = getenv("DOCKER_HOST");
    char cabuf[600], certbuf[600], keybuf[600];
    cli.client_opts.host = host && host[0] ? host : BERTH_CLIENT_DEFAULT_HOST;
    cli.client_opts.tls = tls || tls_verify;
    cli.client_opts.tls_verify = tls_verify;
    if (tls || tls_verify) {
        cli.client_opts.tls_cacert = default_cert(cacert, "ca.pem", cabuf, sizeof(cabuf));
        cli.client_opts.tls_cert = default_cert(cert, "cert.pem", certbuf, sizeof(certbuf));
        cli.client_opts.tls_key = default_cert(key, "key.pem", keybuf, sizeof(keybuf));
    }
    const char *forced = getenv("DOCKER_API_VERSION");
    cli.client_opts.api_version = forced && forced[0] ? forced : NULL;

    if (i >= argc) {
        print_main_help(stdout);
        return 0;
    }
    const char *name = argv[i];
    char path[128];
    int rc = -1;
    for (size_t k = 0; k < BERTH_ARRAY_SIZE(top_commands); k++)
        if (!strcmp(name, top_commands[k].name)) {
            cli.cmd_path = name;
            rc = top_commands[k].run(&cli, argc - i - 1, argv + i + 1);
        }
    for (size_t g = 0; rc < 0 && g < BERTH_ARRAY_SIZE(groups); g++) {
        if (strcmp(name, groups[g].name))
            continue;
        if (i + 1 >= argc || !strcmp(argv[i + 1], "--help") || !strcmp(argv[i + 1], "-h")) {
            print_group_help(stdout, &groups[g]);
            return 0;
        }
        const char *sub = argv[i + 1];
        snprintf(path, sizeof(path), "%s %s", name, sub);
        for (size_t k = 0; k < groups[g].n; k++)
            if (!strcmp(sub, groups[g].commands[k].name)) {
                cli.cmd_path = path;
                rc = groups[g].commands[k].run(&cli, argc - i - 2, argv + i + 2);
            }
        if (rc < 0)
            rc = unknown_command(path, name);
    }
    if (rc < 0)
        rc = unknown_command(name, NULL);
    fflush(stdout);
    berth_cli_close(&cli);
    return rc;
}
