/* berthd's state and configuration (dockerd's flags and daemon.json). */
#ifndef BERTH_DAEMON_DAEMON_H
#define BERTH_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

#define BERTH_DEFAULT_SOCKET "/run/berth.sock"
#define BERTH_DEFAULT_DATA_ROOT "/var/lib/berth"
#define BERTH_DEFAULT_EXEC_ROOT "/run/berth"

struct berth_events;
struct berth_http_server;
struct berth_store;
struct berth_containers;

struct berth_daemon_config {
    char **hosts; /* unix:///path, tcp://host:port (NULL-terminated) */
    char *data_root;
    char *exec_root;
    char *pidfile;
    char *log_level; /* debug, info, warn, error, fatal */
    char *storage_driver;
    char *cgroup_parent; /* containers' cgroups go under it (default "/berth") */
    char *group;
    bool tlsverify;
    char *tlscacert, *tlscert, *tlskey;
};

/* Merges daemon.json into cfg. set_by_flag names the options given on the command line (the
 * file's keys); a key in both is an error, as dockerd says: "the following directives are
 * specified both as a flag and in the configuration file: ...". Unknown keys are refused. */
int berth_daemon_config_load(const char *path, char *const *set_by_flag,
                             struct berth_daemon_config *cfg, struct berth_error **err);
/* Fills unset fields with the defaults. */
int berth_daemon_config_finish(struct berth_daemon_config *cfg, struct berth_error **err);
void berth_daemon_config_clear(struct berth_daemon_config *cfg);

struct berth_daemon {
    struct berth_daemon_config cfg;
    struct berth_events *events;
    struct berth_http_server *http;
    char id[64]; /* persistent engine id (data-root/engine-id) */
    int64_t started_nano;
    const char *driver; /* the storage driver in use: overlay2 or vfs */
    struct berth_store *store;
    struct berth_containers *containers;
    const char *busybox_path; /* the default image's source, /bin/busybox */
    int pidfile_fd;
    int n_bound; /* hosts listened on so far: only their sockets are removed at stop */
};

/* Prepares data-root and exec-root, takes the pidfile lock (one daemon per data-root), starts the
 * event bus and the HTTP listeners. */
int berth_daemon_start(struct berth_daemon *d, struct berth_error **err);
/* Stops accepting, finishes requests in flight, releases everything. */
void berth_daemon_stop(struct berth_daemon *d);

#endif
