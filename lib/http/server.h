/* The daemon's HTTP/1.1 transport (lib/http/conn.c): UNIX sockets (and TCP with mutual TLS),
 * one route table, Docker's version prefixes and common headers, bounded request bodies,
 * JSON replies and chunked streams. One thread per connection: a handler may block. */
#ifndef BERTH_HTTP_SERVER_H
#define BERTH_HTTP_SERVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

struct json_t;
struct berth_http_server;
struct berth_http_request;

/* The API versions served: unversioned requests get the maximum. */
#define BERTH_API_VERSION_MAX_MAJOR 1
#define BERTH_API_VERSION_MAX_MINOR 44
#define BERTH_API_VERSION "1.44"
#define BERTH_API_MIN_VERSION "1.24"
#define BERTH_ENGINE_VERSION "0.1.0"

/* JSON bodies above this are refused with 413 before being read whole. */
#define BERTH_HTTP_MAX_JSON_BODY (4u << 20)

enum berth_http_body {
    BERTH_BODY_NONE,  /* a body, if any, is read and dropped */
    BERTH_BODY_JSON,  /* kept in memory, at most BERTH_HTTP_MAX_JSON_BODY */
    BERTH_BODY_SPOOL, /* streamed into an unnamed temporary file (tarballs): req->body_fd */
};

typedef void (*berth_http_handler)(struct berth_http_request *req);

struct berth_route {
    const char *method; /* "GET", "POST", "DELETE", "HEAD", "PUT" */
    const char *prefix; /* "/images/json", or "/images/" when has_param */
    const char *suffix; /* with has_param: "/json", or NULL for "the rest of the path" */
    bool has_param;     /* {name} between prefix and suffix (may contain '/') */
    enum berth_http_body body;
    berth_http_handler handler;
};

struct berth_http_request {
    const char *method;
    const char *path; /* percent-decoded, without the /vX.Y prefix */
    char *param;      /* the {name} of the route */
    int api_major, api_minor;
    const char *body; /* BODY_JSON: NUL-terminated */
    size_t body_len;
    int body_fd;                  /* BODY_SPOOL: at offset 0, or -1 */
    void *app;                    /* what the server was created with */
    struct berth_http_conn *conn; /* internal */
};

int berth_http_server_new(const struct berth_route *routes, size_t n_routes, void *app,
                          const char *spool_dir, struct berth_http_server **ret,
                          struct berth_error **err);
/* Binds a UNIX socket (replacing a stale one) with mode and, when group_name names an existing
 * group, that group. */
int berth_http_listen_unix(struct berth_http_server *srv, const char *path, mode_t mode,
                           const char *group_name, struct berth_error **err);
/* Listens on host:port with TLS; with ca_file, clients must present a certificate it signed. */
int berth_http_listen_tls(struct berth_http_server *srv, const char *host_port, const char *ca_file,
                          const char *cert_file, const char *key_file, struct berth_error **err);
/* Stops accepting; waits for requests in flight (streams are told to end). */
void berth_http_server_stop(struct berth_http_server *srv);
void berth_http_server_free(struct berth_http_server *srv);
/* True once stop has begun: long streams check it. */
bool berth_http_stopping(const struct berth_http_server *srv);

/* Query parameters. */
const char *berth_http_query(struct berth_http_request *req, const char *key);
/* Every value of a repeated key, NULL-terminated (caller frees the vector, not the strings). */
const char **berth_http_query_all(struct berth_http_request *req, const char *key);
/* moby's rule: "", 0, no, false, none are false; absent gives def. */
bool berth_http_query_bool(struct berth_http_request *req, const char *key, bool def);
const char *berth_http_header(struct berth_http_request *req, const char *name);
bool berth_http_version_below(const struct berth_http_request *req, int major, int minor);

/* Replies: each queues exactly one response. */
void berth_http_reply_json(struct berth_http_request *req, unsigned status, struct json_t *body);
/* A JSON body written as text (ending with the newline moby puts there): takes text. */
void berth_http_reply_json_text(struct berth_http_request *req, unsigned status, char *text,
                                size_t len);
void berth_http_reply_text(struct berth_http_request *req, unsigned status,
                           const char *content_type, const char *text, size_t len);
/* With extra headers: a NULL-terminated list of name, value pairs. */
void berth_http_reply_with_headers(struct berth_http_request *req, unsigned status,
                                   const char *content_type, const char *text, size_t len,
                                   const char *const *headers);
void berth_http_reply_empty(struct berth_http_request *req, unsigned status);
void berth_http_reply_error(struct berth_http_request *req, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps the error's errno to a status (ENOENT 404, EEXIST/EBUSY 409, EINVAL 400, EPERM/EACCES
 * 403, EFBIG 413, else 500) and replies {"message": ...}. */
void berth_http_reply_berror(struct berth_http_request *req, const struct berth_error *e);
unsigned berth_http_status_of_errno(int code);

/* A chunked stream: produce() is called with a buffer and returns the bytes written, 0 to wait
 * for more (it should block until it has data or the client is gone), -1 at the end, or -2 when
 * it failed midway: the connection is then closed without the stream's end, so the client
 * sees it cut short rather than complete. */
typedef ssize_t (*berth_http_produce)(void *cls, char *buf, size_t max);
void berth_http_reply_stream(struct berth_http_request *req, unsigned status,
                             const char *content_type, berth_http_produce produce, void *cls,
                             void (*free_cls)(void *cls));
/* The same with extra headers (NULL-terminated name, value pairs). */
void berth_http_reply_stream_with_headers(struct berth_http_request *req, unsigned status,
                                          const char *content_type, const char *const *headers,
                                          berth_http_produce produce, void *cls,
                                          void (*free_cls)(void *cls));
/* Whether a stream should end: the client has gone away, or the server is stopping (for
 * endless streams like /events). */
bool berth_http_client_gone(struct berth_http_request *req);
/* Only whether the peer closed the connection (streams of work that must finish). */
bool berth_http_peer_closed(struct berth_http_request *req);
/* Hijacks the connection, as Docker's attach and exec start do. With an `Upgrade` header the
 * reply is `101 UPGRADED` (Connection: Upgrade, Upgrade: tcp, the content type); without one it
 * is a 200 stream of what run() writes (no input). run() is then called on a thread of its own
 * with a socket that carries the raw bytes both ways, plus whatever the client sent after its
 * headers; the connection closes when run() returns. free_cls is called after run, or instead
 * of it when the hijack could not happen. The request must not be used from run(). At server
 * stop, hijacked sockets are shut down (run sees EOF) and waited for. */
typedef void (*berth_http_hijack_run)(void *cls, int fd, const char *extra, size_t extra_len);
void berth_http_reply_hijack(struct berth_http_request *req, const char *content_type,
                             berth_http_hijack_run run, void *cls, void (*free_cls)(void *cls));
/* The server of a request (for berth_http_stopping in streams). */
struct berth_http_server *berth_http_request_server(struct berth_http_request *req);

#endif
