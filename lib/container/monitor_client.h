/* berthd's side of the monitor contract (lib/monitor/protocol.h). */
#ifndef BERTH_CONTAINER_MONITOR_CLIENT_H
#define BERTH_CONTAINER_MONITOR_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct berth_monitor_args {
    const char *monitor_path, *runtime_path, *runtime_root;
    const char *id;           /* the runtime's container id */
    const char *dir;          /* the monitor's directory (exists) */
    const char *bundle;       /* container mode */
    const char *exec_process; /* exec mode */
    const char *log_path;     /* NULL: no log */
    int64_t log_max_size;
    unsigned log_max_file;
    bool tty, open_stdin, stdin_once;
    const char *oom_file;
};

struct berth_monitor_handle {
    int sync_fd;
    int monitor_pid;
};

struct berth_monitor_exit {
    int exit_code;
    bool oom_killed;
    int pid;
    int64_t finished_ns;
};

/* Spawns the monitor and waits for "ready": attach sockets can be connected from then on. */
int berth_monitor_spawn(const struct berth_monitor_args *a, struct berth_monitor_handle *h,
                        struct berth_error **err);
/* "start": returns the process pid, or the runtime's error (errno EIO, its message as is).
 * On success h->sync_fd stays open: it reads "exited" once exit.json is written (EOF if the
 * monitor dies); the caller keeps it or closes it with berth_monitor_abandon(). */
int berth_monitor_go(struct berth_monitor_handle *h, int *ret_pid, struct berth_error **err);
/* Closes the sync fd. Before "start": the monitor removes its files and exits. */
void berth_monitor_abandon(struct berth_monitor_handle *h);
/* Whether a sync fd that polled readable carries "exited" or EOF: the process is done. Returns
 * false while nothing (or something else) is there. */
bool berth_monitor_sync_exited(int sync_fd);
int berth_monitor_resize(const char *run_dir, unsigned rows, unsigned cols,
                         struct berth_error **err);
int berth_monitor_read_exit(const char *run_dir, struct berth_monitor_exit *ex,
                            struct berth_error **err);

#endif
