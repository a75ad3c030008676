/* Raw connections to the daemon for what libcurl's request/response model does not fit:
 *   - a request whose headers must be read before another request is sent (wait before start)
 *     and whose body comes much later;
 *   - docker's hijacked streams (attach, exec start): "Connection: Upgrade", "Upgrade: tcp",
 *     101 Switching Protocols (or 200 from old daemons), then the socket carries the process's
 *     stdin one way and its output the other;
 *   - docker's stdcopy multiplexing (8-byte frame headers: stream, 0, 0, 0, size big-endian);
 *   - detach keys ("ctrl-p,ctrl-q"), the terminal in raw mode, and the copy loop that ties the
 *     terminal, the connection, signals (forwarded to the container) and SIGWINCH together. */
#ifndef BERTH_CLIENT_HIJACK_H
#define BERTH_CLIENT_HIJACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <termios.h>

#include "client/http.h"
#include "core/error.h"

/* A connection with what was read past the response headers. */
struct berth_conn {
    int fd;
    char *buf; /* bytes read but not consumed */
    size_t off, len, cap;
    /* the response */
    int status;
    bool chunked;
    long long content_length; /* -1: until EOF */
    char content_type[128];
    bool eof;        /* the body was read to its end */
    bool keep_alive; /* the server keeps the connection open after this response */
    /* chunked decoding state: the bytes left in the current chunk, 0 before a size line */
    long long chunk_left;
    /* optional: every response header as it is read (name and value NUL-terminated) */
    void (*on_header)(void *ud, const char *name, const char *value);
    void *header_ud;
};

/* Opens a connection and sends method target with an optional JSON body; upgrade asks for the
 * connection to be hijacked. Then reads the status line and headers. An error status (>= 400)
 * becomes docker's "Error response from daemon: <message>" (the body read first); the errno
 * follows the status like http.h's. */
int berth_conn_request(struct berth_client *c, const char *method, const char *path,
                       const struct berth_query *q, const char *json_body, bool upgrade,
                       struct berth_conn *ret, struct berth_error **err);
/* Reads a response's status line and headers (skipping 100 Continue) and resets the body
 * state. keep_alive is set for HTTP/1.1 replies without "Connection: close" whose body has a
 * known end. */
int berth_conn_read_head(struct berth_conn *conn, struct berth_error **err);
/* Reads the next piece of the body (decoding chunks, trailers consumed): > 0 bytes, 0 at the
 * end of the body (eof set), < 0 on error (err filled; a truncated body is EPROTO). */
ssize_t berth_conn_body_read(struct berth_conn *conn, char *buf, size_t len,
                             struct berth_error **err);
/* Reads the rest of the body (decoding chunks) into a NUL-terminated string of at most max
 * bytes (0: 16 MiB); more is EFBIG. */
int berth_conn_read_body_max(struct berth_conn *conn, size_t max, char **ret, size_t *ret_len,
                             struct berth_error **err);
int berth_conn_read_body(struct berth_conn *conn, char **ret, size_t *ret_len,
                         struct berth_error **err);
/* Sends a request body read from fd to sock: with len >= 0 exactly len bytes (fewer is EPIPE:
 * the file shrank), with len < 0 until EOF in HTTP/1.1 chunked framing ("<hex>\r\n<data>\r\n"
 * per read, "0\r\n\r\n" at the end). Writes use MSG_NOSIGNAL when sock is a socket. */
int berth_conn_send_fd(int sock, int fd, long long len, struct berth_error **err);
/* send(2) with MSG_NOSIGNAL (write(2) when fd is not a socket) until all is written; -errno. */
int berth_conn_send_all(int fd, const void *buf, size_t len);
/* Reads raw bytes (leftovers first); 0 at EOF, < 0 on error (-errno). */
ssize_t berth_conn_read(struct berth_conn *conn, void *buf, size_t len);
void berth_conn_close(struct berth_conn *conn);

/* docker's stdcopy.StdCopy as a push parser: frames may be split anywhere. */
struct berth_stdcopy {
    int (*on_frame)(void *ud, int stream, const char *data, size_t len);
    void *ud;
    /* internal */
    unsigned char hdr[8];
    size_t hdr_len;
    uint32_t left;
    int stream;
};
/* Feeds bytes; on_frame is called for every piece of payload (stream 0 stdin, 1 stdout, 2
 * stderr, 3 systemerr). An unknown stream is EPROTO ("Unrecognized input header: N"). */
int berth_stdcopy_feed(struct berth_stdcopy *s, const char *data, size_t len,
                       struct berth_error **err);

/* moby/term.ToBytes: "ctrl-p,ctrl-q" → {16, 17}; single characters and ctrl-[a-z@[\]^_]. */
int berth_client_detach_keys_parse(const char *keys, unsigned char *ret, size_t cap,
                                   size_t *ret_len, struct berth_error **err);

/* The escape proxy of moby/term: returns how many of buf's n bytes can be passed on; *matched
 * tracks the keys matched so far (bytes held back) and *detached becomes true when the whole
 * sequence was typed. Held-back bytes that turn out not to be the sequence are put back in
 * front (out gets them first). */
size_t berth_client_detach_filter(const unsigned char *keys, size_t nkeys, size_t *matched,
                                  const unsigned char *in, size_t n, unsigned char *out,
                                  size_t out_cap, bool *detached);

/* What the copy loop connects. */
struct berth_stream_opts {
    int in_fd;          /* -1: no stdin (the write side is closed at once, as docker does) */
    int out_fd, err_fd; /* -1: not attached */
    bool tty;           /* raw output instead of stdcopy frames */
    bool raw_terminal;  /* put in_fd in raw mode (it is a terminal and tty is set) */
    const char *detach; /* detach keys ("" or NULL: ctrl-p,ctrl-q), used with raw_terminal */
    /* signal forwarding and terminal resizing, done by the caller between reads */
    int signal_fd; /* a signalfd or -1 */
    void (*on_signal)(void *ud, int signo);
    void *ud;
};

enum berth_stream_end {
    BERTH_STREAM_DONE = 0,     /* the output ended (or, with no output attached, the input) */
    BERTH_STREAM_DETACHED = 1, /* the detach keys were typed */
};

/* Copies stdin to the connection and the connection to stdout/stderr until the output ends
 * (returns BERTH_STREAM_DONE) or the detach keys are typed (BERTH_STREAM_DETACHED). At the
 * end of stdin the connection's write side is shut down. The terminal is restored before
 * returning. */
int berth_stream(struct berth_conn *conn, const struct berth_stream_opts *opts,
                 struct berth_error **err);

/* Signals docker forwards with --sig-proxy, blocked and read through a signalfd. Returns the
 * signalfd (or -1) and keeps the old mask in *old. */
int berth_client_signals_block(bool proxy, bool winch, sigset_t *old);
/* "INT" for SIGINT (moby's signal map names), NULL when there is none. */
const char *berth_client_signal_name(int signo);
/* Parses a signal as docker's signal.ParseSignal: "9", "KILL", "SIGKILL" → 9; -1 when
 * invalid. */
int berth_client_signal_parse(const char *s);

/* The terminal size of fd (rows, cols); false when it is not a terminal. */
bool berth_tty_size(int fd, unsigned *rows, unsigned *cols);

#endif
