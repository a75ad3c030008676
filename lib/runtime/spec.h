/* The OCI runtime configuration (config.json), parsed and validated up front so that a bad
 * bundle is refused before anything is created. */
#ifndef BERTH_RUNTIME_SPEC_H
#define BERTH_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

struct json_t;

/* An optional number: set says whether config.json gave it. */
struct berth_opt_i64 {
    bool set;
    int64_t value;
};

struct berth_kv {
    char *key;
    char *value;
};

struct berth_spec_rlimit {
    int resource; /* RLIMIT_* */
    char *name;   /* as in config.json, e.g. "RLIMIT_NOFILE" */
    uint64_t soft, hard;
};

struct berth_spec_caps {
    bool set; /* "capabilities" present */
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct berth_spec_user {
    uid_t uid;
    gid_t gid;
    bool has_umask;
    mode_t umask;
    gid_t *additional_gids;
    size_t n_additional_gids;
};

struct berth_spec_process {
    bool terminal;
    unsigned int console_height, console_width;
    struct berth_spec_user user;
    char **args; /* NULL-terminated */
    char **env;  /* NULL-terminated */
    char *cwd;
    struct berth_spec_caps caps;
    struct berth_spec_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privileges;
    struct berth_opt_i64 oom_score_adj;
    char *apparmor_profile;
    char *selinux_label;
};

struct berth_spec_mount {
    char *destination;
    char *source;
    char *type;
    char **options;            /* NULL-terminated, as given */
    unsigned long flags;       /* MS_* to set */
    unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", ...) */
    unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE [| MS_REC], or 0 */
    char *data;                /* filesystem-specific options, comma-joined */
    bool bind;                 /* bind or rbind */
    bool tmpcopyup;
};

struct berth_spec_namespace {
    int type; /* CLONE_NEW* */
    char *path;
};

struct berth_spec_idmap {
    uint32_t container_id, host_id, size;
};

struct berth_spec_device {
    char *path;
    char type; /* 'c', 'b', 'u', 'p' */
    int64_t major, minor;
    bool has_file_mode;
    mode_t file_mode;
    bool has_uid, has_gid;
    uid_t uid;
    gid_t gid;
};

struct berth_spec_device_rule {
    bool allow;
    char type;            /* 'a', 'c', 'b' */
    int64_t major, minor; /* -1: any */
    char access[4];       /* subset of "rwm" */
};

struct berth_spec_weight_device {
    int64_t major, minor;
    struct berth_opt_i64 weight, leaf_weight;
};

struct berth_spec_throttle_device {
    int64_t major, minor;
    uint64_t rate;
};

struct berth_spec_hugepage_limit {
    char *page_size; /* "2MB" */
    uint64_t limit;
};

struct berth_spec_resources {
    struct berth_spec_device_rule *devices;
    size_t n_devices;
    bool has_devices;
    struct {
        struct berth_opt_i64 limit, reservation, swap, kernel, kernel_tcp, swappiness;
        bool disable_oom_killer, has_disable_oom_killer;
        bool use_hierarchy, has_use_hierarchy;
    } memory;
    struct {
        struct berth_opt_i64 shares, quota, burst, period, realtime_runtime, realtime_period, idle;
        char *cpus, *mems;
    } cpu;
    struct {
        struct berth_opt_i64 limit;
    } pids;
    struct {
        struct berth_opt_i64 weight, leaf_weight;
        struct berth_spec_weight_device *weight_devices;
        size_t n_weight_devices;
        struct berth_spec_throttle_device
            *throttle[4]; /* read bps, write bps, read iops, write iops */
        size_t n_throttle[4];
    } block_io;
    struct berth_spec_hugepage_limit *hugepages;
    size_t n_hugepages;
    struct {
        struct berth_opt_i64 class_id;
    } network;
    struct berth_kv *unified; /* cgroup v2 file -> value */
    size_t n_unified;
};

enum berth_seccomp_op {
    SECCOMP_OP_NE,
    SECCOMP_OP_LT,
    SECCOMP_OP_LE,
    SECCOMP_OP_EQ,
    SECCOMP_OP_GE,
    SECCOMP_OP_GT,
    SECCOMP_OP_MASKED_EQ
};

struct berth_spec_seccomp_arg {
    unsigned int index;
    uint64_t value, value_two;
    enum berth_seccomp_op op;
};

struct berth_spec_seccomp_rule {
    char **names;
    uint32_t action; /* SCMP_ACT_* without errno */
    bool has_errno_ret;
    uint32_t errno_ret;
    struct berth_spec_seccomp_arg *args;
    size_t n_args;
};

struct berth_spec_seccomp {
    uint32_t default_action;
    bool has_default_errno_ret;
    uint32_t default_errno_ret;
    char **architectures;
    char **flags;
    char *listener_path;
    char *listener_metadata;
    struct berth_spec_seccomp_rule *syscalls;
    size_t n_syscalls;
};

/* The raw action names; the seccomp module maps them to libseccomp's values. */
enum berth_seccomp_action {
    BERTH_SECCOMP_KILL,
    BERTH_SECCOMP_KILL_PROCESS,
    BERTH_SECCOMP_KILL_THREAD,
    BERTH_SECCOMP_TRAP,
    BERTH_SECCOMP_ERRNO,
    BERTH_SECCOMP_TRACE,
    BERTH_SECCOMP_ALLOW,
    BERTH_SECCOMP_LOG,
    BERTH_SECCOMP_NOTIFY,
};

struct berth_spec_hook {
    char *path;
    char **args;
    char **env;
    int timeout; /* seconds, 0: none */
};

enum berth_hook_kind {
    BERTH_HOOK_PRESTART,
    BERTH_HOOK_CREATE_RUNTIME,
    BERTH_HOOK_CREATE_CONTAINER,
    BERTH_HOOK_START_CONTAINER,
    BERTH_HOOK_POSTSTART,
    BERTH_HOOK_POSTSTOP,
    BERTH_HOOK__COUNT
};

struct berth_spec_linux {
    struct berth_spec_namespace *namespaces;
    size_t n_namespaces;
    struct berth_spec_idmap *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    struct berth_spec_device *devices;
    size_t n_devices;
    char *cgroups_path;
    struct berth_spec_resources resources;
    unsigned long rootfs_propagation; /* 0: default (rslave) */
    char **masked_paths;
    char **readonly_paths;
    struct berth_kv *sysctl;
    size_t n_sysctl;
    struct berth_spec_seccomp *seccomp; /* NULL: none */
    bool has_personality;
    unsigned long personality;
    char *mount_label;
    struct {
        bool set;
        int64_t secs, nanosecs;
    } time_offsets[2]; /* monotonic, boottime */
};

struct berth_spec {
    char *oci_version;
    char *root_path; /* absolute: resolved against the bundle */
    bool root_readonly;
    struct berth_spec_process *process; /* NULL only for specs used with `exec --process` */
    char *hostname;
    char *domainname;
    struct berth_spec_mount *mounts;
    size_t n_mounts;
    struct berth_spec_hook *hooks[BERTH_HOOK__COUNT];
    size_t n_hooks[BERTH_HOOK__COUNT];
    struct berth_kv *annotations;
    size_t n_annotations;
    struct berth_spec_linux linux_;
};

/* Parses config.json text. bundle (may be NULL) resolves a relative root.path. */
int berth_spec_parse(const char *json, size_t len, const char *bundle, struct berth_spec **ret,
                     struct berth_error **err);
/* Loads JSON as config.json is loaded (unsigned 64-bit numbers above INT64_MAX kept exactly,
 * duplicate keys refused); what names the input in errors. For exec --process and update -r. */
int berth_spec_json_load(const char *what, const char *text, size_t len, struct json_t **ret,
                         struct berth_error **err);
int berth_spec_load(const char *bundle, struct berth_spec **ret, struct berth_error **err);
void berth_spec_free(struct berth_spec *spec);
void berth_spec_freep(struct berth_spec **spec);
#define _cleanup_spec_ __attribute__((cleanup(berth_spec_freep)))

/* Parses a "process" object (exec --process, and config.json's process). */
int berth_spec_parse_process(struct json_t *obj, struct berth_spec_process **ret,
                             struct berth_error **err);
void berth_spec_process_free(struct berth_spec_process *p);
/* Parses a linux.resources object (also the input of `update --resources`). */
int berth_spec_parse_resources(struct json_t *obj, struct berth_spec_resources *ret,
                               struct berth_error **err);
void berth_spec_resources_clear(struct berth_spec_resources *r);

/* Namespace helpers. */
const char *berth_ns_name(int clone_flag);      /* CLONE_NEWNET -> "network" */
const char *berth_ns_proc_name(int clone_flag); /* CLONE_NEWNET -> "net" */
const struct berth_spec_namespace *berth_spec_find_ns(const struct berth_spec *spec, int type);
/* Capability name ("CAP_SYS_ADMIN") to number, -1 if unknown. */
int berth_cap_from_name(const char *name);
const char *berth_cap_to_name(int cap);
int berth_cap_last(void);
/* Rlimit name ("RLIMIT_NOFILE") to resource, -1 if unknown. */
int berth_rlimit_from_name(const char *name);
/* Hook kind names as in config.json ("createRuntime"). */
const char *berth_hook_kind_name(enum berth_hook_kind kind);
const char *berth_seccomp_action_name(uint32_t action);

#endif
