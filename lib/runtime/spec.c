/* config.json parsing: every field is checked here, before create touches the system. */
#include "runtime/spec.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/spec_json.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* config.json larger than this is refused before it is read into memory. */
#define SPEC_MAX_SIZE (16u << 20)

static const struct {
    const char *name;
    const char *proc;
    int flag;
} namespace_table[] = {
    {"pid", "pid", CLONE_NEWPID},          {"network", "net", CLONE_NEWNET},
    {"mount", "mnt", CLONE_NEWNS},         {"ipc", "ipc", CLONE_NEWIPC},
    {"uts", "uts", CLONE_NEWUTS},          {"user", "user", CLONE_NEWUSER},
    {"cgroup", "cgroup", CLONE_NEWCGROUP}, {"time", "time", CLONE_NEWTIME},
};

const char *
berth_ns_name(int flag)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(namespace_table); i++)
        if (namespace_table[i].flag == flag)
            return namespace_table[i].name;
    return "unknown";
}

const char *
berth_ns_proc_name(int flag)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(namespace_table); i++)
        if (namespace_table[i].flag == flag)
            return namespace_table[i].proc;
    return "unknown";
}

const struct berth_spec_namespace *
berth_spec_find_ns(const struct berth_spec *spec, int type)
{
    for (size_t i = 0; i < spec->linux_.n_namespaces; i++)
        if (spec->linux_.namespaces[i].type == type)
            return &spec->linux_.namespaces[i];
    return NULL;
}

static const char *const hook_names[BERTH_HOOK__COUNT] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *
berth_hook_kind_name(enum berth_hook_kind kind)
{
    return kind < BERTH_HOOK__COUNT ? hook_names[kind] : "unknown";
}

static const struct {
    const char *name;
    int resource;
} rlimit_table[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

int
berth_rlimit_from_name(const char *name)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(rlimit_table); i++)
        if (!strcmp(rlimit_table[i].name, name))
            return rlimit_table[i].resource;
    return -1;
}

