/* The OCI spec of a container at start, as moby's daemon/oci_linux.go builds it on top of
 * oci/defaults.go: process (args, env, cwd, user, capabilities, rlimits, no_new_privs, OOM
 * score), mounts (Docker's defaults, the network files, --tmpfs, binds and mounts, the --init
 * binary), linux (namespaces, masked and read-only paths, devices and their cgroup rules,
 * resources, sysctls, seccomp). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container/spec_gen_internal.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/spec.h"

static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

#define SET(obj, key, value)                                                                       \
    do {                                                                                           \
        if (json_object_set_new((obj), (key), (value)) < 0)                                        \
            abort();                                                                               \
    } while (0)

static json_t *
new_obj(void)
{
    json_t *o = json_object();
    if (!o)
        abort();
    return o;
}

static json_t *
new_arr(void)
{
    json_t *a = json_array();
    if (!a)
        abort();
    return a;
}

/* ---- capabilities ---- */

/* "chown", "CAP_chown" -> "CAP_CHOWN"; "all" -> "ALL"; NULL if unknown. */
static char *
normalize_cap(const char *name)
{
    size_t n = strlen(name);
    char *c = malloc(n + 5);
    if (!c)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        c[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    if (!strcmp(c, "ALL"))
        return c;
    if (!berth_str_has_prefix(c, "CAP_")) {
        memmove(c + 4, c, n + 1);
        memcpy(c, "CAP_", 4);
    }
    int cap = berth_cap_from_name(c);
    if (cap < 0 || cap > berth_cap_last()) {
        free(c);
        return NULL;
    }
    return c;
}

static int
normalize_caps(const json_t *list, const char *field, char ***ret, struct berth_error **err)
{
    _cleanup_strv_ char **out = calloc(1, sizeof(char *));
    size_t i;
    const json_t *e;
    if (!out)
        return berth_error_set(err, ENOMEM, "capabilities");
    if (list && json_is_string(list)) {
        json_t *one = new_arr();
        json_array_append((json_t *)one, (json_t *)list);
        int r = normalize_caps(one, field, ret, err);
        json_decref(one);
        return r;
    }
    if (list && !json_is_array(list))
        return sg_type_error("value", field, "strslice.StrSlice", err);
    json_array_foreach(list, i, e)
    {
        if (!json_is_string(e))
            return sg_type_error("value", field, "string", err);
        _cleanup_free_ char *c = normalize_cap(json_string_value(e));
        if (!c) {
            /* moby prints the name as it tried it: upper case, with the CAP_ prefix */
            const char *raw = json_string_value(e);
            _cleanup_free_ char *up = strdup(raw);
            if (!up)
                return berth_error_set(err, ENOMEM, "capabilities");
            for (char *p = up; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            return berth_error_setq(err, EINVAL, "unknown capability: \"%s%s\"",
                                    berth_str_has_prefix(up, "CAP_") ? "" : "CAP_", up);
        }
        if (berth_strv_push(&out, c) < 0)
            return berth_error_set(err, ENOMEM, "capabilities");
    }
    *ret = TAKE_PTR(out);
    return 0;
}

static bool
strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (!strcmp(*v, s))
            return true;
    return false;
}

static void
push_unique(json_t *a, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (!strcmp(json_string_value(e), s))
            return;
    }
    sg_push(a, s);
}

int
berth_container_caps(const json_t *cap_add, const json_t *cap_drop, bool privileged, json_t **ret,
                     struct berth_error **err)
{
    _cleanup_strv_ char **add = NULL, **drop = NULL;
    int r;
    json_t *out = new_arr();
    if ((r = normalize_caps(cap_drop, "HostConfig.CapDrop", &drop, err)) < 0 ||
        (r = normalize_caps(cap_add, "HostConfig.CapAdd", &add, err)) < 0) {
        json_decref(out);
        return r;
    }
    if (privileged || strv_has(add, "ALL")) {
        for (int c = 0; c <= berth_cap_last(); c++) {
            const char *name = berth_cap_to_name(c);
            if (name && (privileged || !strv_has(drop, name)))
                push_unique(out, name);
        }
    } else if (strv_has(drop, "ALL")) {
        for (char **a = add; a && *a; a++)
            push_unique(out, *a);
    } else {
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_caps); i++)
            if (!strv_has(drop, default_caps[i]))
                push_unique(out, default_caps[i]);
        for (char **a = add; a && *a; a++)
            push_unique(out, *a);
    }
    *ret = out;
    return 0;
}

/* ---- process ---- */

