/* Shared between the spec generation files: spec_gen.c (the OCI spec), hostconfig.c (validation
 * and HostConfig parsing), config_merge.c, user.c (passwd/group lookup), seccomp_default.c. */
#ifndef BERTH_CONTAINER_SPEC_GEN_INTERNAL_H
#define BERTH_CONTAINER_SPEC_GEN_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container/spec_gen.h"
#include "core/error.h"

#define SG_DEFAULT_SHM_SIZE (64LL << 20)
#define SG_MIN_MEMORY (6LL << 20)
#define SG_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SG_INIT_PATH "/sbin/docker-init"
#define SG_NOFILE_DEFAULT 1048576ULL

/* Lenient getters: absent and null read as "not given". */
const json_t *sg_get(const json_t *o, const char *key);
const char *sg_str(const json_t *o, const char *key); /* NULL unless a string */
int64_t sg_i64(const json_t *o, const char *key);     /* 0 unless an integer */
bool sg_bool(const json_t *o, const char *key);       /* false unless true */
/* A strslice: an array of strings, or one string (Docker accepts both). NULL-terminated copy in
 * *ret (NULL when absent); EINVAL when another type. */
int sg_strslice(const json_t *o, const char *key, const char *where, char ***ret,
                struct berth_error **err);
/* Appends a string to a JSON array (allocation failures abort: bounded, small objects). */
void sg_push(json_t *array, const char *s);
/* Go's "json: cannot unmarshal" wording for a field of the wrong type. */
int sg_type_error(const char *type_name, const char *field, const char *go_type,
                  struct berth_error **err);

/* The parsed --security-opt list. */
struct sg_security {
    bool no_new_privileges;
    char *seccomp; /* NULL: default profile; "unconfined"; "builtin"; else the profile as JSON */
    char *apparmor;
};
int sg_security_parse(const json_t *host_config, struct sg_security *ret, struct berth_error **err);
void sg_security_clear(struct sg_security *s);

/* "size=64m,mode=1777" (a --tmpfs value) -> OCI mount options: moby's defaults (noexec, nosuid,
 * nodev, rprivate) merged with the given ones (later ones win). */
int sg_tmpfs_options(const char *data, json_t **ret, struct berth_error **err);
/* Validates a --tmpfs destination (absolute, not "/"). */
int sg_tmpfs_destination(const char *dest, struct berth_error **err);

/* A bind (from HostConfig.Binds or a Mounts entry of type bind) or a tmpfs mount. */
struct sg_mount {
    char *source; /* bind: host path; tmpfs: NULL */
    char *destination;
    bool tmpfs;
    bool read_only;
    bool non_recursive;
    char *propagation; /* "rprivate" unless given */
    char *tmpfs_data;  /* tmpfs: "size=..,mode=.." */
};
void sg_mount_clear(struct sg_mount *m);
/* "src:dst[:opts]" */
int sg_parse_bind(const char *spec, struct sg_mount *ret, struct berth_error **err);
/* One HostConfig.Mounts object. */
int sg_parse_mount(const json_t *m, struct sg_mount *ret, struct berth_error **err);

/* Ulimit name ("nofile") -> RLIMIT_*, -1 if unknown. */
int sg_ulimit_resource(const char *name);
/* The RLIMIT_NOFILE Docker containers get: 1048576 when the daemon may grant it, else its hard
 * limit. */
uint64_t sg_default_nofile(void);
/* Docker's masked (true) or read-only (false) paths, a new array. */
json_t *sg_default_paths(bool masked);
/* cgroup v2 only ("unified") on this host. */
bool sg_cgroup_unified(void);

/* user.c: "name", "uid", "uid:gid", "name:group" resolved in the rootfs's /etc/passwd and
 * /etc/group, plus HostConfig.GroupAdd. */
struct sg_user {
    uint32_t uid, gid;
    uint32_t *gids; /* additional gids: the user's groups (implicit form) + GroupAdd */
    size_t n_gids;
};
int sg_user_resolve(const char *rootfs, const char *user_spec, char *const *group_add,
                    struct sg_user *ret, struct berth_error **err);
/* Same on file contents (NULL: the file is missing), for tests and for the path above. */
int sg_user_resolve_text(const char *passwd, const char *group, const char *user_spec,
                         char *const *group_add, struct sg_user *ret, struct berth_error **err);

#endif
