/* Private to the cgroup manager (cgroup.c, cgroup_v1.c, cgroup_v2.c, cgroup_bpf.c) and its
 * unit test. Nothing else includes this. */
#ifndef BERTH_RUNTIME_CGROUP_INTERNAL_H
#define BERTH_RUNTIME_CGROUP_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "runtime/cgroup.h"

/* Controllers we know by name. On v2 blkio is called "io". */
enum berth_cgroup_ctrl {
    BERTH_CG_CPU,
    BERTH_CG_CPUACCT,
    BERTH_CG_CPUSET,
    BERTH_CG_MEMORY,
    BERTH_CG_DEVICES,
    BERTH_CG_FREEZER,
    BERTH_CG_BLKIO,
    BERTH_CG_PIDS,
    BERTH_CG_HUGETLB,
    BERTH_CG_NET_CLS,
    BERTH_CG_NET_PRIO,
    BERTH_CG_PERF_EVENT,
    BERTH_CG_RDMA,
    BERTH_CG_MISC,
    BERTH_CG__COUNT,
};

#define BERTH_CG_BIT(c) (1u << (c))

/* "memory", or for v2 the v2 name ("io" for blkio). */
const char *berth_cgroup_ctrl_name(enum berth_cgroup_ctrl c, bool v2);
/* Accepts both spellings ("blkio" and "io"); -1 if unknown. */
int berth_cgroup_ctrl_from_name(const char *name, size_t len);

/* One hierarchy as found in /proc/self/mountinfo. */
struct berth_cgroup_mount {
    char *mount_point;
    char *root; /* the mount's root inside the hierarchy, "/" unless a cgroup was bind-mounted */
    char *name; /* named v1 hierarchy ("systemd" for name=systemd), or NULL */
    uint32_t mask;
    bool v2;
};

struct berth_cgroup_mounts {
    struct berth_cgroup_mount *v;
    size_t n;
    int v2;                /* index of the cgroup2 mount to use, -1 if none */
    bool sys_fs_cgroup_v2; /* /sys/fs/cgroup itself is cgroup2: a unified host */
};

/* Parses mountinfo text (exposed for the unit test). */
int berth_cgroup_parse_mountinfo(const char *text, struct berth_cgroup_mounts *ret,
                                 struct berth_error **err);
void berth_cgroup_mounts_clear(struct berth_cgroup_mounts *m);

/* config.json's cgroupsPath to a cgroup path: "/a/b" (absolute, from each hierarchy's root) or,
 * with *ret_relative, "a/b" (below the runtime's own cgroup). ".." is refused. */
int berth_cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **ret,
                              bool *ret_relative, struct berth_error **err);

/* One directory of a container's cgroup: a v1 hierarchy's, or the v2 one. */
struct berth_cgroup_dir {
    char *path;    /* absolute directory */
    char *name;    /* named v1 hierarchy ("systemd"), or NULL */
    uint32_t mask; /* controllers living here */
    bool v2;
    int fd;           /* O_RDONLY|O_DIRECTORY, opened on first use; -1 */
    unsigned created; /* trailing path components this process created (create only) */
    size_t mount_len; /* length of the hierarchy's mount point prefix of path (create only) */
};

struct berth_cgroup {
    enum berth_cgroup_mode mode;
    char *path; /* as resolved, e.g. "/berth-1" */
    struct berth_cgroup_dir *dirs;
    size_t n_dirs;
    int loc[BERTH_CG__COUNT]; /* controller -> index into dirs, -1: not available */
    int v2;                   /* index of the v2 dir, -1 if none */
};

/* Backends. apply() handles the resources whose controller lives in a dir of its kind. */
struct berth_cgroup_ops {
    const char *name;
    /* after mkdir, before resources: prepare the dir (v1 cpuset values, v2 subtree_control) */
    int (*init_dir)(struct berth_cgroup *cg, struct berth_cgroup_dir *d,
                    const struct berth_spec_resources *res, struct berth_error **err);
    int (*apply)(struct berth_cgroup *cg, const struct berth_spec_resources *res, bool update,
                 struct berth_error **err);
    int (*freeze)(struct berth_cgroup_dir *d, bool freeze, struct berth_error **err);
    int (*is_frozen)(struct berth_cgroup_dir *d); /* 1, 0, or -errno */
    /* fills the sections of out ("cpu", "memory", ...) for controllers living in its dirs */
    int (*stats)(struct berth_cgroup *cg, json_t *out, struct berth_error **err);
    int (*oom_count)(struct berth_cgroup_dir *d, uint64_t *ret, struct berth_error **err);
};

