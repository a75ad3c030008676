/* Parent <-> container init over a SOCK_SEQPACKET socketpair, through named stages (the same
 * enum on both sides). The child reports failures as SYNC_ERROR with errno and message so the
 * user sees the real cause. Messages may carry one fd (SCM_RIGHTS): the pty master. */
#ifndef BERTH_RUNTIME_SYNC_H
#define BERTH_RUNTIME_SYNC_H

#include <stddef.h>

#include "core/error.h"

enum berth_sync_stage {
    SYNC_NONE,
    SYNC_PARENT_SETUP_DONE, /* parent -> child: id maps written, cgroup joined */
    SYNC_PRE_PIVOT,         /* child -> parent: mounts done, run createRuntime hooks now */
    SYNC_HOOKS_DONE,        /* parent -> child: payload is the state JSON for hooks */
    SYNC_CONSOLE,           /* child -> parent: the pty master (fd) */
    SYNC_READY,             /* child -> parent: all set up, about to wait for start */
    SYNC_START,             /* parent -> child (run without fifo): go */
    SYNC_ERROR,             /* child -> parent: payload is the error message */
    SYNC_EXEC_PID,          /* exec: intermediate -> parent, payload is the pid */
};

struct berth_sync_msg {
    int stage;
    int code;    /* errno for SYNC_ERROR, or a number (pid) */
    size_t len;  /* payload length */
    char data[]; /* payload */
};

/* A SOCK_SEQPACKET message must fit the socket's send buffer (net.core.wmem_default, 208 KiB
 * by default): the state JSON for hooks is the largest payload. */
#define BERTH_SYNC_MAX_PAYLOAD (128u * 1024)

/* Sends a stage with an optional payload and fd (-1 for none). */
int berth_sync_send(int sock, int stage, int code, const void *data, size_t len, int fd,
                    struct berth_error **err);
/* Receives one message; *ret is malloc'd, *ret_fd gets a passed fd or -1. A closed peer gives
 * EPIPE. If the message is SYNC_ERROR, *err is filled with its text and -code is returned. */
int berth_sync_recv(int sock, struct berth_sync_msg **ret, int *ret_fd, struct berth_error **err);
/* Receives and checks the stage. */
int berth_sync_expect(int sock, int stage, struct berth_sync_msg **ret, int *ret_fd,
                      struct berth_error **err);
/* Sends an error to the parent (best effort). */
void berth_sync_send_error(int sock, const struct berth_error *e);

/* SCM_RIGHTS helpers for unix sockets, also used for --console-socket. */
int berth_send_fd(int sock, int fd, const void *data, size_t len);
int berth_recv_fd(int sock, void *data, size_t len, size_t *ret_len);

#endif
