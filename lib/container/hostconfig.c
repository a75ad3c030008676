/* HostConfig (and Config) validation at create, with moby's wording, and the parsers the spec
 * generator shares with it: --security-opt, --tmpfs, -v binds, --mount, ulimits, capabilities.
 * moby's checks live in daemon/container.go (verifyContainerSettings), daemon/daemon_unix.go
 * (verifyPlatformContainerSettings/Resources), api/types/container (restart policy),
 * volume/mounts (binds, mounts), oci/caps (capabilities). */
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "container/spec_gen_internal.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/spec.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- lenient JSON getters ---- */

const json_t *
sg_get(const json_t *o, const char *key)
{
    if (!o || !json_is_object(o))
        return NULL;
    const json_t *v = json_object_get(o, key);
    return v && !json_is_null(v) ? v : NULL;
}

const char *
sg_str(const json_t *o, const char *key)
{
    const json_t *v = sg_get(o, key);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t
sg_i64(const json_t *o, const char *key)
{
    const json_t *v = sg_get(o, key);
    return v && json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

bool
sg_bool(const json_t *o, const char *key)
{
    const json_t *v = sg_get(o, key);
    return v && json_is_true(v);
}

void
sg_push(json_t *array, const char *s)
{
    if (json_array_append_new(array, json_string(s)) < 0)
        abort();
}

int
sg_type_error(const char *type_name, const char *field, const char *go_type,
              struct berth_error **err)
{
    return berth_error_setq(err, EINVAL,
                            "json: cannot unmarshal %s into Go struct field %s of type %s",
                            type_name, field, go_type);
}

static const char *
json_type_word(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

int
sg_strslice(const json_t *o, const char *key, const char *where, char ***ret,
            struct berth_error **err)
{
    const json_t *v = sg_get(o, key);
    _cleanup_strv_ char **out = NULL;
    *ret = NULL;
    if (!v)
        return 0;
    if (json_is_string(v)) {
        if (berth_strv_push(&out, json_string_value(v)) < 0)
            return berth_error_set(err, ENOMEM, "%s", where);
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        out = calloc(1, sizeof(char *));
        if (!out)
            return berth_error_set(err, ENOMEM, "%s", where);
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e))
                return sg_type_error(json_type_word(e), where, "string", err);
            if (berth_strv_push(&out, json_string_value(e)) < 0)
                return berth_error_set(err, ENOMEM, "%s", where);
        }
    } else {
        return sg_type_error(json_type_word(v), where, "[]string", err);
    }
    *ret = TAKE_PTR(out);
    return 0;
}

/* ---- field types: a bad type is refused as moby's JSON decoder refuses it ---- */

enum ftype { F_INT, F_STR, F_BOOL, F_ARRAY, F_OBJECT, F_STRSLICE };

static const struct field {
    const char *name;
    enum ftype type;
    const char *go_type;
} host_fields[] = {
    {"Memory", F_INT, "int64"},
    {"MemorySwap", F_INT, "int64"},
    {"MemoryReservation", F_INT, "int64"},
    {"MemorySwappiness", F_INT, "int64"},
    {"KernelMemory", F_INT, "int64"},
    {"NanoCpus", F_INT, "int64"},
    {"CpuShares", F_INT, "int64"},
    {"CpuPeriod", F_INT, "int64"},
    {"CpuQuota", F_INT, "int64"},
    {"CpuRealtimePeriod", F_INT, "int64"},
    {"CpuRealtimeRuntime", F_INT, "int64"},
    {"BlkioWeight", F_INT, "uint16"},
    {"PidsLimit", F_INT, "int64"},
    {"OomScoreAdj", F_INT, "int"},
    {"ShmSize", F_INT, "int64"},
    {"IOMaximumBandwidth", F_INT, "uint64"},
    {"IOMaximumIOps", F_INT, "uint64"},
    {"CpusetCpus", F_STR, "string"},
    {"CpusetMems", F_STR, "string"},
    {"NetworkMode", F_STR, "container.NetworkMode"},
    {"IpcMode", F_STR, "container.IpcMode"},
    {"PidMode", F_STR, "container.PidMode"},
    {"UTSMode", F_STR, "container.UTSMode"},
    {"UsernsMode", F_STR, "container.UsernsMode"},
    {"CgroupnsMode", F_STR, "container.CgroupnsMode"},
    {"CgroupParent", F_STR, "string"},
    {"Privileged", F_BOOL, "bool"},
    {"ReadonlyRootfs", F_BOOL, "bool"},
    {"AutoRemove", F_BOOL, "bool"},
    {"Init", F_BOOL, "bool"},
    {"OomKillDisable", F_BOOL, "bool"},
    {"Binds", F_ARRAY, "[]string"},
    {"CapAdd", F_STRSLICE, "strslice.StrSlice"},
    {"CapDrop", F_STRSLICE, "strslice.StrSlice"},
    {"Ulimits", F_ARRAY, "[]*units.Ulimit"},
    {"SecurityOpt", F_ARRAY, "[]string"},
    {"GroupAdd", F_ARRAY, "[]string"},
    {"Mounts", F_ARRAY, "[]mount.Mount"},
    {"Devices", F_ARRAY, "[]container.DeviceMapping"},
    {"DeviceCgroupRules", F_ARRAY, "[]string"},
    {"MaskedPaths", F_ARRAY, "[]string"},
    {"ReadonlyPaths", F_ARRAY, "[]string"},
    {"ConsoleSize", F_ARRAY, "[2]uint"},
    {"RestartPolicy", F_OBJECT, "container.RestartPolicy"},
    {"Tmpfs", F_OBJECT, "map[string]string"},
    {"Sysctls", F_OBJECT, "map[string]string"},
};