extern const struct berth_cgroup_ops berth_cgroup_v1_ops;
extern const struct berth_cgroup_ops berth_cgroup_v2_ops;

/* The dir holding controller c, or NULL. */
struct berth_cgroup_dir *berth_cgroup_dir_of(struct berth_cgroup *cg, enum berth_cgroup_ctrl c);
/* The dir's fd, opened on first use. */
int berth_cgroup_dir_fd(struct berth_cgroup_dir *d, struct berth_error **err);

/* Writes value to file in d: 0 or -errno, err untouched (for callers that retry). */
int berth_cgroup_try_write(struct berth_cgroup_dir *d, const char *file, const char *value);
/* Same, but fills err: "write 'file' = value: strerror". */
int berth_cgroup_write(struct berth_cgroup_dir *d, const char *file, const char *value,
                       struct berth_error **err);
int berth_cgroup_writef(struct berth_cgroup_dir *d, const char *file, struct berth_error **err,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reads a small file into buf (NUL-terminated, trailing newline kept): length or -errno. */
ssize_t berth_cgroup_read_small(struct berth_cgroup_dir *d, const char *file, char *buf,
                                size_t size);
/* Reads a file of any size (up to 1 MiB); -errno, err untouched. */
int berth_cgroup_read_alloc(struct berth_cgroup_dir *d, const char *file, char **ret);
/* Reads one number ("max" reads as UINT64_MAX): 0 or -errno. */
int berth_cgroup_read_u64(struct berth_cgroup_dir *d, const char *file, uint64_t *ret);
/* Finds "key value" in flat-keyed text (memory.stat, memory.events, ...). */
bool berth_cgroup_kv_u64(const char *text, const char *key, uint64_t *ret);
/* Adds every "key value" line of text to obj. */
void berth_cgroup_kv_to_json(const char *text, json_t *obj);
/* json integer for a kernel counter (values above INT64_MAX, e.g. "max", become INT64_MAX). */
json_t *berth_cgroup_json_u64(uint64_t v);
/* Stats helpers: obj[key] = the number in file (nothing if unreadable); out[key], created
 * empty if missing; per-size hugetlb stats ({"2MB": {"usage":..,"max":..,"failcnt":..}}). */
void berth_cgroup_json_set_u64(json_t *obj, const char *key, struct berth_cgroup_dir *d,
                               const char *file);
json_t *berth_cgroup_json_section(json_t *out, const char *key);
void berth_cgroup_hugetlb_stats(struct berth_cgroup_dir *d, json_t *out, bool v2);
/* Hugepage sizes of this host in cgroup file spelling ("2MB", "1GB"), NULL-terminated, cached. */
char *const *berth_cgroup_hugepage_sizes(void);
/* "2048kB" (a /sys/kernel/mm/hugepages entry without the "hugepages-" prefix) -> "2MB". */
int berth_cgroup_hugepage_name(const char *kb, char *buf, size_t size);

/* v2 device controller: replaces berth's program on the cgroup by one enforcing rules.
 * fresh: the directory was just created, so there is nothing to replace. */
int berth_cgroup_bpf_apply(int dirfd, const struct berth_spec_device_rule *rules, size_t n,
                           bool fresh, struct berth_error **err);
/* Number of device programs attached to the cgroup, and how many of them are berth's. */
int berth_cgroup_bpf_query(int dirfd, size_t *ret_total, size_t *ret_ours,
                           struct berth_error **err);

/* A manager with room for n_dirs directories (cgroup.c), and the per-controller index built
 * from its directories' masks. */
struct berth_cgroup *berth_cgroup_alloc(size_t n_dirs, const char *path);
void berth_cgroup_index_dirs(struct berth_cgroup *cg);

#endif
