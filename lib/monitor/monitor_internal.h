/* The monitor's state, shared by its files: monitor.c (lifecycle and the loop), attach.c
 * (attach.sock clients, stdin), spawn.c (running the runtime). */
#ifndef BERTH_MONITOR_INTERNAL_H
#define BERTH_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/logfile.h"
#include "monitor/monitor.h"

/* epoll tags of the fixed fds; a client's tag is its pointer */
enum mon_tag {
    TAG_SIGNAL = 1,
    TAG_SYNC,
    TAG_LISTEN,
    TAG_STDOUT,
    TAG_STDERR,
    TAG_STDIN,
    TAG_PIDFD,
    TAG_MAX = 16,
};

enum mon_state {
    S_WAIT_START, /* "ready" sent, waiting for berthd's "start" */
    S_RUNTIME,    /* the runtime runs */
    S_RUNNING,    /* the process runs */
    S_DRAINING,   /* the process exited: reading what is left of its output */
    S_CLOSING,    /* exit.json written: flushing attach clients, then exit */
};

enum mon_stdin {
    STDIN_NONE,    /* no --stdin: what clients send is dropped */
    STDIN_PENDING, /* not there yet (before the start, or before the pty master arrives) */
    STDIN_OPEN,
    STDIN_CLOSED, /* closed by --stdin-once or a broken pipe */
};

struct mon_client {
    struct mon_client *next;
    int fd;
    bool ready; /* "attach" handshake done */
    bool want_stdin, want_stdout, want_stderr;
    bool input_closed; /* the client shut down its side */
    uint32_t events;   /* what epoll watches now */
    char line[128];    /* the command line being received */
    size_t line_len;
    char *q; /* output waiting for the client: q[q_off .. q_len) */
    size_t q_off, q_len, q_cap;
};

struct monitor {
    const struct berth_monitor_config *cfg;
    int dirfd;
    int epfd;
    int sigfd;
    int sync_fd;
    int listen_fd;
    int console_fd; /* --tty: the console socket the runtime sends the pty master to */
    int out_fd;     /* stdout pipe (read end), or the pty master */
    int err_fd;     /* stderr pipe (read end); -1 with a tty */
    int in_fd;      /* stdin pipe (write end), or a dup of the pty master */
    int master;     /* the pty master (owned through out_fd; for TIOCSWINSZ) */
    enum mon_state state;
    enum mon_stdin stdin_state;
    bool stdin_close_pending; /* close once the queued stdin is written */
    char *stdin_buf;          /* stdin accepted from a client, not yet taken by the pipe */
    size_t stdin_off, stdin_len;
    unsigned short pending_rows, pending_cols; /* a resize before the pty arrived */
    pid_t runtime_pid;
    int64_t runtime_log_off; /* runtime.log's size before the runtime ran */
    pid_t pid;
    int pidfd; /* the process: its exit even if it is not our child */
    int status;
    int64_t finished_ns;
    int64_t deadline_ns; /* S_DRAINING / S_CLOSING: when to stop waiting */
    struct berth_log_writer *log;
    struct mon_client *clients;
};

/* monitor.c */
int mon_epoll_set(struct monitor *m, int fd, uint64_t tag, uint32_t events, bool add);
void mon_epoll_del(struct monitor *m, int fd);

/* attach.c */
int mon_listen_unix(struct monitor *m, const char *name, int *ret_fd, struct berth_error **err);
void mon_accept(struct monitor *m);
void mon_client_event(struct monitor *m, struct mon_client *c, uint32_t events);
/* Sends output of a stream to every attached client that wants it, framed. */
void mon_broadcast(struct monitor *m, int stream, const char *data, size_t len);
void mon_stdin_writable(struct monitor *m);
/* The stdin pipe or the pty appeared (or went away): clients may be read again. */
void mon_clients_update(struct monitor *m);
bool mon_clients_flushed(const struct monitor *m);
void mon_clients_close(struct monitor *m);
void mon_apply_pending_resize(struct monitor *m);

/* spawn.c */
int mon_spawn_runtime(struct monitor *m, int stdio[3], struct berth_error **err);
/* The runtime's error: the msg of its last error line in runtime.log since it started, else its
 * exit status. malloc'd. */
char *mon_runtime_error(struct monitor *m, int status);
/* `runtime delete --force ID`, bounded in time. */
void mon_runtime_delete(struct monitor *m);
/* Receives the pty master the runtime sent to the console socket; -errno if none. */
int mon_receive_console(struct monitor *m);
bool mon_read_oom(const char *path);

#endif
