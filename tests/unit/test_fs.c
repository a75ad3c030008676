/* Unit tests of lib/core/fs.c: paths resolved inside a container root. A hostile tree (absolute
 * symlinks to /etc, relative symlinks with many "..", loops, chains, dangling links) is built
 * twice under a mkdtemp directory; every case runs once through openat2(RESOLVE_IN_ROOT) and once
 * through the userspace walk (berth_fs_force_fallback), each checked against the expected node,
 * and the two runs must agree. Nothing may be created or opened outside the root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/syscall.h"
#include "core/util.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-fs-XXXXXX";

/* Host paths that a resolution escaping the root would create: none may exist afterwards. */
static const char *const escape_paths[] = {
    "/berth-unit-dangling-dir",  "/berth-unit-dangling-rel",
    "/berth-unit-dangling-file", "/etc/berth-unit-newdir",
    "/etc/berth-unit-newdir2",   "/etc/berth-unit-newfile",
    "/etc/berth-unit-hosts",     "/berth-unit-x",
};

static bool
put(int dfd, const char *name, const char *content)
{
    _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd >= 0 && berth_write_all(fd, content, strlen(content)) == 0;
}

/* The hostile tree. root is <tmp>/<mode>/root, so "../../.." from root is "/tmp" or above. */
static bool
build_tree(const char *root)
{
    struct berth_error *e = NULL;
    if (berth_mkdir_p(root, 0755, &e) < 0) {
        berth_error_free(e);
        return false;
    }
    _cleanup_close_ int r = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool good = r >= 0;
    good = good && mkdirat(r, "etc", 0755) == 0 && put(r, "etc/passwd", "inside\n");
    good = good && mkdirat(r, "dir", 0755) == 0 && mkdirat(r, "dir/sub", 0755) == 0;
    good = good && put(r, "file", "data");
    const char *links[][2] = {
        {"/etc", "abs_etc"},                             /* absolute: must mean root/etc */
        {"../../../../../../../../../../etc", "rel_up"}, /* relative, far past root */
        {"../../../../..", "dir/up"},                    /* from a subdirectory, past root */
        {"../../etc", "dir/sub/back"},                   /* relative, inside */
        {"/..", "dotdot_abs"},                           /* root's parent is root */
        {"chain2", "chain1"},                            /* chain1 -> chain2 -> /chain3 -> */
        {"/chain3", "chain2"},                           /*  dir/sub/../../abs_etc -> /etc */
        {"dir/sub/../../abs_etc", "chain3"},
        {"loop2", "loop1"},
        {"loop1", "loop2"},
        {"self", "self"},
        {"loopdir/x", "loopdir"},
        {"/berth-unit-dangling-dir", "dangling"},
        {"../../../berth-unit-dangling-rel", "dangling_rel"},
        {"/berth-unit-dangling-file", "dangling_file"},
    };
    for (size_t i = 0; good && i < BERTH_ARRAY_SIZE(links); i++)
        good = symlinkat(links[i][0], r, links[i][1]) == 0;
    /* chains of 40 links (the kernel's limit, allowed) and 41 (ELOOP): cN_0 -> ... -> etc */
    for (int len = 40; good && len <= 41; len++)
        for (int i = 0; good && i < len; i++) {
            char name[32], target[32];
            snprintf(name, sizeof(name), "c%d_%d", len, i);
            if (i == len - 1)
                snprintf(target, sizeof(target), "/etc");
            else
                snprintf(target, sizeof(target), "c%d_%d", len, i + 1);
            good = symlinkat(target, r, name) == 0;
        }
    return good;
}

