/* The client side of the Docker Engine API, one connection reused for every request of a
 * command: over a UNIX socket our own HTTP/1.1 (client/hijack.h's connection code, kept alive
 * between requests, redialled when the server closed it); over TCP (optionally TLS with client
 * certificates) libcurl, loaded with dlopen at the first request (client/curl_dl.h), so that
 * the common case never maps it.
 *
 * Version negotiation works like the Go client's: before the first versioned request the client
 * sends HEAD /_ping (GET /_ping when the server does not answer HEAD with 200 or 500), reads the
 * Api-Version header (missing: 1.24) and uses min(server, BERTH_CLIENT_API_VERSION) as the
 * /vX.Y prefix of every later path. A forced version (DOCKER_API_VERSION) skips the ping.
 *
 * Error replies (status >= 400) become berth errors: the message is
 * "Error response from daemon: <message>" where <message> is the body's {"message": ...} when the
 * Content-Type is application/json, else the body text, else docker's wording for an empty body;
 * the errno follows the status (404 ENOENT, 409 EEXIST, 400 EINVAL, 401 EACCES, 403 EPERM,
 * 501 ENOSYS, 503 EAGAIN, else EIO) and the status itself is left in the response. */
#ifndef BERTH_CLIENT_HTTP_H
#define BERTH_CLIENT_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define BERTH_CLIENT_API_VERSION "1.44"
#define BERTH_CLIENT_MIN_API_VERSION "1.24"
#define BERTH_CLIENT_DEFAULT_HOST "unix:///run/berth.sock"
#define BERTH_CLIENT_VERSION "0.1.0"

struct berth_client_opts {
    const char *host;       /* unix:///path, tcp://host[:port]; NULL: the default host */
    bool tls;               /* --tls: TLS without verifying the server */
    bool tls_verify;        /* --tlsverify: TLS, the server verified against tls_cacert */
    const char *tls_cacert; /* PEM files; NULL: none given */
    const char *tls_cert;
    const char *tls_key;
    const char *api_version; /* forced version (DOCKER_API_VERSION), NULL to negotiate */
};

struct berth_client;

int berth_client_new(const struct berth_client_opts *opts, struct berth_client **ret,
                     struct berth_error **err);
void berth_client_free(struct berth_client *c);
void berth_client_freep(struct berth_client **c);
#define _cleanup_client_ __attribute__((cleanup(berth_client_freep)))

/* The host as given (unix:///run/berth.sock) */
const char *berth_client_host(const struct berth_client *c);

struct berth_ping {
    char api_version[16]; /* "" when the header is missing */
    char os_type[32];
    char builder_version[8];
    char swarm[32];
    bool experimental;
};

/* HEAD /_ping, falling back to GET /_ping, like the Go client. */
int berth_client_ping(struct berth_client *c, struct berth_ping *ret, struct berth_error **err);
/* Negotiates the API version once (no-op when forced or done). */
int berth_client_negotiate(struct berth_client *c, struct berth_error **err);
/* The version used as the path prefix ("1.41"); negotiates first when needed. */
const char *berth_client_api_version(struct berth_client *c);
/* Compares "major.minor" versions: <0, 0, >0. */
int berth_api_version_cmp(const char *a, const char *b);

/* A query string: keys may repeat; encoded sorted by key like Go's url.Values. */
struct berth_query {
    char **kv; /* key, value, key, value, ... */
    size_t n;  /* number of pairs */
};
int berth_query_add(struct berth_query *q, const char *key, const char *value);
void berth_query_clear(struct berth_query *q);
#define _cleanup_query_ __attribute__((cleanup(berth_query_clear)))

struct berth_request {
    const char *method; /* GET, HEAD, POST, PUT, DELETE */
    const char *path;   /* "/images/json"; the /vX.Y prefix is added unless unversioned */
    const struct berth_query *query;
    bool unversioned;
    const char *content_type; /* NULL: none, or text/plain for a body (as the Go client) */
    const char *body;         /* a whole body, sent with Content-Length */
    size_t body_len;
    int upload_fd; /* >= 0: the body is read from this fd: a regular file's rest with its
                      Content-Length, anything else chunked (always chunked over TCP) */
    /* Streams a successful response body as it arrives instead of keeping it. A negative
     * return aborts the transfer; the callback fills err. */
    int (*on_data)(void *ud, const char *buf, size_t len, struct berth_error **err);
    void *ud;
};

struct berth_response {
    long status;
    char *content_type; /* NULL when the server sent none */
    char *body;         /* NUL-terminated; the body when not streamed (and for errors) */
    size_t len;
};
void berth_response_clear(struct berth_response *r);
#define _cleanup_response_ __attribute__((cleanup(berth_response_clear)))

/* Sends a request. 0 when the status is < 400; an error reply or a transport failure is an
 * error (resp->status is 0 for transport failures). */
int berth_client_request(struct berth_client *c, const struct berth_request *req,
                         struct berth_response *resp, struct berth_error **err);

/* GET path and parse the JSON body; *ret_raw (optional) receives the body text as sent. */
int berth_client_get_json(struct berth_client *c, const char *path, const struct berth_query *q,
                          json_t **ret, char **ret_raw, struct berth_error **err);
/* method path with a JSON body (body may be NULL: no body); the reply is parsed when ret is not
 * NULL and the reply has a body. */
int berth_client_send_json(struct berth_client *c, const char *method, const char *path,
                           const struct berth_query *q, json_t *body, json_t **ret,
                           struct berth_error **err);

/* The request target for a raw connection: "/v1.41/containers/x/attach?stream=1" (negotiates
 * first). NULL on ENOMEM. */
char *berth_client_target(struct berth_client *c, const char *path, const struct berth_query *q);
/* A new connection to the daemon's socket (unix or plain TCP; TLS is refused), for requests
 * that take the connection over (attach, exec start) or must run beside another one (wait). */
int berth_client_dial(struct berth_client *c, int *ret_fd, struct berth_error **err);

/* Splits a stream of concatenated JSON values ({"a":1}\r\n{"b":2}, any whitespace or none
 * between) into parsed values, as Go's json.Decoder reads JSON message streams. */
struct berth_json_splitter {
    int (*on_value)(void *ud, json_t *value, struct berth_error **err);
    void *ud;
    /* internal */
    char *buf;
    size_t len, cap, scanned;
    int depth;
    bool in_str, esc;
};
int berth_json_splitter_feed(struct berth_json_splitter *s, const char *data, size_t len,
                             struct berth_error **err);
/* The end of the stream: a partial value left over is an error. */
int berth_json_splitter_finish(struct berth_json_splitter *s, struct berth_error **err);
void berth_json_splitter_clear(struct berth_json_splitter *s);

/* JSON-encodes a filters map {"key": {"value": true}} (compact, sorted keys), NULL when empty. */
char *berth_filters_json(json_t *filters);

#endif