static const char *const seccomp_action_names[] = {
    [BERTH_SECCOMP_KILL] = "SCMP_ACT_KILL",
    [BERTH_SECCOMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
    [BERTH_SECCOMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
    [BERTH_SECCOMP_TRAP] = "SCMP_ACT_TRAP",
    [BERTH_SECCOMP_ERRNO] = "SCMP_ACT_ERRNO",
    [BERTH_SECCOMP_TRACE] = "SCMP_ACT_TRACE",
    [BERTH_SECCOMP_ALLOW] = "SCMP_ACT_ALLOW",
    [BERTH_SECCOMP_LOG] = "SCMP_ACT_LOG",
    [BERTH_SECCOMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

const char *
berth_seccomp_action_name(uint32_t action)
{
    return action < BERTH_ARRAY_SIZE(seccomp_action_names) ? seccomp_action_names[action]
                                                           : "unknown";
}

static int
seccomp_action_from_name(const char *name)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(seccomp_action_names); i++)
        if (!strcmp(seccomp_action_names[i], name))
            return (int)i;
    return -1;
}

/* ---- process ---- */

static int
parse_caps_set(json_t *caps, const char *key, uint64_t *ret, struct berth_error **err)
{
    _cleanup_strv_ char **names = NULL;
    int r = spec_get_strv(caps, key, "process.capabilities", &names, err);
    if (r < 0)
        return r;
    for (size_t i = 0; names && names[i]; i++) {
        int cap = berth_cap_from_name(names[i]);
        if (cap < 0)
            return berth_error_setq(err, EINVAL, "process.capabilities.%s: unknown capability %s",
                                    key, names[i]);
        *ret |= 1ULL << cap;
    }
    return 0;
}

void
berth_spec_process_free(struct berth_spec_process *p)
{
    if (!p)
        return;
    berth_strv_free(p->args);
    berth_strv_free(p->env);
    free(p->cwd);
    free(p->user.additional_gids);
    for (size_t i = 0; i < p->n_rlimits; i++)
        free(p->rlimits[i].name);
    free(p->rlimits);
    free(p->apparmor_profile);
    free(p->selinux_label);
    free(p);
}

int
berth_spec_parse_process(json_t *obj, struct berth_spec_process **ret, struct berth_error **err)
{
    const char *w = "process";
    if (!json_is_object(obj))
        return berth_error_setq(err, EINVAL, "process must be an object");
    struct berth_spec_process *p = calloc(1, sizeof(*p));
    if (!p)
        return berth_error_set(err, ENOMEM, "process");
    int r;
    json_t *o;
    if ((r = spec_get_bool(obj, "terminal", w, &p->terminal, NULL, err)) < 0)
        goto fail;
    if ((r = spec_get_object(obj, "consoleSize", w, &o, err)) < 0)
        goto fail;
    if (o &&
        ((r = spec_get_u32(o, "height", "process.consoleSize", false, &p->console_height, err)) <
             0 ||
         (r = spec_get_u32(o, "width", "process.consoleSize", false, &p->console_width, err)) < 0))
        goto fail;
    if ((r = spec_get_object(obj, "user", w, &o, err)) < 0)
        goto fail;
    if (o) {
        uint32_t uid = 0, gid = 0, umask_v = 0;
        if ((r = spec_get_u32(o, "uid", "process.user", false, &uid, err)) < 0 ||
            (r = spec_get_u32(o, "gid", "process.user", false, &gid, err)) < 0)
            goto fail;
        if (json_object_get(o, "umask") && !json_is_null(json_object_get(o, "umask"))) {
            if ((r = spec_get_u32(o, "umask", "process.user", false, &umask_v, err)) < 0)
                goto fail;
            if (umask_v > 0777) {
                r = berth_error_setq(err, EINVAL, "process.user.umask %u is out of range", umask_v);
                goto fail;
            }
            p->user.has_umask = true;
            p->user.umask = umask_v;
        }
        p->user.uid = uid;
        p->user.gid = gid;
        json_t *ag;
        if ((r = spec_get_array(o, "additionalGids", "process.user", &ag, err)) < 0)
            goto fail;
        if (ag && json_array_size(ag) > 0) {
            size_t n = json_array_size(ag);
            if (n > 65536) {
                r = berth_error_setq(err, EINVAL, "process.user.additionalGids: too many groups");
                goto fail;
            }
            p->user.additional_gids = calloc(n, sizeof(gid_t));
            if (!p->user.additional_gids) {
                r = berth_error_set(err, ENOMEM, "process.user");
                goto fail;
            }
            for (size_t i = 0; i < n; i++) {
                int64_t g;
                if (spec_json_to_i64(json_array_get(ag, i), &g) < 0 || g < 0 || g > UINT32_MAX) {
                    r = berth_error_setq(err, EINVAL,
                                         "process.user.additionalGids[%zu] must be a gid", i);
                    goto fail;
                }
                p->user.additional_gids[i] = (gid_t)g;
            }
            p->user.n_additional_gids = n;
        }
        if (json_object_get(o, "username") && !spec_json_is_text(json_object_get(o, "username"))) {
            r = berth_error_setq(err, EINVAL, "process.user.username must be a string");
            goto fail;
        }
    }
    if ((r = spec_get_strv(obj, "args", w, &p->args, err)) < 0 ||
        (r = spec_get_strv(obj, "env", w, &p->env, err)) < 0 ||
        (r = spec_get_string(obj, "cwd", w, false, &p->cwd, err)) < 0 ||
        (r = spec_get_string(obj, "apparmorProfile", w, false, &p->apparmor_profile, err)) < 0 ||
        (r = spec_get_string(obj, "selinuxLabel", w, false, &p->selinux_label, err)) < 0)
        goto fail;
    for (size_t i = 0; p->env && p->env[i]; i++) {
        if (!strchr(p->env[i], '=')) {
            r = berth_error_setq(
                err, EINVAL, "process.env[%zu] \"%s\" is not of the form KEY=value", i, p->env[i]);
            goto fail;
        }
    }
    if (!p->cwd && !(p->cwd = strdup("/"))) {
        r = berth_error_set(err, ENOMEM, "process.cwd");
        goto fail;
    }
    if (p->cwd[0] != '/') {
        r = berth_error_setq(err, EINVAL, "process.cwd \"%s\" is not an absolute path", p->cwd);
        goto fail;
    }
    if ((r = spec_get_object(obj, "capabilities", w, &o, err)) < 0)
        goto fail;
    if (o) {
        p->caps.set = true;
        if ((r = parse_caps_set(o, "bounding", &p->caps.bounding, err)) < 0 ||
            (r = parse_caps_set(o, "effective", &p->caps.effective, err)) < 0 ||
            (r = parse_caps_set(o, "inheritable", &p->caps.inheritable, err)) < 0 ||
            (r = parse_caps_set(o, "permitted", &p->caps.permitted, err)) < 0 ||
            (r = parse_caps_set(o, "ambient", &p->caps.ambient, err)) < 0)
            goto fail;
    }
    json_t *rl;
    if ((r = spec_get_array(obj, "rlimits", w, &rl, err)) < 0)
        goto fail;
    if (rl) {
        size_t n = json_array_size(rl);
        p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
        if (!p->rlimits) {
            r = berth_error_set(err, ENOMEM, "process.rlimits");
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(rl, i);
            struct berth_spec_rlimit *l = &p->rlimits[i];
            p->n_rlimits = i + 1;
            if (!json_is_object(e)) {
                r = berth_error_setq(err, EINVAL, "process.rlimits[%zu] must be an object", i);
                goto fail;
            }
            if ((r = spec_get_string(e, "type", "process.rlimits[]", true, &l->name, err)) < 0)
                goto fail;
            l->resource = berth_rlimit_from_name(l->name);
            if (l->resource < 0) {
                r = berth_error_setq(err, EINVAL, "process.rlimits: unknown rlimit type %s",
                                     l->name);
                goto fail;
            }
            for (size_t j = 0; j < i; j++)
                if (p->rlimits[j].resource == l->resource) {
                    r = berth_error_setq(err, EINVAL, "process.rlimits: duplicate type %s",
                                         l->name);
                    goto fail;
                }
            json_t *hard = json_object_get(e, "hard"), *soft = json_object_get(e, "soft");
            if (!hard || !soft) {
                r = berth_error_setq(err, EINVAL, "process.rlimits[%zu] (%s) needs hard and soft",
                                     i, l->name);
                goto fail;
            }
            if ((r = spec_get_u64_value(hard, "process.rlimits[]", "hard", &l->hard, err)) < 0 ||
                (r = spec_get_u64_value(soft, "process.rlimits[]", "soft", &l->soft, err)) < 0)
                goto fail;
            if (l->soft > l->hard) {
                r = berth_error_setq(
                    err, EINVAL, "process.rlimits: %s soft limit %llu is above hard limit %llu",
                    l->name, (unsigned long long)l->soft, (unsigned long long)l->hard);
                goto fail;
            }
        }
    }
    if ((r = spec_get_bool(obj, "noNewPrivileges", w, &p->no_new_privileges, NULL, err)) < 0 ||
        (r = spec_get_i64(obj, "oomScoreAdj", w, &p->oom_score_adj, err)) < 0)
        goto fail;
    if (p->oom_score_adj.set && (p->oom_score_adj.value < -1000 || p->oom_score_adj.value > 1000)) {
        r = berth_error_setq(err, EINVAL, "process.oomScoreAdj %lld is outside [-1000, 1000]",
                             (long long)p->oom_score_adj.value);
        goto fail;
    }
    *ret = p;
    return 0;
fail:
    berth_spec_process_free(p);
    return r;
}

/* ---- mounts ---- */

static const struct {
    const char *name;
    bool clear;
    unsigned long flag;
} mount_flag_table[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
};

static const struct {
    const char *name;
    unsigned long flag;
} propagation_table[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int
parse_propagation(const char *s, unsigned long *ret)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(propagation_table); i++)
        if (!strcmp(propagation_table[i].name, s)) {
            *ret = propagation_table[i].flag;
            return 0;
        }
    return -1;
}

static int
parse_mount_options(struct berth_spec_mount *m, size_t idx, struct berth_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t data_len = 0;
    for (size_t i = 0; m->options && m->options[i]; i++) {
        const char *o = m->options[i];
        bool known = false;
        for (size_t j = 0; j < BERTH_ARRAY_SIZE(mount_flag_table); j++) {
            if (strcmp(mount_flag_table[j].name, o))
                continue;
            if (mount_flag_table[j].clear) {
                m->flags &= ~mount_flag_table[j].flag;
                m->clear_flags |= mount_flag_table[j].flag;
            } else {
                m->flags |= mount_flag_table[j].flag;
                m->clear_flags &= ~mount_flag_table[j].flag;
            }
            known = true;
            break;
        }
        if (known)
            continue;
        if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
            m->bind = true;
            m->flags |= MS_BIND | (o[0] == 'r' ? MS_REC : 0);
            continue;
        }
        if (parse_propagation(o, &m->propagation) == 0)
            continue;
        if (!strcmp(o, "tmpcopyup")) {
            m->tmpcopyup = true;
            continue;
        }
        if (!strcmp(o, "idmap") || !strcmp(o, "ridmap") || !strncmp(o, "rro", 3) ||
            !strcmp(o, "rrw") || !strcmp(o, "rnosuid") || !strcmp(o, "rnodev") ||
            !strcmp(o, "rnoexec"))
            return berth_error_setq(err, EOPNOTSUPP,
                                    "mounts[%zu] (%s): option \"%s\" is not supported", idx,
                                    m->destination, o);
        /* anything else is filesystem data, e.g. mode=755 or size=64m */
        size_t l = strlen(o);
        char *nd = realloc(data, data_len + l + 2);
        if (!nd)
            return berth_error_set(err, ENOMEM, "mount options");
        data = nd;
        if (data_len)
            data[data_len++] = ',';
        memcpy(data + data_len, o, l + 1);
        data_len += l;
    }
    m->data = TAKE_PTR(data);
    return 0;
}