/* Whether fd is the node root/rel (not following a final symlink in rel). */
static bool
fd_is(int fd, const char *root, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

struct open_case {
    const char *path;
    int flags;
    int want_errno;   /* 0: success */
    const char *want; /* on success, the node (relative to root) the fd must refer to */
};

static const struct open_case open_cases[] = {
    {"etc/passwd", O_RDONLY, 0, "etc/passwd"},
    {"/etc/passwd", O_RDONLY, 0, "etc/passwd"},
    {"abs_etc/passwd", O_RDONLY, 0, "etc/passwd"},
    {"rel_up/passwd", O_RDONLY, 0, "etc/passwd"},
    {"../../../../etc/passwd", O_RDONLY, 0, "etc/passwd"},
    {"/../../etc/../../etc/passwd", O_RDONLY, 0, "etc/passwd"},
    {"chain1/passwd", O_RDONLY, 0, "etc/passwd"},
    {"dir/up/etc/passwd", O_RDONLY, 0, "etc/passwd"},
    {"dir/sub/back/passwd", O_RDONLY, 0, "etc/passwd"},
    {"dotdot_abs/etc/passwd", O_RDONLY, 0, "etc/passwd"},
    {"./dir/./sub/.././../etc//passwd", O_RDONLY, 0, "etc/passwd"},
    {"c40_0/passwd", O_RDONLY, 0, "etc/passwd"},
    {"c41_0/passwd", O_RDONLY, ELOOP, NULL},
    {"loop1", O_RDONLY, ELOOP, NULL},
    {"self/x", O_RDONLY, ELOOP, NULL},
    {"loopdir", O_RDONLY, ELOOP, NULL},
    {"dangling", O_RDONLY, ENOENT, NULL},
    {"missing/x", O_RDONLY, ENOENT, NULL},
    {"file/x", O_RDONLY, ENOTDIR, NULL},
    {"/", O_RDONLY | O_DIRECTORY, 0, "."},
    {"..", O_RDONLY | O_DIRECTORY, 0, "."},
    {"dir/sub/../../..", O_RDONLY | O_DIRECTORY, 0, "."},
    {"dir/up", O_PATH, 0, "."},
    {"abs_etc", O_PATH | O_DIRECTORY, 0, "etc"},
    {"rel_up", O_RDONLY | O_DIRECTORY, 0, "etc"},
    {"file", O_PATH, 0, "file"},
    {"file", O_RDONLY | O_DIRECTORY, ENOTDIR, NULL},
    {"file", O_PATH | O_DIRECTORY, ENOTDIR, NULL},
    {"file/", O_RDONLY, ENOTDIR, NULL},
    {"dir", O_WRONLY, EISDIR, NULL},
    {"", O_RDONLY, ENOENT, NULL},
    {"newfile", O_WRONLY | O_CREAT, 0, "newfile"},
    {"newexcl", O_WRONLY | O_CREAT | O_EXCL, 0, "newexcl"},
    {"file", O_WRONLY | O_CREAT | O_EXCL, EEXIST, NULL},
    {"abs_etc/berth-unit-newfile", O_WRONLY | O_CREAT, 0, "etc/berth-unit-newfile"},
    {"dangling_file", O_WRONLY | O_CREAT, 0, "berth-unit-dangling-file"},
};

struct mkdir_case {
    const char *path;
    bool last_is_file;
    int want_errno;
    const char *want;
};

static const struct mkdir_case mkdir_cases[] = {
    {"a/b/c", false, 0, "a/b/c"},
    {"/a/b/c", false, 0, "a/b/c"},
    {"/a//b/./d/", false, 0, "a/b/d"},
    {"abs_etc/berth-unit-newdir", false, 0, "etc/berth-unit-newdir"},
    {"rel_up/berth-unit-newdir2", false, 0, "etc/berth-unit-newdir2"},
    {"../../../berth-unit-x/y", false, 0, "berth-unit-x/y"},
    {"dir/up/z", false, 0, "z"},
    {"chain1/deep/er", false, 0, "etc/deep/er"},
    {"files/f.txt", true, 0, "files/f.txt"},
    {"abs_etc/berth-unit-hosts", true, 0, "etc/berth-unit-hosts"},
    {"file", false, 0, "file"},
    {"etc", true, 0, "etc"},
    {"loop1/x", false, ELOOP, NULL},
    {"file/x", false, ENOTDIR, NULL},
    /* a dangling symlink as the last component: its target is created, inside root */
    {"dangling", false, 0, "berth-unit-dangling-dir"},
    {"dangling_rel/sub", false, 0, "berth-unit-dangling-rel/sub"},
};

#define N_OPEN BERTH_ARRAY_SIZE(open_cases)
#define N_MKDIR BERTH_ARRAY_SIZE(mkdir_cases)

/* A one-line summary of an outcome, compared between the two modes. */
static void
outcome(char *buf, size_t len, int r, const char *err_text, bool node_ok)
{
    if (r < 0)
        snprintf(buf, len, "error %s%s%s", strerror(-r), err_text ? ": " : "",
                 err_text ? "(message)" : "");
    else
        snprintf(buf, len, "an fd%s", node_ok ? " on the expected node" : "");
}

static char open_results[2][N_OPEN][128];
static char mkdir_results[2][N_MKDIR][128];

static void
run_mode(int mode)
{
    const char *name = mode ? "fallback" : "openat2";
    berth_fs_force_fallback(mode == 1);
    char root[256];
    snprintf(root, sizeof(root), "%s/%s/root", tmp, name);
    if (!build_tree(root)) {
        ok(false, "%s: build the tree: %s", name, strerror(errno));
        return;
    }
    _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

    for (size_t i = 0; i < N_OPEN; i++) {
        const struct open_case *c = &open_cases[i];
        int fd = berth_open_in_root(rootfd, c->path, c->flags, 0644);
        bool node_ok = fd >= 0 && c->want && fd_is(fd, root, c->want);
        outcome(open_results[mode][i], sizeof(open_results[mode][i]), fd, NULL, node_ok);
        if (c->want_errno)
            ok(fd == -c->want_errno, "%s: open '%s' (flags %#o): %s", name, c->path, c->flags,
               strerror(c->want_errno));
        else
            ok(node_ok, "%s: open '%s' (flags %#o) gives root/%s", name, c->path, c->flags,
               c->want);
        if ((c->want_errno && fd != -c->want_errno) || (!c->want_errno && !node_ok))
            printf("#   got: %s\n", open_results[mode][i]);
        if (fd >= 0) {
            int fl = fcntl(fd, F_GETFD);
            ok(fl >= 0 && (fl & FD_CLOEXEC), "%s: fd of '%s' is close-on-exec", name, c->path);
            close(fd);
        }
    }
    /* the content check: the file read through an absolute symlink is root's */
    int fd = berth_open_in_root(rootfd, "abs_etc/passwd", O_RDONLY, 0);
    char buf[64] = "";
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    ok(n == 7 && !memcmp(buf, "inside\n", 7), "%s: abs_etc/passwd reads root's etc/passwd", name);

    for (size_t i = 0; i < N_MKDIR; i++) {
        const struct mkdir_case *c = &mkdir_cases[i];
        struct berth_error *e = NULL;
        int rfd = -1;
        int r = berth_mkdir_in_root(rootfd, c->path, 0755, c->last_is_file, &rfd, &e);
        bool node_ok = r == 0 && rfd >= 0 && c->want && fd_is(rfd, root, c->want);
        outcome(mkdir_results[mode][i], sizeof(mkdir_results[mode][i]), r, e ? e->msg : NULL,
                node_ok);
        if (c->want_errno) {
            ok(r == -c->want_errno && e && e->code == c->want_errno, "%s: mkdir_in_root '%s': %s",
               name, c->path, strerror(c->want_errno));
            ok(e && e->msg && strstr(e->msg, c->path) && strstr(e->msg, "in the container"),
               "%s: the message names '%s' in the container", name, c->path);
        } else {
            ok(node_ok, "%s: mkdir_in_root '%s'%s gives root/%s", name, c->path,
               c->last_is_file ? " (file)" : "", c->want);
        }
        if ((c->want_errno && r != -c->want_errno) || (!c->want_errno && !node_ok))
            printf("#   got: %d %s\n", r, e ? e->msg : "");
        if (r == 0 && !c->want_errno) {
            struct stat st;
            bool want_file = c->last_is_file && strcmp(c->want, "etc");
            bool kind_ok =
                fstat(rfd, &st) == 0 &&
                (want_file || !strcmp(c->want, "file") ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode));
            ok(kind_ok, "%s: '%s' is a %s", name, c->path,
               want_file || !strcmp(c->want, "file") ? "regular file" : "directory");
            int fl = fcntl(rfd, F_GETFL);
            ok(fl >= 0 && (fl & O_PATH), "%s: the returned fd is O_PATH", name);
        }
        if (rfd >= 0)
            close(rfd);
        berth_error_free(e);
    }

    /* the modes of created directories come from the caller */
    struct stat st;
    char p[512];
    snprintf(p, sizeof(p), "%s/a/b", root);
    ok(stat(p, &st) == 0 && (st.st_mode & 0777) == (0755 & ~(mode_t)022),
       "%s: created directories get the mode asked (less umask)", name);
}

