/* The Docker Engine API served by berthd: one route table, one file per Docker object. */
#ifndef BERTH_API_ROUTES_H
#define BERTH_API_ROUTES_H

#include <stddef.h>

#include "http/server.h"

const struct berth_route *berth_api_routes(size_t *ret_n);

/* system.c */
void berth_api_ping(struct berth_http_request *req);
void berth_api_version(struct berth_http_request *req);
void berth_api_info(struct berth_http_request *req);
void berth_api_events(struct berth_http_request *req);
void berth_api_system_df(struct berth_http_request *req);

/* images.c */
struct berth_image;
struct json_t;
struct json_t *berth_api_image_summary(struct berth_http_request *req,
                                       const struct berth_image *img);
void berth_api_images_list(struct berth_http_request *req);
void berth_api_image_inspect(struct berth_http_request *req);
void berth_api_image_history(struct berth_http_request *req);
void berth_api_image_tag(struct berth_http_request *req);
void berth_api_image_delete(struct berth_http_request *req);
void berth_api_images_prune(struct berth_http_request *req);
void berth_api_images_load(struct berth_http_request *req);
void berth_api_images_get(struct berth_http_request *req);
void berth_api_image_get(struct berth_http_request *req);
void berth_api_images_create(struct berth_http_request *req);
/* Waits (up to timeout_ms) for load/import workers whose clients have gone. */
void berth_api_jobs_wait(int timeout_ms);

#endif
