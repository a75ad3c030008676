/* Shared between server.c (routes, replies, request data, listeners) and conn.c (the connection
 * threads: reading and parsing requests, writing responses, TLS). */
#ifndef BERTH_HTTP_INTERNAL_H
#define BERTH_HTTP_INTERNAL_H

#include <http_parser.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include "http/server.h"

#define BERTH_HTTP_MAX_LISTENERS 16
#define BERTH_HTTP_MAX_HIJACKS 256
/* the request line and headers together; past it: 431 (http_parser's own bound is 80 KiB) */
#define BERTH_HTTP_MAX_HEAD (64u << 10)
#define BERTH_HTTP_MAX_HEADERS 128

struct berth_http_listener {
    struct berth_http_server *srv;
    int fd;
    SSL_CTX *tls; /* NULL: plain */
    pthread_t thread;
    bool running;
};

struct berth_http_server {
    const struct berth_route *routes;
    size_t n_routes;
    void *app;
    char *spool_dir;
    struct berth_http_listener listeners[BERTH_HTTP_MAX_LISTENERS];
    size_t n_listeners;
    atomic_bool stopping;
    /* the connections (their threads), and the requests among them being handled */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct berth_http_conn *conns;
    unsigned n_conns, active;
    /* hijacked connections: their sockets, so that stop can shut them down and wait */
    pthread_mutex_t hijack_lock;
    pthread_cond_t hijack_done;
    int hijack_fds[BERTH_HTTP_MAX_HIJACKS];
    size_t n_hijacks;
};

enum response_kind { RESP_NONE, RESP_FIXED, RESP_STREAM, RESP_HIJACK };

/* The reply a handler queued: written once the handler has returned. */
struct berth_http_response {
    enum response_kind kind;
    unsigned status;
    char *content_type;
    char **headers; /* name, value, ..., NULL */
    char *body;     /* RESP_FIXED (owned) */
    size_t len;
    berth_http_produce produce; /* RESP_STREAM, RESP_HIJACK */
    berth_http_hijack_run run;
    void *cls;
    void (*free_cls)(void *cls);
};

struct query_arg {
    char *key, *value;
};

/* One connection (its thread) and the request in progress on it. */
struct berth_http_conn {
    struct berth_http_server *srv;
    struct berth_http_conn *next;
    int fd;
    SSL *ssl;
    bool idle; /* between requests: stop may close it */
    /* parsing */
    http_parser parser;
    char *url, *hname, *hvalue; /* being read */
    size_t url_len, hname_len, hvalue_len, head_size;
    struct query_arg *headers; /* name, value */
    size_t n_headers;
    struct query_arg *query;
    size_t n_query;
    bool message_done, bad_head;
    char in[16384];
    char *rbuf; /* what was read last: in, or big */
    char *big;  /* while a body is spooled: fewer, larger reads (BERTH_HTTP_SPOOL_READ) */
    size_t in_off, in_len;
    /* the request */
    char method[16];
    const struct berth_route *route;
    struct berth_http_request req;
    char *path;
    char *body;
    size_t body_len, body_cap;
    bool body_too_large, counted;
    int spool_fd;
    /* body pieces (pointing into rbuf) not yet written to spool_fd: one writev per read */
    struct iovec spool_iov[64];
    int n_spool_iov;
    int early_status; /* an error found before the body: the reply once it is read */
    char early_msg[256];
    struct berth_http_response resp;
};

/* conn.c */
int berth_http_listener_start(struct berth_http_server *srv, int fd, SSL_CTX *tls,
                              struct berth_error **err);
/* Sends everything; false once the peer is gone. */
bool berth_http_conn_write(struct berth_http_conn *c, const void *buf, size_t len);

/* server.c */
/* Route, version and body handling once the head of a request is in. */
void berth_http_request_begin(struct berth_http_conn *c);
/* Writes the spooled body pieces held in spool_iov (before rbuf is read into again). */
void berth_http_spool_flush(struct berth_http_conn *c);
/* the read size while a body is spooled */
#define BERTH_HTTP_SPOOL_READ (1 << 20)
void berth_http_take_body(struct berth_http_conn *c, const char *data, size_t len);
/* Runs the handler (or replies with the early error); the reply is in c->resp after. */
void berth_http_request_run(struct berth_http_conn *c);
/* Frees the request's state (the connection stays). */
void berth_http_request_end(struct berth_http_conn *c);
void berth_http_response_clear(struct berth_http_response *r);
bool berth_http_hijack_track(struct berth_http_server *srv, int fd);
void berth_http_hijack_untrack(struct berth_http_server *srv, int fd);
/* The reason phrase of a status. */
const char *berth_http_reason(unsigned status);

#endif
