/* The cgroup manager's common part: where the controllers live (/proc/self/mountinfo, read once
 * per process), the container's cgroup path, directory creation and removal, and the API that
 * dispatches to the v1 and v2 backends. */
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup_internal.h"

/* ---- controller names ---- */

static const char *const ctrl_names[BERTH_CG__COUNT] = {
    [BERTH_CG_CPU] = "cpu",           [BERTH_CG_CPUACCT] = "cpuacct",
    [BERTH_CG_CPUSET] = "cpuset",     [BERTH_CG_MEMORY] = "memory",
    [BERTH_CG_DEVICES] = "devices",   [BERTH_CG_FREEZER] = "freezer",
    [BERTH_CG_BLKIO] = "blkio",       [BERTH_CG_PIDS] = "pids",
    [BERTH_CG_HUGETLB] = "hugetlb",   [BERTH_CG_NET_CLS] = "net_cls",
    [BERTH_CG_NET_PRIO] = "net_prio", [BERTH_CG_PERF_EVENT] = "perf_event",
    [BERTH_CG_RDMA] = "rdma",         [BERTH_CG_MISC] = "misc",
};

const char *
berth_cgroup_ctrl_name(enum berth_cgroup_ctrl c, bool v2)
{
    if ((int)c < 0 || c >= BERTH_CG__COUNT)
        return "unknown";
    if (v2 && c == BERTH_CG_BLKIO)
        return "io";
    return ctrl_names[c];
}

int
berth_cgroup_ctrl_from_name(const char *name, size_t len)
{
    if (len == 2 && !memcmp(name, "io", 2))
        return BERTH_CG_BLKIO;
    for (int i = 0; i < BERTH_CG__COUNT; i++)
        if (strlen(ctrl_names[i]) == len && !memcmp(ctrl_names[i], name, len))
            return i;
    return -1;
}

/* ---- mountinfo ---- */

/* Decodes mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape_octal(char *s)
{
    char *w = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *w++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
            p += 3;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
}

static int
mounts_add(struct berth_cgroup_mounts *m, const char *mount_point, const char *root,
           const char *name, uint32_t mask, bool v2)
{
    struct berth_cgroup_mount *nv = realloc(m->v, (m->n + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    m->v = nv;
    struct berth_cgroup_mount *e = &nv[m->n];
    memset(e, 0, sizeof(*e));
    e->mount_point = strdup(mount_point);
    e->root = strdup(root);
    e->name = name ? strdup(name) : NULL;
    e->mask = mask;
    e->v2 = v2;
    m->n++;
    if (!e->mount_point || !e->root || (name && !e->name))
        return -ENOMEM;
    return 0;
}

static int
parse_mountinfo_line(char *line, struct berth_cgroup_mounts *m)
{
    /* id parent maj:min root mount_point options [optional...] - fstype source super_options */
    char *fields[6], *save = NULL, *tok;
    size_t n = 0;
    while (n < 6 && (tok = strtok_r(n ? NULL : line, " ", &save)))
        fields[n++] = tok;
    if (n < 6)
        return 0;
    while ((tok = strtok_r(NULL, " ", &save)) && strcmp(tok, "-") != 0)
        ;
    char *fstype = tok ? strtok_r(NULL, " ", &save) : NULL;
    char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
    char *super = source ? strtok_r(NULL, " ", &save) : NULL;
    if (!super)
        return 0;
    char *root = fields[3], *mount_point = fields[4];
    unescape_octal(root);
    unescape_octal(mount_point);
    if (!strcmp(fstype, "cgroup2")) {
        int r = mounts_add(m, mount_point, root, NULL, 0, true);
        if (r < 0)
            return r;
        if (!strcmp(mount_point, "/sys/fs/cgroup")) {
            m->sys_fs_cgroup_v2 = true;
            m->v2 = (int)m->n - 1;
        } else if (m->v2 < 0) {
            m->v2 = (int)m->n - 1;
        }
        return 0;
    }
    if (strcmp(fstype, "cgroup") != 0)
        return 0;
    uint32_t mask = 0;
    const char *name = NULL;
    for (tok = strtok_r(super, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int c = berth_cgroup_ctrl_from_name(tok, strlen(tok));
        if (c >= 0 && c != BERTH_CG_BLKIO)
            mask |= BERTH_CG_BIT(c);
        else if (!strcmp(tok, "blkio"))
            mask |= BERTH_CG_BIT(BERTH_CG_BLKIO);
        else if (berth_str_has_prefix(tok, "name="))
            name = tok + 5;
    }
    if (!mask && !name)
        return 0;
    /* the same hierarchy mounted twice: keep the first */
    for (size_t i = 0; i < m->n; i++)
        if (!m->v[i].v2 && m->v[i].mask == mask &&
            ((!name && !m->v[i].name) || (name && m->v[i].name && !strcmp(name, m->v[i].name))))
            return 0;
    return mounts_add(m, mount_point, root, name, mask, false);
}

void
berth_cgroup_mounts_clear(struct berth_cgroup_mounts *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].mount_point);
        free(m->v[i].root);
        free(m->v[i].name);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
    m->v2 = -1;
}