static const struct field config_fields[] = {
    {"User", F_STR, "string"},
    {"WorkingDir", F_STR, "string"},
    {"Hostname", F_STR, "string"},
    {"Domainname", F_STR, "string"},
    {"StopSignal", F_STR, "string"},
    {"Tty", F_BOOL, "bool"},
    {"Env", F_ARRAY, "[]string"},
    {"Cmd", F_STRSLICE, "strslice.StrSlice"},
    {"Entrypoint", F_STRSLICE, "strslice.StrSlice"},
    {"Labels", F_OBJECT, "map[string]string"},
    {"Healthcheck", F_OBJECT, "container.HealthConfig"},
};

static int
check_fields(const json_t *o, const char *struct_name, const struct field *fields, size_t n,
             struct berth_error **err)
{
    for (size_t i = 0; i < n; i++) {
        const json_t *v = sg_get(o, fields[i].name);
        if (!v)
            continue;
        bool good = false;
        switch (fields[i].type) {
        case F_INT:
            good = json_is_integer(v);
            break;
        case F_STR:
            good = json_is_string(v);
            break;
        case F_BOOL:
            good = json_is_boolean(v);
            break;
        case F_ARRAY:
            good = json_is_array(v);
            break;
        case F_OBJECT:
            good = json_is_object(v);
            break;
        case F_STRSLICE:
            good = json_is_array(v) || json_is_string(v);
            break;
        }
        if (!good) {
            char field[96];
            snprintf(field, sizeof(field), "%s.%s", struct_name, fields[i].name);
            return sg_type_error(json_type_word(v), field, fields[i].go_type, err);
        }
        if (fields[i].type == F_ARRAY && !strcmp(fields[i].go_type, "[]string")) {
            size_t k;
            const json_t *e;
            json_array_foreach(v, k, e)
            {
                if (json_is_string(e))
                    continue;
                char field[96];
                snprintf(field, sizeof(field), "%s.%s", struct_name, fields[i].name);
                return sg_type_error(json_type_word(e), field, "string", err);
            }
        }
    }
    return 0;
}

/* ---- --security-opt ---- */

void
sg_security_clear(struct sg_security *s)
{
    free(s->seccomp);
    free(s->apparmor);
    *s = (struct sg_security){0};
}

static int
parse_go_bool(const char *v, bool *ret)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(t); i++) {
        if (!strcmp(v, t[i])) {
            *ret = true;
            return 0;
        }
        if (!strcmp(v, f[i])) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

int
sg_security_parse(const json_t *host_config, struct sg_security *ret, struct berth_error **err)
{
    struct sg_security s = {0};
    const json_t *opts = sg_get(host_config, "SecurityOpt");
    size_t i;
    const json_t *e;
    int r;
    if (opts && !json_is_array(opts))
        return sg_type_error(json_type_word(opts), "HostConfig.SecurityOpt", "[]string", err);
    json_array_foreach(opts, i, e)
    {
        const char *opt = json_string_value(e);
        if (!opt) {
            sg_security_clear(&s);
            return sg_type_error(json_type_word(e), "HostConfig.SecurityOpt", "string", err);
        }
        if (!strcmp(opt, "no-new-privileges")) {
            s.no_new_privileges = true;
            continue;
        }
        if (!strcmp(opt, "disable"))
            continue; /* label=disable's short form: no SELinux here */
        const char *sep = strchr(opt, '=');
        if (!sep)
            sep = strchr(opt, ':'); /* the deprecated separator */
        if (!sep) {
            sg_security_clear(&s);
            return berth_error_setq(err, EINVAL, "invalid --security-opt 1: \"%s\"", opt);
        }
        size_t klen = (size_t)(sep - opt);
        const char *v = sep + 1;
        if (klen == 5 && !strncmp(opt, "label", 5))
            continue; /* SELinux labels: not supported, ignored as on a host without SELinux */
        if (klen == 8 && !strncmp(opt, "apparmor", 8)) {
            free(s.apparmor);
            s.apparmor = strdup(v);
            if (!s.apparmor)
                goto nomem;
            continue;
        }
        if (klen == 7 && !strncmp(opt, "seccomp", 7)) {
            free(s.seccomp);
            s.seccomp = strdup(v);
            if (!s.seccomp)
                goto nomem;
            continue;
        }
        if (klen == 17 && !strncmp(opt, "no-new-privileges", 17)) {
            bool b;
            if (parse_go_bool(v, &b) < 0) {
                sg_security_clear(&s);
                return berth_error_setq(err, EINVAL, "invalid --security-opt 2: \"%s\"", opt);
            }
            s.no_new_privileges = b;
            continue;
        }
        sg_security_clear(&s);
        return berth_error_setq(err, EINVAL, "invalid --security-opt 2: \"%s\"", opt);
    }
    if (s.seccomp && strcmp(s.seccomp, "unconfined") && strcmp(s.seccomp, "builtin")) {
        json_error_t jerr;
        json_t *p = json_loads(s.seccomp, JSON_REJECT_DUPLICATES, &jerr);
        if (!p || !json_is_object(p)) {
            json_decref(p);
            r = berth_error_setq(err, EINVAL, "Decoding seccomp profile failed: %s",
                                 p ? "not a JSON object" : jerr.text);
            sg_security_clear(&s);
            return r;
        }
        json_decref(p);
    }
    *ret = s;
    return 0;
nomem:
    sg_security_clear(&s);
    return berth_error_set(err, ENOMEM, "security options");
}

/* ---- --tmpfs ---- */

int
sg_tmpfs_destination(const char *dest, struct berth_error **err)
{
    bool root = dest[0] == '/';
    for (const char *p = dest; *p && root; p++)
        if (*p != '/' && !(*p == '.' && (p[1] == '/' || p[1] == '\0')))
            root = false;
    if (root)
        return berth_error_setq(err, EINVAL, "invalid specification: destination can't be '/'");
    if (dest[0] != '/')
        return berth_error_setq(err, EINVAL, "invalid mount path: '%s' mount path must be absolute",
                                dest);
    return 0;
}

/* mount(8) flags and their opposites: a later one replaces an earlier one of the same pair */
static const char *const flag_pairs[][2] = {
    {"ro", "rw"},
    {"suid", "nosuid"},
    {"dev", "nodev"},
    {"exec", "noexec"},
    {"sync", "async"},
    {"dirsync", ""},
    {"remount", ""},
    {"mand", "nomand"},
    {"atime", "noatime"},
    {"diratime", "nodiratime"},
    {"bind", ""},
    {"rbind", ""},
    {"unbindable", "runbindable"},
    {"private", "rprivate"},
    {"shared", "rshared"},
    {"slave", "rslave"},
    {"relatime", "norelatime"},
    {"strictatime", "nostrictatime"},
};

static const char *const tmpfs_data_keys[] = {"size",      "mode",      "uid", "gid",
                                              "nr_inodes", "nr_blocks", "mpol"};

/* The key two options conflict on: a flag's pair, or "key" of key=value. */
static void
option_key(const char *o, char *buf, size_t len)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(flag_pairs); i++)
        if (!strcmp(o, flag_pairs[i][0]) || (flag_pairs[i][1][0] && !strcmp(o, flag_pairs[i][1]))) {
            snprintf(buf, len, "flag:%s", flag_pairs[i][0]);
            return;
        }
    /* propagation modes all conflict with each other */
    size_t kl = strcspn(o, "=");
    snprintf(buf, len, "%.*s", (int)kl, o);
}

