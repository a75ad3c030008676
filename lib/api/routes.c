#include "api/routes.h"

#include "core/cleanup.h"

/* Order matters only between routes of one prefix: exact paths before {name} patterns. */
static const struct berth_route routes[] = {
    {"GET", "/_ping", NULL, false, BERTH_BODY_NONE, berth_api_ping},
    {"HEAD", "/_ping", NULL, false, BERTH_BODY_NONE, berth_api_ping},
    {"GET", "/version", NULL, false, BERTH_BODY_NONE, berth_api_version},
    {"GET", "/info", NULL, false, BERTH_BODY_NONE, berth_api_info},
    {"GET", "/events", NULL, false, BERTH_BODY_NONE, berth_api_events},
    {"GET", "/system/df", NULL, false, BERTH_BODY_NONE, berth_api_system_df},
};

const struct berth_route *
berth_api_routes(size_t *ret_n)
{
    *ret_n = BERTH_ARRAY_SIZE(routes);
    return routes;
}
