/* Config.User resolved against the image's /etc/passwd and /etc/group, as moby does through
 * moby/sys/user (GetExecUserPath, GetAdditionalGroupsPath): "name", "uid", "uid:gid",
 * "name:group", "" (root); the implicit form ("name" or "uid" with a passwd entry) also gets the
 * supplementary groups that list the user; HostConfig.GroupAdd names or numbers are added.
 * The files are opened inside the rootfs (RESOLVE_IN_ROOT): a symlinked /etc/passwd in an image
 * cannot make the daemon read a host file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_gen_internal.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"

#define MAX_ID 2147483647LL
#define MAX_DB_SIZE (16U << 20)

/* Go's strconv.Atoi on a whole field: base 10, optional sign, no junk. */
static bool
parse_int(const char *s, int64_t *ret)
{
    return *s && berth_parse_i64(s, ret);
}

/* Splits a line at ':' into at most n fields (the rest empty strings), in place. */
static void
split_fields(char *line, char **f, size_t n)
{
    size_t i = 0;
    char *p = line;
    for (; i < n; i++) {
        f[i] = p;
        char *c = p ? strchr(p, ':') : NULL;
        if (c) {
            *c = '\0';
            p = c + 1;
        } else {
            p = NULL;
        }
        if (!f[i])
            f[i] = (char *)"";
    }
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

struct pw {
    const char *name;
    int64_t uid, gid;
};

/* Walks passwd text; calls match for each entry until it returns true. The text is modified. */
static bool
find_passwd(char *text, bool (*match)(const struct pw *, const void *), const void *arg,
            struct pw *ret)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[7];
        line = trim(line);
        if (!*line)
            continue;
        split_fields(line, f, 7);
        struct pw p = {.name = f[0]};
        if (!parse_int(f[2], &p.uid))
            p.uid = 0;
        if (!parse_int(f[3], &p.gid))
            p.gid = 0;
        if (match(&p, arg)) {
            *ret = p;
            return true;
        }
    }
    return false;
}

struct user_match {
    const char *name;
    bool numeric;
    int64_t uid;
};

static bool
match_user(const struct pw *p, const void *arg)
{
    const struct user_match *m = arg;
    if (!m->name || !*m->name)
        return p->uid == 0;
    if (m->numeric)
        return p->uid == m->uid;
    return !strcmp(p->name, m->name);
}

struct gr {
    const char *name;
    int64_t gid;
    char *members; /* comma-separated */
};

static bool
group_has_member(const struct gr *g, const char *user)
{
    _cleanup_free_ char *copy = strdup(g->members);
    char *save = NULL;
    if (!copy)
        return false;
    for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save))
        if (!strcmp(trim(m), user))
            return true;
    return false;
}

/* Calls fn for every group entry (on a copy of the text). */
static int
each_group(const char *text, int (*fn)(const struct gr *, void *), void *arg)
{
    _cleanup_free_ char *copy = strdup(text);
    char *save = NULL;
    if (!copy)
        return -ENOMEM;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        line = trim(line);
        if (!*line)
            continue;
        split_fields(line, f, 4);
        struct gr g = {.name = f[0], .members = f[3]};
        if (!parse_int(f[2], &g.gid))
            g.gid = 0;
        int r = fn(&g, arg);
        if (r != 0)
            return r;
    }
    return 0;
}

static int
push_gid(struct sg_user *u, int64_t gid)
{
    for (size_t i = 0; i < u->n_gids; i++)
        if (u->gids[i] == (uint32_t)gid)
            return 0;
    if (u->n_gids >= 65536)
        return -E2BIG;
    uint32_t *n = realloc(u->gids, (u->n_gids + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    n[u->n_gids++] = (uint32_t)gid;
    u->gids = n;
    return 0;
}

struct member_ctx {
    const char *user;
    struct sg_user *u;
};

static int
add_membership(const struct gr *g, void *arg)
{
    struct member_ctx *c = arg;
    if (group_has_member(g, c->user))
        return push_gid(c->u, g->gid) < 0 ? -ENOMEM : 0;
    return 0;
}

struct group_find {
    const char *name;
    bool numeric;
    int64_t gid;
    bool found;
    int64_t result;
};

static int
find_group(const struct gr *g, void *arg)
{
    struct group_find *f = arg;
    bool hit = f->numeric ? g->gid == f->gid : !strcmp(g->name, f->name);
    if (hit) {
        f->found = true;
        f->result = g->gid;
        return 1; /* first match wins */
    }
    return 0;
}

/* GroupAdd: a name or number in /etc/group, else a number in range. */
struct add_find {
    const char *want;
    bool found;
    int64_t gid;
};

static int
find_added(const struct gr *g, void *arg)
{
    struct add_find *f = arg;
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)g->gid);
    if (!strcmp(g->name, f->want) || !strcmp(num, f->want)) {
        f->found = true;
        f->gid = g->gid;
        return 1;
    }
    return 0;
}