static int
parse_mounts(json_t *root, struct berth_spec *spec, struct berth_error **err)
{
    json_t *arr;
    int r = spec_get_array(root, "mounts", "config", &arr, err);
    if (r < 0 || !arr)
        return r;
    size_t n = json_array_size(arr);
    spec->mounts = calloc(n ? n : 1, sizeof(*spec->mounts));
    if (!spec->mounts)
        return berth_error_set(err, ENOMEM, "mounts");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        struct berth_spec_mount *m = &spec->mounts[i];
        spec->n_mounts = i + 1;
        if (!json_is_object(e))
            return berth_error_setq(err, EINVAL, "mounts[%zu] must be an object", i);
        if ((r = spec_get_string(e, "destination", "mounts[]", true, &m->destination, err)) < 0 ||
            (r = spec_get_string(e, "source", "mounts[]", false, &m->source, err)) < 0 ||
            (r = spec_get_string(e, "type", "mounts[]", false, &m->type, err)) < 0 ||
            (r = spec_get_strv(e, "options", "mounts[]", &m->options, err)) < 0)
            return r;
        if (m->destination[0] == '\0')
            return berth_error_setq(err, EINVAL, "mounts[%zu].destination is empty", i);
        if (m->destination[0] != '/') {
            /* runc accepts relative destinations as relative to the container's / */
            char *abs;
            if (asprintf(&abs, "/%s", m->destination) < 0)
                return berth_error_set(err, ENOMEM, "mounts");
            free(m->destination);
            m->destination = abs;
        }
        if ((r = parse_mount_options(m, i, err)) < 0)
            return r;
        if (m->type && (!strcmp(m->type, "bind") || !strcmp(m->type, "rbind")))
            m->bind = true, m->flags |= MS_BIND;
        if (m->bind && !m->source)
            return berth_error_setq(err, EINVAL, "mounts[%zu] (%s): a bind mount needs a source", i,
                                    m->destination);
        if (!m->bind && !m->type)
            return berth_error_setq(err, EINVAL, "mounts[%zu] (%s): type is required", i,
                                    m->destination);
    }
    return 0;
}

/* ---- hooks ---- */

static int
parse_hooks(json_t *root, struct berth_spec *spec, struct berth_error **err)
{
    json_t *hooks;
    int r = spec_get_object(root, "hooks", "config", &hooks, err);
    if (r < 0 || !hooks)
        return r;
    const char *k;
    json_t *v;
    json_object_foreach(hooks, k, v)
    {
        int kind = -1;
        for (int i = 0; i < BERTH_HOOK__COUNT; i++)
            if (!strcmp(hook_names[i], k))
                kind = i;
        if (kind < 0)
            return berth_error_setq(err, EINVAL, "hooks: unknown hook kind \"%s\"", k);
        if (json_is_null(v))
            continue;
        if (!json_is_array(v))
            return berth_error_setq(err, EINVAL, "hooks.%s must be an array", k);
        size_t n = json_array_size(v);
        spec->hooks[kind] = calloc(n ? n : 1, sizeof(struct berth_spec_hook));
        if (!spec->hooks[kind])
            return berth_error_set(err, ENOMEM, "hooks");
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            struct berth_spec_hook *h = &spec->hooks[kind][i];
            spec->n_hooks[kind] = i + 1;
            if (!json_is_object(e))
                return berth_error_setq(err, EINVAL, "hooks.%s[%zu] must be an object", k, i);
            struct berth_opt_i64 timeout = {0};
            if ((r = spec_get_string(e, "path", "hooks[]", true, &h->path, err)) < 0 ||
                (r = spec_get_strv(e, "args", "hooks[]", &h->args, err)) < 0 ||
                (r = spec_get_strv(e, "env", "hooks[]", &h->env, err)) < 0 ||
                (r = spec_get_i64(e, "timeout", "hooks[]", &timeout, err)) < 0)
                return r;
            if (h->path[0] != '/')
                return berth_error_setq(err, EINVAL, "hooks.%s[%zu].path \"%s\" is not absolute", k,
                                        i, h->path);
            if (timeout.set && (timeout.value <= 0 || timeout.value > INT_MAX))
                return berth_error_setq(err, EINVAL, "hooks.%s[%zu].timeout must be positive", k,
                                        i);
            h->timeout = timeout.set ? (int)timeout.value : 0;
        }
    }
    return 0;
}

/* ---- linux ---- */

static int
parse_idmaps(json_t *lin, const char *key, struct berth_spec_idmap **ret, size_t *n_ret,
             struct berth_error **err)
{
    json_t *arr;
    int r = spec_get_array(lin, key, "linux", &arr, err);
    if (r < 0 || !arr)
        return r;
    size_t n = json_array_size(arr);
    if (n > 340) /* the kernel's limit on map lines */
        return berth_error_setq(err, EINVAL, "linux.%s: too many entries", key);
    struct berth_spec_idmap *m = calloc(n ? n : 1, sizeof(*m));
    if (!m)
        return berth_error_set(err, ENOMEM, "linux.%s", key);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_object(e) ||
            spec_get_u32(e, "containerID", "linux.idmap", true, &m[i].container_id, err) < 0 ||
            spec_get_u32(e, "hostID", "linux.idmap", true, &m[i].host_id, err) < 0 ||
            spec_get_u32(e, "size", "linux.idmap", true, &m[i].size, err) < 0) {
            free(m);
            return berth_error_setq(err, EINVAL, "linux.%s[%zu] is malformed", key, i);
        }
    }
    *ret = m;
    *n_ret = n;
    return 0;
}

