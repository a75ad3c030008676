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
    {"GET", "/images/json", NULL, false, BERTH_BODY_NONE, berth_api_images_list},
    {"GET", "/images/get", NULL, false, BERTH_BODY_NONE, berth_api_images_get},
    {"POST", "/images/load", NULL, false, BERTH_BODY_SPOOL, berth_api_images_load},
    {"POST", "/images/create", NULL, false, BERTH_BODY_SPOOL, berth_api_images_create},
    {"POST", "/images/prune", NULL, false, BERTH_BODY_NONE, berth_api_images_prune},
    {"GET", "/images/", "/json", true, BERTH_BODY_NONE, berth_api_image_inspect},
    {"GET", "/images/", "/history", true, BERTH_BODY_NONE, berth_api_image_history},
    {"GET", "/images/", "/get", true, BERTH_BODY_NONE, berth_api_image_get},
    {"POST", "/images/", "/tag", true, BERTH_BODY_NONE, berth_api_image_tag},
    {"DELETE", "/images/", NULL, true, BERTH_BODY_NONE, berth_api_image_delete},
};

const struct berth_route *
berth_api_routes(size_t *ret_n)
{
    *ret_n = BERTH_ARRAY_SIZE(routes);
    return routes;
}