int
berth_cgroup_parse_mountinfo(const char *text, struct berth_cgroup_mounts *ret,
                             struct berth_error **err)
{
    struct berth_cgroup_mounts m = {.v2 = -1};
    const char *p = text;
    while (*p) {
        const char *eol = strchrnul(p, '\n');
        size_t len = (size_t)(eol - p);
        /* most lines are not cgroup mounts: look before copying */
        if (memmem(p, len, " - cgroup", 9)) {
            char *line = strndup(p, len);
            int r = line ? parse_mountinfo_line(line, &m) : -ENOMEM;
            free(line);
            if (r < 0) {
                berth_cgroup_mounts_clear(&m);
                return berth_error_set(err, -r, "parse mountinfo");
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    *ret = m;
    return 0;
}

/* ---- the host, discovered once per process ---- */

struct self_cgroup {
    uint32_t mask;
    char *name;
    bool v2;
    char *path;
};

static struct {
    bool mounts_loaded;
    struct berth_cgroup_mounts mounts;
    bool self_loaded;
    struct self_cgroup *self;
    size_t n_self;
    /* berth_cgroup_set_mode() wins over the environment */
    bool forced_by_api;
    enum berth_cgroup_mode forced;
    char *forced_v2_root;
    /* what the manager uses, derived from the above */
    bool view_ready;
    enum berth_cgroup_mode mode;
    const struct berth_cgroup_mount *v1[BERTH_CG__COUNT * 2];
    size_t n_v1;
    struct berth_cgroup_mount v2; /* mount_point NULL: none */
} host = {.mounts = {.v2 = -1}};

void
berth_cgroup_set_mode(enum berth_cgroup_mode mode, const char *v2_root)
{
    free(host.forced_v2_root);
    host.forced_v2_root = v2_root ? strdup(v2_root) : NULL;
    host.forced = mode;
    host.forced_by_api = mode != BERTH_CGROUP_AUTO || v2_root;
    host.view_ready = false;
}

static int
load_mounts(struct berth_error **err)
{
    if (host.mounts_loaded)
        return 0;
    _cleanup_free_ char *text = NULL;
    int r = berth_read_file("/proc/self/mountinfo", 16 << 20, &text, NULL, err);
    if (r < 0)
        return r;
    r = berth_cgroup_parse_mountinfo(text, &host.mounts, err);
    if (r < 0)
        return r;
    host.mounts_loaded = true;
    return 0;
}

static void
self_clear(void)
{
    for (size_t i = 0; i < host.n_self; i++) {
        free(host.self[i].name);
        free(host.self[i].path);
    }
    free(host.self);
    host.self = NULL;
    host.n_self = 0;
}

static int
load_self(struct berth_error **err)
{
    if (host.self_loaded)
        return 0;
    _cleanup_free_ char *text = NULL;
    int r = berth_read_file("/proc/self/cgroup", 1 << 20, &text, NULL, err);
    if (r < 0)
        return r;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        /* hierarchy-id:controllers:path */
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c1 = *c2 = '\0';
        struct self_cgroup e = {.v2 = !strcmp(line, "0") && c1[1] == '\0'};
        char *save2 = NULL;
        for (char *t = strtok_r(c1 + 1, ",", &save2); t; t = strtok_r(NULL, ",", &save2)) {
            int c = berth_cgroup_ctrl_from_name(t, strlen(t));
            if (c >= 0)
                e.mask |= BERTH_CG_BIT(c);
            else if (berth_str_has_prefix(t, "name=") && !e.name)
                e.name = strdup(t + 5);
        }
        e.path = strdup(c2 + 1);
        struct self_cgroup *nv =
            e.path ? realloc(host.self, (host.n_self + 1) * sizeof(*nv)) : NULL;
        if (!nv) {
            free(e.name);
            free(e.path);
            self_clear();
            return berth_error_set(err, ENOMEM, "read /proc/self/cgroup");
        }
        host.self = nv;
        host.self[host.n_self++] = e;
    }
    host.self_loaded = true;
    return 0;
}

/* The runtime's own cgroup in hierarchy m, relative to m's mount point ("" for the root). */
static const char *
self_path(const struct berth_cgroup_mount *m)
{
    for (size_t i = 0; i < host.n_self; i++) {
        const struct self_cgroup *e = &host.self[i];
        bool same = m->v2 ? e->v2
                          : !e->v2 && e->mask == m->mask &&
                                ((!e->name && !m->name) ||
                                 (e->name && m->name && !strcmp(e->name, m->name)));
        if (!same)
            continue;
        const char *p = e->path;
        /* the mount shows a subtree (a bind-mounted cgroup): paths are below its root */
        if (m->root && strcmp(m->root, "/") != 0 && berth_str_has_prefix(p, m->root)) {
            size_t l = strlen(m->root);
            if (p[l] == '/' || p[l] == '\0')
                p += l;
        }
        return strcmp(p, "/") == 0 ? "" : p;
    }
    return "";
}

static enum berth_cgroup_mode
mode_from_env(const char **ret_v2_root)
{
    const char *s = getenv("BERTH_CGROUP_MODE");
    *ret_v2_root = getenv("BERTH_CGROUP2_ROOT");
    if (*ret_v2_root && !**ret_v2_root)
        *ret_v2_root = NULL;
    if (!s)
        return BERTH_CGROUP_AUTO;
    if (!strcmp(s, "v1") || !strcmp(s, "legacy"))
        return BERTH_CGROUP_V1;
    if (!strcmp(s, "hybrid"))
        return BERTH_CGROUP_HYBRID;
    if (!strcmp(s, "unified") || !strcmp(s, "v2"))
        return BERTH_CGROUP_UNIFIED;
    return BERTH_CGROUP_AUTO;
}

static uint32_t
parse_v2_controllers(const char *text)
{
    uint32_t mask = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, " \n");
        int c = berth_cgroup_ctrl_from_name(p, len);
        if (c >= 0)
            mask |= BERTH_CG_BIT(c);
        p += len;
        p += strspn(p, " \n");
    }
    return mask;
}

static int
load_view(struct berth_error **err)
{
    if (host.view_ready)
        return 0;
    int r = load_mounts(err);
    if (r < 0)
        return r;
    enum berth_cgroup_mode mode = host.forced;
    const char *v2_root = host.forced_v2_root;
    if (!host.forced_by_api)
        mode = mode_from_env(&v2_root);
    const struct berth_cgroup_mounts *m = &host.mounts;
    size_t n_v1 = 0;
    for (size_t i = 0; i < m->n; i++)
        n_v1 += !m->v[i].v2;
    if (mode == BERTH_CGROUP_AUTO) {
        if (m->sys_fs_cgroup_v2 || (n_v1 == 0 && (m->v2 >= 0 || v2_root)))
            mode = BERTH_CGROUP_UNIFIED;
        else if (m->v2 >= 0 || v2_root)
            mode = BERTH_CGROUP_HYBRID;
        else
            mode = BERTH_CGROUP_V1;
    }
    free(host.v2.mount_point);
    free(host.v2.root);
    memset(&host.v2, 0, sizeof(host.v2));
    host.n_v1 = 0;
    if (mode != BERTH_CGROUP_UNIFIED)
        for (size_t i = 0; i < m->n && host.n_v1 < BERTH_ARRAY_SIZE(host.v1); i++)
            if (!m->v[i].v2)
                host.v1[host.n_v1++] = &m->v[i];
    if (mode != BERTH_CGROUP_V1) {
        const char *mp = v2_root ? v2_root : m->v2 >= 0 ? m->v[m->v2].mount_point : NULL;
        if (!mp)
            return berth_error_setq(err, ENOENT, "cgroup: no cgroup2 mount found for %s mode",
                                    mode == BERTH_CGROUP_HYBRID ? "hybrid" : "unified");
        const char *root = "/";
        for (size_t i = 0; i < m->n; i++)
            if (m->v[i].v2 && !strcmp(m->v[i].mount_point, mp))
                root = m->v[i].root;
        host.v2.mount_point = strdup(mp);
        host.v2.root = strdup(root);
        host.v2.v2 = true;
        if (!host.v2.mount_point || !host.v2.root)
            return berth_error_set(err, ENOMEM, "cgroup");
        char buf[512];
        struct berth_cgroup_dir d = {.path = (char *)mp, .fd = -1};
        ssize_t n = berth_cgroup_read_small(&d, "cgroup.controllers", buf, sizeof(buf));
        if (n < 0)
            return berth_error_set(err, (int)-n, "read '%s/cgroup.controllers'", mp);
        host.v2.mask = parse_v2_controllers(buf);
    }
    if (mode != BERTH_CGROUP_UNIFIED && host.n_v1 == 0)
        return berth_error_setq(err, ENOENT, "cgroup: no cgroup v1 hierarchy is mounted");
    host.mode = mode;
    host.view_ready = true;
    return 0;
}