static void
test_escapes(void)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(escape_paths); i++) {
        struct stat st;
        bool escaped = lstat(escape_paths[i], &st) == 0;
        ok(!escaped, "nothing created at host path %s", escape_paths[i]);
        if (escaped) {
            struct berth_error *e = NULL;
            berth_rm_rf(escape_paths[i], &e);
            berth_error_free(e);
        }
    }
}

static void
test_fd_path(void)
{
    char buf[64];
    berth_fd_path(5, buf, sizeof(buf));
    is_str(buf, "/proc/self/fd/5", "fd_path");
    char small[8];
    berth_fd_path(123, small, sizeof(small));
    ok(strlen(small) == sizeof(small) - 1, "fd_path truncates into a small buffer");
}

int
main(void)
{
    umask(022);
    if (!tmpdir_make(tmp))
        return tap_done();
    _cleanup_close_ int probe =
        berth_openat2(AT_FDCWD, ".", O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
    ok(probe >= 0, "this kernel has openat2 (%s)", probe >= 0 ? "yes" : strerror(errno));

    run_mode(0);
    run_mode(1);
    berth_fs_force_fallback(false);

    for (size_t i = 0; i < N_OPEN; i++) {
        bool same = !strcmp(open_results[0][i], open_results[1][i]);
        ok(same, "same result both ways: open '%s' (flags %#o)", open_cases[i].path,
           open_cases[i].flags);
        if (!same)
            printf("#   openat2: %s\n#   fallback: %s\n", open_results[0][i], open_results[1][i]);
    }
    for (size_t i = 0; i < N_MKDIR; i++) {
        bool same = !strcmp(mkdir_results[0][i], mkdir_results[1][i]);
        ok(same, "same result both ways: mkdir_in_root '%s'", mkdir_cases[i].path);
        if (!same)
            printf("#   openat2: %s\n#   fallback: %s\n", mkdir_results[0][i], mkdir_results[1][i]);
    }
    test_escapes();
    test_fd_path();

    tmpdir_remove(tmp, "temporary directory removed");
    return tap_done();
}
