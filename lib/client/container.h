/* What the client's container commands share: docker's create/run flags turned into the
 * /containers/create body, the pieces of the run flow (attach, wait, start) that start and
 * attach reuse, and docker's parsers for sizes, CPUs, env files and detach keys. */
#ifndef BERTH_CLIENT_CONTAINER_H
#define BERTH_CLIENT_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>

#include "client/commands.h"
#include "client/hijack.h"

/* The flags of docker create / docker run (the values as given). */
struct berth_run_opts {
    /* run only */
    bool detach, sig_proxy, rm_set_by_run;
    const char *detach_keys;
    /* create and run */
    const char *name, *pull, *platform, *cidfile;
    bool quiet, interactive, tty, rm, read_only, privileged, init, oom_kill_disable;
    char **attach, **env, **env_file, **label, **label_file, **tmpfs, **cap_add, **cap_drop;
    char **security_opt, **ulimit, **dns, **dns_search, **dns_option, **add_host, **group_add;
    char **volume, **mount, **sysctl, **log_opt, **volumes_from, **expose;
    const char *workdir, *user, *entrypoint, *hostname, *domainname, *memory, *memory_swap;
    const char *memory_reservation, *cpus, *cpuset_cpus, *cpuset_mems, *restart, *stop_signal;
    const char *network, *shm_size, *log_driver, *ipc, *pid, *uts, *userns, *cgroupns;
    const char *cgroup_parent, *runtime;
    long long cpu_shares, pids_limit, stop_timeout, cpu_period, cpu_quota, oom_score_adj;
    long long memory_swappiness;
    /* which optional flags were given */
    bool entrypoint_set, init_set, stop_timeout_set, pids_limit_set, swappiness_set;
};

/* Fills opts (room for 80) with the create flags (run adds its own); returns how many. */
size_t berth_run_opts_table(struct berth_run_opts *o, bool run, struct berth_opt *opts);
/* Marks the optional flags present in argv (--init, --stop-timeout, ...). */
void berth_run_opts_seen(struct berth_run_opts *o, int argc, char **argv);
void berth_run_opts_clear(struct berth_run_opts *o);

/* The /containers/create body for image and its command; errors are docker's messages for
 * flag values ("invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'"); *is_usage
 * tells whether docker reports it as a flag error. */
int berth_run_opts_build(struct berth_cli *cli, struct berth_run_opts *o, const char *image,
                         char **cmd, int ncmd, json_t **ret, bool *is_usage,
                         struct berth_error **err);

/* go-units RAMInBytes ("64m" = 64 MiB); false when invalid. */
bool berth_ram_in_bytes(const char *s, long long *ret);
/* docker's NanoCPUs ("0.5" = 500000000); false when invalid. */
bool berth_nano_cpus(const char *s, long long *ret);
/* docker's env files: KEY=value lines, # comments, a bare KEY taken from the environment
 * when set; appended to *env. */
int berth_parse_env_file(const char *path, char ***env, struct berth_error **err);

/* The container's create → attach → wait → start flow and what start/attach share. */
struct berth_attach {
    bool in, out, err, tty;
    const char *detach_keys;
    bool sig_proxy;
};
/* Attaches (stream=1 and the streams asked for); the connection is hijacked. */
int berth_cli_ctr_attach(struct berth_client *c, const char *id, const struct berth_attach *a,
                         bool logs, struct berth_conn *ret, struct berth_error **err);
/* Starts waiting (condition "next-exit", "removed", "not-running"); returns once the daemon
 * sent the response headers. */
int berth_cli_ctr_wait_begin(struct berth_client *c, const char *id, const char *condition,
                             struct berth_conn *ret, struct berth_error **err);
/* The exit status from a wait begun before; a wait error ({"Error": {"Message"}}) is an error. */
int berth_cli_ctr_wait_end(struct berth_conn *wait, int *ret_status, struct berth_error **err);
/* Copies the streams until the output ends or the detach keys; sig_proxy forwards signals to
 * the container, a tty is resized on start and on SIGWINCH. Returns BERTH_STREAM_*. */
int berth_cli_ctr_stream(struct berth_cli *cli, const char *id, struct berth_conn *conn,
                         const struct berth_attach *a, bool resize_exec, struct berth_error **err);
/* POST /containers/{id}/resize (or /exec/{id}/resize) with the terminal's size. */
void berth_cli_ctr_resize(struct berth_client *c, const char *id, bool exec);

/* docker's run errors: "docker: <msg>.\n\nRun 'docker run --help' for more information". */
void berth_run_report(struct berth_cli *cli, const char *msg);
/* 127 for "not found" start errors, 126 for "permission denied", else 125 */
int berth_run_start_status(const char *msg);

/* "/containers/<escaped id><suffix>" */
char *berth_cli_ctr_path(const char *id, const char *suffix);

#endif