enum berth_cgroup_mode
berth_cgroup_detect_mode(void)
{
    return load_view(NULL) < 0 ? BERTH_CGROUP_AUTO : host.mode;
}

bool
berth_cgroup_has_v1(void)
{
    return load_view(NULL) == 0 && host.mode != BERTH_CGROUP_UNIFIED;
}

bool
berth_cgroup_has_v2(void)
{
    return load_view(NULL) == 0 && host.mode != BERTH_CGROUP_V1;
}

/* ---- path resolution ---- */

/* Appends "/comp" for each component of p, refusing "..". */
static int
append_components(char **buf, size_t *len, const char *p, const char *what,
                  struct berth_error **err)
{
    while (*p) {
        size_t l = strcspn(p, "/");
        if (l == 2 && !memcmp(p, "..", 2))
            return berth_error_setq(err, EINVAL, "cgroups path '%s': \"..\" is not allowed", what);
        if (l > 0 && !(l == 1 && p[0] == '.')) {
            char *nb = realloc(*buf, *len + l + 2);
            if (!nb)
                return berth_error_set(err, ENOMEM, "cgroups path");
            *buf = nb;
            nb[(*len)++] = '/';
            memcpy(nb + *len, p, l);
            *len += l;
            nb[*len] = '\0';
        }
        p += l;
        p += strspn(p, "/");
    }
    return 0;
}

/* "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "" (the root slice). */
static int
expand_slice(const char *slice, char **buf, size_t *len, struct berth_error **err)
{
    if (!strcmp(slice, "-.slice"))
        return 0;
    size_t sl = strlen(slice);
    if (!berth_str_has_suffix(slice, ".slice") || sl == 6 || strchr(slice, '/') ||
        slice[0] == '-' || strstr(slice, "--") || slice[sl - 7] == '-')
        return berth_error_setq(err, EINVAL, "cgroups path: invalid systemd slice '%s'", slice);
    const char *stem_end = slice + sl - 6;
    for (const char *p = slice; p <= stem_end; p++) {
        if (p != stem_end && *p != '-')
            continue;
        size_t pl = (size_t)(p - slice);
        char *nb = realloc(*buf, *len + pl + 8);
        if (!nb)
            return berth_error_set(err, ENOMEM, "cgroups path");
        *buf = nb;
        *len += (size_t)snprintf(nb + *len, pl + 8, "/%.*s.slice", (int)pl, slice);
    }
    return 0;
}

int
berth_cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **ret,
                          bool *ret_relative, struct berth_error **err)
{
    _cleanup_free_ char *buf = NULL; /* grown by the appenders; NULL while empty */
    size_t len = 0;
    int r;
    bool empty = !cgroups_path || !*cgroups_path;
    if (empty && (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, "..")))
        return berth_error_setq(err, EINVAL, "cgroups path: invalid container id '%s'",
                                id ? id : "");
    if (systemd) {
        _cleanup_free_ char *copy = NULL;
        if (empty) {
            if (asprintf(&copy, "system.slice:berth:%s", id) < 0)
                return berth_error_set(err, ENOMEM, "cgroups path");
        } else if (!(copy = strdup(cgroups_path))) {
            return berth_error_set(err, ENOMEM, "cgroups path");
        }
        char *c1 = strchr(copy, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || strchr(c2 + 1, ':'))
            return berth_error_setq(
                err, EINVAL, "cgroups path '%s': expected \"slice:prefix:name\" with systemd",
                copy);
        *c1 = *c2 = '\0';
        const char *slice = *copy ? copy : "system.slice", *prefix = c1 + 1, *name = c2 + 1;
        if (!*name || strchr(prefix, '/') || strchr(name, '/') || !strcmp(name, "..") ||
            !strcmp(name, ".") || !strcmp(prefix, ".."))
            return berth_error_setq(err, EINVAL, "cgroups path: invalid systemd unit '%s-%s'",
                                    prefix, name);
        if ((r = expand_slice(slice, &buf, &len, err)) < 0)
            return r;
        _cleanup_free_ char *unit = NULL;
        bool has_suffix =
            berth_str_has_suffix(name, ".scope") || berth_str_has_suffix(name, ".slice");
        if (asprintf(&unit, "%s%s%s%s", prefix, *prefix ? "-" : "", name,
                     has_suffix ? "" : ".scope") < 0)
            return berth_error_set(err, ENOMEM, "cgroups path");
        if ((r = append_components(&buf, &len, unit, unit, err)) < 0)
            return r;
        *ret_relative = false;
    } else if (empty) {
        if ((r = append_components(&buf, &len, id, id, err)) < 0)
            return r;
        *ret_relative = false;
    } else {
        if ((r = append_components(&buf, &len, cgroups_path, cgroups_path, err)) < 0)
            return r;
        if (len == 0)
            return berth_error_setq(err, EINVAL, "cgroups path '%s' names the root cgroup",
                                    cgroups_path);
        *ret_relative = cgroups_path[0] != '/';
        if (*ret_relative)
            memmove(buf, buf + 1, len); /* "a/b", with its NUL */
    }
    if (len == 0)
        return berth_error_setq(err, EINVAL, "cgroups path names the root cgroup");
    *ret = TAKE_PTR(buf);
    return 0;
}

/* ---- directory helpers ---- */

int
berth_cgroup_dir_fd(struct berth_cgroup_dir *d, struct berth_error **err)
{
    if (d->fd >= 0)
        return d->fd;
    d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->fd < 0)
        return berth_error_set(err, errno, "open cgroup '%s'", d->path);
    return d->fd;
}