static int
parse_namespaces(json_t *lin, struct berth_spec *spec, struct berth_error **err)
{
    json_t *arr;
    int r = spec_get_array(lin, "namespaces", "linux", &arr, err);
    if (r < 0 || !arr)
        return r;
    size_t n = json_array_size(arr);
    spec->linux_.namespaces = calloc(n ? n : 1, sizeof(struct berth_spec_namespace));
    if (!spec->linux_.namespaces)
        return berth_error_set(err, ENOMEM, "linux.namespaces");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        struct berth_spec_namespace *ns = &spec->linux_.namespaces[i];
        spec->linux_.n_namespaces = i + 1; /* freed with the spec, even half-parsed */
        if (!json_is_object(e))
            return berth_error_setq(err, EINVAL, "linux.namespaces[%zu] must be an object", i);
        _cleanup_free_ char *type = NULL;
        if ((r = spec_get_string(e, "type", "linux.namespaces[]", true, &type, err)) < 0)
            return r;
        for (size_t j = 0; j < BERTH_ARRAY_SIZE(namespace_table); j++)
            if (!strcmp(namespace_table[j].name, type))
                ns->type = namespace_table[j].flag;
        if (!ns->type)
            return berth_error_setq(err, EINVAL, "linux.namespaces: unknown namespace type \"%s\"",
                                    type);
        for (size_t j = 0; j < i; j++)
            if (spec->linux_.namespaces[j].type == ns->type)
                return berth_error_setq(err, EINVAL, "linux.namespaces: duplicate namespace \"%s\"",
                                        type);
        if ((r = spec_get_string(e, "path", "linux.namespaces[]", false, &ns->path, err)) < 0)
            return r;
        if (ns->path && ns->path[0] == '\0') {
            free(ns->path);
            ns->path = NULL;
        }
        if (ns->path && ns->path[0] != '/')
            return berth_error_setq(err, EINVAL, "linux.namespaces: %s path \"%s\" is not absolute",
                                    type, ns->path);
    }
    return 0;
}

static int
parse_devices(json_t *lin, struct berth_spec *spec, struct berth_error **err)
{
    json_t *arr;
    int r = spec_get_array(lin, "devices", "linux", &arr, err);
    if (r < 0 || !arr)
        return r;
    size_t n = json_array_size(arr);
    spec->linux_.devices = calloc(n ? n : 1, sizeof(struct berth_spec_device));
    if (!spec->linux_.devices)
        return berth_error_set(err, ENOMEM, "linux.devices");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        struct berth_spec_device *d = &spec->linux_.devices[i];
        spec->linux_.n_devices = i + 1;
        if (!json_is_object(e))
            return berth_error_setq(err, EINVAL, "linux.devices[%zu] must be an object", i);
        _cleanup_free_ char *type = NULL;
        struct berth_opt_i64 major = {0}, minor = {0}, mode = {0};
        uint32_t uid = 0, gid = 0;
        if ((r = spec_get_string(e, "path", "linux.devices[]", true, &d->path, err)) < 0 ||
            (r = spec_get_string(e, "type", "linux.devices[]", true, &type, err)) < 0 ||
            (r = spec_get_i64(e, "major", "linux.devices[]", &major, err)) < 0 ||
            (r = spec_get_i64(e, "minor", "linux.devices[]", &minor, err)) < 0 ||
            (r = spec_get_i64(e, "fileMode", "linux.devices[]", &mode, err)) < 0 ||
            (r = spec_get_u32(e, "uid", "linux.devices[]", false, &uid, err)) < 0 ||
            (r = spec_get_u32(e, "gid", "linux.devices[]", false, &gid, err)) < 0)
            return r;
        if (d->path[0] != '/')
            return berth_error_setq(err, EINVAL, "linux.devices[%zu].path \"%s\" is not absolute",
                                    i, d->path);
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
            return berth_error_setq(err, EINVAL, "linux.devices[%zu] (%s): bad type \"%s\"", i,
                                    d->path, type);
        d->type = type[0];
        if (d->type != 'p' && (!major.set || !minor.set))
            return berth_error_setq(
                err, EINVAL, "linux.devices[%zu] (%s): major and minor are required", i, d->path);
        d->major = major.value;
        d->minor = minor.value;
        d->has_file_mode = mode.set;
        d->file_mode = (mode_t)mode.value & 07777;
        d->has_uid = json_object_get(e, "uid") && !json_is_null(json_object_get(e, "uid"));
        d->has_gid = json_object_get(e, "gid") && !json_is_null(json_object_get(e, "gid"));
        d->uid = uid;
        d->gid = gid;
    }
    return 0;
}

static int
parse_device_rules(json_t *res, struct berth_spec_resources *out, struct berth_error **err)
{
    json_t *arr;
    int r = spec_get_array(res, "devices", "linux.resources", &arr, err);
    if (r < 0 || !arr)
        return r;
    size_t n = json_array_size(arr);
    out->has_devices = true;
    out->devices = calloc(n ? n : 1, sizeof(*out->devices));
    if (!out->devices)
        return berth_error_set(err, ENOMEM, "linux.resources.devices");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        struct berth_spec_device_rule *d = &out->devices[i];
        out->n_devices = i + 1;
        if (!json_is_object(e))
            return berth_error_setq(err, EINVAL, "linux.resources.devices[%zu] must be an object",
                                    i);
        _cleanup_free_ char *type = NULL, *access = NULL;
        struct berth_opt_i64 major = {0}, minor = {0};
        json_t *allow = json_object_get(e, "allow");
        if (!json_is_boolean(allow))
            return berth_error_setq(err, EINVAL,
                                    "linux.resources.devices[%zu].allow must be a boolean", i);
        d->allow = json_is_true(allow);
        if ((r = spec_get_string(e, "type", "linux.resources.devices[]", false, &type, err)) < 0 ||
            (r = spec_get_string(e, "access", "linux.resources.devices[]", false, &access, err)) <
                0 ||
            (r = spec_get_i64(e, "major", "linux.resources.devices[]", &major, err)) < 0 ||
            (r = spec_get_i64(e, "minor", "linux.resources.devices[]", &minor, err)) < 0)
            return r;
        d->type = type ? type[0] : 'a';
        if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
            return berth_error_setq(err, EINVAL, "linux.resources.devices[%zu]: bad type \"%s\"", i,
                                    type);
        d->major = major.set ? major.value : -1;
        d->minor = minor.set ? minor.value : -1;
        const char *acc = access ? access : "rwm";
        if (strlen(acc) > 3 || strspn(acc, "rwm") != strlen(acc))
            return berth_error_setq(err, EINVAL, "linux.resources.devices[%zu]: bad access \"%s\"",
                                    i, acc);
        snprintf(d->access, sizeof(d->access), "%s", acc);
    }
    return 0;
}