/* moby's ReplaceOrAppendEnvValues: a NAME=value replaces NAME, a bare NAME unsets it. */
static json_t *
build_env(const json_t *config, const char *hostname, bool tty)
{
    json_t *env = new_arr();
    char buf[512];
    sg_push(env, "PATH=" SG_DEFAULT_PATH);
    snprintf(buf, sizeof(buf), "HOSTNAME=%s", hostname ? hostname : "");
    sg_push(env, buf);
    if (tty)
        sg_push(env, "TERM=xterm");
    size_t n_defaults = json_array_size(env);
    bool removed[3] = {false, false, false};
    size_t i;
    const json_t *e;
    json_array_foreach(sg_get(config, "Env"), i, e)
    {
        const char *v = json_string_value(e);
        if (!v)
            continue;
        size_t kl = strcspn(v, "=");
        bool hit = false;
        for (size_t d = 0; d < n_defaults; d++) {
            const char *dv = json_string_value(json_array_get(env, d));
            if (strcspn(dv, "=") == kl && !strncmp(dv, v, kl)) {
                hit = true;
                if (v[kl] == '=') {
                    json_array_set_new(env, d, json_string(v));
                    removed[d] = false;
                } else {
                    removed[d] = true;
                }
            }
        }
        if (!hit && v[kl] == '=')
            sg_push(env, v);
    }
    for (size_t d = n_defaults; d-- > 0;)
        if (removed[d])
            json_array_remove(env, d);
    return env;
}

static json_t *
rlimit(const char *type, uint64_t soft, uint64_t hard)
{
    json_t *o = new_obj();
    SET(o, "type", json_string(type));
    /* above INT64_MAX (unlimited): a real, which berth-runtime reads as UINT64_MAX */
    SET(o, "soft",
        soft > INT64_MAX ? json_real(18446744073709551615.0) : json_integer((json_int_t)soft));
    SET(o, "hard",
        hard > INT64_MAX ? json_real(18446744073709551615.0) : json_integer((json_int_t)hard));
    return o;
}

static json_t *
build_rlimits(const json_t *hc)
{
    json_t *out = new_arr();
    const json_t *ul = sg_get(hc, "Ulimits");
    bool nofile_given = false;
    size_t i;
    const json_t *u;
    json_array_foreach(ul, i, u)
    {
        if (!strcmp(sg_str(u, "Name") ? sg_str(u, "Name") : "", "nofile"))
            nofile_given = true;
    }
    if (!nofile_given) {
        uint64_t n = sg_default_nofile();
        json_array_append_new(out, rlimit("RLIMIT_NOFILE", n, n));
    }
    json_array_foreach(ul, i, u)
    {
        const char *name = sg_str(u, "Name");
        if (!name || sg_ulimit_resource(name) < 0)
            continue; /* refused at create */
        char type[32];
        size_t k = snprintf(type, sizeof(type), "RLIMIT_");
        for (const char *p = name; *p && k + 1 < sizeof(type); p++)
            type[k++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        type[k] = '\0';
        json_array_append_new(
            out, rlimit(type, (uint64_t)sg_i64(u, "Soft"), (uint64_t)sg_i64(u, "Hard")));
    }
    return out;
}

static json_t *
gids_json(const struct sg_user *u)
{
    json_t *a = new_arr();
    for (size_t i = 0; i < u->n_gids; i++)
        json_array_append_new(a, json_integer(u->gids[i]));
    return a;
}

struct ctx {
    const struct berth_spec_gen_input *in;
    const json_t *config, *hc;
    json_t *caps;
    struct sg_security sec;
    bool privileged;
    char hostname[256];
};

static int
build_process(struct ctx *c, json_t *spec, struct berth_error **err)
{
    json_t *p = new_obj();
    SET(spec, "process", p);
    bool tty = sg_bool(c->config, "Tty");
    SET(p, "terminal", json_boolean(tty));
    const json_t *cs = sg_get(c->hc, "ConsoleSize");
    if (json_array_size(cs) == 2 && json_integer_value(json_array_get(cs, 0)) > 0) {
        json_t *size = new_obj();
        SET(size, "height", json_integer(json_integer_value(json_array_get(cs, 0))));
        SET(size, "width", json_integer(json_integer_value(json_array_get(cs, 1))));
        SET(p, "consoleSize", size);
    }

    /* user */
    _cleanup_strv_ char **group_add = NULL;
    struct sg_user u = {0};
    int r = sg_strslice(c->hc, "GroupAdd", "HostConfig.GroupAdd", &group_add, err);
    if (r < 0)
        return r;
    if ((r = sg_user_resolve(c->in->rootfs, sg_str(c->config, "User"), group_add, &u, err)) < 0)
        return r;
    json_t *user = new_obj();
    SET(user, "uid", json_integer(u.uid));
    SET(user, "gid", json_integer(u.gid));
    if (u.n_gids)
        SET(user, "additionalGids", gids_json(&u));
    free(u.gids);
    SET(p, "user", user);

    /* args: [init --] entrypoint cmd */
    json_t *args = new_arr();
    SET(p, "args", args);
    if (sg_bool(c->hc, "Init")) {
        if (!c->in->init_path)
            return berth_error_setq(err, EINVAL,
                                    "--init: the init binary (berth-init) was not found");
        sg_push(args, SG_INIT_PATH);
        sg_push(args, "--");
    }
    static const char *const parts[] = {"Entrypoint", "Cmd"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *v = sg_get(c->config, parts[k]);
        if (v && json_is_string(v)) {
            sg_push(args, json_string_value(v));
            continue;
        }
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e))
                sg_push(args, json_string_value(e));
        }
    }
    if (json_array_size(args) == 0 || (sg_bool(c->hc, "Init") && json_array_size(args) == 2))
        return berth_error_setq(err, EINVAL, "No command specified");

    SET(p, "env", build_env(c->config, c->hostname, tty));
    const char *wd = sg_str(c->config, "WorkingDir");
    SET(p, "cwd", json_string(wd && *wd ? wd : "/"));

    json_t *caps = new_obj();
    SET(caps, "bounding", json_deep_copy(c->caps));
    SET(caps, "effective", json_deep_copy(c->caps));
    SET(caps, "permitted", json_deep_copy(c->caps));
    SET(p, "capabilities", caps);
    SET(p, "rlimits", build_rlimits(c->hc));
    SET(p, "noNewPrivileges", json_boolean(c->sec.no_new_privileges));
    SET(p, "oomScoreAdj", json_integer(sg_i64(c->hc, "OomScoreAdj")));
    return 0;
}

