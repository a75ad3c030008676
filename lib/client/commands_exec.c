/* berth exec: docker's exec flow (create the exec, start it hijacked or detached, the exit
 * status from exec inspect). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/container.h"
#include "client/format.h"
#include "core/cleanup.h"
#include "core/util.h"

int
berth_cli_cmd_exec(struct berth_cli *cli, int argc, char **argv)
{
    bool detach = false, interactive = false, tty = false, privileged = false;
    const char *detach_keys = NULL, *workdir = NULL, *user = NULL;
    char **env = NULL, **env_file = NULL;
    const struct berth_opt opts[] = {
        {'d', "detach", BERTH_OPT_BOOL, &detach, NULL,
         "Detached mode: run command in the background"},
        {0, "detach-keys", BERTH_OPT_STRING, &detach_keys, "string",
         "Override the key sequence for detaching a container"},
        {'e', "env", BERTH_OPT_LIST, &env, "list", "Set environment variables"},
        {0, "env-file", BERTH_OPT_LIST, &env_file, "list",
         "Read in a file of environment variables"},
        {'i', "interactive", BERTH_OPT_BOOL, &interactive, NULL,
         "Keep STDIN open even if not attached"},
        {0, "privileged", BERTH_OPT_BOOL, &privileged, NULL,
         "Give extended privileges to the command"},
        {'t', "tty", BERTH_OPT_BOOL, &tty, NULL, "Allocate a pseudo-TTY"},
        {'u', "user", BERTH_OPT_STRING, &user, "string",
         "Username or UID (format: \"<name|uid>[:<group|gid>]\")"},
        {'w', "workdir", BERTH_OPT_STRING, &workdir, "string",
         "Working directory inside the container"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS] CONTAINER COMMAND [ARG...]",
                                                   "Execute a command in a running container",
                                                   "berth container exec, berth exec", 2, -1};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse_until_args(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv,
                                             &args, &nargs, &status);
    _cleanup_strv_ char **env_owned = env, **env_file_owned = env_file;
    if (!parsed)
        return status;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_strv_ char **all_env = NULL;
    for (char **p = env_file_owned; p && *p; p++)
        if (berth_parse_env_file(*p, &all_env, &err) < 0)
            return berth_cli_fail(cli, err);
    for (char **p = env_owned; p && *p; p++) {
        if (strchr(*p, '=') || !getenv(*p)) {
            berth_strv_push(&all_env, *p);
            continue;
        }
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", *p, getenv(*p)) >= 0)
            berth_strv_push(&all_env, kv);
    }
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    /* the container must exist (docker inspects it first) */
    _cleanup_free_ char *ipath = berth_cli_ctr_path(args[0], "/json");
    _cleanup_(json_decrefp) json_t *ctr = NULL;
    if (!ipath || berth_client_get_json(c, ipath, NULL, &ctr, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    if (!detach && interactive && tty && !isatty(cli->in_fd)) {
        fprintf(cli->err, "the input device is not a TTY\n");
        return 1;
    }
    json_t *cmd = json_array();
    for (int i = 1; i < nargs; i++)
        json_array_append_new(cmd, json_string(args[i]));
    json_t *jenv = json_array();
    for (char **p = all_env; p && *p; p++)
        json_array_append_new(jenv, json_string(*p));
    unsigned rows = 0, cols = 0;
    if (!tty || !berth_tty_size(fileno(cli->out), &rows, &cols))
        rows = cols = 0;
    _cleanup_(json_decrefp) json_t *body = json_pack(
        "{s:s, s:b, s:b, s:b, s:b, s:b, s:s, s:o, s:s, s:o}", "User", user ? user : "",
        "Privileged", privileged, "Tty", tty, "AttachStdin", interactive && !detach, "AttachStderr",
        !detach, "AttachStdout", !detach, "DetachKeys", detach_keys ? detach_keys : "", "Env", jenv,
        "WorkingDir", workdir ? workdir : "", "Cmd", cmd);
    if (rows || cols)
        json_object_set_new(body, "ConsoleSize",
                            json_pack("[I, I]", (json_int_t)rows, (json_int_t)cols));
    _cleanup_free_ char *cpath = berth_cli_ctr_path(berth_cli_jstr(ctr, "Id"), "/exec");
    _cleanup_(json_decrefp) json_t *created = NULL;
    if (!cpath || berth_client_send_json(c, "POST", cpath, NULL, body, &created, &err) < 0)
        return berth_cli_fail(cli, err);
    const char *exec_id = berth_cli_jstr(created, "Id");
    _cleanup_free_ char *spath = NULL;
    if (asprintf(&spath, "/exec/%s/start", exec_id) < 0)
        return 1;
    _cleanup_(json_decrefp) json_t *start = json_pack("{s:b, s:b}", "Detach", detach, "Tty", tty);
    if (rows || cols)
        json_object_set_new(start, "ConsoleSize",
                            json_pack("[I, I]", (json_int_t)rows, (json_int_t)cols));
    if (detach) {
        if (berth_client_send_json(c, "POST", spath, NULL, start, NULL, &err) < 0)
            return berth_cli_fail(cli, err);
        return 0;
    }
    _cleanup_free_ char *text = json_dumps(start, JSON_COMPACT);
    struct berth_conn conn = {.fd = -1};
    if (!text || berth_conn_request(c, "POST", spath, NULL, text, true, &conn, &err) < 0)
        return berth_cli_fail(cli, err);
    struct berth_attach a = {
        .in = interactive, .out = true, .err = true, .tty = tty, .detach_keys = detach_keys};
    if (tty && isatty(cli->in_fd))
        berth_cli_ctr_resize(c, exec_id, true);
    int r = berth_cli_ctr_stream(cli, exec_id, &conn, &a, true, &err);
    berth_conn_close(&conn);
    if (r == BERTH_STREAM_DETACHED)
        return 0;
    if (r < 0)
        return berth_cli_fail(cli, err);
    _cleanup_free_ char *jpath = NULL;
    if (asprintf(&jpath, "/exec/%s/json", exec_id) < 0)
        return 1;
    _cleanup_(json_decrefp) json_t *inspect = NULL;
    if (berth_client_get_json(c, jpath, NULL, &inspect, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    return (int)berth_cli_jint(inspect, "ExitCode");
}
