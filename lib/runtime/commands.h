/* The runtime's commands other than create/start/run/exec: what runc's CLI offers. */
#ifndef BERTH_RUNTIME_COMMANDS_H
#define BERTH_RUNTIME_COMMANDS_H

#include <stdbool.h>

#include "core/error.h"
#include "runtime/spec.h"

int berth_cmd_state(const char *root, const char *id, struct berth_error **err);
/* signal: a name ("KILL", "SIGKILL") or a number; all: every process in the cgroup. */
int berth_cmd_kill(const char *root, const char *id, const char *signal, bool all,
                   struct berth_error **err);
int berth_cmd_delete(const char *root, const char *id, bool force, struct berth_error **err);
int berth_cmd_list(const char *root, bool json, bool quiet, struct berth_error **err);
int berth_cmd_ps(const char *root, const char *id, bool json, char **ps_args,
                 struct berth_error **err);
int berth_cmd_pause(const char *root, const char *id, bool pause, struct berth_error **err);
int berth_cmd_update(const char *root, const char *id, const struct berth_spec_resources *res,
                     struct berth_error **err);
/* Parses `update --resources FILE|-` input. */
int berth_cmd_update_parse(const char *path, struct berth_spec_resources *res,
                           struct berth_error **err);
int berth_cmd_events(const char *root, const char *id, bool stats_once, int interval_ms,
                     struct berth_error **err);
int berth_cmd_features(struct berth_error **err);
int berth_cmd_spec(const char *bundle, bool rootless, struct berth_error **err);
/* Signal name or number to a number; -1 if unknown. */
int berth_signal_parse(const char *s);

#endif