int
sg_user_resolve_text(const char *passwd, const char *group, const char *user_spec,
                     char *const *group_add, struct sg_user *ret, struct berth_error **err)
{
    struct sg_user u = {0};
    _cleanup_free_ char *spec = strdup(user_spec ? user_spec : "");
    int r;
    if (!spec)
        return berth_error_set(err, ENOMEM, "user");
    char *f[2];
    split_fields(spec, f, 2);
    const char *user_arg = f[0], *group_arg = f[1];
    int64_t uid_arg = 0, gid_arg = 0;
    bool uid_numeric = parse_int(user_arg, &uid_arg);
    bool gid_numeric = parse_int(group_arg, &gid_arg);

    struct user_match m = {.name = user_arg, .numeric = uid_numeric, .uid = uid_arg};
    struct pw found = {0};
    bool matched = false;
    _cleanup_free_ char *pw_copy = passwd ? strdup(passwd) : NULL;
    if (passwd && !pw_copy)
        return berth_error_set(err, ENOMEM, "user");
    if (pw_copy)
        matched = find_passwd(pw_copy, match_user, &m, &found);
    const char *matched_name = NULL;
    if (matched) {
        u.uid = (uint32_t)found.uid;
        u.gid = (uint32_t)found.gid;
        matched_name = found.name;
    } else if (*user_arg) {
        if (!uid_numeric)
            return berth_error_setq(err, EINVAL,
                                    "unable to find user %s: no matching entries in passwd file",
                                    user_arg);
        if (uid_arg < 0 || uid_arg > MAX_ID)
            return berth_error_setq(err, EINVAL, "uids and gids must be in range 0-2147483647");
        u.uid = (uint32_t)uid_arg;
    } /* "" without a root entry: uid 0, gid 0, as moby's defaults */

    if (*group_arg) {
        struct group_find g = {.name = group_arg, .numeric = gid_numeric, .gid = gid_arg};
        if (group && (r = each_group(group, find_group, &g)) < 0)
            return berth_error_set(err, -r, "group file");
        if (g.found) {
            u.gid = (uint32_t)g.result;
        } else {
            if (!gid_numeric)
                return berth_error_setq(err, EINVAL,
                                        "unable to find group %s: no matching entries in group "
                                        "file",
                                        group_arg);
            if (gid_arg < 0 || gid_arg > MAX_ID)
                return berth_error_setq(err, EINVAL, "uids and gids must be in range 0-2147483647");
            u.gid = (uint32_t)gid_arg;
        }
    } else if (matched_name && group) {
        /* the implicit form: the groups that list the user */
        struct member_ctx c = {.user = matched_name, .u = &u};
        if ((r = each_group(group, add_membership, &c)) < 0) {
            free(u.gids);
            return berth_error_set(err, -r, "group file");
        }
    }

    for (char *const *a = group_add; a && *a; a++) {
        struct add_find af = {.want = *a};
        int64_t gid;
        if (group && (r = each_group(group, find_added, &af)) < 0) {
            free(u.gids);
            return berth_error_set(err, -r, "group file");
        }
        if (af.found) {
            gid = af.gid;
        } else if (parse_int(*a, &gid)) {
            if (gid < 0 || gid > MAX_ID) {
                free(u.gids);
                return berth_error_setq(err, EINVAL, "uids and gids must be in range 0-2147483647");
            }
        } else {
            free(u.gids);
            return berth_error_setq(
                err, EINVAL, "Unable to find group %s: no matching entries in group file", *a);
        }
        if ((r = push_gid(&u, gid)) < 0) {
            free(u.gids);
            return berth_error_set(err, -r, "additional groups");
        }
    }
    *ret = u;
    return 0;
}

/* Reads rootfs/path (resolved in the rootfs) into *ret, NULL when it does not exist. */
static int
read_in_root(int rootfd, const char *path, char **ret, struct berth_error **err)
{
    *ret = NULL;
    _cleanup_close_ int fd = berth_open_in_root(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
    if (fd == -ENOENT || fd == -ENOTDIR)
        return 0;
    if (fd < 0)
        return berth_error_set(err, -fd, "open %s in the container's root", path);
    return berth_read_fd(fd, path, MAX_DB_SIZE, ret, NULL, err);
}

int
sg_user_resolve(const char *rootfs, const char *user_spec, char *const *group_add,
                struct sg_user *ret, struct berth_error **err)
{
    _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    _cleanup_free_ char *passwd = NULL, *group = NULL;
    int r;
    if (rootfd < 0)
        return berth_error_set(err, errno, "open the container's root '%s'", rootfs);
    if ((r = read_in_root(rootfd, "/etc/passwd", &passwd, err)) < 0 ||
        (r = read_in_root(rootfd, "/etc/group", &group, err)) < 0)
        return r;
    return sg_user_resolve_text(passwd, group, user_spec, group_add, ret, err);
}
