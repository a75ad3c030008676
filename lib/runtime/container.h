/* The create sequence (parent side in create.c, container init in init.c), start, run. */
#ifndef BERTH_RUNTIME_CONTAINER_H
#define BERTH_RUNTIME_CONTAINER_H

#include <stdbool.h>

#include "core/error.h"
#include "runtime/spec.h"

struct berth_create_opts {
    const char *root; /* state root */
    const char *id;
    const char *bundle; /* absolute */
    const char *pid_file;
    const char *console_socket;
    bool no_pivot;
    bool no_new_keyring;
    bool systemd_cgroup;
    int preserve_fds;
    bool detach; /* run -d */
    bool keep;   /* run --keep: do not delete after exit */
};

int berth_container_create(const struct berth_create_opts *o, struct berth_error **err);
int berth_container_start(const char *root, const char *id, struct berth_error **err);
/* create + start; unless detached, waits and returns the exit code (128+signal if killed). */
int berth_container_run(const struct berth_create_opts *o, int *ret_exit_code,
                        struct berth_error **err);

/* What the container init needs; filled by the parent before clone. */
struct berth_init_ctx {
    const struct berth_spec *spec;
    const struct berth_create_opts *opts;
    int sock;         /* child's end of the sync socketpair */
    int state_dirfd;  /* for exec.fifo; -1 when run without fifo */
    int new_ns_flags; /* namespaces the clone created */
    int user_ns_fd;   /* to join (path), or -1 */
    int mnt_ns_fd;    /* to join (path), or -1 */
    bool new_cgroup_ns;
    bool in_userns;
    struct berth_seccomp_filter *seccomp; /* compiled by the parent (through the cache) */
};

/* Runs in the cloned child; never returns (execs or exits). */
__attribute__((noreturn)) void berth_container_init(struct berth_init_ctx *ctx);

/* runc's "cannot delete"/"not running" checks and cleanup, shared by run and delete. */
int berth_container_destroy(const char *root, const char *id, bool run_poststop,
                            struct berth_error **err);

#endif