/* openat on the dir's fd when one is open, else one open() of the full path: a start-up
 * writes a file or two per hierarchy and an extra directory open would double that. */
static int
open_in(struct berth_cgroup_dir *d, const char *file, int flags)
{
    if (d->fd >= 0)
        return openat(d->fd, file, flags | O_CLOEXEC | O_NOCTTY);
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", d->path, file);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, flags | O_CLOEXEC | O_NOCTTY);
}

int
berth_cgroup_try_write(struct berth_cgroup_dir *d, const char *file, const char *value)
{
    _cleanup_close_ int fd = open_in(d, file, O_WRONLY);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t n;
    do
        n = write(fd, value, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

int
berth_cgroup_write(struct berth_cgroup_dir *d, const char *file, const char *value,
                   struct berth_error **err)
{
    int r = berth_cgroup_try_write(d, file, value);
    if (r == -ENOENT && access(d->path, F_OK) < 0)
        return berth_error_set(err, ENOENT, "cgroup directory '%s'", d->path);
    if (r < 0)
        return berth_error_set(err, -r, "write '%s' = %s", file, value);
    return 0;
}

int
berth_cgroup_writef(struct berth_cgroup_dir *d, const char *file, struct berth_error **err,
                    const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return berth_error_setq(err, EINVAL, "write '%s': value too long", file);
    return berth_cgroup_write(d, file, buf, err);
}

ssize_t
berth_cgroup_read_small(struct berth_cgroup_dir *d, const char *file, char *buf, size_t size)
{
    _cleanup_close_ int fd = open_in(d, file, O_RDONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = berth_read_all(fd, buf, size - 1);
    if (n < 0)
        return n;
    buf[n] = '\0';
    return n;
}

int
berth_cgroup_read_alloc(struct berth_cgroup_dir *d, const char *file, char **ret)
{
    char path[PATH_MAX];
    struct berth_error *e = NULL;
    int r;
    if (d->fd >= 0)
        r = berth_read_file_at(d->fd, file, 1 << 20, ret, NULL, &e);
    else if ((size_t)snprintf(path, sizeof(path), "%s/%s", d->path, file) >= sizeof(path))
        return -ENAMETOOLONG;
    else
        r = berth_read_file(path, 1 << 20, ret, NULL, &e);
    berth_error_free(e);
    return r;
}

int
berth_cgroup_read_u64(struct berth_cgroup_dir *d, const char *file, uint64_t *ret)
{
    char buf[64];
    ssize_t n = berth_cgroup_read_small(d, file, buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    buf[strcspn(buf, "\n")] = '\0';
    if (!strcmp(buf, "max")) {
        *ret = UINT64_MAX;
        return 0;
    }
    return berth_parse_u64(buf, ret) ? 0 : -EINVAL;
}

bool
berth_cgroup_kv_u64(const char *text, const char *key, uint64_t *ret)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == ' ')
            return p[kl + 1] != '-' && sscanf(p + kl + 1, "%" SCNu64, ret) == 1;
    return false;
}

void
berth_cgroup_kv_to_json(const char *text, json_t *obj)
{
    char key[128];
    uint64_t v;
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (sscanf(p, "%127s %" SCNu64 "%n", key, &v, &n) == 2 && (p[n] == '\n' || !p[n]))
            json_object_set_new(obj, key, berth_cgroup_json_u64(v));
}

json_t *
berth_cgroup_json_u64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

void
berth_cgroup_json_set_u64(json_t *obj, const char *key, struct berth_cgroup_dir *d,
                          const char *file)
{
    uint64_t v;
    if (berth_cgroup_read_u64(d, file, &v) == 0)
        json_object_set_new(obj, key, berth_cgroup_json_u64(v));
}

json_t *
berth_cgroup_json_section(json_t *out, const char *key)
{
    json_t *o = json_object_get(out, key);
    if (!o) {
        o = json_object();
        json_object_set_new(out, key, o);
    }
    return o;
}

/* ---- the manager ---- */

struct berth_cgroup_dir *
berth_cgroup_dir_of(struct berth_cgroup *cg, enum berth_cgroup_ctrl c)
{
    if ((int)c < 0 || c >= BERTH_CG__COUNT || cg->loc[c] < 0)
        return NULL;
    return &cg->dirs[cg->loc[c]];
}

static const struct berth_cgroup_ops *
ops_of(const struct berth_cgroup_dir *d)
{
    return d->v2 ? &berth_cgroup_v2_ops : &berth_cgroup_v1_ops;
}

void
berth_cgroup_index_dirs(struct berth_cgroup *cg)
{
    for (int c = 0; c < BERTH_CG__COUNT; c++)
        cg->loc[c] = -1;
    cg->v2 = -1;
    for (size_t i = 0; i < cg->n_dirs; i++) {
        if (cg->dirs[i].v2 && cg->v2 < 0)
            cg->v2 = (int)i;
        for (int c = 0; c < BERTH_CG__COUNT; c++)
            if ((cg->dirs[i].mask & BERTH_CG_BIT(c)) && cg->loc[c] < 0)
                cg->loc[c] = (int)i;
    }
    /* v2 has no devices or freezer controller: eBPF and cgroup.freeze are always there */
    if (cg->v2 >= 0) {
        if (cg->loc[BERTH_CG_DEVICES] < 0)
            cg->loc[BERTH_CG_DEVICES] = cg->v2;
        if (cg->loc[BERTH_CG_FREEZER] < 0)
            cg->loc[BERTH_CG_FREEZER] = cg->v2;
    }
}

void
berth_cgroup_free(struct berth_cgroup *cg)
{
    if (!cg)
        return;
    for (size_t i = 0; i < cg->n_dirs; i++) {
        if (cg->dirs[i].fd >= 0)
            close(cg->dirs[i].fd);
        free(cg->dirs[i].path);
        free(cg->dirs[i].name);
    }
    free(cg->dirs);
    free(cg->path);
    free(cg);
}

void
berth_cgroup_freep(struct berth_cgroup **cg)
{
    berth_cgroup_free(*cg);
}

struct berth_cgroup *
berth_cgroup_alloc(size_t n_dirs, const char *path)
{
    struct berth_cgroup *cg = calloc(1, sizeof(*cg));
    if (!cg)
        return NULL;
    cg->dirs = calloc(n_dirs ? n_dirs : 1, sizeof(*cg->dirs));
    cg->path = strdup(path);
    if (!cg->dirs || !cg->path) {
        berth_cgroup_free(cg);
        return NULL;
    }
    return cg;
}

static int
add_dir(struct berth_cgroup *cg, const struct berth_cgroup_mount *m, const char *path,
        bool relative)
{
    struct berth_cgroup_dir *d = &cg->dirs[cg->n_dirs];
    const char *base = relative ? self_path(m) : "";
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    if (asprintf(&d->path, "%s%s%s%s", m->mount_point, base, relative ? "/" : "", path) < 0) {
        d->path = NULL;
        return -ENOMEM;
    }
    d->name = m->name ? strdup(m->name) : NULL;
    d->mask = m->mask;
    d->v2 = m->v2;
    d->mount_len = strlen(m->mount_point);
    cg->n_dirs++;
    return m->name && !d->name ? -ENOMEM : 0;
}

/* ---- validation: refuse what the kernel would reject half-way through ---- */

static int
need(struct berth_cgroup *cg, enum berth_cgroup_ctrl c, struct berth_error **err)
{
    if (cg->loc[c] >= 0)
        return 0;
    return berth_error_setq(err, EOPNOTSUPP, "cgroup controller %s is not available",
                            berth_cgroup_ctrl_name(c, cg->mode == BERTH_CGROUP_UNIFIED));
}

static bool
on_v2(struct berth_cgroup *cg, enum berth_cgroup_ctrl c)
{
    return cg->loc[c] >= 0 && cg->dirs[cg->loc[c]].v2;
}

/* A set value must lie in [lo, hi]; with zero_unset, 0 means "not set" and passes. */
static int
range(const char *what, struct berth_opt_i64 o, bool zero_unset, int64_t lo, int64_t hi,
      struct berth_error **err)
{
    if (!o.set || (zero_unset && o.value == 0) || (o.value >= lo && o.value <= hi))
        return 0;
    return berth_error_setq(err, EINVAL, "%s %" PRId64 " is not within [%" PRId64 ", %" PRId64 "]",
                            what, o.value, lo, hi);
}

static bool
set_nz(struct berth_opt_i64 o)
{
    return o.set && o.value != 0;
}

#define OPT(v) ((struct berth_opt_i64){true, (v)})

static int
validate_blkio(struct berth_cgroup *cg, const struct berth_spec_resources *res,
               struct berth_error **err)
{
    const __typeof__(res->block_io) *b = &res->block_io;
    bool used = set_nz(b->weight) || set_nz(b->leaf_weight) || b->n_weight_devices;
    for (int i = 0; i < 4; i++)
        used |= b->n_throttle[i] > 0;
    int r = used ? need(cg, BERTH_CG_BLKIO, err) : 0;
    if (r < 0 || (r = range("blkio weight", b->weight, true, 10, 1000, err)) < 0 ||
        (r = range("blkio leaf weight", b->leaf_weight, true, 10, 1000, err)) < 0)
        return r;
    for (size_t i = 0; i < b->n_weight_devices; i++) {
        const struct berth_spec_weight_device *d = &b->weight_devices[i];
        if ((r = range("blkio device major", OPT(d->major), false, 0, UINT32_MAX, err)) < 0 ||
            (r = range("blkio device minor", OPT(d->minor), false, 0, UINT32_MAX, err)) < 0 ||
            (r = range("blkio device weight", d->weight, false, 10, 1000, err)) < 0 ||
            (r = range("blkio device leaf weight", d->leaf_weight, false, 10, 1000, err)) < 0)
            return r;
    }
    for (int t = 0; t < 4; t++)
        for (size_t i = 0; i < b->n_throttle[t]; i++) {
            const struct berth_spec_throttle_device *d = &b->throttle[t][i];
            if ((r = range("blkio device major", OPT(d->major), false, 0, UINT32_MAX, err)) < 0 ||
                (r = range("blkio device minor", OPT(d->minor), false, 0, UINT32_MAX, err)) < 0)
                return r;
        }
    return 0;
}

static bool
valid_cpu_list(const char *s)
{
    return !s || (strlen(s) < 4096 && strspn(s, "0123456789,-") == strlen(s));
}

static int
validate(struct berth_cgroup *cg, const struct berth_spec_resources *res, struct berth_error **err)
{
    int r = 0;
    const __typeof__(res->memory) *m = &res->memory;
    if (set_nz(m->limit) || set_nz(m->swap) || set_nz(m->reservation) ||
        (m->swappiness.set && m->swappiness.value >= 0) ||
        (m->has_disable_oom_killer && m->disable_oom_killer)) {
        if ((r = need(cg, BERTH_CG_MEMORY, err)) < 0 ||
            (r = range("memory limit", m->limit, true, -1, INT64_MAX, err)) < 0 ||
            (r = range("memory swap", m->swap, true, -1, INT64_MAX, err)) < 0 ||
            (r = range("memory reservation", m->reservation, true, -1, INT64_MAX, err)) < 0 ||
            (r = range("memory swappiness", m->swappiness, false, -1, 100, err)) < 0)
            return r;
        if (m->swap.value > 0 && m->limit.value > 0 && m->swap.value < m->limit.value)
            return berth_error_setq(
                err, EINVAL, "memory+swap limit %" PRId64 " is below the memory limit %" PRId64,
                m->swap.value, m->limit.value);
        if (set_nz(m->swap) && m->swap.value > 0 && on_v2(cg, BERTH_CG_MEMORY) &&
            !(set_nz(m->limit) && m->limit.value > 0))
            return berth_error_setq(err, EINVAL,
                                    "memory swap limit needs a memory limit on cgroup v2");
    }
    const __typeof__(res->cpu) *c = &res->cpu;
    bool rt = set_nz(c->realtime_runtime) || set_nz(c->realtime_period);
    if (set_nz(c->shares) || set_nz(c->quota) || set_nz(c->period) || c->burst.set || c->idle.set ||
        rt) {
        if ((r = need(cg, BERTH_CG_CPU, err)) < 0 ||
            (r = range("cpu shares", c->shares, true, 2, 262144, err)) < 0 ||
            (r = range("cpu period", c->period, true, 1000, 1000000, err)) < 0 ||
            (r = range("cpu burst", c->burst, false, 0, INT64_MAX, err)) < 0 ||
            (r = range("cpu idle", c->idle, false, 0, 1, err)) < 0)
            return r;
        if (c->quota.set && (c->quota.value < -1 || (c->quota.value > 0 && c->quota.value < 1000)))
            return berth_error_setq(err, EINVAL,
                                    "cpu quota %" PRId64 " is invalid (-1, or at least 1000us)",
                                    c->quota.value);
        if (rt && on_v2(cg, BERTH_CG_CPU))
            return berth_error_setq(err, EOPNOTSUPP,
                                    "realtime cpu limits are not supported on cgroup v2");
    }
    if ((c->cpus && *c->cpus) || (c->mems && *c->mems)) {
        if ((r = need(cg, BERTH_CG_CPUSET, err)) < 0)
            return r;
        if (!valid_cpu_list(c->cpus) || !valid_cpu_list(c->mems))
            return berth_error_setq(err, EINVAL, "cpuset '%s' is invalid",
                                    valid_cpu_list(c->cpus) ? c->mems : c->cpus);
    }
    if ((res->pids.limit.set && (r = need(cg, BERTH_CG_PIDS, err)) < 0) ||
        (r = validate_blkio(cg, res, err)) < 0 ||
        (res->n_hugepages && (r = need(cg, BERTH_CG_HUGETLB, err)) < 0) ||
        (r = range("net_cls classid", res->network.class_id, false, 0, UINT32_MAX, err)) < 0)
        return r;
    for (size_t i = 0; i < res->n_hugepages; i++) {
        const char *ps = res->hugepages[i].page_size;
        size_t digits = strspn(ps, "0123456789");
        if (!digits ||
            (strcmp(ps + digits, "KB") && strcmp(ps + digits, "MB") && strcmp(ps + digits, "GB")))
            return berth_error_setq(err, EINVAL, "hugepage size '%s' is invalid", ps);
    }
    if (res->has_devices && res->n_devices && (r = need(cg, BERTH_CG_DEVICES, err)) < 0)
        return r;
    for (size_t i = 0; res->has_devices && i < res->n_devices; i++) {
        const struct berth_spec_device_rule *d = &res->devices[i];
        if (!d->type || !strchr("acb", d->type) || d->major < -1 || d->minor < -1 ||
            d->major > INT32_MAX || d->minor > INT32_MAX ||
            strspn(d->access, "rwm") != strlen(d->access))
            return berth_error_setq(err, EINVAL,
                                    "device rule %zu (%c %" PRId64 ":%" PRId64 " %s) is invalid", i,
                                    d->type ? d->type : '?', d->major, d->minor, d->access);
    }
    if (res->n_unified && cg->v2 < 0)
        return berth_error_setq(err, EOPNOTSUPP, "unified resources need a cgroup v2 hierarchy");
    for (size_t i = 0; i < res->n_unified; i++) {
        const char *k = res->unified[i].key;
        if (!*k || strchr(k, '/') || k[0] == '.' || !strchr(k, '.'))
            return berth_error_setq(err, EINVAL, "unified resource '%s' is invalid", k);
        int ctrl = berth_cgroup_ctrl_from_name(k, strcspn(k, "."));
        if (ctrl >= 0 && !(cg->dirs[cg->v2].mask & BERTH_CG_BIT(ctrl)))
            return berth_error_setq(err, EOPNOTSUPP,
                                    "unified resource '%s': cgroup controller "
                                    "%s is not available in the unified hierarchy",
                                    k, berth_cgroup_ctrl_name(ctrl, true));
    }
    return 0;
}

/* What every container may use whatever its rules say (runc's and crun's list): mknod of
 * anything, null, zero, full, random, urandom, tty, console, ptmx, the pts, tun. They go
 * after the configured rules, so a later deny cannot take them away. */
static const struct berth_spec_device_rule default_devices[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},    {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},    {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},    {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"}, {true, 'c', 10, 200, "rwm"},
};

static int
apply(struct berth_cgroup *cg, const struct berth_spec_resources *res, bool update,
      struct berth_error **err)
{
    int r;
    bool have_v1 = false;
    for (size_t i = 0; i < cg->n_dirs; i++)
        have_v1 |= !cg->dirs[i].v2;
    struct berth_spec_resources eff = *res;
    _cleanup_free_ struct berth_spec_device_rule *rules = NULL;
    if (res->has_devices && res->n_devices) {
        size_t n = res->n_devices, nd = BERTH_ARRAY_SIZE(default_devices);
        if (!(rules = malloc((n + nd) * sizeof(*rules))))
            return berth_error_set(err, ENOMEM, "device rules");
        memcpy(rules, res->devices, n * sizeof(*rules));
        memcpy(rules + n, default_devices, sizeof(default_devices));
        eff.devices = rules;
        eff.n_devices = n + nd;
    } else {
        eff.has_devices = false; /* no rules: the devices cgroup is left as inherited */
    }
    if (have_v1 && (r = berth_cgroup_v1_ops.apply(cg, &eff, update, err)) < 0)
        return r;
    if (cg->v2 >= 0 && (r = berth_cgroup_v2_ops.apply(cg, &eff, update, err)) < 0)
        return r;
    return 0;
}

/* ---- create and destroy ---- */

/* mkdir d->path, and its missing parents; d->created counts the components made here. */
static int
make_dir(struct berth_cgroup_dir *d, struct berth_error **err)
{
    if (mkdir(d->path, 0755) == 0) {
        d->created = 1;
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return berth_error_set(err, errno, "mkdir '%s'", d->path);
    _cleanup_free_ char *copy = strdup(d->path);
    if (!copy)
        return berth_error_set(err, ENOMEM, "mkdir '%s'", d->path);
    for (char *p = copy + d->mount_len + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0755) == 0) {
            d->created++;
        } else if (errno != EEXIST) {
            int saved_errno = errno;
            berth_error_set(err, saved_errno, "mkdir '%s'", copy);
            /* undo the parents made so far: they sit just above copy */
            for (; d->created > 0; d->created--) {
                char *slash = strrchr(copy, '/');
                if (!slash || slash == copy)
                    break;
                *slash = '\0';
                rmdir(copy);
            }
            d->created = 0;
            return -saved_errno;
        }
        if (!saved)
            break;
        *p = '/';
    }
    return 0;
}

/* Undoes make_dir: removes the directories this process created, deepest first. */
static void
remove_created(struct berth_cgroup_dir *d)
{
    if (!d->created || !d->path)
        return;
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    _cleanup_free_ char *copy = strdup(d->path);
    if (!copy)
        return;
    for (unsigned i = 0; i < d->created; i++) {
        for (int tries = 0; rmdir(copy) < 0 && errno == EBUSY && tries < 20; tries++)
            usleep(5000);
        char *slash = strrchr(copy, '/');
        if (!slash || slash == copy)
            break;
        *slash = '\0';
    }
    d->created = 0;
}

int
berth_cgroup_create(const char *cgroups_path, const char *id, bool systemd,
                    const struct berth_spec_resources *res, struct berth_cgroup **ret,
                    struct berth_error **err)
{
    _cleanup_free_ char *path = NULL;
    bool relative = false;
    int r = load_view(err);
    if (r < 0)
        return r;
    if ((r = berth_cgroup_resolve_path(cgroups_path, id, systemd, &path, &relative, err)) < 0)
        return r;
    if (relative && (r = load_self(err)) < 0)
        return r;
    _cleanup_cgroup_ struct berth_cgroup *cg = berth_cgroup_alloc(host.n_v1 + 1, path);
    if (!cg)
        return berth_error_set(err, ENOMEM, "cgroup");
    cg->mode = host.mode;
    for (size_t i = 0; i < host.n_v1; i++) {
        if (add_dir(cg, host.v1[i], path, relative) < 0)
            return berth_error_set(err, ENOMEM, "cgroup");
    }
    if (host.v2.mount_point && add_dir(cg, &host.v2, path, relative) < 0)
        return berth_error_set(err, ENOMEM, "cgroup");
    berth_cgroup_index_dirs(cg);
    if (res && (r = validate(cg, res, err)) < 0) {
        berth_error_wrap(err, "cgroup '%s'", path);
        return r;
    }
    for (size_t i = 0; i < cg->n_dirs && r >= 0; i++)
        r = make_dir(&cg->dirs[i], err);
    for (size_t i = 0; i < cg->n_dirs && r >= 0; i++)
        r = ops_of(&cg->dirs[i])->init_dir(cg, &cg->dirs[i], res, err);
    if (r >= 0 && res)
        r = apply(cg, res, false, err);
    if (r < 0) {
        for (size_t i = cg->n_dirs; i-- > 0;)
            remove_created(&cg->dirs[i]);
        berth_error_wrap(err, "cgroup '%s'", path);
        return r;
    }
    for (size_t i = 0; i < cg->n_dirs; i++)
        cg->dirs[i].created = 0;
    *ret = TAKE_PTR(cg);
    return 0;
}

int
berth_cgroup_update(struct berth_cgroup *cg, const struct berth_spec_resources *res,
                    struct berth_error **err)
{
    int r = validate(cg, res, err);
    if (r >= 0)
        r = apply(cg, res, true, err);
    if (r < 0)
        berth_error_wrap(err, "update cgroup '%s'", cg->path);
    return r < 0 ? r : 0;
}

int
berth_cgroup_enter(struct berth_cgroup *cg, pid_t pid, struct berth_error **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    for (size_t i = 0; i < cg->n_dirs; i++) {
        int r = berth_cgroup_write(&cg->dirs[i], "cgroup.procs", buf, err);
        if (r < 0) {
            berth_error_wrap(err, "enter cgroup '%s'", cg->dirs[i].path);
            return r;
        }
    }
    return 0;
}

/* rmdir path and everything below it: 0 or -errno (-EBUSY while processes remain). */
static int
rmdir_tree(const char *path, int depth)
{
    if (rmdir(path) == 0 || errno == ENOENT)
        return 0;
    /* cgroupfs says EBUSY both for processes and for child cgroups */
    if (errno != EBUSY && errno != ENOTEMPTY && errno != EEXIST)
        return -errno;
    if (depth > 64)
        return -ELOOP;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return -ENOMEM;
    }
    int r = 0;
    size_t children = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        children++;
        _cleanup_free_ char *child = NULL;
        if (asprintf(&child, "%s/%s", path, de->d_name) < 0) {
            r = -ENOMEM;
            break;
        }
        int k = rmdir_tree(child, depth + 1);
        if (k < 0 && r == 0)
            r = k;
    }
    closedir(dir);
    if (r < 0)
        return r;
    if (!children)
        return -EBUSY; /* processes remain */
    return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
}