static int
parse_throttle(json_t *bio, const char *key, struct berth_spec_throttle_device **ret, size_t *n_ret,
               struct berth_error **err)
{
    json_t *arr;
    int r = spec_get_array(bio, key, "linux.resources.blockIO", &arr, err);
    if (r < 0 || !arr)
        return r;
    size_t n = json_array_size(arr);
    struct berth_spec_throttle_device *t = calloc(n ? n : 1, sizeof(*t));
    if (!t)
        return berth_error_set(err, ENOMEM, "blockIO");
    *ret = t;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        struct berth_opt_i64 major = {0}, minor = {0}, rate = {0};
        *n_ret = i + 1;
        if (!json_is_object(e) || spec_get_i64(e, "major", "blockIO", &major, err) < 0 ||
            spec_get_i64(e, "minor", "blockIO", &minor, err) < 0 ||
            spec_get_i64(e, "rate", "blockIO", &rate, err) < 0 || !major.set || !minor.set ||
            rate.value < 0)
            return berth_error_setq(err, EINVAL, "linux.resources.blockIO.%s[%zu] is malformed",
                                    key, i);
        t[i].major = major.value;
        t[i].minor = minor.value;
        t[i].rate = (uint64_t)rate.value;
    }
    return 0;
}

void
berth_spec_resources_clear(struct berth_spec_resources *r)
{
    free(r->devices);
    free(r->cpu.cpus);
    free(r->cpu.mems);
    free(r->block_io.weight_devices);
    for (int i = 0; i < 4; i++)
        free(r->block_io.throttle[i]);
    for (size_t i = 0; i < r->n_hugepages; i++)
        free(r->hugepages[i].page_size);
    free(r->hugepages);
    spec_kv_free(r->unified, r->n_unified);
    memset(r, 0, sizeof(*r));
}

int
berth_spec_parse_resources(json_t *res, struct berth_spec_resources *out, struct berth_error **err)
{
    const char *w = "linux.resources";
    int r;
    json_t *o;
    if (!json_is_object(res))
        return berth_error_setq(err, EINVAL, "%s must be an object", w);
    if ((r = parse_device_rules(res, out, err)) < 0)
        return r;
    if ((r = spec_get_object(res, "memory", w, &o, err)) < 0)
        return r;
    if (o) {
        const char *m = "linux.resources.memory";
        if ((r = spec_get_i64(o, "limit", m, &out->memory.limit, err)) < 0 ||
            (r = spec_get_i64(o, "reservation", m, &out->memory.reservation, err)) < 0 ||
            (r = spec_get_i64(o, "swap", m, &out->memory.swap, err)) < 0 ||
            (r = spec_get_i64(o, "kernel", m, &out->memory.kernel, err)) < 0 ||
            (r = spec_get_i64(o, "kernelTCP", m, &out->memory.kernel_tcp, err)) < 0 ||
            (r = spec_get_i64(o, "swappiness", m, &out->memory.swappiness, err)) < 0 ||
            (r = spec_get_bool(o, "disableOOMKiller", m, &out->memory.disable_oom_killer,
                               &out->memory.has_disable_oom_killer, err)) < 0 ||
            (r = spec_get_bool(o, "useHierarchy", m, &out->memory.use_hierarchy,
                               &out->memory.has_use_hierarchy, err)) < 0)
            return r;
        if (out->memory.limit.set && out->memory.limit.value < -1)
            return berth_error_setq(err, EINVAL, "%s.limit must be -1 or positive", m);
        if (out->memory.swap.set && out->memory.limit.set && out->memory.swap.value > 0 &&
            out->memory.limit.value > 0 && out->memory.swap.value < out->memory.limit.value)
            return berth_error_setq(
                err, EINVAL,
                "%s: swap limit %lld is below the memory limit %lld (swap includes memory)", m,
                (long long)out->memory.swap.value, (long long)out->memory.limit.value);
        if (out->memory.swappiness.set &&
            (out->memory.swappiness.value < -1 || out->memory.swappiness.value > 100))
            return berth_error_setq(err, EINVAL, "%s.swappiness must be within [0, 100]", m);
    }
    if ((r = spec_get_object(res, "cpu", w, &o, err)) < 0)
        return r;
    if (o) {
        const char *c = "linux.resources.cpu";
        if ((r = spec_get_i64(o, "shares", c, &out->cpu.shares, err)) < 0 ||
            (r = spec_get_i64(o, "quota", c, &out->cpu.quota, err)) < 0 ||
            (r = spec_get_i64(o, "burst", c, &out->cpu.burst, err)) < 0 ||
            (r = spec_get_i64(o, "period", c, &out->cpu.period, err)) < 0 ||
            (r = spec_get_i64(o, "realtimeRuntime", c, &out->cpu.realtime_runtime, err)) < 0 ||
            (r = spec_get_i64(o, "realtimePeriod", c, &out->cpu.realtime_period, err)) < 0 ||
            (r = spec_get_i64(o, "idle", c, &out->cpu.idle, err)) < 0 ||
            (r = spec_get_string(o, "cpus", c, false, &out->cpu.cpus, err)) < 0 ||
            (r = spec_get_string(o, "mems", c, false, &out->cpu.mems, err)) < 0)
            return r;
        if (out->cpu.shares.set && out->cpu.shares.value < 0)
            return berth_error_setq(err, EINVAL, "%s.shares must not be negative", c);
        if (out->cpu.period.set && out->cpu.period.value != 0 &&
            (out->cpu.period.value < 1000 || out->cpu.period.value > 1000000))
            return berth_error_setq(err, EINVAL, "%s.period must be within [1000, 1000000]", c);
    }
    if ((r = spec_get_object(res, "pids", w, &o, err)) < 0)
        return r;
    if (o && (r = spec_get_i64(o, "limit", "linux.resources.pids", &out->pids.limit, err)) < 0)
        return r;
    if ((r = spec_get_object(res, "blockIO", w, &o, err)) < 0)
        return r;
    if (o) {
        const char *b = "linux.resources.blockIO";
        if ((r = spec_get_i64(o, "weight", b, &out->block_io.weight, err)) < 0 ||
            (r = spec_get_i64(o, "leafWeight", b, &out->block_io.leaf_weight, err)) < 0)
            return r;
        if (out->block_io.weight.set &&
            (out->block_io.weight.value < 10 || out->block_io.weight.value > 1000) &&
            out->block_io.weight.value != 0)
            return berth_error_setq(err, EINVAL, "%s.weight must be within [10, 1000]", b);
        json_t *wd;
        if ((r = spec_get_array(o, "weightDevice", b, &wd, err)) < 0)
            return r;
        if (wd) {
            size_t n = json_array_size(wd);
            out->block_io.weight_devices =
                calloc(n ? n : 1, sizeof(struct berth_spec_weight_device));
            if (!out->block_io.weight_devices)
                return berth_error_set(err, ENOMEM, "blockIO");
            for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(wd, i);
                struct berth_spec_weight_device *d = &out->block_io.weight_devices[i];
                struct berth_opt_i64 major = {0}, minor = {0};
                out->block_io.n_weight_devices = i + 1;
                if (!json_is_object(e) || spec_get_i64(e, "major", b, &major, err) < 0 ||
                    spec_get_i64(e, "minor", b, &minor, err) < 0 ||
                    spec_get_i64(e, "weight", b, &d->weight, err) < 0 ||
                    spec_get_i64(e, "leafWeight", b, &d->leaf_weight, err) < 0 || !major.set ||
                    !minor.set)
                    return berth_error_setq(err, EINVAL, "%s.weightDevice[%zu] is malformed", b, i);
                d->major = major.value;
                d->minor = minor.value;
            }
        }
        static const char *const throttle_keys[4] = {
            "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
            "throttleWriteIOPSDevice"};
        for (int i = 0; i < 4; i++)
            if ((r = parse_throttle(o, throttle_keys[i], &out->block_io.throttle[i],
                                    &out->block_io.n_throttle[i], err)) < 0)
                return r;
    }
    json_t *hp;
    if ((r = spec_get_array(res, "hugepageLimits", w, &hp, err)) < 0)
        return r;
    if (hp) {
        size_t n = json_array_size(hp);
        out->hugepages = calloc(n ? n : 1, sizeof(*out->hugepages));
        if (!out->hugepages)
            return berth_error_set(err, ENOMEM, "hugepageLimits");
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(hp, i);
            struct berth_spec_hugepage_limit *l = &out->hugepages[i];
            out->n_hugepages = i + 1;
            json_t *lim = json_is_object(e) ? json_object_get(e, "limit") : NULL;
            if (!json_is_object(e) ||
                spec_get_string(e, "pageSize", "hugepageLimits[]", true, &l->page_size, err) < 0 ||
                !lim || spec_get_u64_value(lim, "hugepageLimits[]", "limit", &l->limit, err) < 0)
                return berth_error_setq(err, EINVAL,
                                        "linux.resources.hugepageLimits[%zu] is malformed", i);
            if (strspn(l->page_size, "0123456789KMGB") != strlen(l->page_size))
                return berth_error_setq(err, EINVAL, "hugepageLimits: bad pageSize \"%s\"",
                                        l->page_size);
        }
    }
    if ((r = spec_get_object(res, "network", w, &o, err)) < 0)
        return r;
    if (o && (r = spec_get_i64(o, "classID", "linux.resources.network", &out->network.class_id,
                               err)) < 0)
        return r;
    if ((r = spec_get_kv_map(res, "unified", w, &out->unified, &out->n_unified, err)) < 0)
        return r;
    for (size_t i = 0; i < out->n_unified; i++)
        if (strchr(out->unified[i].key, '/') || out->unified[i].key[0] == '.')
            return berth_error_setq(err, EINVAL, "linux.resources.unified: bad key \"%s\"",
                                    out->unified[i].key);
    return 0;
}

