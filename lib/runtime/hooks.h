/* OCI hooks: each runs with the container state JSON on stdin, its own args and env, and an
 * optional timeout after which it is killed. A failing hook fails the operation. */
#ifndef BERTH_RUNTIME_HOOKS_H
#define BERTH_RUNTIME_HOOKS_H

#include "core/error.h"
#include "runtime/spec.h"

int berth_hooks_run(const struct berth_spec *spec, enum berth_hook_kind kind,
                    const char *state_json, struct berth_error **err);

#endif
