/* berth-monitor: the per-container (and per-exec) monitor. The contract with berthd (command
 * line, sync messages, files, attach.sock) is in monitor/protocol.h. */
#ifndef BERTH_MONITOR_MONITOR_H
#define BERTH_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct berth_monitor_config {
    const char *id;
    const char *dir;
    const char *runtime;
    const char *runtime_root;
    const char *bundle;       /* container mode */
    const char *exec_process; /* exec mode */
    const char *log_path;     /* NULL: no json-file log */
    int64_t log_max_size;     /* 0: never rotate */
    unsigned log_max_file;
    const char *oom_file;
    bool tty;
    bool stdin_open;
    bool stdin_once;
    int sync_fd;
};

/* Checks a configuration before anything is done (the caller prints the error and exits 2). */
int berth_monitor_config_check(const struct berth_monitor_config *c, struct berth_error **err);
/* Detaches (double fork, setsid, stdio on /dev/null, chdir /, child subreaper) and runs the
 * monitor to the end. Returns only in the detached process, with its exit status; the original
 * process and the intermediate child _exit(0) (or 1 if the first fork fails, with *err set). */
int berth_monitor_main(const struct berth_monitor_config *c, struct berth_error **err);

#endif