static bool
is_flag(const char *o)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(flag_pairs); i++)
        if (!strcmp(o, flag_pairs[i][0]) || (flag_pairs[i][1][0] && !strcmp(o, flag_pairs[i][1])))
            return true;
    return false;
}

static bool
is_propagation(const char *o)
{
    static const char *const p[] = {"private", "rprivate", "shared",     "rshared",
                                    "slave",   "rslave",   "unbindable", "runbindable"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(p); i++)
        if (!strcmp(o, p[i]))
            return true;
    return false;
}

int
sg_tmpfs_options(const char *data, json_t **ret, struct berth_error **err)
{
    _cleanup_strv_ char **opts = NULL;
    static const char *const defaults[] = {"noexec", "nosuid", "nodev", "rprivate"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(defaults); i++)
        if (berth_strv_push(&opts, defaults[i]) < 0)
            return berth_error_set(err, ENOMEM, "tmpfs options");
    if (data && *data) {
        _cleanup_free_ char *copy = strdup(data);
        if (!copy)
            return berth_error_set(err, ENOMEM, "tmpfs options");
        char *save = NULL;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (!strcmp(o, "defaults"))
                continue;
            if (!is_flag(o)) {
                size_t kl = strcspn(o, "=");
                bool known = false;
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(tmpfs_data_keys); i++)
                    if (strlen(tmpfs_data_keys[i]) == kl && !strncmp(o, tmpfs_data_keys[i], kl))
                        known = true;
                if (!known || o[kl] != '=') {
                    /* Go prints the []string of the option split at the first '=' */
                    if (o[kl] == '=')
                        return berth_error_setq(err, EINVAL,
                                                "Invalid tmpfs option [\"%.*s\" \"%s\"]", (int)kl,
                                                o, o + kl + 1);
                    return berth_error_setq(err, EINVAL, "Invalid tmpfs option [\"%s\"]", o);
                }
            }
            if (berth_strv_push(&opts, o) < 0)
                return berth_error_set(err, ENOMEM, "tmpfs options");
        }
    }
    /* later options win; the survivors keep their order */
    size_t n = berth_strv_len(opts);
    json_t *out = json_array();
    if (!out)
        return berth_error_set(err, ENOMEM, "tmpfs options");
    for (size_t i = 0; i < n; i++) {
        char ki[64], kj[64];
        option_key(opts[i], ki, sizeof(ki));
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++) {
            option_key(opts[j], kj, sizeof(kj));
            if (!strcmp(ki, kj) || (is_propagation(opts[i]) && is_propagation(opts[j])))
                later = true;
        }
        if (!later)
            sg_push(out, opts[i]);
    }
    *ret = out;
    return 0;
}

/* ---- binds and mounts ---- */

void
sg_mount_clear(struct sg_mount *m)
{
    free(m->source);
    free(m->destination);
    free(m->propagation);
    free(m->tmpfs_data);
    *m = (struct sg_mount){0};
}

static int
set_str(char **dst, const char *src, struct berth_error **err)
{
    free(*dst);
    *dst = strdup(src);
    return *dst ? 0 : berth_error_set(err, ENOMEM, "mount");
}

