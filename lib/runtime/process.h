/* The container process's own settings, shared by container init and `exec`. */
#ifndef BERTH_RUNTIME_PROCESS_H
#define BERTH_RUNTIME_PROCESS_H

#include "core/error.h"
#include "runtime/spec.h"

struct berth_seccomp_filter;

int berth_process_set_rlimits(const struct berth_spec_process *p, struct berth_error **err);
int berth_process_set_oom_score_adj(const struct berth_spec_process *p, struct berth_error **err);
/* Finds args[0] in $PATH of the process's env (inside the container, after pivot_root), with
 * the wording runc uses so engines map it to exit 127: exec: "x": executable file not found. */
int berth_process_find_executable(const struct berth_spec_process *p, char **ret,
                                  struct berth_error **err);
/* Adds HOME (from the container's /etc/passwd, else "/") when the env lacks it. */
int berth_process_complete_env(struct berth_spec_process *p, struct berth_error **err);
/* Switches to the process's user and capabilities, sets no_new_privs and loads seccomp in the
 * order that keeps each step permitted; chdir to cwd; umask. The last step before execve. */
int berth_process_finalize(const struct berth_spec_process *p, struct berth_seccomp_filter *filter,
                           bool in_userns, int *ret_notify_fd, struct berth_error **err);
/* Closes every fd >= first except nothing: used right before execve. */
void berth_process_close_fds_from(int first);

#endif