static int
parse_seccomp(json_t *sc, struct berth_spec_seccomp **ret, struct berth_error **err)
{
    const char *w = "linux.seccomp";
    struct berth_spec_seccomp *s = calloc(1, sizeof(*s));
    if (!s)
        return berth_error_set(err, ENOMEM, "%s", w);
    *ret = s; /* freed with the spec */
    int r;
    _cleanup_free_ char *def = NULL;
    if ((r = spec_get_string(sc, "defaultAction", w, true, &def, err)) < 0)
        return r;
    int a = seccomp_action_from_name(def);
    if (a < 0)
        return berth_error_setq(err, EINVAL, "%s: unknown defaultAction \"%s\"", w, def);
    s->default_action = (uint32_t)a;
    if (json_object_get(sc, "defaultErrnoRet") &&
        !json_is_null(json_object_get(sc, "defaultErrnoRet"))) {
        s->has_default_errno_ret = true;
        if ((r = spec_get_u32(sc, "defaultErrnoRet", w, false, &s->default_errno_ret, err)) < 0)
            return r;
    }
    if ((r = spec_get_strv(sc, "architectures", w, &s->architectures, err)) < 0 ||
        (r = spec_get_strv(sc, "flags", w, &s->flags, err)) < 0 ||
        (r = spec_get_string(sc, "listenerPath", w, false, &s->listener_path, err)) < 0 ||
        (r = spec_get_string(sc, "listenerMetadata", w, false, &s->listener_metadata, err)) < 0)
        return r;
    json_t *arr;
    if ((r = spec_get_array(sc, "syscalls", w, &arr, err)) < 0 || !arr)
        return r;
    size_t n = json_array_size(arr);
    s->syscalls = calloc(n ? n : 1, sizeof(*s->syscalls));
    if (!s->syscalls)
        return berth_error_set(err, ENOMEM, "%s", w);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        struct berth_spec_seccomp_rule *rule = &s->syscalls[i];
        s->n_syscalls = i + 1;
        if (!json_is_object(e))
            return berth_error_setq(err, EINVAL, "%s.syscalls[%zu] must be an object", w, i);
        _cleanup_free_ char *action = NULL;
        if ((r = spec_get_strv(e, "names", "linux.seccomp.syscalls[]", &rule->names, err)) < 0 ||
            (r = spec_get_string(e, "action", "linux.seccomp.syscalls[]", true, &action, err)) < 0)
            return r;
        if (!rule->names || !rule->names[0])
            return berth_error_setq(err, EINVAL, "%s.syscalls[%zu].names is empty", w, i);
        a = seccomp_action_from_name(action);
        if (a < 0)
            return berth_error_setq(err, EINVAL, "%s.syscalls[%zu]: unknown action \"%s\"", w, i,
                                    action);
        rule->action = (uint32_t)a;
        if (json_object_get(e, "errnoRet") && !json_is_null(json_object_get(e, "errnoRet"))) {
            rule->has_errno_ret = true;
            if ((r = spec_get_u32(e, "errnoRet", "linux.seccomp.syscalls[]", false,
                                  &rule->errno_ret, err)) < 0)
                return r;
        }
        json_t *args;
        if ((r = spec_get_array(e, "args", "linux.seccomp.syscalls[]", &args, err)) < 0)
            return r;
        if (!args)
            continue;
        size_t na = json_array_size(args);
        if (na > 6)
            return berth_error_setq(err, EINVAL, "%s.syscalls[%zu]: more than 6 args", w, i);
        rule->args = calloc(na ? na : 1, sizeof(*rule->args));
        if (!rule->args)
            return berth_error_set(err, ENOMEM, "%s", w);
        rule->n_args = na;
        static const char *const ops[] = {"SCMP_CMP_NE",       "SCMP_CMP_LT", "SCMP_CMP_LE",
                                          "SCMP_CMP_EQ",       "SCMP_CMP_GE", "SCMP_CMP_GT",
                                          "SCMP_CMP_MASKED_EQ"};
        for (size_t j = 0; j < na; j++) {
            json_t *ae = json_array_get(args, j);
            struct berth_spec_seccomp_arg *sa = &rule->args[j];
            uint32_t index = 0;
            _cleanup_free_ char *op = NULL;
            json_t *val = json_is_object(ae) ? json_object_get(ae, "value") : NULL;
            json_t *val2 = json_is_object(ae) ? json_object_get(ae, "valueTwo") : NULL;
            if (!json_is_object(ae) ||
                spec_get_u32(ae, "index", "seccomp.args[]", true, &index, err) < 0 || index > 5 ||
                spec_get_string(ae, "op", "seccomp.args[]", true, &op, err) < 0 || !val ||
                spec_get_u64_value(val, "seccomp.args[]", "value", &sa->value, err) < 0 ||
                (val2 &&
                 spec_get_u64_value(val2, "seccomp.args[]", "valueTwo", &sa->value_two, err) < 0))
                return berth_error_setq(err, EINVAL, "%s.syscalls[%zu].args[%zu] is malformed", w,
                                        i, j);
            sa->index = index;
            int opi = -1;
            for (size_t k = 0; k < BERTH_ARRAY_SIZE(ops); k++)
                if (!strcmp(ops[k], op))
                    opi = (int)k;
            if (opi < 0)
                return berth_error_setq(err, EINVAL, "%s: unknown operator \"%s\"", w, op);
            sa->op = (enum berth_seccomp_op)opi;
        }
    }
    return 0;
}