int
berth_cgroup_destroy(struct berth_cgroup *cg, struct berth_error **err)
{
    static const unsigned delays_ms[] = {2, 5, 10, 20, 40, 80, 150, 250, 450};
    size_t n = cg->n_dirs;
    _cleanup_free_ bool *done = calloc(n ? n : 1, sizeof(bool));
    if (!done)
        return berth_error_set(err, ENOMEM, "remove cgroup '%s'", cg->path);
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].fd >= 0) {
            close(cg->dirs[i].fd);
            cg->dirs[i].fd = -1;
        }
    for (size_t attempt = 0;; attempt++) {
        size_t busy = 0;
        int last = 0;
        const char *last_path = NULL;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            int r = rmdir_tree(cg->dirs[i].path, 0);
            if (r == 0) {
                done[i] = true;
                continue;
            }
            if (r != -EBUSY)
                return berth_error_set(err, -r, "remove cgroup '%s'", cg->dirs[i].path);
            busy++;
            last = r;
            last_path = cg->dirs[i].path;
        }
        if (!busy)
            return 0;
        if (attempt == BERTH_ARRAY_SIZE(delays_ms))
            return berth_error_set(err, -last, "remove cgroup '%s'", last_path);
        struct timespec ts = {0, (long)delays_ms[attempt] * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- freezer, processes, signals ---- */

int
berth_cgroup_freeze(struct berth_cgroup *cg, bool freeze, struct berth_error **err)
{
    struct berth_cgroup_dir *d = berth_cgroup_dir_of(cg, BERTH_CG_FREEZER);
    if (!d)
        return berth_error_setq(err, EOPNOTSUPP, "cgroup controller freezer is not available");
    int r = ops_of(d)->freeze(d, freeze, err);
    if (r < 0) {
        berth_error_wrap(err, "%s cgroup '%s'", freeze ? "freeze" : "thaw", cg->path);
        return r;
    }
    return 0;
}

bool
berth_cgroup_is_frozen(struct berth_cgroup *cg)
{
    struct berth_cgroup_dir *d = berth_cgroup_dir_of(cg, BERTH_CG_FREEZER);
    return d && ops_of(d)->is_frozen(d) == 1;
}

struct pid_list {
    pid_t *v;
    size_t n, cap;
};

/* The pids in dfd's cgroup.procs and in those of its descendants. */
static int
collect_pids(int dfd, struct pid_list *l, int depth)
{
    _cleanup_free_ char *text = NULL;
    struct berth_error *e = NULL;
    int r = berth_read_file_at(dfd, "cgroup.procs", 64 << 20, &text, NULL, &e);
    r = r < 0 ? berth_error_code(e) : 0;
    berth_error_free(e);
    if (r < 0)
        return r == -ENOENT && depth > 0 ? 0 : r; /* a child cgroup that just went away */
    char *save = NULL;
    for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        int64_t v;
        if (!berth_parse_i64(t, &v) || v <= 0 || v > INT_MAX)
            continue;
        if (l->n == l->cap) {
            size_t ncap = l->cap ? l->cap * 2 : 64;
            pid_t *nv = realloc(l->v, ncap * sizeof(*nv));
            if (!nv)
                return -ENOMEM;
            l->v = nv;
            l->cap = ncap;
        }
        l->v[l->n++] = (pid_t)v;
    }
    int sfd = depth < 64 ? openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    DIR *dir = sfd >= 0 ? fdopendir(sfd) : NULL;
    if (!dir) {
        if (sfd >= 0)
            close(sfd);
        return depth < 64 ? -ENOMEM : 0;
    }
    struct dirent *de;
    while (r == 0 && (de = readdir(dir))) {
        if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        _cleanup_close_ int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = cfd >= 0 ? collect_pids(cfd, l, depth + 1) : errno == ENOENT ? 0 : -errno;
    }
    closedir(dir);
    return r;
}