int
sg_parse_bind(const char *spec, struct sg_mount *ret, struct berth_error **err)
{
    struct sg_mount m = {0};
    _cleanup_free_ char *copy = strdup(spec);
    char *fields[4] = {0};
    size_t n = 0;
    int r;
    if (!copy)
        return berth_error_set(err, ENOMEM, "bind");
    for (char *p = copy, *next; p && n < 4; p = next) {
        next = strchr(p, ':');
        if (next)
            *next++ = '\0';
        fields[n++] = p;
        if (n == 3 && next) /* more than three fields */
            return berth_error_setq(err, EINVAL, "invalid volume specification: '%s'", spec);
    }
    if (n < 2 || !*fields[0] || !*fields[1]) {
        if (n == 1 && *fields[0])
            return berth_error_setq(err, EINVAL,
                                    "invalid volume specification: '%s': anonymous volumes are "
                                    "not supported yet",
                                    spec);
        return berth_error_setq(err, EINVAL, "invalid volume specification: '%s'", spec);
    }
    if (fields[0][0] != '/')
        return berth_error_setq(err, EINVAL,
                                "invalid volume specification: '%s': named volumes are not "
                                "supported yet",
                                spec);
    if (fields[1][0] != '/')
        return berth_error_setq(err, EINVAL,
                                "invalid volume specification: '%s': invalid mount config for "
                                "type \"bind\": invalid mount path: '%s' mount path must be "
                                "absolute",
                                spec, fields[1]);
    if ((r = sg_tmpfs_destination(fields[1], err)) < 0)
        return r;
    if ((r = set_str(&m.source, fields[0], err)) < 0 ||
        (r = set_str(&m.destination, fields[1], err)) < 0 ||
        (r = set_str(&m.propagation, "rprivate", err)) < 0)
        goto fail;
    if (n == 3) {
        int rw = 0, prop = 0, label = 0, copyopt = 0;
        char *save = NULL;
        if (!*fields[2]) {
            r = berth_error_setq(err, EINVAL, "invalid mode: %s", fields[2]);
            goto fail;
        }
        for (char *o = strtok_r(fields[2], ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (!strcmp(o, "ro") || !strcmp(o, "rw")) {
                m.read_only = !strcmp(o, "ro");
                rw++;
            } else if (is_propagation(o) && strcmp(o, "unbindable") && strcmp(o, "runbindable")) {
                if ((r = set_str(&m.propagation, o, err)) < 0)
                    goto fail;
                prop++;
            } else if (!strcmp(o, "z") || !strcmp(o, "Z")) {
                label++;
            } else if (!strcmp(o, "nocopy") || !strcmp(o, "copy")) {
                copyopt++;
            } else {
                rw = 99;
            }
            if (rw > 1 || prop > 1 || label > 1 || copyopt > 1) {
                r = berth_error_setq(err, EINVAL, "invalid mode: %s",
                                     spec + strlen(fields[0]) + strlen(fields[1]) + 2);
                goto fail;
            }
        }
    }
    *ret = m;
    return 0;
fail:
    sg_mount_clear(&m);
    return r;
}

static int
mount_error(const char *type, const char *what, struct berth_error **err)
{
    return berth_error_setq(err, EINVAL, "invalid mount config for type \"%s\": %s", type, what);
}

int
sg_parse_mount(const json_t *mj, struct sg_mount *ret, struct berth_error **err)
{
    struct sg_mount m = {0};
    char msg[600];
    int r;
    if (!json_is_object(mj))
        return sg_type_error(json_type_word(mj), "HostConfig.Mounts", "mount.Mount", err);
    const char *type = sg_str(mj, "Type");
    const char *source = sg_str(mj, "Source");
    const char *target = sg_str(mj, "Target");
    if (!type || !*type)
        return berth_error_setq(err, EINVAL, "invalid mount config: mount type unknown");
    if (!strcmp(type, "volume"))
        return mount_error(type, "named volumes are not supported yet", err);
    if (strcmp(type, "bind") && strcmp(type, "tmpfs"))
        return berth_error_setq(err, EINVAL,
                                "invalid mount config for type \"%s\": mount type unknown", type);
    if (!target || !*target)
        return mount_error(type, "field Target must not be empty", err);
    if (target[0] != '/') {
        snprintf(msg, sizeof(msg), "invalid mount path: '%s' mount path must be absolute", target);
        return mount_error(type, msg, err);
    }
    if (sg_tmpfs_destination(target, NULL) < 0)
        return mount_error(type, "invalid specification: destination can't be '/'", err);
    m.read_only = sg_bool(mj, "ReadOnly");
    if (!strcmp(type, "bind")) {
        const json_t *bo = sg_get(mj, "BindOptions");
        if (sg_get(mj, "TmpfsOptions"))
            return mount_error(type, "field TmpfsOptions must not be specified", err);
        if (sg_get(mj, "VolumeOptions"))
            return mount_error(type, "field VolumeOptions must not be specified", err);
        if (!source || !*source)
            return mount_error(type, "field Source must not be empty", err);
        if (source[0] != '/') {
            snprintf(msg, sizeof(msg), "invalid mount path: '%s' mount path must be absolute",
                     source);
            return mount_error(type, msg, err);
        }
        if (access(source, F_OK) < 0 && !sg_bool(bo, "CreateMountpoint")) {
            snprintf(msg, sizeof(msg), "bind source path does not exist: %s", source);
            return mount_error(type, msg, err);
        }
        const char *prop = sg_str(bo, "Propagation");
        if (prop && *prop && (!is_propagation(prop) || strstr(prop, "unbindable"))) {
            snprintf(msg, sizeof(msg), "invalid propagation mode: %s", prop);
            return mount_error(type, msg, err);
        }
        m.non_recursive = sg_bool(bo, "NonRecursive");
        if ((r = set_str(&m.source, source, err)) < 0 ||
            (r = set_str(&m.propagation, prop && *prop ? prop : "rprivate", err)) < 0)
            goto fail;
    } else {
        const json_t *to = sg_get(mj, "TmpfsOptions");
        if (source && *source)
            return mount_error(type, "field Source must not be specified", err);
        if (sg_get(mj, "BindOptions"))
            return mount_error(type, "field BindOptions must not be specified", err);
        if (sg_get(mj, "VolumeOptions"))
            return mount_error(type, "field VolumeOptions must not be specified", err);
        int64_t size = sg_i64(to, "SizeBytes"), mode = sg_i64(to, "Mode");
        char data[96] = "";
        size_t o = 0;
        if (size < 0)
            return mount_error(type, "invalid tmpfs size: must not be negative", err);
        if (m.read_only)
            o += (size_t)snprintf(data + o, sizeof(data) - o, "ro");
        if (mode != 0)
            o += (size_t)snprintf(data + o, sizeof(data) - o, "%smode=%llo", o ? "," : "",
                                  (unsigned long long)mode);
        if (size != 0) {
            /* the largest unit dividing evenly, as moby's ConvertTmpfsOptions */
            const char *suffix = "";
            if (size % (1LL << 30) == 0) {
                size >>= 30;
                suffix = "g";
            } else if (size % (1LL << 20) == 0) {
                size >>= 20;
                suffix = "m";
            } else if (size % (1LL << 10) == 0) {
                size >>= 10;
                suffix = "k";
            }
            snprintf(data + o, sizeof(data) - o, "%ssize=%lld%s", o ? "," : "", (long long)size,
                     suffix);
        }
        m.tmpfs = true;
        if ((r = set_str(&m.tmpfs_data, data, err)) < 0)
            goto fail;
    }
    if ((r = set_str(&m.destination, target, err)) < 0)
        goto fail;
    *ret = m;
    return 0;
fail:
    sg_mount_clear(&m);
    return r;
}

/* ---- ulimits, cgroups, limits of this host ---- */

static const struct {
    const char *name;
    int resource;
} ulimits[] = {
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int
sg_ulimit_resource(const char *name)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(ulimits); i++)
        if (!strcmp(ulimits[i].name, name))
            return ulimits[i].resource;
    return -1;
}

