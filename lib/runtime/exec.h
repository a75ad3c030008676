/* `exec`: run another process in a running container. */
#ifndef BERTH_RUNTIME_EXEC_H
#define BERTH_RUNTIME_EXEC_H

#include <stdbool.h>

#include "core/error.h"

struct berth_exec_opts {
    const char *root;
    const char *id;
    const char *process_path; /* --process: a process.json; else built from the fields below */
    char **args;              /* command and arguments */
    char **env;               /* --env KEY=value, appended to the container's env */
    char **caps;              /* --cap */
    char **additional_gids;   /* --additional-gids */
    const char *cwd;
    const char *user; /* uid[:gid] */
    const char *pid_file;
    const char *console_socket;
    bool tty;
    bool detach;
    bool no_new_privs;
    bool ignore_paused;
    int preserve_fds;
};

/* Unless detached, waits and returns the process's exit code (128+signal if killed). */
int berth_container_exec(const struct berth_exec_opts *o, int *ret_exit_code,
                         struct berth_error **err);

#endif