/* Where to list processes: the v2 dir on a unified host, else a v1 hierarchy (pids first). */
static struct berth_cgroup_dir *
procs_dir(struct berth_cgroup *cg)
{
    if (cg->mode == BERTH_CGROUP_UNIFIED && cg->v2 >= 0)
        return &cg->dirs[cg->v2];
    static const enum berth_cgroup_ctrl pref[] = {BERTH_CG_PIDS, BERTH_CG_FREEZER, BERTH_CG_MEMORY};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(pref); i++) {
        struct berth_cgroup_dir *d = berth_cgroup_dir_of(cg, pref[i]);
        if (d && !d->v2)
            return d;
    }
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (!cg->dirs[i].v2)
            return &cg->dirs[i];
    return cg->v2 >= 0 ? &cg->dirs[cg->v2] : NULL;
}

int
berth_cgroup_pids(struct berth_cgroup *cg, pid_t **ret, size_t *n_ret, struct berth_error **err)
{
    struct berth_cgroup_dir *d = procs_dir(cg);
    if (!d)
        return berth_error_setq(err, ENOENT, "cgroup '%s' has no directory", cg->path);
    int dfd = berth_cgroup_dir_fd(d, err);
    if (dfd < 0)
        return dfd;
    struct pid_list l = {0};
    int r = collect_pids(dfd, &l, 0);
    if (r < 0) {
        free(l.v);
        return berth_error_set(err, -r, "read '%s/cgroup.procs'", d->path);
    }
    *ret = l.v;
    *n_ret = l.n;
    return 0;
}