uint64_t
sg_default_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return SG_NOFILE_DEFAULT;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= SG_NOFILE_DEFAULT)
        return SG_NOFILE_DEFAULT;
    /* raising the hard limit needs CAP_SYS_RESOURCE (and fs.nr_open): try it on ourselves */
    struct rlimit want = {rl.rlim_cur, SG_NOFILE_DEFAULT};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
        setrlimit(RLIMIT_NOFILE, &rl);
        return SG_NOFILE_DEFAULT;
    }
    return rl.rlim_max;
}

bool
sg_cgroup_unified(void)
{
    struct statfs st;
    return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

/* ---- validation ---- */

static int
parse_signal(const char *raw, struct berth_error **err)
{
    int64_t n;
    if (berth_parse_i64(raw, &n))
        return n > 0 && n <= SIGRTMAX ? 0
                                      : berth_error_setq(err, EINVAL, "Invalid signal: %s", raw);
    char up[32];
    size_t len = strlen(raw);
    if (len >= sizeof(up))
        return berth_error_setq(err, EINVAL, "Invalid signal: %s", raw);
    for (size_t i = 0; i <= len; i++)
        up[i] = (char)(raw[i] >= 'a' && raw[i] <= 'z' ? raw[i] - 32 : raw[i]);
    const char *name = berth_str_has_prefix(up, "SIG") ? up + 3 : up;
    for (int s = 1; s < SIGRTMIN; s++) {
        const char *abbrev = sigabbrev_np(s);
        if (abbrev && !strcmp(abbrev, name))
            return 0;
    }
    /* RTMIN, RTMIN+n, RTMAX-n */
    if (!strcmp(name, "RTMIN") || !strcmp(name, "RTMAX"))
        return 0;
    if ((berth_str_has_prefix(name, "RTMIN+") || berth_str_has_prefix(name, "RTMAX-")) &&
        berth_parse_i64(name + 6, &n) && n >= 1 && n <= SIGRTMAX - SIGRTMIN - 1)
        return 0;
    return berth_error_setq(err, EINVAL, "Invalid signal: %s", raw);
}

static int
validate_config(const json_t *config, struct berth_error **err)
{
    int r;
    if (!config)
        return 0;
    if (!json_is_object(config))
        return sg_type_error(json_type_word(config), "Config", "container.Config", err);
    if ((r = check_fields(config, "Config", config_fields, BERTH_ARRAY_SIZE(config_fields), err)) <
        0)
        return r;
    const char *wd = sg_str(config, "WorkingDir");
    if (wd && *wd && wd[0] != '/')
        return berth_error_setq(err, EINVAL,
                                "the working directory '%s' is invalid, it needs to be an absolute "
                                "path",
                                wd);
    const char *sig = sg_str(config, "StopSignal");
    if (sig && *sig && (r = parse_signal(sig, err)) < 0)
        return r;
    const json_t *hc = sg_get(config, "Healthcheck");
    if (hc) {
        static const char *const durations[] = {"Interval", "Timeout", "StartPeriod",
                                                "StartInterval"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(durations); i++) {
            int64_t d = sg_i64(hc, durations[i]);
            if (d != 0 && d < 1000000)
                return berth_error_setq(err, EINVAL, "%s in Healthcheck cannot be less than 1ms",
                                        durations[i]);
        }
        if (sg_i64(hc, "Retries") < 0)
            return berth_error_setq(err, EINVAL, "Retries in Healthcheck cannot be negative");
    }
    return 0;
}

static int
validate_restart(const json_t *hc, struct berth_error **err)
{
    const json_t *rp = sg_get(hc, "RestartPolicy");
    const char *name = sg_str(rp, "Name");
    int64_t max = sg_i64(rp, "MaximumRetryCount");
    if (!name || !*name)
        return 0;
    if (!strcmp(name, "always") || !strcmp(name, "unless-stopped") || !strcmp(name, "no")) {
        if (max != 0)
            return berth_error_setq(err, EINVAL,
                                    "invalid restart policy: maximum retry count can only be used "
                                    "with 'on-failure'%s",
                                    max < 0 ? " and cannot be negative" : "");
    } else if (!strcmp(name, "on-failure")) {
        if (max < 0)
            return berth_error_setq(err, EINVAL,
                                    "invalid restart policy: maximum retry count cannot be "
                                    "negative");
    } else {
        return berth_error_setq(err, EINVAL,
                                "invalid restart policy: unknown policy '%s'; use one of 'no', "
                                "'always', 'on-failure', or 'unless-stopped'",
                                name);
    }
    if (sg_bool(hc, "AutoRemove") && strcmp(name, "no"))
        return berth_error_setq(err, EINVAL,
                                "can't create 'AutoRemove' container with restart policy");
    return 0;
}

/* "0-3,5" -> bitmap of at most 1024 ids; false on bad syntax. */
static bool
parse_id_list(const char *s, uint64_t bits[16])
{
    memset(bits, 0, 16 * sizeof(uint64_t));
    if (!*s)
        return true;
    _cleanup_free_ char *copy = strdup(s);
    if (!copy)
        return false;
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(p, '-');
        uint64_t a, b;
        if (dash)
            *dash = '\0';
        if (!berth_parse_u64(p, &a) || (dash && !berth_parse_u64(dash + 1, &b)))
            return false;
        if (!dash)
            b = a;
        if (b < a || b >= 1024)
            return false;
        for (uint64_t i = a; i <= b; i++)
            bits[i / 64] |= 1ULL << (i % 64);
    }
    return true;
}

