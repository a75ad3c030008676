/* berth-init: the --init process (tini's role). Runs as the container's pid 1 (or, elsewhere, as
 * a child subreaper), starts the command, forwards every signal it can catch to it, reaps every
 * process that ends up its child, and exits with the command's status (128 + signal when the
 * command was killed). Static, and small: one runs in every --init container. */
#ifndef BERTH_CONTAINER_INIT_PROCESS_H
#define BERTH_CONTAINER_INIT_PROCESS_H

#include "core/error.h"

/* Runs argv (NULL-terminated, argv[0] looked up in PATH) to completion. Returns the exit status
 * to exit with (0..255), or < 0 with *err set when the command could not be started (fork,
 * signal setup). A command that cannot be executed exits 127 (not found) or 126 (other), with
 * the reason on stderr, as a shell does. */
int berth_init_run(char *const *argv, struct berth_error **err);

#endif