int
berth_cgroup_kill_all(struct berth_cgroup *cg, int sig, struct berth_error **err)
{
    int r;
    {
        /* nothing left (the usual case at delete): no freeze/thaw round trip */
        _cleanup_free_ pid_t *left = NULL;
        size_t n_left = 0;
        if (berth_cgroup_pids(cg, &left, &n_left, NULL) == 0 && n_left == 0)
            return 0;
    }
    /* cgroup.kill (Linux 5.14) kills the whole subtree at once, forks included */
    if (sig == SIGKILL && cg->v2 >= 0) {
        r = berth_cgroup_try_write(&cg->dirs[cg->v2], "cgroup.kill", "1");
        /* a task frozen by the v1 freezer (hybrid host) only dies once thawed */
        if (r == 0)
            return berth_cgroup_is_frozen(cg) ? berth_cgroup_freeze(cg, false, err) : 0;
        if (r != -ENOENT)
            return berth_error_set(err, -r, "write '%s/cgroup.kill' = 1", cg->dirs[cg->v2].path);
    }
    /* freeze so that nothing forks between listing and signalling */
    bool was_frozen = berth_cgroup_is_frozen(cg), froze = false;
    if (!was_frozen) {
        struct berth_error *ferr = NULL;
        froze = berth_cgroup_freeze(cg, true, &ferr) == 0;
        berth_error_free(ferr);
    }
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    r = berth_cgroup_pids(cg, &pids, &n, err);
    for (size_t i = 0; r == 0 && i < n; i++)
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            r = berth_error_set(err, errno, "kill %d with signal %d", (int)pids[i], sig);
    /* a frozen process only dies once thawed */
    if (froze || (was_frozen && sig == SIGKILL)) {
        int t = berth_cgroup_freeze(cg, false, r < 0 ? NULL : err);
        if (t < 0 && r == 0)
            r = t;
    }
    return r;
}