/* ---- mounts ---- */

static json_t *
mount_obj(const char *dest, const char *type, const char *source, json_t *options)
{
    json_t *m = new_obj();
    SET(m, "destination", json_string(dest));
    SET(m, "type", json_string(type));
    SET(m, "source", json_string(source));
    SET(m, "options", options);
    return m;
}

static json_t *
opts(const char *const *v)
{
    json_t *a = new_arr();
    for (; *v; v++)
        sg_push(a, *v);
    return a;
}

/* "/a//b/" -> number of components, for moby's ordering of mounts (parents first). */
static size_t
depth(const char *path)
{
    size_t n = 0;
    for (const char *p = path; *p; p++)
        if (*p != '/' && (p == path || p[-1] == '/'))
            n++;
    return n;
}

/* Same destination, ignoring repeated and trailing slashes. */
static bool
same_path(const char *a, const char *b)
{
    for (;;) {
        while (*a == '/' && (a[1] == '/' || a[1] == '\0'))
            a++;
        while (*b == '/' && (b[1] == '/' || b[1] == '\0'))
            b++;
        if (*a != *b)
            return false;
        if (!*a)
            return true;
        a++;
        b++;
    }
}

static bool
user_mounts_cover(const json_t *user, const char *dest)
{
    size_t i;
    const json_t *m;
    json_array_foreach(user, i, m)
    {
        if (same_path(json_string_value(json_object_get(m, "destination")), dest))
            return true;
    }
    return false;
}

static json_t *
bind_mount(const char *dest, const char *source, bool ro, bool recursive, const char *propagation)
{
    json_t *o = new_arr();
    sg_push(o, recursive ? "rbind" : "bind");
    if (ro)
        sg_push(o, "ro");
    sg_push(o, propagation ? propagation : "rprivate");
    return mount_obj(dest, "bind", source, o);
}

