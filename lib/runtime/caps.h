/* Capabilities: names, and the five sets applied to the container process. */
#ifndef BERTH_RUNTIME_CAPS_H
#define BERTH_RUNTIME_CAPS_H

#include <stdint.h>

#include "core/error.h"
#include "runtime/spec.h"

/* Bitmask of the capabilities in this process's bounding set. */
uint64_t berth_caps_current_bounding(void);
/* Drops the bounding set to caps->bounding; call while still holding CAP_SETPCAP. */
int berth_caps_drop_bounding(const struct berth_spec_caps *caps, struct berth_error **err);
/* Sets effective, permitted, inheritable and ambient (after setuid with KEEPCAPS). */
int berth_caps_apply(const struct berth_spec_caps *caps, struct berth_error **err);

#endif
