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
    {"POST", "/containers/create", NULL, false, BERTH_BODY_JSON, berth_api_container_create},
    {"GET", "/containers/json", NULL, false, BERTH_BODY_NONE, berth_api_containers_list},
    {"POST", "/containers/prune", NULL, false, BERTH_BODY_NONE, berth_api_containers_prune},
    {"GET", "/containers/", "/json", true, BERTH_BODY_NONE, berth_api_container_inspect},
    {"POST", "/containers/", "/start", true, BERTH_BODY_NONE, berth_api_container_start},
    {"POST", "/containers/", "/stop", true, BERTH_BODY_NONE, berth_api_container_stop},
    {"POST", "/containers/", "/restart", true, BERTH_BODY_NONE, berth_api_container_restart},
    {"POST", "/containers/", "/kill", true, BERTH_BODY_NONE, berth_api_container_kill},
    {"POST", "/containers/", "/pause", true, BERTH_BODY_NONE, berth_api_container_pause},
    {"POST", "/containers/", "/unpause", true, BERTH_BODY_NONE, berth_api_container_unpause},
    {"POST", "/containers/", "/wait", true, BERTH_BODY_NONE, berth_api_container_wait},
    {"POST", "/containers/", "/rename", true, BERTH_BODY_NONE, berth_api_container_rename},
    {"POST", "/containers/", "/resize", true, BERTH_BODY_NONE, berth_api_container_resize},
    {"POST", "/containers/", "/attach", true, BERTH_BODY_NONE, berth_api_container_attach},
    {"GET", "/containers/", "/logs", true, BERTH_BODY_NONE, berth_api_container_logs},
    {"POST", "/containers/", "/exec", true, BERTH_BODY_JSON, berth_api_exec_create},
    {"GET", "/containers/", "/top", true, BERTH_BODY_NONE, berth_api_container_top},
    {"GET", "/containers/", "/stats", true, BERTH_BODY_NONE, berth_api_container_stats},
    {"POST", "/containers/", "/update", true, BERTH_BODY_JSON, berth_api_container_update},
    {"GET", "/containers/", "/changes", true, BERTH_BODY_NONE, berth_api_container_changes},
    {"GET", "/containers/", "/export", true, BERTH_BODY_NONE, berth_api_container_export},
    {"HEAD", "/containers/", "/archive", true, BERTH_BODY_NONE, berth_api_container_archive_head},
    {"GET", "/containers/", "/archive", true, BERTH_BODY_NONE, berth_api_container_archive_get},
    {"PUT", "/containers/", "/archive", true, BERTH_BODY_SPOOL, berth_api_container_archive_put},
    {"POST", "/commit", NULL, false, BERTH_BODY_JSON, berth_api_commit},
    {"DELETE", "/containers/", NULL, true, BERTH_BODY_NONE, berth_api_container_delete},
    {"POST", "/exec/", "/start", true, BERTH_BODY_JSON, berth_api_exec_start},
    {"POST", "/exec/", "/resize", true, BERTH_BODY_NONE, berth_api_exec_resize},
    {"GET", "/exec/", "/json", true, BERTH_BODY_NONE, berth_api_exec_inspect},
};

const struct berth_route *
berth_api_routes(size_t *ret_n)
{
    *ret_n = BERTH_ARRAY_SIZE(routes);
    return routes;
}
