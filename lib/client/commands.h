/* The client's commands (docker's CLI over the Engine API) and what they share: the invocation
 * state, a pflag-compatible option parser with docker's usage errors, docker's image reference
 * rules, filters and time arguments.
 *
 * Every command takes the arguments after its name and returns the exit status docker would:
 * 0, 1 for errors (daemon errors print "Error response from daemon: <message>"), 125 for a bad
 * flag, 64 for a bad template where docker uses it. */
#ifndef BERTH_CLIENT_COMMANDS_H
#define BERTH_CLIENT_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "client/format.h"
#include "client/http.h"
#include "core/error.h"

struct berth_cli {
    struct berth_client_opts client_opts;
    struct berth_client *client; /* made on first use */
    FILE *out, *err;
    int in_fd;
    bool debug;
    const char *prog;     /* "berth" */
    const char *cmd_path; /* the command as invoked: "images", "image ls" */
};

/* The client, created on first use; NULL after printing the error. */
struct berth_client *berth_cli_client(struct berth_cli *cli);
/* Prints err's message on stderr (docker prints the error text alone) and returns 1. */
int berth_cli_fail(struct berth_cli *cli, struct berth_error *err);
void berth_cli_close(struct berth_cli *cli);

enum berth_opt_type {
    BERTH_OPT_BOOL,   /* bool *; --flag, --flag=false */
    BERTH_OPT_STRING, /* const char **; the last one wins */
    BERTH_OPT_LIST,   /* char ***; repeatable */
    BERTH_OPT_FILTER, /* json_t **: {"key": {"value": true}}; "key=value", repeatable */
    BERTH_OPT_INT,    /* long long *; strconv.ParseInt's errors */
};

struct berth_opt {
    char short_name; /* 0: none */
    const char *long_name;
    enum berth_opt_type type;
    void *ptr;
    const char *value_name; /* shown in --help: "string", "filter", "list" */
    const char *help;
};

struct berth_cli_cmd_info {
    const char *usage;   /* after the command: "[OPTIONS] [REPOSITORY[:TAG]]" */
    const char *summary; /* "List images" */
    const char *aliases; /* "berth image ls, berth image list, berth images" or NULL */
    int min_args;
    int max_args; /* -1: no limit */
};

/* Parses the command's arguments the way pflag does (flags and arguments may mix, "--" ends
 * flags, -abc, -fvalue, --flag=value). On success returns true with the positional arguments
 * (a NULL-terminated array of argv's strings, to free). Otherwise returns false with the exit
 * status in *ret_status: 0 after --help, 125 for a flag error, 1 for a wrong argument count
 * (docker's statuses), the message already printed. */
bool berth_cli_parse(struct berth_cli *cli, const struct berth_cli_cmd_info *info,
                     const struct berth_opt *opts, size_t nopts, int argc, char **argv,
                     char ***ret_args, int *ret_nargs, int *ret_status);
/* berth_cli_parse for commands whose flags end at the first argument (run, create, exec:
 * "IMAGE [COMMAND] [ARG...]", pflag's SetInterspersed(false)). */
bool berth_cli_parse_until_args(struct berth_cli *cli, const struct berth_cli_cmd_info *info,
                                const struct berth_opt *opts, size_t nopts, int argc, char **argv,
                                char ***ret_args, int *ret_nargs, int *ret_status);
/* Prints "<msg>\n\nUsage: ...\n\nRun '... --help' for more information" and returns 125. */
int berth_cli_usage_error(struct berth_cli *cli, const struct berth_cli_cmd_info *info,
                          const char *msg);

/* Adds key=value to a filters object. */
int berth_filters_add(json_t **filters, const char *key, const char *value);

/* docker's image references (distribution/reference), parsed the way the CLI does before it
 * sends them: familiar names get docker.io and library/, the tag defaults to none. */
struct berth_image_ref {
    char *domain; /* "docker.io" */
    char *path;   /* "library/busybox" */
    char *tag;    /* NULL when not given */
    char *digest; /* NULL when not given */
};
/* ParseNormalizedNamed: errors read like docker's ("invalid reference format", "invalid
 * reference format: repository name (library/Foo) must be lowercase"). */
int berth_image_ref_parse(const char *text, struct berth_image_ref *ret, struct berth_error **err);
void berth_image_ref_clear(struct berth_image_ref *ref);
/* "docker.io/library/busybox" */
char *berth_image_ref_name(const struct berth_image_ref *ref);
/* FamiliarName: "busybox", "ns/img", "localhost:5000/x" */
char *berth_image_ref_familiar_name(const struct berth_image_ref *ref);

/* docker's timetypes.GetTimestamp: a Go duration ("10m", "1h30m") before now, an RFC 3339 date
 * or time (local zone unless one is given), or Unix seconds[.nanoseconds]; the result is what
 * the API takes ("1700000000" or "1700000000.000000000"). */
int berth_cli_timestamp(const char *value, double now, char **ret, struct berth_error **err);

/* A yes/no question on stdout, the answer from stdin ("y" or "Y" is yes). */
bool berth_cli_confirm(struct berth_cli *cli, const char *message);

/* commands_system.c */
int berth_cli_cmd_version(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_info(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_events(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_system_df(struct berth_cli *cli, int argc, char **argv);

/* commands_image.c */
int berth_cli_cmd_images(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_image_inspect(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_history(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_tag(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_rmi(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_image_prune(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_load(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_save(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_import(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_pull(struct berth_cli *cli, int argc, char **argv);

/* What `inspect` prints, collected object by object as docker does: each object through the
 * template (a line each), or the raw bodies as one indented (for "json", compact) array; errors
 * ("Error: No such object: x") after the output. */
struct berth_inspect_out {
    const struct berth_template *tmpl;
    struct berth_strbuf raw, out, errors;
    size_t found;
};
void berth_inspect_out_add(struct berth_inspect_out *o, json_t *v, const char *body);
void berth_inspect_out_error(struct berth_inspect_out *o, const char *msg);
/* Prints everything and releases it; 1 when an error was collected. */
int berth_inspect_out_finish(struct berth_cli *cli, struct berth_inspect_out *o, bool json_compact);

/* commands_container.c */
int berth_cli_cmd_create(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_run(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_start(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_attach(struct berth_cli *cli, int argc, char **argv);

/* commands_container_ops.c */
int berth_cli_cmd_stop(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_restart(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_kill(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_pause(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_unpause(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_rm(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_rename(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_wait(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_update(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_logs(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_commit(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_export(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_port(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_diff(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_top(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_container_prune(struct berth_cli *cli, int argc, char **argv);

/* commands_container_list.c */
int berth_cli_cmd_ps(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_inspect(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_container_inspect(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_stats(struct berth_cli *cli, int argc, char **argv);

/* commands_exec.c, commands_cp.c */
int berth_cli_cmd_exec(struct berth_cli *cli, int argc, char **argv);
int berth_cli_cmd_cp(struct berth_cli *cli, int argc, char **argv);

/* A JSON member as a string ("" when absent) or a number (0 when absent). */
const char *berth_cli_jstr(struct json_t *obj, const char *key);
long long berth_cli_jint(struct json_t *obj, const char *key);

#endif