static int
validate_cpuset(const char *value, const char *what, const char *online_file,
                struct berth_error **err)
{
    uint64_t want[16], have[16];
    if (!value || !*value)
        return 0;
    if (!parse_id_list(value, want))
        return berth_error_setq(err, EINVAL, "Invalid value %s for cpuset %s: invalid format: %s",
                                value, what, value);
    _cleanup_free_ char *online = NULL;
    if (berth_read_file(online_file, 4096, &online, NULL, NULL) < 0) {
        free(online);
        online = strdup("0");
        if (!online)
            return berth_error_set(err, ENOMEM, "cpuset");
    }
    online[strcspn(online, "\n")] = '\0';
    if (!parse_id_list(online, have))
        return 0; /* cannot tell: let the kernel decide */
    for (size_t i = 0; i < 16; i++)
        if (want[i] & ~have[i])
            return berth_error_setq(err, EINVAL,
                                    "Requested %s are not available - requested %s, available: %s",
                                    !strcmp(what, "cpus") ? "CPUs" : "memory nodes", value, online);
    return 0;
}

static int
validate_resources(const json_t *hc, struct berth_error **err)
{
    int64_t memory = sg_i64(hc, "Memory"), swap = sg_i64(hc, "MemorySwap");
    int64_t reservation = sg_i64(hc, "MemoryReservation");
    int r;
    if (memory != 0 && memory < SG_MIN_MEMORY)
        return berth_error_setq(err, EINVAL, "Minimum memory limit allowed is 6MB");
    if (memory > 0 && swap > 0 && swap < memory)
        return berth_error_setq(err, EINVAL,
                                "Minimum memoryswap limit should be larger than memory limit, see "
                                "usage");
    if (memory == 0 && swap > 0)
        return berth_error_setq(err, EINVAL,
                                "You should always set the Memory limit when using Memoryswap "
                                "limit, see usage");
    const json_t *sw = sg_get(hc, "MemorySwappiness");
    if (sw) {
        int64_t v = (int64_t)json_integer_value(sw);
        if (v != -1 && (v < 0 || v > 100))
            return berth_error_setq(err, EINVAL,
                                    "Invalid value: %lld, valid memory swappiness range is 0-100",
                                    (long long)v);
    }
    if (reservation > 0 && reservation < SG_MIN_MEMORY)
        return berth_error_setq(err, EINVAL, "Minimum memory reservation allowed is 6MB");
    if (memory > 0 && reservation > 0 && memory < reservation)
        return berth_error_setq(err, EINVAL,
                                "Minimum memory limit can not be less than memory reservation "
                                "limit, see usage");
    int64_t nano = sg_i64(hc, "NanoCpus"), period = sg_i64(hc, "CpuPeriod");
    int64_t quota = sg_i64(hc, "CpuQuota");
    if (nano > 0 && period > 0)
        return berth_error_setq(err, EINVAL,
                                "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    if (nano > 0 && quota > 0)
        return berth_error_setq(err, EINVAL,
                                "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1)
        ncpu = 1;
    if (nano < 0 || nano > (int64_t)ncpu * 1000000000LL)
        return berth_error_setq(err, EINVAL,
                                "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
                                "available",
                                ncpu, ncpu);
    if (period != 0 && (period < 1000 || period > 1000000))
        return berth_error_setq(err, EINVAL,
                                "CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
                                "than 1s (i.e. 1000000)");
    if (quota > 0 && quota < 1000)
        return berth_error_setq(err, EINVAL, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    if ((r = validate_cpuset(sg_str(hc, "CpusetCpus"), "cpus", "/sys/devices/system/cpu/online",
                             err)) < 0 ||
        (r = validate_cpuset(sg_str(hc, "CpusetMems"), "mems", "/sys/devices/system/node/online",
                             err)) < 0)
        return r;
    int64_t blkio = sg_i64(hc, "BlkioWeight");
    if (blkio > 0 && (blkio < 10 || blkio > 1000))
        return berth_error_setq(err, EINVAL, "Range of blkio weight is from 10 to 1000");
    if (sg_i64(hc, "IOMaximumBandwidth") != 0 || sg_i64(hc, "IOMaximumIOps") != 0)
        return berth_error_setq(err, EINVAL,
                                "Invalid QoS settings: linux does not support Maximum IO Bandwidth "
                                "or Maximum IO IOps");
    int64_t oom = sg_i64(hc, "OomScoreAdj");
    if (oom < -1000 || oom > 1000)
        return berth_error_setq(err, EINVAL,
                                "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                                (long long)oom);
    if (sg_i64(hc, "ShmSize") < 0)
        return berth_error_setq(err, EINVAL, "SHM size can not be less than 0");
    return 0;
}

static int
validate_modes(const json_t *hc, struct berth_error **err)
{
    const char *ipc = sg_str(hc, "IpcMode"), *pid = sg_str(hc, "PidMode");
    const char *uts = sg_str(hc, "UTSMode"), *cgns = sg_str(hc, "CgroupnsMode");
    const char *userns = sg_str(hc, "UsernsMode");
    if (ipc && *ipc && strcmp(ipc, "none") && strcmp(ipc, "private") && strcmp(ipc, "shareable") &&
        strcmp(ipc, "host")) {
        if (berth_str_has_prefix(ipc, "container:") && ipc[10])
            return berth_error_setq(err, EINVAL,
                                    "IPC mode '%s': joining another container's namespace is not "
                                    "supported yet",
                                    ipc);
        return berth_error_setq(err, EINVAL, "invalid IPC mode: %s", ipc);
    }
    if (pid && *pid && strcmp(pid, "host")) {
        if (berth_str_has_prefix(pid, "container:") && pid[10])
            return berth_error_setq(err, EINVAL,
                                    "PID mode '%s': joining another container's namespace is not "
                                    "supported yet",
                                    pid);
        return berth_error_setq(err, EINVAL, "invalid PID mode: %s", pid);
    }
    if (uts && *uts && strcmp(uts, "host"))
        return berth_error_setq(err, EINVAL, "invalid UTS mode: %s", uts);
    if (cgns && *cgns && strcmp(cgns, "private") && strcmp(cgns, "host"))
        return berth_error_setq(err, EINVAL, "invalid cgroup namespace mode: %s", cgns);
    if (userns && *userns && strcmp(userns, "host"))
        return berth_error_setq(err, EINVAL, "invalid USER mode: %s", userns);
    const json_t *cs = sg_get(hc, "ConsoleSize");
    if (cs &&
        (json_array_size(cs) != 2 || !json_is_integer(json_array_get(cs, 0)) ||
         !json_is_integer(json_array_get(cs, 1)) || json_integer_value(json_array_get(cs, 0)) < 0 ||
         json_integer_value(json_array_get(cs, 1)) < 0))
        return berth_error_setq(err, EINVAL, "invalid ConsoleSize: expected [height, width]");
    return 0;
}

static int
validate_ulimits(const json_t *hc, struct berth_error **err)
{
    const json_t *ul = sg_get(hc, "Ulimits");
    size_t i;
    const json_t *u;
    json_array_foreach(ul, i, u)
    {
        if (!json_is_object(u))
            return sg_type_error(json_type_word(u), "HostConfig.Ulimits", "units.Ulimit", err);
        const char *name = sg_str(u, "Name");
        int64_t soft = sg_i64(u, "Soft"), hard = sg_i64(u, "Hard");
        if (!name || sg_ulimit_resource(name) < 0)
            return berth_error_setq(err, EINVAL, "invalid ulimit type: %s", name ? name : "");
        if (soft > hard && hard != -1)
            return berth_error_setq(err, EINVAL,
                                    "ulimit soft limit must be less than or equal to hard limit: "
                                    "%lld > %lld",
                                    (long long)soft, (long long)hard);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(sg_str(json_array_get(ul, j), "Name"), name))
                return berth_error_setq(err, EINVAL, "duplicate ulimit: %s", name);
    }
    return 0;
}

static int
validate_mounts(const json_t *hc, struct berth_error **err)
{
    _cleanup_strv_ char **dests = NULL;
    size_t i;
    const json_t *e;
    const char *dest;
    const json_t *v;
    int r;
    json_array_foreach(sg_get(hc, "Binds"), i, e)
    {
        struct sg_mount m = {0};
        if ((r = sg_parse_bind(json_string_value(e), &m, err)) < 0)
            return r;
        r = berth_strv_push(&dests, m.destination);
        sg_mount_clear(&m);
        if (r < 0)
            return berth_error_set(err, ENOMEM, "binds");
    }
    json_array_foreach(sg_get(hc, "Mounts"), i, e)
    {
        struct sg_mount m = {0};
        if ((r = sg_parse_mount(e, &m, err)) < 0)
            return r;
        r = berth_strv_push(&dests, m.destination);
        sg_mount_clear(&m);
        if (r < 0)
            return berth_error_set(err, ENOMEM, "mounts");
    }
    json_object_foreach((json_t *)sg_get(hc, "Tmpfs"), dest, v)
    {
        if (!json_is_string(v))
            return sg_type_error(json_type_word(v), "HostConfig.Tmpfs", "string", err);
        json_t *opts = NULL;
        if ((r = sg_tmpfs_destination(dest, err)) < 0 ||
            (r = sg_tmpfs_options(json_string_value(v), &opts, err)) < 0)
            return r;
        json_decref(opts);
        if (berth_strv_push(&dests, dest) < 0)
            return berth_error_set(err, ENOMEM, "tmpfs");
    }
    for (size_t a = 0; dests && dests[a]; a++)
        for (size_t b = 0; b < a; b++)
            if (!strcmp(dests[a], dests[b]))
                return berth_error_setq(err, EINVAL, "Duplicate mount point: %s", dests[a]);
    return 0;
}

static int
validate_devices(const json_t *hc, struct berth_error **err)
{
    size_t i;
    const json_t *e;
    json_array_foreach(sg_get(hc, "Devices"), i, e)
    {
        const char *host = sg_str(e, "PathOnHost"), *perm = sg_str(e, "CgroupPermissions");
        if (!host || !*host)
            return berth_error_setq(err, EINVAL, "invalid device: PathOnHost must be set");
        if (perm && (!*perm || strspn(perm, "rwm") != strlen(perm) || strlen(perm) > 3))
            return berth_error_setq(err, EINVAL, "invalid device mode: %s", perm);
    }
    regex_t re;
    if (regcomp(&re, "^([acb]) ([0-9]+|\\*):([0-9]+|\\*) ([rwm]{1,3})$", REG_EXTENDED) != 0)
        return berth_error_setq(err, ENOMEM, "device cgroup rules");
    int r = 0;
    json_array_foreach(sg_get(hc, "DeviceCgroupRules"), i, e)
    {
        if (regexec(&re, json_string_value(e), 0, NULL, 0) != 0) {
            r = berth_error_setq(err, EINVAL, "invalid device cgroup format '%s'",
                                 json_string_value(e));
            break;
        }
    }
    regfree(&re);
    return r;
}

static int
validate_sysctls(const json_t *hc, struct berth_error **err)
{
    const char *net = sg_str(hc, "NetworkMode"), *ipc = sg_str(hc, "IpcMode");
    const char *uts = sg_str(hc, "UTSMode");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)sg_get(hc, "Sysctls"), key, v)
    {
        if (!json_is_string(v))
            return sg_type_error(json_type_word(v), "HostConfig.Sysctls", "string", err);
        bool is_net = berth_str_has_prefix(key, "net.");
        bool is_ipc = berth_str_has_prefix(key, "kernel.msg") ||
                      berth_str_has_prefix(key, "kernel.shm") || !strcmp(key, "kernel.sem") ||
                      berth_str_has_prefix(key, "fs.mqueue.");
        bool is_uts = !strcmp(key, "kernel.domainname") || !strcmp(key, "kernel.hostname");
        if (is_net && net && !strcmp(net, "host"))
            return berth_error_setq(err, EINVAL,
                                    "sysctl \"%s\" not allowed in host network namespace", key);
        if (is_ipc && ipc && !strcmp(ipc, "host"))
            return berth_error_setq(err, EINVAL, "sysctl \"%s\" not allowed in host IPC namespace",
                                    key);
        if (is_uts && uts && !strcmp(uts, "host"))
            return berth_error_setq(err, EINVAL, "sysctl \"%s\" not allowed in host UTS namespace",
                                    key);
        if (!is_net && !is_ipc && !is_uts)
            return berth_error_setq(err, EINVAL,
                                    "sysctl \"%s\" is not in a separate kernel namespace", key);
    }
    return 0;
}

int
berth_container_validate(const json_t *config, const json_t *host_config, struct berth_error **err)
{
    int r;
    if ((r = validate_config(config, err)) < 0)
        return r;
    if (!host_config)
        return 0;
    if (!json_is_object(host_config))
        return sg_type_error(json_type_word(host_config), "HostConfig", "container.HostConfig",
                             err);
    if ((r = check_fields(host_config, "HostConfig", host_fields, BERTH_ARRAY_SIZE(host_fields),
                          err)) < 0 ||
        (r = validate_restart(host_config, err)) < 0 ||
        (r = validate_resources(host_config, err)) < 0 ||
        (r = validate_modes(host_config, err)) < 0 ||
        (r = validate_ulimits(host_config, err)) < 0 ||
        (r = validate_mounts(host_config, err)) < 0 ||
        (r = validate_devices(host_config, err)) < 0 ||
        (r = validate_sysctls(host_config, err)) < 0)
        return r;
    json_t *caps = NULL;
    if ((r = berth_container_caps(sg_get(host_config, "CapAdd"), sg_get(host_config, "CapDrop"),
                                  false, &caps, err)) < 0)
        return r;
    json_decref(caps);
    struct sg_security sec;
    if ((r = sg_security_parse(host_config, &sec, err)) < 0)
        return r;
    sg_security_clear(&sec);
    return 0;
}

/* ---- moby's adaptContainerSettings ---- */

static const char *const default_masked[] = {
    "/proc/asound",      "/proc/acpi",          "/proc/interrupts", "/proc/kcore",
    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi",          "/sys/firmware",    "/sys/devices/virtual/powercap",
};
static const char *const default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

json_t *
sg_default_paths(bool masked)
{
    json_t *a = json_array();
    if (!a)
        abort();
    if (masked)
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_masked); i++)
            sg_push(a, default_masked[i]);
    else
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_readonly); i++)
            sg_push(a, default_readonly[i]);
    return a;
}

