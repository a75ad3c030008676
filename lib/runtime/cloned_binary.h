#ifndef BERTH_RUNTIME_CLONED_BINARY_H
#define BERTH_RUNTIME_CLONED_BINARY_H

#include "core/error.h"

/* Re-executes the runtime from a sealed memfd copy unless it already runs from one. */
int berth_ensure_cloned_binary(char **argv, char **envp, struct berth_error **err);

#endif