/* The user's mounts (network files, binds, --mount, --tmpfs) in moby's order: by depth. */
static int
user_mounts(struct ctx *c, json_t **ret, const char **ret_rootfs_propagation,
            struct berth_error **err)
{
    json_t *list = new_arr();
    bool ro_root = sg_bool(c->hc, "ReadonlyRootfs");
    const struct {
        const char *path, *dest;
    } net[] = {{c->in->resolv_conf_path, "/etc/resolv.conf"},
               {c->in->hostname_path, "/etc/hostname"},
               {c->in->hosts_path, "/etc/hosts"}};
    size_t i;
    const json_t *e;
    int r;
    *ret_rootfs_propagation = NULL;
    for (size_t k = 0; k < BERTH_ARRAY_SIZE(net); k++)
        if (net[k].path)
            json_array_append_new(list, bind_mount(net[k].dest, net[k].path, ro_root, true, NULL));
    json_array_foreach(sg_get(c->hc, "Binds"), i, e)
    {
        struct sg_mount m = {0};
        if ((r = sg_parse_bind(json_string_value(e), &m, err)) < 0) {
            json_decref(list);
            return r;
        }
        json_array_append_new(
            list, bind_mount(m.destination, m.source, m.read_only, true, m.propagation));
        if (strstr(m.propagation, "shared"))
            *ret_rootfs_propagation = "rshared";
        else if (strstr(m.propagation, "slave") && !*ret_rootfs_propagation)
            *ret_rootfs_propagation = "rslave";
        sg_mount_clear(&m);
    }
    json_array_foreach(sg_get(c->hc, "Mounts"), i, e)
    {
        struct sg_mount m = {0};
        json_t *o = NULL;
        if ((r = sg_parse_mount(e, &m, err)) < 0) {
            json_decref(list);
            return r;
        }
        if (m.tmpfs) {
            r = sg_tmpfs_options(m.tmpfs_data, &o, err);
            if (r < 0) {
                sg_mount_clear(&m);
                json_decref(list);
                return r;
            }
            json_array_append_new(list, mount_obj(m.destination, "tmpfs", "tmpfs", o));
        } else {
            json_array_append_new(list, bind_mount(m.destination, m.source, m.read_only,
                                                   !m.non_recursive, m.propagation));
            if (strstr(m.propagation, "shared"))
                *ret_rootfs_propagation = "rshared";
            else if (strstr(m.propagation, "slave") && !*ret_rootfs_propagation)
                *ret_rootfs_propagation = "rslave";
        }
        sg_mount_clear(&m);
    }
    const char *dest;
    const json_t *v;
    json_object_foreach((json_t *)sg_get(c->hc, "Tmpfs"), dest, v)
    {
        json_t *o = NULL;
        if ((r = sg_tmpfs_destination(dest, err)) < 0 ||
            (r = sg_tmpfs_options(json_string_value(v), &o, err)) < 0) {
            json_decref(list);
            return r;
        }
        json_array_append_new(list, mount_obj(dest, "tmpfs", "tmpfs", o));
    }
    /* stable sort by depth (insertion sort: a handful of mounts) */
    size_t n = json_array_size(list);
    for (size_t a = 1; a < n; a++) {
        json_t *m = json_incref(json_array_get(list, a));
        size_t d = depth(json_string_value(json_object_get(m, "destination")));
        size_t b = a;
        while (b > 0 && depth(json_string_value(
                            json_object_get(json_array_get(list, b - 1), "destination"))) > d) {
            json_array_set(list, b, json_array_get(list, b - 1));
            b--;
        }
        json_array_set_new(list, b, m);
    }
    *ret = list;
    return 0;
}

