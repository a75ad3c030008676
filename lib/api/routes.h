/* The Docker Engine API served by berthd: one route table, one file per Docker object. */
#ifndef BERTH_API_ROUTES_H
#define BERTH_API_ROUTES_H

#include <stdbool.h>
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
/* The image a name means, as every endpoint resolves it (the default image is made on first
 * use); the familiar form of a reference ("busybox:latest"), for messages. */
struct berth_daemon;
struct berth_error;
int berth_api_image_lookup(struct berth_daemon *d, const char *name, struct berth_image **ret,
                           struct berth_error **err);
char *berth_api_familiar_name(const char *name);
/* Waits (up to timeout_ms) for load/import workers whose clients have gone. */
void berth_api_jobs_wait(int timeout_ms);

/* containers.c */
void berth_api_container_create(struct berth_http_request *req);
void berth_api_containers_list(struct berth_http_request *req);
void berth_api_container_inspect(struct berth_http_request *req);
void berth_api_container_start(struct berth_http_request *req);
void berth_api_container_stop(struct berth_http_request *req);
void berth_api_container_restart(struct berth_http_request *req);
void berth_api_container_kill(struct berth_http_request *req);
void berth_api_container_pause(struct berth_http_request *req);
void berth_api_container_unpause(struct berth_http_request *req);
void berth_api_container_delete(struct berth_http_request *req);
void berth_api_container_rename(struct berth_http_request *req);
void berth_api_containers_prune(struct berth_http_request *req);

/* containers_io.c */
void berth_api_container_wait(struct berth_http_request *req);
void berth_api_container_resize(struct berth_http_request *req);
void berth_api_container_attach(struct berth_http_request *req);
void berth_api_container_logs(struct berth_http_request *req);
/* exec.c */
void berth_api_exec_create(struct berth_http_request *req);
void berth_api_exec_start(struct berth_http_request *req);
void berth_api_exec_inspect(struct berth_http_request *req);
void berth_api_exec_resize(struct berth_http_request *req);

/* The hijacked session's pump between the client and a monitor attach connection: output
 * frames forwarded (payloads only for a tty), input with detach keys, the client's EOF either
 * ending the session or closing the process's stdin. */
struct berth_proxy {
    bool tty, want_in, close_stdin_on_eof;
    unsigned char detach[16];
    size_t detach_len;
};
void berth_api_proxy_streams(const struct berth_proxy *px, int client_fd, int monitor_fd,
                             const char *extra, size_t extra_len);
const char *berth_api_stream_type(struct berth_http_request *req, bool tty);
/* "ctrl-p,ctrl-q" to bytes (moby's detach key syntax). */
int berth_detach_keys_parse(const char *s, unsigned char *out, size_t max, size_t *ret_len);

/* containers_fs.c */
void berth_api_container_archive_head(struct berth_http_request *req);
void berth_api_container_archive_get(struct berth_http_request *req);
void berth_api_container_archive_put(struct berth_http_request *req);
void berth_api_container_export(struct berth_http_request *req);
void berth_api_container_changes(struct berth_http_request *req);
void berth_api_commit(struct berth_http_request *req);

/* containers_stats.c */
void berth_api_container_top(struct berth_http_request *req);
void berth_api_container_stats(struct berth_http_request *req);
void berth_api_container_update(struct berth_http_request *req);

#endif