static void
seccomp_free(struct berth_spec_seccomp *s)
{
    if (!s)
        return;
    berth_strv_free(s->architectures);
    berth_strv_free(s->flags);
    free(s->listener_path);
    free(s->listener_metadata);
    for (size_t i = 0; i < s->n_syscalls; i++) {
        berth_strv_free(s->syscalls[i].names);
        free(s->syscalls[i].args);
    }
    free(s->syscalls);
    free(s);
}

static int
parse_linux(json_t *lin, struct berth_spec *spec, struct berth_error **err)
{
    const char *w = "linux";
    struct berth_spec_linux *l = &spec->linux_;
    int r;
    if (!json_is_object(lin))
        return berth_error_setq(err, EINVAL, "linux must be an object");
    if ((r = parse_namespaces(lin, spec, err)) < 0 ||
        (r = parse_idmaps(lin, "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err)) < 0 ||
        (r = parse_idmaps(lin, "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err)) < 0 ||
        (r = parse_devices(lin, spec, err)) < 0 ||
        (r = spec_get_string(lin, "cgroupsPath", w, false, &l->cgroups_path, err)) < 0 ||
        (r = spec_get_strv(lin, "maskedPaths", w, &l->masked_paths, err)) < 0 ||
        (r = spec_get_strv(lin, "readonlyPaths", w, &l->readonly_paths, err)) < 0 ||
        (r = spec_get_kv_map(lin, "sysctl", w, &l->sysctl, &l->n_sysctl, err)) < 0 ||
        (r = spec_get_string(lin, "mountLabel", w, false, &l->mount_label, err)) < 0)
        return r;
    json_t *o;
    if ((r = spec_get_object(lin, "resources", w, &o, err)) < 0)
        return r;
    if (o && (r = berth_spec_parse_resources(o, &l->resources, err)) < 0)
        return r;
    _cleanup_free_ char *prop = NULL;
    if ((r = spec_get_string(lin, "rootfsPropagation", w, false, &prop, err)) < 0)
        return r;
    if (prop && *prop && parse_propagation(prop, &l->rootfs_propagation) < 0)
        return berth_error_setq(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"", prop);
    if ((r = spec_get_object(lin, "seccomp", w, &o, err)) < 0)
        return r;
    if (o && (r = parse_seccomp(o, &l->seccomp, err)) < 0)
        return r;
    if ((r = spec_get_object(lin, "personality", w, &o, err)) < 0)
        return r;
    if (o) {
        _cleanup_free_ char *domain = NULL;
        if ((r = spec_get_string(o, "domain", "linux.personality", true, &domain, err)) < 0)
            return r;
        if (!strcmp(domain, "LINUX"))
            l->personality = PER_LINUX;
        else if (!strcmp(domain, "LINUX32"))
            l->personality = PER_LINUX32;
        else
            return berth_error_setq(err, EINVAL, "linux.personality: unknown domain \"%s\"",
                                    domain);
        l->has_personality = true;
    }
    if ((r = spec_get_object(lin, "timeOffsets", w, &o, err)) < 0)
        return r;
    if (o) {
        static const char *const clocks[2] = {"monotonic", "boottime"};
        for (int i = 0; i < 2; i++) {
            json_t *c;
            if ((r = spec_get_object(o, clocks[i], "linux.timeOffsets", &c, err)) < 0)
                return r;
            if (!c)
                continue;
            struct berth_opt_i64 secs = {0}, nsecs = {0};
            if ((r = spec_get_i64(c, "secs", "linux.timeOffsets", &secs, err)) < 0 ||
                (r = spec_get_i64(c, "nanosecs", "linux.timeOffsets", &nsecs, err)) < 0)
                return r;
            l->time_offsets[i].set = true;
            l->time_offsets[i].secs = secs.value;
            l->time_offsets[i].nanosecs = nsecs.value;
        }
    }
    return 0;
}

/* Checks that need the whole document: what runc refuses, with the same causes. */
static int
validate(struct berth_spec *spec, struct berth_error **err)
{
    struct berth_spec_linux *l = &spec->linux_;
    const struct berth_spec_namespace *userns = berth_spec_find_ns(spec, CLONE_NEWUSER);
    if ((l->n_uid_mappings || l->n_gid_mappings) && !userns)
        return berth_error_setq(
            err, EINVAL,
            "user namespace mappings specified, but the user namespace is not enabled");
    if (userns && !userns->path && (!l->n_uid_mappings || !l->n_gid_mappings))
        return berth_error_setq(err, EINVAL,
                                "a new user namespace needs uidMappings and gidMappings");
    if ((spec->hostname && *spec->hostname) && !berth_spec_find_ns(spec, CLONE_NEWUTS))
        return berth_error_setq(err, EINVAL,
                                "unable to set hostname without a private UTS namespace");
    if ((spec->domainname && *spec->domainname) && !berth_spec_find_ns(spec, CLONE_NEWUTS))
        return berth_error_setq(err, EINVAL,
                                "unable to set domainname without a private UTS namespace");
    for (size_t i = 0; i < l->n_sysctl; i++) {
        const char *k = l->sysctl[i].key;
        if (strstr(k, "..") || k[0] == '/' || k[0] == '.')
            return berth_error_setq(err, EINVAL, "linux.sysctl: bad key \"%s\"", k);
        if ((berth_str_has_prefix(k, "net.") || berth_str_has_prefix(k, "net/")) &&
            !berth_spec_find_ns(spec, CLONE_NEWNET))
            return berth_error_setq(
                err, EINVAL, "sysctl \"%s\" is not allowed in the host network namespace", k);
        if ((berth_str_has_prefix(k, "kernel.msg") || berth_str_has_prefix(k, "kernel.sem") ||
             berth_str_has_prefix(k, "kernel.shm") || berth_str_has_prefix(k, "fs.mqueue.")) &&
            !berth_spec_find_ns(spec, CLONE_NEWIPC))
            return berth_error_setq(err, EINVAL,
                                    "sysctl \"%s\" is not allowed in the host IPC namespace", k);
    }
    if ((l->time_offsets[0].set || l->time_offsets[1].set) &&
        !berth_spec_find_ns(spec, CLONE_NEWTIME))
        return berth_error_setq(err, EINVAL, "linux.timeOffsets need a time namespace");
    if (spec->process && (!spec->process->args || !spec->process->args[0]))
        return berth_error_setq(err, EINVAL, "process.args must not be empty");
    for (size_t i = 0; i < l->n_namespaces; i++) {
        const struct berth_spec_namespace *ns = &l->namespaces[i];
        if (ns->path && ns->type == CLONE_NEWUSER && (l->n_uid_mappings || l->n_gid_mappings))
            return berth_error_setq(err, EINVAL,
                                    "user namespace path given together with uid/gid mappings");
    }
    return 0;
}

void
berth_spec_free(struct berth_spec *spec)
{
    if (!spec)
        return;
    free(spec->oci_version);
    free(spec->root_path);
    berth_spec_process_free(spec->process);
    free(spec->hostname);
    free(spec->domainname);
    for (size_t i = 0; i < spec->n_mounts; i++) {
        struct berth_spec_mount *m = &spec->mounts[i];
        free(m->destination), free(m->source), free(m->type), free(m->data);
        berth_strv_free(m->options);
    }
    free(spec->mounts);
    for (int k = 0; k < BERTH_HOOK__COUNT; k++) {
        for (size_t i = 0; i < spec->n_hooks[k]; i++) {
            free(spec->hooks[k][i].path);
            berth_strv_free(spec->hooks[k][i].args);
            berth_strv_free(spec->hooks[k][i].env);
        }
        free(spec->hooks[k]);
    }
    spec_kv_free(spec->annotations, spec->n_annotations);
    struct berth_spec_linux *l = &spec->linux_;
    for (size_t i = 0; i < l->n_namespaces; i++)
        free(l->namespaces[i].path);
    free(l->namespaces);
    free(l->uid_mappings);
    free(l->gid_mappings);
    for (size_t i = 0; i < l->n_devices; i++)
        free(l->devices[i].path);
    free(l->devices);
    free(l->cgroups_path);
    berth_spec_resources_clear(&l->resources);
    berth_strv_free(l->masked_paths);
    berth_strv_free(l->readonly_paths);
    spec_kv_free(l->sysctl, l->n_sysctl);
    seccomp_free(l->seccomp);
    free(l->mount_label);
    free(spec);
}

void
berth_spec_freep(struct berth_spec **spec)
{
    berth_spec_free(*spec);
    *spec = NULL;
}

int
berth_spec_parse(const char *text, size_t len, const char *bundle, struct berth_spec **ret,
                 struct berth_error **err)
{
    json_t *root = NULL;
    int r = berth_spec_json_load("config.json", text, len, &root, err);
    if (r < 0)
        return r;
    _cleanup_spec_ struct berth_spec *spec = calloc(1, sizeof(*spec));
    /* declared before the first goto: a cleanup variable must not be jumped over */
    _cleanup_free_ char *root_path = NULL;
    if (!spec) {
        r = berth_error_set(err, ENOMEM, "config.json");
        goto out;
    }
    if (!json_is_object(root)) {
        r = berth_error_setq(err, EINVAL, "config.json: the top level must be an object");
        goto out;
    }
    if ((r = spec_get_string(root, "ociVersion", "config", true, &spec->oci_version, err)) < 0)
        goto out;
    if (strncmp(spec->oci_version, "1.", 2) != 0) {
        r = berth_error_setq(err, EINVAL, "config.json: unsupported ociVersion \"%s\" (need 1.x)",
                             spec->oci_version);
        goto out;
    }
    json_t *o;
    if ((r = spec_get_object(root, "root", "config", &o, err)) < 0)
        goto out;
    if (!o) {
        r = berth_error_setq(err, EINVAL, "config.json: root is required");
        goto out;
    }
    if ((r = spec_get_string(o, "path", "root", true, &root_path, err)) < 0 ||
        (r = spec_get_bool(o, "readonly", "root", &spec->root_readonly, NULL, err)) < 0)
        goto out;
    if (root_path[0] == '\0') {
        r = berth_error_setq(err, EINVAL, "root.path is empty");
        goto out;
    }
    if (root_path[0] != '/' && bundle) {
        if (asprintf(&spec->root_path, "%s/%s", bundle, root_path) < 0)
            spec->root_path = NULL;
    } else {
        spec->root_path = TAKE_PTR(root_path);
    }
    if (!spec->root_path) {
        r = berth_error_set(err, ENOMEM, "root.path");
        goto out;
    }
    json_t *proc = json_object_get(root, "process");
    if (proc && !json_is_null(proc) &&
        (r = berth_spec_parse_process(proc, &spec->process, err)) < 0)
        goto out;
    if ((r = spec_get_string(root, "hostname", "config", false, &spec->hostname, err)) < 0 ||
        (r = spec_get_string(root, "domainname", "config", false, &spec->domainname, err)) < 0 ||
        (r = parse_mounts(root, spec, err)) < 0 || (r = parse_hooks(root, spec, err)) < 0 ||
        (r = spec_get_kv_map(root, "annotations", "config", &spec->annotations,
                             &spec->n_annotations, err)) < 0)
        goto out;
    json_t *lin = json_object_get(root, "linux");
    if (lin && !json_is_null(lin) && (r = parse_linux(lin, spec, err)) < 0)
        goto out;
    if ((r = validate(spec, err)) < 0)
        goto out;
    *ret = TAKE_PTR(spec);
out:
    json_decref(root);
    return r;
}

int
berth_spec_load(const char *bundle, struct berth_spec **ret, struct berth_error **err)
{
    _cleanup_free_ char *path = NULL, *text = NULL;
    size_t len;
    if (asprintf(&path, "%s/config.json", bundle) < 0)
        return berth_error_set(err, ENOMEM, "config.json");
    int r = berth_read_file(path, SPEC_MAX_SIZE, &text, &len, err);
    if (r < 0)
        return r;
    return berth_spec_parse(text, len, bundle, ret, err);
}