static int
build_mounts(struct ctx *c, json_t *spec, json_t *linux_, struct berth_error **err)
{
    static const char *const proc_o[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
    static const char *const pts_o[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                        "mode=0620", "gid=5",  NULL};
    static const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro", NULL};
    static const char *const sys_rw_o[] = {"nosuid", "noexec", "nodev", "rw", NULL};
    static const char *const cg_o[] = {"ro", "nosuid", "noexec", "nodev", NULL};
    static const char *const cg_rw_o[] = {"rw", "nosuid", "noexec", "nodev", NULL};
    static const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
    json_t *user = NULL;
    const char *rootfs_prop = NULL;
    int r = user_mounts(c, &user, &rootfs_prop, err);
    if (r < 0)
        return r;
    if (rootfs_prop)
        SET(linux_, "rootfsPropagation", json_string(rootfs_prop));
    const char *ipc = sg_str(c->hc, "IpcMode");
    bool dev_by_user = user_mounts_cover(user, "/dev");
    json_t *mounts = new_arr();
    SET(spec, "mounts", mounts);

    json_t *defaults[8];
    size_t nd = 0;
    defaults[nd++] = mount_obj("/proc", "proc", "proc", opts(proc_o));
    defaults[nd++] = mount_obj("/dev", "tmpfs", "tmpfs", opts(dev_o));
    defaults[nd++] = mount_obj("/dev/pts", "devpts", "devpts", opts(pts_o));
    defaults[nd++] = mount_obj("/sys", "sysfs", "sysfs", opts(c->privileged ? sys_rw_o : sys_o));
    defaults[nd++] =
        mount_obj("/sys/fs/cgroup", "cgroup", "cgroup", opts(c->privileged ? cg_rw_o : cg_o));
    defaults[nd++] = mount_obj("/dev/mqueue", "mqueue", "mqueue", opts(mq_o));
    if (ipc && !strcmp(ipc, "host")) {
        defaults[nd++] = bind_mount("/dev/shm", "/dev/shm", false, true, NULL);
    } else if (!ipc || strcmp(ipc, "none")) {
        int64_t shm = sg_i64(c->hc, "ShmSize");
        char size[48];
        snprintf(size, sizeof(size), "size=%lld", (long long)(shm > 0 ? shm : SG_DEFAULT_SHM_SIZE));
        const char *shm_o[] = {"nosuid", "noexec", "nodev", "mode=1777", size, NULL};
        defaults[nd++] = mount_obj("/dev/shm", "tmpfs", "shm", opts(shm_o));
    }
    for (size_t i = 0; i < nd; i++) {
        const char *dest = json_string_value(json_object_get(defaults[i], "destination"));
        if (user_mounts_cover(user, dest) || (dev_by_user && berth_str_has_prefix(dest, "/dev/"))) {
            json_decref(defaults[i]);
            continue;
        }
        json_array_append_new(mounts, defaults[i]);
    }
    json_array_extend(mounts, user);
    json_decref(user);
    if (sg_bool(c->hc, "Init")) {
        static const char *const init_o[] = {"bind", "ro", NULL};
        json_array_append_new(mounts,
                              mount_obj(SG_INIT_PATH, "bind", c->in->init_path, opts(init_o)));
    }
    return 0;
}

/* ---- devices ---- */

static json_t *
device_rule(bool allow, char type, int64_t major, int64_t minor, const char *access)
{
    json_t *d = new_obj();
    char t[2] = {type, '\0'};
    SET(d, "allow", json_boolean(allow));
    if (type != 'a')
        SET(d, "type", json_string(t));
    if (major >= 0)
        SET(d, "major", json_integer(major));
    if (minor >= 0)
        SET(d, "minor", json_integer(minor));
    SET(d, "access", json_string(access));
    return d;
}

/* Adds the device at host (a node, or a directory walked for nodes) as container path dest. */
static int
add_device(json_t *devices, json_t *rules, const char *host, const char *dest, const char *perm,
           unsigned depth_left, bool top, struct berth_error **err)
{
    struct stat st;
    if (stat(host, &st) < 0) {
        if (!top)
            return 0;
        return berth_error_set(err, errno,
                               "error gathering device information while adding custom device "
                               "\"%s\"",
                               host);
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth_left == 0)
            return 0;
        _cleanup_closedir_ DIR *d = opendir(host);
        if (!d)
            return top ? berth_error_set(err, errno, "open device directory '%s'", host) : 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            _cleanup_free_ char *h = NULL, *t = NULL;
            if (asprintf(&h, "%s/%s", host, de->d_name) < 0 ||
                asprintf(&t, "%s/%s", dest, de->d_name) < 0)
                return berth_error_set(err, ENOMEM, "devices");
            int r = add_device(devices, rules, h, t, perm, depth_left - 1, false, err);
            if (r < 0)
                return r;
        }
        return 0;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
        if (!top)
            return 0;
        return berth_error_setq(err, EINVAL,
                                "error gathering device information while adding custom device "
                                "\"%s\": not a device node",
                                host);
    }
    char type = S_ISCHR(st.st_mode) ? 'c' : 'b';
    json_t *d = new_obj();
    char t[2] = {type, '\0'};
    SET(d, "path", json_string(dest));
    SET(d, "type", json_string(t));
    SET(d, "major", json_integer(major(st.st_rdev)));
    SET(d, "minor", json_integer(minor(st.st_rdev)));
    SET(d, "fileMode", json_integer(st.st_mode & 07777));
    SET(d, "uid", json_integer(st.st_uid));
    SET(d, "gid", json_integer(st.st_gid));
    json_array_append_new(devices, d);
    if (rules)
        json_array_append_new(rules,
                              device_rule(true, type, major(st.st_rdev), minor(st.st_rdev), perm));
    return 0;
}