static int
set_new(json_t *o, const char *key, json_t *v, struct berth_error **err)
{
    if (!v || json_object_set_new(o, key, v) < 0)
        return berth_error_set(err, ENOMEM, "HostConfig.%s", key);
    return 0;
}

int
berth_container_hostconfig_adapt(json_t *hc, struct berth_error **err)
{
    int r;
    if (!json_is_object(hc))
        return berth_error_setq(err, EINVAL, "HostConfig is not an object");
    int64_t shares = sg_i64(hc, "CpuShares");
    if (shares < 0 && (r = set_new(hc, "CpuShares", json_integer(2), err)) < 0)
        return r;
    if (shares > 262144 && (r = set_new(hc, "CpuShares", json_integer(262144), err)) < 0)
        return r;
    int64_t memory = sg_i64(hc, "Memory");
    if (memory > 0 && sg_i64(hc, "MemorySwap") == 0 &&
        (r = set_new(hc, "MemorySwap", json_integer(memory * 2), err)) < 0)
        return r;
    if (sg_i64(hc, "ShmSize") == 0 &&
        (r = set_new(hc, "ShmSize", json_integer(SG_DEFAULT_SHM_SIZE), err)) < 0)
        return r;
    const char *ipc = sg_str(hc, "IpcMode");
    if ((!ipc || !*ipc) && (r = set_new(hc, "IpcMode", json_string("private"), err)) < 0)
        return r;
    const char *cgns = sg_str(hc, "CgroupnsMode");
    if (!cgns || !*cgns) {
        bool privileged = sg_bool(hc, "Privileged");
        const char *m = sg_cgroup_unified() ? "private" : "host";
        if (privileged && !sg_cgroup_unified())
            m = "host";
        if ((r = set_new(hc, "CgroupnsMode", json_string(m), err)) < 0)
            return r;
    }
    if (!sg_get(hc, "OomKillDisable") && (r = set_new(hc, "OomKillDisable", json_false(), err)) < 0)
        return r;
    if (!sg_bool(hc, "Privileged")) {
        if (!sg_get(hc, "MaskedPaths") &&
            (r = set_new(hc, "MaskedPaths", sg_default_paths(true), err)) < 0)
            return r;
        if (!sg_get(hc, "ReadonlyPaths") &&
            (r = set_new(hc, "ReadonlyPaths", sg_default_paths(false), err)) < 0)
            return r;
    }
    return 0;
}