/* ---- stats ---- */

int
berth_cgroup_stats(struct berth_cgroup *cg, json_t **ret, struct berth_error **err)
{
    json_t *out =
        json_pack("{s:{},s:{},s:{},s:{},s:{}}", "cpu", "memory", "pids", "blkio", "hugetlb");
    if (!out)
        return berth_error_set(err, ENOMEM, "cgroup stats");
    bool have_v1 = false;
    for (size_t i = 0; i < cg->n_dirs; i++)
        have_v1 |= !cg->dirs[i].v2;
    int r = 0;
    if (have_v1)
        r = berth_cgroup_v1_ops.stats(cg, out, err);
    if (r == 0 && cg->v2 >= 0)
        r = berth_cgroup_v2_ops.stats(cg, out, err);
    if (r < 0) {
        json_decref(out);
        berth_error_wrap(err, "stats of cgroup '%s'", cg->path);
        return r;
    }
    *ret = out;
    return 0;
}

int
berth_cgroup_oom_count(struct berth_cgroup *cg, uint64_t *ret, struct berth_error **err)
{
    struct berth_cgroup_dir *d = berth_cgroup_dir_of(cg, BERTH_CG_MEMORY);
    if (!d) {
        *ret = 0;
        return 0;
    }
    return ops_of(d)->oom_count(d, ret, err);
}

const char *
berth_cgroup_path_of(struct berth_cgroup *cg, const char *controller)
{
    if (!controller || !*controller)
        return cg->v2 >= 0 ? cg->dirs[cg->v2].path : NULL;
    const char *name = berth_str_has_prefix(controller, "name=") ? controller + 5 : controller;
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].name && !strcmp(cg->dirs[i].name, name))
            return cg->dirs[i].path;
    int c = berth_cgroup_ctrl_from_name(controller, strlen(controller));
    if (c < 0 || cg->loc[c] < 0)
        return NULL;
    return cg->dirs[cg->loc[c]].path;
}