/* Every device node of the host's /dev, as runc's HostDevices (privileged). */
static int
host_devices(json_t *devices, const char *dir, unsigned depth_left, struct berth_error **err)
{
    static const char *const skip[] = {"pts",  "shm",         "fd",    "mqueue",
                                       ".lxc", ".lxd-mounts", ".udev", "console"};
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return berth_error_set(err, errno, "open %s", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        bool skipped = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(skip) && !skipped; i++)
            if (!strcmp(dir, "/dev") && !strcmp(de->d_name, skip[i]))
                skipped = true;
        if (skipped)
            continue;
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            return berth_error_set(err, ENOMEM, "devices");
        struct stat st;
        if (lstat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth_left > 0) {
            int r = host_devices(devices, p, depth_left - 1, err);
            if (r < 0)
                return r;
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0)
                continue; /* a whiteout, not a device */
            int r = add_device(devices, NULL, p, p, "rwm", 0, false, err);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static int
parse_cgroup_rule(const char *rule, json_t **ret, struct berth_error **err)
{
    char type, access[4] = "";
    char maj[24] = "", min[24] = "";
    if (sscanf(rule, "%c %23[0-9*]:%23[0-9*] %3[rwm]", &type, maj, min, access) != 4)
        return berth_error_setq(err, EINVAL, "invalid device cgroup format '%s'", rule);
    int64_t ma = -1, mi = -1;
    if (strcmp(maj, "*") && !berth_parse_i64(maj, &ma))
        return berth_error_setq(err, EINVAL, "invalid device cgroup format '%s'", rule);
    if (strcmp(min, "*") && !berth_parse_i64(min, &mi))
        return berth_error_setq(err, EINVAL, "invalid device cgroup format '%s'", rule);
    *ret = device_rule(true, type, ma, mi, access);
    return 0;
}

static int
build_devices(struct ctx *c, json_t *linux_, json_t *resources, struct berth_error **err)
{
    json_t *devices = new_arr(), *rules = new_arr();
    SET(linux_, "devices", devices);
    SET(resources, "devices", rules);
    size_t i;
    const json_t *e;
    int r;
    if (c->privileged) {
        if ((r = host_devices(devices, "/dev", 8, err)) < 0)
            return r;
        json_array_foreach(sg_get(c->hc, "Devices"), i, e)
        {
            const char *host = sg_str(e, "PathOnHost"), *cont = sg_str(e, "PathInContainer");
            if (!host || !cont || !*cont || !strcmp(host, cont))
                continue; /* already there */
            if ((r = add_device(devices, NULL, host, cont, "rwm", 8, true, err)) < 0)
                return r;
        }
        json_array_append_new(rules, device_rule(true, 'a', -1, -1, "rwm"));
        return 0;
    }
    /* Docker's default rules: deny all, then the basic nodes, fuse denied */
    json_array_append_new(rules, device_rule(false, 'a', -1, -1, "rwm"));
    static const struct {
        bool allow;
        int major, minor;
    } defaults[] = {{true, 1, 5}, {true, 1, 3}, {true, 1, 9},    {true, 1, 8},
                    {true, 5, 0}, {true, 5, 1}, {false, 10, 229}};
    for (size_t k = 0; k < BERTH_ARRAY_SIZE(defaults); k++)
        json_array_append_new(rules, device_rule(defaults[k].allow, 'c', defaults[k].major,
                                                 defaults[k].minor, "rwm"));
    json_array_foreach(sg_get(c->hc, "Devices"), i, e)
    {
        const char *host = sg_str(e, "PathOnHost"), *cont = sg_str(e, "PathInContainer");
        const char *perm = sg_str(e, "CgroupPermissions");
        if (!host)
            continue;
        if ((r = add_device(devices, rules, host, cont && *cont ? cont : host,
                            perm && *perm ? perm : "rwm", 8, true, err)) < 0)
            return r;
    }
    json_array_foreach(sg_get(c->hc, "DeviceCgroupRules"), i, e)
    {
        json_t *rule = NULL;
        if ((r = parse_cgroup_rule(json_string_value(e), &rule, err)) < 0)
            return r;
        json_array_append_new(rules, rule);
    }
    return 0;
}

/* ---- resources ---- */

static int
device_numbers(const char *path, int64_t *maj, int64_t *min, struct berth_error **err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return berth_error_set(err, errno, "stat the block device '%s'", path);
    if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
        return berth_error_setq(err, EINVAL, "'%s' is not a device", path);
    *maj = major(st.st_rdev);
    *min = minor(st.st_rdev);
    return 0;
}

static int
build_block_io(struct ctx *c, json_t *resources, struct berth_error **err)
{
    json_t *bio = new_obj();
    int64_t weight = sg_i64(c->hc, "BlkioWeight");
    int64_t maj, min;
    size_t i;
    const json_t *e;
    int r;
    if (weight > 0)
        SET(bio, "weight", json_integer(weight));
    json_t *wd = new_arr();
    json_array_foreach(sg_get(c->hc, "BlkioWeightDevice"), i, e)
    {
        if ((r = device_numbers(sg_str(e, "Path") ? sg_str(e, "Path") : "", &maj, &min, err)) < 0) {
            json_decref(wd);
            json_decref(bio);
            return r;
        }
        json_t *d = new_obj();
        SET(d, "major", json_integer(maj));
        SET(d, "minor", json_integer(min));
        SET(d, "weight", json_integer(sg_i64(e, "Weight")));
        json_array_append_new(wd, d);
    }
    if (json_array_size(wd))
        SET(bio, "weightDevice", wd);
    else
        json_decref(wd);
    static const char *const throttles[][2] = {
        {"BlkioDeviceReadBps", "throttleReadBpsDevice"},
        {"BlkioDeviceWriteBps", "throttleWriteBpsDevice"},
        {"BlkioDeviceReadIOps", "throttleReadIOPSDevice"},
        {"BlkioDeviceWriteIOps", "throttleWriteIOPSDevice"},
    };
    for (size_t k = 0; k < BERTH_ARRAY_SIZE(throttles); k++) {
        json_t *list = new_arr();
        json_array_foreach(sg_get(c->hc, throttles[k][0]), i, e)
        {
            if ((r = device_numbers(sg_str(e, "Path") ? sg_str(e, "Path") : "", &maj, &min, err)) <
                0) {
                json_decref(list);
                json_decref(bio);
                return r;
            }
            json_t *d = new_obj();
            SET(d, "major", json_integer(maj));
            SET(d, "minor", json_integer(min));
            SET(d, "rate", json_integer(sg_i64(e, "Rate")));
            json_array_append_new(list, d);
        }
        if (json_array_size(list))
            SET(bio, throttles[k][1], list);
        else
            json_decref(list);
    }
    if (json_object_size(bio))
        SET(resources, "blockIO", bio);
    else
        json_decref(bio);
    return 0;
}

static int
build_resources(struct ctx *c, json_t *linux_, struct berth_error **err)
{
    json_t *res = new_obj();
    SET(linux_, "resources", res);
    int r;
    if ((r = build_devices(c, linux_, res, err)) < 0)
        return r;

    json_t *mem = new_obj();
    int64_t memory = sg_i64(c->hc, "Memory"), swap = sg_i64(c->hc, "MemorySwap");
    int64_t reservation = sg_i64(c->hc, "MemoryReservation");
    if (memory > 0) {
        SET(mem, "limit", json_integer(memory));
        if (swap == 0)
            swap = memory * 2; /* moby's default: as much swap as memory */
        if (swap > 0 || swap == -1)
            SET(mem, "swap", json_integer(swap));
    }
    if (reservation > 0)
        SET(mem, "reservation", json_integer(reservation));
    const json_t *swappiness = sg_get(c->hc, "MemorySwappiness");
    if (swappiness && json_integer_value(swappiness) >= 0)
        SET(mem, "swappiness", json_integer(json_integer_value(swappiness)));
    if (sg_get(c->hc, "OomKillDisable"))
        SET(mem, "disableOOMKiller", json_boolean(sg_bool(c->hc, "OomKillDisable")));
    if (json_object_size(mem))
        SET(res, "memory", mem);
    else
        json_decref(mem);

    json_t *cpu = new_obj();
    int64_t shares = sg_i64(c->hc, "CpuShares");
    if (shares < 0)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    if (shares > 0)
        SET(cpu, "shares", json_integer(shares));
    int64_t nano = sg_i64(c->hc, "NanoCpus");
    if (nano > 0) {
        SET(cpu, "period", json_integer(100000));
        SET(cpu, "quota", json_integer(nano * 100000 / 1000000000));
    }
    if (sg_i64(c->hc, "CpuPeriod") != 0)
        SET(cpu, "period", json_integer(sg_i64(c->hc, "CpuPeriod")));
    if (sg_i64(c->hc, "CpuQuota") != 0)
        SET(cpu, "quota", json_integer(sg_i64(c->hc, "CpuQuota")));
    if (sg_i64(c->hc, "CpuRealtimePeriod") != 0)
        SET(cpu, "realtimePeriod", json_integer(sg_i64(c->hc, "CpuRealtimePeriod")));
    if (sg_i64(c->hc, "CpuRealtimeRuntime") != 0)
        SET(cpu, "realtimeRuntime", json_integer(sg_i64(c->hc, "CpuRealtimeRuntime")));
    const char *cpus = sg_str(c->hc, "CpusetCpus"), *mems = sg_str(c->hc, "CpusetMems");
    if (cpus && *cpus)
        SET(cpu, "cpus", json_string(cpus));
    if (mems && *mems)
        SET(cpu, "mems", json_string(mems));
    if (json_object_size(cpu))
        SET(res, "cpu", cpu);
    else
        json_decref(cpu);

    const json_t *pids = sg_get(c->hc, "PidsLimit");
    if (pids) {
        json_t *p = new_obj();
        int64_t limit = (int64_t)json_integer_value(pids);
        SET(p, "limit", json_integer(limit > 0 ? limit : -1));
        SET(res, "pids", p);
    }
    return build_block_io(c, res, err);
}

/* ---- namespaces, paths, sysctls, seccomp ---- */

static void
add_ns(json_t *list, const char *type, const char *path)
{
    json_t *n = new_obj();
    SET(n, "type", json_string(type));
    if (path)
        SET(n, "path", json_string(path));
    json_array_append_new(list, n);
}

static bool
mode_is(const json_t *hc, const char *key, const char *value)
{
    const char *v = sg_str(hc, key);
    return v && !strcmp(v, value);
}

static int
build_seccomp(struct ctx *c, json_t *linux_, struct berth_error **err)
{
    const char *sc = c->sec.seccomp;
    if (c->privileged || (sc && !strcmp(sc, "unconfined")))
        return 0;
    json_t *profile;
    if (!sc || !strcmp(sc, "builtin")) {
        profile = berth_seccomp_default_profile();
    } else {
        json_error_t jerr;
        profile = json_loads(sc, JSON_REJECT_DUPLICATES, &jerr);
        if (!profile)
            return berth_error_setq(err, EINVAL, "Decoding seccomp profile failed: %s", jerr.text);
    }
    json_t *oci = NULL;
    int r = berth_seccomp_profile_to_oci(profile, c->caps, &oci, err);
    json_decref(profile);
    if (r < 0)
        return r;
    if (oci)
        SET(linux_, "seccomp", oci);
    return 0;
}

static int
build_linux(struct ctx *c, json_t *spec, struct berth_error **err)
{
    json_t *linux_ = new_obj();
    SET(spec, "linux", linux_);
    const char *netns = c->in->netns_path;
    bool host_net = netns && !strcmp(netns, "host");

    json_t *ns = new_arr();
    SET(linux_, "namespaces", ns);
    add_ns(ns, "mount", NULL);
    if (!host_net)
        add_ns(ns, "network", netns);
    if (!mode_is(c->hc, "UTSMode", "host"))
        add_ns(ns, "uts", NULL);
    if (!mode_is(c->hc, "PidMode", "host"))
        add_ns(ns, "pid", NULL);
    if (!mode_is(c->hc, "IpcMode", "host"))
        add_ns(ns, "ipc", NULL);
    const char *cgns = sg_str(c->hc, "CgroupnsMode");
    bool private_cgns = cgns && *cgns ? !strcmp(cgns, "private") : sg_cgroup_unified();
    if (private_cgns)
        add_ns(ns, "cgroup", NULL);

    if (!c->privileged) {
        const json_t *masked = sg_get(c->hc, "MaskedPaths");
        const json_t *ro = sg_get(c->hc, "ReadonlyPaths");
        SET(linux_, "maskedPaths", masked ? json_deep_copy(masked) : sg_default_paths(true));
        SET(linux_, "readonlyPaths", ro ? json_deep_copy(ro) : sg_default_paths(false));
    }
    if (c->in->cgroups_path)
        SET(linux_, "cgroupsPath", json_string(c->in->cgroups_path));

    json_t *sysctl = new_obj();
    if (!host_net) {
        /* unprivileged ping and low ports, as Docker sets for a container's own network */
        SET(sysctl, "net.ipv4.ping_group_range", json_string("0 2147483647"));
        SET(sysctl, "net.ipv4.ip_unprivileged_port_start", json_string("0"));
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)sg_get(c->hc, "Sysctls"), key, v)
    {
        if (json_is_string(v))
            SET(sysctl, key, json_string(json_string_value(v)));
    }
    SET(linux_, "sysctl", sysctl);

    int r;
    if ((r = build_resources(c, linux_, err)) < 0 || (r = build_seccomp(c, linux_, err)) < 0)
        return r;
    return 0;
}

int
berth_container_spec_build(const struct berth_spec_gen_input *in, json_t **ret_spec,
                           struct berth_error **err)
{
    struct ctx c = {.in = in, .config = in->config, .hc = in->host_config};
    int r;
    if (!in->id || strlen(in->id) < 12 || !in->rootfs || in->rootfs[0] != '/')
        return berth_error_setq(err, EINVAL, "spec: an id and an absolute rootfs are required");
    c.privileged = sg_bool(c.hc, "Privileged");
    if ((r = sg_security_parse(c.hc, &c.sec, err)) < 0)
        return r;
    json_t *spec = new_obj();
    if ((r = berth_container_caps(sg_get(c.hc, "CapAdd"), sg_get(c.hc, "CapDrop"), c.privileged,
                                  &c.caps, err)) < 0)
        goto fail;

    const char *hn = sg_str(c.config, "Hostname");
    if (hn && *hn)
        snprintf(c.hostname, sizeof(c.hostname), "%s", hn);
    else if (in->netns_path && !strcmp(in->netns_path, "host") &&
             gethostname(c.hostname, sizeof(c.hostname) - 1) == 0)
        c.hostname[sizeof(c.hostname) - 1] = '\0';
    else
        snprintf(c.hostname, sizeof(c.hostname), "%.12s", in->id);

    SET(spec, "ociVersion", json_string("1.0.2"));
    json_t *root = new_obj();
    SET(root, "path", json_string(in->rootfs));
    SET(root, "readonly", json_boolean(sg_bool(c.hc, "ReadonlyRootfs")));
    SET(spec, "root", root);
    if (!mode_is(c.hc, "UTSMode", "host")) {
        SET(spec, "hostname", json_string(c.hostname));
        const char *dn = sg_str(c.config, "Domainname");
        if (dn && *dn)
            SET(spec, "domainname", json_string(dn));
    }
    if ((r = build_process(&c, spec, err)) < 0)
        goto fail;
    json_t *linux_ = NULL;
    if ((r = build_linux(&c, spec, err)) < 0)
        goto fail;
    linux_ = json_object_get(spec, "linux");
    if ((r = build_mounts(&c, spec, linux_, err)) < 0)
        goto fail;
    json_decref(c.caps);
    sg_security_clear(&c.sec);
    *ret_spec = spec;
    return 0;
fail:
    json_decref(c.caps);
    sg_security_clear(&c.sec);
    json_decref(spec);
    return r;
}
