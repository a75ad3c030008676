/* Unit tests of lib/image/layer.c through the store: tars built here with libarchive (plain,
 * gzip, zstd, xz, bzip2; files, directories, symlinks, hard links, devices, fifos, owners, modes,
 * xattrs) unpacked by both drivers, whiteouts, chains, reuse, the vfs tree copy, and hostile
 * tars that must be refused or neutralised with nothing written outside the layer: a canary
 * directory next to the data root must stay empty. Needs root (chroot, mknod, chown). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "image/digest.h"
#include "image/layer.h"
#include "image/store.h"
#include "storeutil.h"
#include "testutil.h"

#define MTIME 1600000000

static char base[] = "/tmp/berth-layer-XXXXXX";
static char root[PATH_MAX], canary[PATH_MAX];

struct tent {
    char type; /* f file, d dir, l symlink, h hard link, c/b device, p fifo */
    const char *name;
    const char *data; /* content, or link target */
    unsigned mode;
    int uid, gid;
    int maj, min;
    const char *xname, *xval;
};

/* A tar in a memfd, positioned at 0. comp: plain gzip zstd xz bzip2. */
static int
make_tar(const char *comp, const struct tent *ents, size_t n)
{
    int fd = memfd_create("tar", MFD_CLOEXEC);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (!strcmp(comp, "gzip"))
        archive_write_add_filter_gzip(a);
    else if (!strcmp(comp, "zstd"))
        archive_write_add_filter_zstd(a);
    else if (!strcmp(comp, "xz"))
        archive_write_add_filter_xz(a);
    else if (!strcmp(comp, "bzip2"))
        archive_write_add_filter_bzip2(a);
    if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
        printf("# archive_write_open_fd: %s\n", archive_error_string(a));
    for (size_t i = 0; i < n; i++) {
        const struct tent *t = &ents[i];
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_pathname(e, t->name);
        unsigned perm = t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644);
        mode_t type = t->type == 'd'   ? AE_IFDIR
                      : t->type == 'l' ? AE_IFLNK
                      : t->type == 'c' ? AE_IFCHR
                      : t->type == 'b' ? AE_IFBLK
                      : t->type == 'p' ? AE_IFIFO
                                       : AE_IFREG;
        archive_entry_set_mode(e, type | perm);
        archive_entry_set_uid(e, t->uid);
        archive_entry_set_gid(e, t->gid);
        archive_entry_set_mtime(e, MTIME, 0);
        if (t->type == 'l')
            archive_entry_copy_symlink(e, t->data);
        if (t->type == 'h')
            archive_entry_copy_hardlink(e, t->data);
        if (t->type == 'c' || t->type == 'b') {
            archive_entry_set_rdevmajor(e, t->maj);
            archive_entry_set_rdevminor(e, t->min);
        }
        if (t->xname)
            archive_entry_xattr_add_entry(e, t->xname, t->xval, strlen(t->xval));
        size_t len = t->type == 'f' && t->data ? strlen(t->data) : 0;
        archive_entry_set_size(e, (la_int64_t)len);
        if (archive_write_header(a, e) != ARCHIVE_OK)
            printf("# archive_write_header %s: %s\n", t->name, archive_error_string(a));
        if (len)
            archive_write_data(a, t->data, len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static int
count_in_root(const char *sub)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/%s", root, sub);
    return count_entries(p);
}

static bool
file_is(const char *dir, const char *rel, const char *content)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (berth_read_file(p, 1 << 20, &buf, &len, NULL) < 0)
        return false;
    bool same = len == strlen(content) && !memcmp(buf, content, len);
    if (!same)
        printf("#   %s: '%s', expected '%s'\n", rel, buf, content);
    return same;
}

static bool
lstat_at(const char *dir, const char *rel, struct stat *st)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    return lstat(p, st) == 0;
}

static bool
xattr_is(const char *dir, const char *rel, const char *name, const char *want)
{
    char p[PATH_MAX * 2], v[256];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    ssize_t n = lgetxattr(p, name, v, sizeof(v) - 1);
    if (n < 0)
        return want == NULL;
    v[n] = '\0';
    return want && !strcmp(v, want);
}

static struct berth_store *
open_store(enum berth_driver driver)
{
    return store_open_at(root, driver);
}

static void
reset_root(void)
{
    berth_rm_rf(root, NULL);
    mkdir(root, 0700);
}

static char *
layer_dir(struct berth_store *s, const char *chain)
{
    char *p = NULL;
    if (berth_store_layer_path(s, chain, &p, NULL) < 0)
        return NULL;
    return p;
}

/* Adds a layer; prints the error and returns false when it fails. */
static bool
add(struct berth_store *s, const char *parent, int fd, char chain[72], char diff[72])
{
    struct berth_error *e = NULL;
    int r = berth_store_add_layer(s, parent, fd, chain, diff, &e);
    if (r < 0)
        printf("# add_layer: %s\n", e ? e->msg : "?");
    berth_error_free(e);
    close(fd);
    return r == 0;
}

static const struct tent rich[] = {
    {'d', "etc", NULL, 0755, 0, 0, 0, 0, NULL, NULL},
    {'f', "etc/hosts", "127.0.0.1 localhost\n", 0644, 0, 0, 0, 0, NULL, NULL},
    {'f', "etc/owned", "mine\n", 0640, 1234, 5678, 0, 0, NULL, NULL},
    {'f', "bin/suid", "#!/bin/true\n", 04755, 0, 0, 0, 0, NULL, NULL},
    {'h', "bin/suid-link", "bin/suid", 0, 0, 0, 0, 0, NULL, NULL},
    {'l', "bin/sh", "suid", 0777, 0, 0, 0, 0, NULL, NULL},
    {'l', "abs", "/etc/hosts", 0777, 0, 0, 0, 0, NULL, NULL},
    {'d', "private", NULL, 0700, 42, 43, 0, 0, NULL, NULL},
    {'c', "dev/null", NULL, 0666, 0, 0, 1, 3, NULL, NULL},
    {'b', "dev/loop9", NULL, 0660, 0, 6, 7, 9, NULL, NULL},
    {'p', "run/fifo", NULL, 0600, 0, 0, 0, 0, NULL, NULL},
    {'f', "x/attr", "x", 0644, 0, 0, 0, 0, "user.berth", "hello"},
    {'d', "x/ovl", NULL, 0755, 0, 0, 0, 0, "trusted.overlay.redirect", "/etc"},
    {'f', "./dot/./slash//file", "norm", 0644, 0, 0, 0, 0, NULL, NULL},
};
/* regular file bytes in rich[] */
static int64_t
rich_size(void)
{
    int64_t n = 0;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(rich); i++)
        if (rich[i].type == 'f')
            n += (int64_t)strlen(rich[i].data);
    return n;
}

static void
check_rich(const char *d, const char *what)
{
    struct stat st, st2;
    check(file_is(d, "etc/hosts", "127.0.0.1 localhost\n"), "%s: file content", what);
    check(lstat_at(d, "etc/owned", &st) && st.st_uid == 1234 && st.st_gid == 5678 &&
              (st.st_mode & 07777) == 0640,
          "%s: owner 1234:5678 and mode 0640 kept", what);
    check(lstat_at(d, "etc/owned", &st) && st.st_mtime == MTIME, "%s: mtime kept", what);
    check(lstat_at(d, "bin/suid", &st) && (st.st_mode & 07777) == 04755, "%s: setuid bit kept",
          what);
    check(lstat_at(d, "bin/suid", &st) && lstat_at(d, "bin/suid-link", &st2) &&
              st.st_ino == st2.st_ino && st.st_nlink == 2,
          "%s: hard link inside the layer", what);
    char p[PATH_MAX * 2], target[64] = "";
    snprintf(p, sizeof(p), "%s/bin/sh", d);
    ssize_t n = readlink(p, target, sizeof(target) - 1);
    check(n == 4 && !memcmp(target, "suid", 4), "%s: relative symlink", what);
    snprintf(p, sizeof(p), "%s/abs", d);
    n = readlink(p, target, sizeof(target) - 1);
    check(n == 10 && !memcmp(target, "/etc/hosts", 10), "%s: absolute symlink kept as data", what);
    check(lstat_at(d, "private", &st) && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700 &&
              st.st_uid == 42 && st.st_gid == 43,
          "%s: directory mode and owner", what);
    check(lstat_at(d, "dev/null", &st) && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
          "%s: character device 1:3", what);
    check(lstat_at(d, "dev/loop9", &st) && S_ISBLK(st.st_mode) && st.st_rdev == makedev(7, 9) &&
              st.st_gid == 6,
          "%s: block device 7:9", what);
    check(lstat_at(d, "run/fifo", &st) && S_ISFIFO(st.st_mode), "%s: fifo", what);
    check(xattr_is(d, "x/attr", "user.berth", "hello"), "%s: user xattr restored", what);
    check(lstat_at(d, "x/ovl", &st) && xattr_is(d, "x/ovl", "trusted.overlay.redirect", NULL),
          "%s: trusted.overlay.* xattrs from the tar are dropped", what);
    check(file_is(d, "dot/slash/file", "norm"), "%s: \"./dot/./slash//file\" cleaned", what);
}

static const struct tent top[] = {
    {'f', "top", "3", 0644, 0, 0, 0, 0, NULL, NULL},
};

static void
test_formats(void)
{
    reset_root();
    struct berth_store *s = open_store(BERTH_DRIVER_OVERLAY2);
    check(s != NULL, "open an overlay2 store");
    if (!s)
        return;
    /* the diff ID is the digest of the uncompressed tar */
    int plain = make_tar("plain", rich, BERTH_ARRAY_SIZE(rich));
    char want[72];
    berth_digest_fd(plain, want, NULL);
    close(plain);

    const char *comps[] = {"plain", "gzip", "zstd", "xz", "bzip2"};
    char first_chain[72] = "";
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(comps); i++) {
        char chain[72], diff[72];
        int fd = make_tar(comps[i], rich, BERTH_ARRAY_SIZE(rich));
        bool added = add(s, NULL, fd, chain, diff);
        check(added, "add a %s layer", comps[i]);
        if (!added)
            continue;
        is_str(diff, want, "%s: diff ID is the uncompressed tar's digest", comps[i]);
        is_str(chain, diff, "%s: a base layer's chain ID is its diff ID", comps[i]);
        if (i == 0) {
            memcpy(first_chain, chain, 72);
            _cleanup_free_ char *d = layer_dir(s, chain);
            check(d != NULL, "layer path");
            if (d)
                check_rich(d, "overlay2");
        } else {
            is_str(chain, first_chain, "%s: same content reuses the layer", comps[i]);
        }
    }
    check(count_in_root("layers") == 1, "one layer directory for five adds");
    check(count_in_root("tmp") == 0, "tmp is empty");
    int64_t size = berth_store_layers_size(s);
    check(size == rich_size(), "layer size = bytes of regular files (%lld, want %lld)",
          (long long)size, (long long)rich_size());
    /* the uncompressed tar is kept (as a tar-split of the layer's files, since it came from a
     * file: no blob) and save gets it back byte for byte */
    int bfd = -1;
    char got[72] = "";
    check(berth_store_open_blob(s, want, &bfd, NULL) == -ENOENT, "no blob of the layer tar");
    check(layer_tar_digest_e(s, first_chain, want, got, NULL) == 0, "the layer tar is rebuilt");
    is_str(got, want, "the rebuilt layer tar is the diff ID's");
    if (bfd >= 0)
        close(bfd);

    /* streamed from a pipe (as a pull does) */
    int p[2];
    check(pipe2(p, O_CLOEXEC) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        int fd = make_tar("gzip", rich, BERTH_ARRAY_SIZE(rich));
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            if (berth_write_all(p[1], buf, (size_t)n) < 0)
                _exit(1);
        _exit(0);
    }
    close(p[1]);
    char chain[72], diff[72];
    check(add(s, NULL, p[0], chain, diff) && !strcmp(diff, want), "a gzip stream from a pipe");
    waitpid(pid, NULL, 0);

    /* an empty layer (docker's 1024 zero bytes, and nothing at all) */
    int fd = make_tar("plain", NULL, 0);
    check(add(s, NULL, fd, chain, diff), "an empty tar is a layer");
    fd = memfd_create("empty", MFD_CLOEXEC);
    check(add(s, NULL, fd, chain, diff), "an empty stream is a layer");
    char empty[72];
    berth_digest_buffer("", 0, empty);
    is_str(diff, empty, "its diff ID is sha256 of nothing");
    /* not a tar at all */
    fd = memfd_create("junk", MFD_CLOEXEC);
    check(berth_write_all(fd, "hello, world\n", 13) == 0 && lseek(fd, 0, SEEK_SET) == 0, "junk");
    struct berth_error *e = NULL;
    check(berth_store_add_layer(s, NULL, fd, chain, diff, &e) < 0, "a text file is refused");
    printf("#   %s\n", e ? e->msg : "");
    berth_error_freep(&e);
    close(fd);
    check(count_in_root("tmp") == 0, "tmp is empty after the failure");
    berth_store_close(s);

    /* vfs: a child layer starts as a faithful copy of everything the parent has */
    reset_root();
    s = open_store(BERTH_DRIVER_VFS);
    char c1[72], d1[72], c2[72], d2[72];
    check(s && add(s, NULL, make_tar("gzip", rich, BERTH_ARRAY_SIZE(rich)), c1, d1) &&
              add(s, c1, make_tar("plain", top, 1), c2, d2),
          "vfs: a child on top of the rich layer");
    _cleanup_free_ char *d = s ? layer_dir(s, c2) : NULL;
    if (d) {
        check_rich(d, "vfs copy");
        check(file_is(d, "top", "3"), "vfs copy: and the child's own file");
    }
    berth_store_close(s);
}

static const struct tent lower[] = {
    {'f', "a/file1", "one", 0644, 0, 0, 0, 0, NULL, NULL},
    {'f', "a/file2", "two", 0644, 7, 8, 0, 0, NULL, NULL},
    {'f', "b/x", "x", 0644, 0, 0, 0, 0, NULL, NULL},
    {'d', "b/sub", NULL, 0755, 0, 0, 0, 0, NULL, NULL},
    {'f', "b/sub/deep", "deep", 0644, 0, 0, 0, 0, NULL, NULL},
    {'f', "c/y", "y", 0600, 3, 4, 0, 0, "user.keep", "kept"},
    {'h', "c/y2", "c/y", 0, 0, 0, 0, 0, NULL, NULL},
    {'f', "gone/inner", "i", 0644, 0, 0, 0, 0, NULL, NULL},
    {'c', "dev/zero", NULL, 0666, 0, 0, 1, 5, NULL, NULL},
    {'l', "lnk", "a/file2", 0777, 0, 0, 0, 0, NULL, NULL},
};

static const struct tent upper[] = {
    {'f', "a/.wh.file1", "", 0644, 0, 0, 0, 0, NULL, NULL},
    {'d', "b", NULL, 0755, 0, 0, 0, 0, NULL, NULL},
    {'f', "b/new", "new", 0644, 0, 0, 0, 0, NULL, NULL},
    {'f', "b/.wh..wh..opq", "", 0644, 0, 0, 0, 0, NULL, NULL},
    {'f', ".wh.gone", "", 0644, 0, 0, 0, 0, NULL, NULL},
    {'f', "new/.wh..wh..opq", "", 0644, 0, 0, 0, 0, NULL, NULL},
    {'f', "a/.wh..wh.plnk", "", 0644, 0, 0, 0, 0, NULL, NULL},
};

static void
test_whiteouts(enum berth_driver driver)
{
    const char *dn = driver == BERTH_DRIVER_VFS ? "vfs" : "overlay2";
    reset_root();
    struct berth_store *s = open_store(driver);
    if (!s) {
        check(false, "%s: open store", dn);
        return;
    }
    char c1[72], d1[72], c2[72], d2[72], c3[72], d3[72];
    bool ok1 = add(s, NULL, make_tar("gzip", lower, BERTH_ARRAY_SIZE(lower)), c1, d1);
    bool ok2 = ok1 && add(s, c1, make_tar("gzip", upper, BERTH_ARRAY_SIZE(upper)), c2, d2);
    bool ok3 = ok2 && add(s, c2, make_tar("plain", top, 1), c3, d3);
    check(ok1 && ok2 && ok3, "%s: a chain of three layers", dn);
    if (!ok3) {
        berth_store_close(s);
        return;
    }
    /* OCI: chain(Ln) = sha256(chain(Ln-1) + " " + diff(Ln)) */
    char buf[200], want[72];
    snprintf(buf, sizeof(buf), "%s %s", c1, d2);
    berth_digest_buffer(buf, strlen(buf), want);
    is_str(c2, want, "%s: chain ID of layer 2", dn);
    snprintf(buf, sizeof(buf), "%s %s", c2, d3);
    berth_digest_buffer(buf, strlen(buf), want);
    is_str(c3, want, "%s: chain ID of layer 3", dn);

    _cleanup_free_ char *l1 = layer_dir(s, c1), *l2 = layer_dir(s, c2), *l3 = layer_dir(s, c3);
    struct stat st, st2;
    check(lstat_at(l2, "a/.wh.file1", &st) == false && lstat_at(l2, "b/.wh..wh..opq", &st) == false,
          "%s: whiteout entries are not extracted as files", dn);
    check(!lstat_at(l2, "a/.wh..wh.plnk", &st), "%s: aufs metadata skipped", dn);
    check(file_is(l2, "b/new", "new"), "%s: the opaque directory's own file", dn);
    if (driver == BERTH_DRIVER_OVERLAY2) {
        check(lstat_at(l2, "a/file1", &st) && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
              "overlay2: .wh.file1 became a 0/0 character device");
        check(lstat_at(l2, "gone", &st) && S_ISCHR(st.st_mode), "overlay2: .wh.gone at the top");
        check(xattr_is(l2, "b", "trusted.overlay.opaque", "y"),
              "overlay2: opaque directory has trusted.overlay.opaque=y");
        check(xattr_is(l2, "new", "trusted.overlay.opaque", "y"),
              "overlay2: an opaque marker creates its directory");
        check(!lstat_at(l2, "a/file2", &st) && !lstat_at(l2, "b/x", &st),
              "overlay2: a layer holds only its own files");
        check(!lstat_at(l3, "b/new", &st) && file_is(l3, "top", "3"),
              "overlay2: layer 3 holds only its own files");
    } else {
        check(!lstat_at(l2, "a/file1", &st), "vfs: .wh.file1 deleted a/file1");
        check(file_is(l2, "a/file2", "two") && lstat_at(l2, "a/file2", &st) && st.st_uid == 7 &&
                  st.st_gid == 8,
              "vfs: the sibling was copied with its owner");
        check(!lstat_at(l2, "b/x", &st) && !lstat_at(l2, "b/sub", &st),
              "vfs: the opaque directory lost the parent's entries");
        check(!lstat_at(l2, "gone", &st), "vfs: .wh.gone removed a whole directory");
        check(lstat_at(l2, "new", &st) && S_ISDIR(st.st_mode), "vfs: opaque marker makes no harm");
        check(file_is(l2, "c/y", "y") && lstat_at(l2, "c/y", &st) && lstat_at(l1, "c/y", &st2) &&
                  st.st_ino != st2.st_ino,
              "vfs: files are copied, not hard-linked to the parent");
        check(lstat_at(l2, "c/y", &st) && st.st_uid == 3 && st.st_gid == 4 &&
                  (st.st_mode & 07777) == 0600 && st.st_mtime == MTIME,
              "vfs: owner, mode and mtime copied");
        check(xattr_is(l2, "c/y", "user.keep", "kept"), "vfs: xattrs copied");
        check(lstat_at(l2, "c/y", &st) && lstat_at(l2, "c/y2", &st2) && st.st_ino == st2.st_ino &&
                  st.st_nlink == 2,
              "vfs: hard links inside the copy are preserved");
        check(lstat_at(l2, "dev/zero", &st) && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5),
              "vfs: device nodes copied");
        char p[PATH_MAX * 2], t[32] = "";
        snprintf(p, sizeof(p), "%s/lnk", l2);
        check(readlink(p, t, sizeof(t)) == 7 && !memcmp(t, "a/file2", 7), "vfs: symlink copied");
        check(file_is(l3, "b/new", "new") && file_is(l3, "top", "3") && !lstat_at(l3, "b/x", &st),
              "vfs: layer 3 is the whole tree");
        check(file_is(l1, "a/file1", "one") && file_is(l1, "b/x", "x"),
              "vfs: the parent is untouched");
    }
    /* size counts only the layer's own regular files, whatever the driver */
    int64_t total = berth_store_layers_size(s);
    int64_t want_size = 3 + 3 + 1 + 4 + 1 + 1 + 3 + 1;
    check(total == want_size, "%s: layer sizes count each layer's own bytes (%lld, want %lld)", dn,
          (long long)total, (long long)want_size);

    /* reuse: the same chain again is not unpacked twice */
    char cx[72], dx[72];
    check(add(s, c1, make_tar("xz", upper, BERTH_ARRAY_SIZE(upper)), cx, dx) && !strcmp(cx, c2),
          "%s: adding an existing chain reuses it", dn);
    check(count_in_root("layers") == 3 && count_in_root("tmp") == 0, "%s: still three layers", dn);
    /* the same diff on another parent is another chain */
    char c4[72], d4[72];
    check(add(s, NULL, make_tar("plain", upper, BERTH_ARRAY_SIZE(upper)), c4, d4) &&
              !strcmp(d4, d2) && strcmp(c4, c2) != 0,
          "%s: same diff on another parent: new chain ID", dn);
    struct berth_error *e = NULL;
    char bogus[72];
    memset(bogus, 0, sizeof(bogus));
    snprintf(bogus, sizeof(bogus), "sha256:%064d", 0);
    int fd = make_tar("plain", top, 1);
    check(berth_store_add_layer(s, bogus, fd, cx, dx, &e) == -ENOENT && msg_has(e, "No such layer"),
          "%s: an unknown parent is ENOENT", dn);
    close(fd);
    berth_error_freep(&e);
    berth_store_close(s);
}

/* ---- hostile tars ---- */

static int
tar_from_blocks(const unsigned char *blocks, size_t len)
{
    int fd = memfd_create("hostile", MFD_CLOEXEC);
    if (berth_write_all(fd, blocks, len) < 0)
        return -1;
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static bool
outside_untouched(void)
{
    int n = count_entries(canary);
    int m = count_entries(base);
    if (n != 0 || m != 2)
        printf("#   canary has %d entries, base has %d\n", n, m);
    return n == 0 && m == 2;
}

/* Expects a refusal whose message contains want; nothing registered, tmp empty. */
static void
refused(struct berth_store *s, const char *what, int fd, const char *want)
{
    int before = count_in_root("layers");
    struct berth_error *e = NULL;
    char chain[72], diff[72];
    int r = berth_store_add_layer(s, NULL, fd, chain, diff, &e);
    close(fd);
    check(r < 0 && msg_has(e, want), "%s: refused", what);
    if (e)
        printf("#   %s\n", e->msg);
    berth_error_free(e);
    check(count_in_root("layers") == before && count_in_root("tmp") == 0,
          "%s: no layer registered, tmp empty", what);
    check(outside_untouched(), "%s: nothing written outside the layer", what);
}

/* Expects the layer to be added; returns its directory. */
static char *
neutralised(struct berth_store *s, const char *what, const char *parent, int fd)
{
    char chain[72], diff[72];
    bool added = add(s, parent, fd, chain, diff);
    check(added, "%s: accepted", what);
    check(outside_untouched(), "%s: nothing written outside the layer", what);
    return added ? layer_dir(s, chain) : NULL;
}

static void
test_hostile(enum berth_driver driver)
{
    const char *dn = driver == BERTH_DRIVER_VFS ? "vfs" : "overlay2";
    reset_root();
    struct berth_store *s = open_store(driver);
    if (!s) {
        check(false, "%s: open store", dn);
        return;
    }
    printf("# hostile tars, %s\n", dn);
    char host_escape[64];
    snprintf(host_escape, sizeof(host_escape), "/berth-escape-%d", (int)getpid());
    struct stat st;

    const struct tent dotdot[] = {{'f', "../escape", "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "\"../escape\"", make_tar("plain", dotdot, 1),
            "layer entry \"../escape\": path escapes the layer");
    const struct tent deep[] = {{'f', "a/../../canary/x", "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "\"a/../../canary/x\"", make_tar("gzip", deep, 1), "path escapes the layer");
    const struct tent canary5[] = {
        {'f', "../../../../../canary/x", "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "\"../../../../../canary/x\"", make_tar("plain", canary5, 1),
            "path escapes the layer");

    const struct tent abs[] = {{'f', &host_escape[0], "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    _cleanup_free_ char *l = neutralised(s, "absolute path", NULL, make_tar("plain", abs, 1));
    check(l && file_is(l, host_escape + 1, "x") && lstat(host_escape, &st) < 0,
          "absolute path: lands inside the layer, not on the host");
    free(TAKE_PTR(l));

    char esc[128];
    snprintf(esc, sizeof(esc), "link%s", host_escape);
    const struct tent via_root[] = {{'l', "link", "/", 0777, 0, 0, 0, 0, NULL, NULL},
                                    {'f', esc, "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    l = neutralised(s, "symlink to / then a file through it", NULL, make_tar("plain", via_root, 2));
    check(l && lstat(host_escape, &st) < 0 && lstat_at(l, "link", &st) && S_ISDIR(st.st_mode) &&
              file_is(l, esc, "x"),
          "symlink to /: replaced by a directory, the file stays in the layer");
    free(TAKE_PTR(l));

    const struct tent via_up[] = {
        {'l', "dir", "../../../../../canary", 0777, 0, 0, 0, 0, NULL, NULL},
        {'f', "dir/file", "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    l = neutralised(s, "symlink up to the canary then a file under it", NULL,
                    make_tar("plain", via_up, 2));
    check(l && file_is(l, "dir/file", "x"), "the file stays in the layer");
    free(TAKE_PTR(l));

    const struct tent via_up3[] = {{'l', "dir", "../../..", 0777, 0, 0, 0, 0, NULL, NULL},
                                   {'f', "dir/file", "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    l = neutralised(s, "symlink \"dir -> ../../..\" then dir/file", NULL,
                    make_tar("plain", via_up3, 2));
    free(TAKE_PTR(l));

    struct stat pw;
    stat("/etc/passwd", &pw);
    const struct tent hl_passwd[] = {{'h', "passwd", "/etc/passwd", 0, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "hard link to /etc/passwd", make_tar("plain", hl_passwd, 1), "layer entry");
    check(stat("/etc/passwd", &st) == 0 && st.st_nlink == pw.st_nlink && st.st_ino == pw.st_ino,
          "/etc/passwd keeps its link count");
    const struct tent hl_up[] = {{'h', "x", "../x", 0, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "hard link to ../x", make_tar("plain", hl_up, 1),
            "layer entry \"x\": hard link target escapes the layer");
    const struct tent hl_canary[] = {
        {'f', "ok", "ok", 0644, 0, 0, 0, 0, NULL, NULL},
        {'h', "y", "../../../../../canary/x", 0, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "hard link into the canary", make_tar("plain", hl_canary, 2),
            "hard link target escapes the layer");

    /* a whiteout cannot reach out either */
    const struct tent wh_up[] = {{'f', "../.wh.canary", "", 0644, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "whiteout \"../.wh.canary\"", make_tar("plain", wh_up, 1), "path escapes the layer");

    /* names longer than PATH_MAX */
    char longname[5001];
    for (int i = 0; i < 5000; i++)
        longname[i] = (i % 100 == 99) ? '/' : 'n';
    longname[5000] = '\0';
    const struct tent lng[] = {{'f', longname, "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "a 5000-byte name", make_tar("plain", lng, 1), "name longer than PATH_MAX");
    char longcomp[5001];
    memset(longcomp, 'c', 5000);
    longcomp[5000] = '\0';
    const struct tent lng2[] = {{'f', longcomp, "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "a 5000-byte single component", make_tar("plain", lng2, 1),
            "name longer than PATH_MAX");
    const struct tent lng3[] = {{'l', "s", longcomp, 0777, 0, 0, 0, 0, NULL, NULL}};
    refused(s, "a 5000-byte symlink target", make_tar("plain", lng3, 1),
            "symlink target longer than PATH_MAX");

    /* corrupt headers */
    unsigned char blocks[512 * 5];
    memset(blocks, 0, sizeof(blocks));
    ustar_header(blocks, "huge", '0', (const unsigned char *)"77777777777", NULL);
    memset(blocks + 512, 'A', 512);
    refused(s, "an 8 GiB size field on a tiny tar", tar_from_blocks(blocks, sizeof(blocks)),
            "layer entry \"huge\": size");
    unsigned char b256[12] = {0x80, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0};
    memset(blocks, 0, sizeof(blocks));
    ustar_header(blocks, "huger", '0', b256, NULL);
    refused(s, "a base-256 size of 2^62", tar_from_blocks(blocks, sizeof(blocks)), "layer entry");
    memset(blocks, 0, sizeof(blocks));
    ustar_header(blocks, "bad", '0', (const unsigned char *)"00000000001", NULL);
    blocks[148] ^= 1; /* checksum */
    refused(s, "a bad header checksum", tar_from_blocks(blocks, sizeof(blocks)), "read layer tar");

    /* truncated: the second file's data stops half-way */
    static char big[20000];
    memset(big, 'b', sizeof(big) - 1);
    static char small[3000];
    memset(small, 's', sizeof(small) - 1);
    const struct tent two[] = {{'f', "big", big, 0644, 0, 0, 0, 0, NULL, NULL},
                               {'f', "small", small, 0644, 0, 0, 0, 0, NULL, NULL}};
    int fd = make_tar("plain", two, 2);
    check(ftruncate(fd, 512 + 20480 + 512 + 1024) == 0, "truncate a tar");
    refused(s, "a truncated tar", fd, "read layer tar");
    fd = make_tar("gzip", two, 2);
    check(fstat(fd, &st) == 0 && ftruncate(fd, st.st_size / 2) == 0, "truncate a gzip stream");
    refused(s, "a truncated gzip stream", fd, "read layer tar");

    /* vfs: a hard link to an absolute path means the layer's own file, never the host's */
    if (driver == BERTH_DRIVER_VFS) {
        const struct tent base_etc[] = {
            {'f', "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644, 0, 0, 0, 0, NULL, NULL}};
        char c1[72], d1[72];
        check(add(s, NULL, make_tar("plain", base_etc, 1), c1, d1), "vfs: a base with passwd");
        l = neutralised(s, "vfs: hard link to /etc/passwd over a parent that has one", c1,
                        make_tar("plain", hl_passwd, 1));
        struct stat a, b;
        check(l && lstat_at(l, "passwd", &a) && lstat_at(l, "etc/passwd", &b) &&
                  a.st_ino == b.st_ino && a.st_ino != pw.st_ino,
              "vfs: the link points at the layer's etc/passwd");
        free(TAKE_PTR(l));
    }
    check(lstat(host_escape, &st) < 0, "nothing appeared at %s", host_escape);
    berth_store_close(s);
}

/* berth_store_add_layer_input: a range of a file, punched out after; a layer the store has is
 * not read; a diff ID other than the expected one is refused; progress reaches the total */
static int64_t progress_done, progress_total;

static void
on_progress(void *cls, int64_t done, int64_t total)
{
    (void)cls;
    progress_done = done;
    progress_total = total;
}

static void
test_inputs(void)
{
    reset_root();
    struct berth_store *s = open_store(BERTH_DRIVER_OVERLAY2);
    if (!s) {
        check(false, "inputs: open store");
        return;
    }
    int tar = make_tar("plain", rich, BERTH_ARRAY_SIZE(rich));
    struct stat st;
    check(fstat(tar, &st) == 0 && st.st_size > 0, "inputs: a plain tar");
    _cleanup_free_ char *data = malloc((size_t)st.st_size);
    check(data && pread(tar, data, (size_t)st.st_size, 0) == st.st_size, "inputs: read it");
    close(tar);
    char want[72];
    berth_digest_buffer(data, (size_t)st.st_size, want);

    /* 8 KiB of 'x' on each side of the tar, in a file on the store's filesystem */
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/body", base);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char pad[8192];
    memset(pad, 'x', sizeof(pad));
    check(fd >= 0 && berth_write_all(fd, pad, sizeof(pad)) == 0 &&
              berth_write_all(fd, data, (size_t)st.st_size) == 0 &&
              berth_write_all(fd, pad, sizeof(pad)) == 0,
          "inputs: the body file");
    struct berth_layer_input in = {.fd = fd,
                                   .offset = sizeof(pad),
                                   .length = st.st_size,
                                   .discard = true,
                                   .progress = on_progress};
    char chain[72], diff[72];
    struct berth_error *e = NULL;
    int r = berth_store_add_layer_input(s, NULL, &in, NULL, chain, diff, &e);
    check(r == 0 && !strcmp(diff, want), "inputs: a range of a file is a layer with its diff ID");
    if (e)
        printf("#   %s\n", e->msg);
    berth_error_freep(&e);
    check(progress_done == st.st_size && progress_total == st.st_size,
          "inputs: progress reaches the total (%lld of %lld)", (long long)progress_done,
          (long long)progress_total);
    _cleanup_free_ char *back = malloc((size_t)st.st_size + 2 * sizeof(pad));
    bool zeros = true, pads = true;
    if (back && pread(fd, back, (size_t)st.st_size + 2 * sizeof(pad), 0) ==
                    (ssize_t)(st.st_size + 2 * (off_t)sizeof(pad))) {
        for (off_t i = 0; i < st.st_size; i++)
            zeros &= back[sizeof(pad) + (size_t)i] == 0;
        pads = !memcmp(back, pad, sizeof(pad)) &&
               !memcmp(back + sizeof(pad) + st.st_size, pad, sizeof(pad));
    }
    check(zeros && pads, "inputs: the range was punched out, the bytes around it kept");
    _cleanup_free_ char *l = layer_dir(s, chain);
    check(l && file_is(l, "etc/hosts", "127.0.0.1 localhost\n"), "inputs: unpacked");

    /* the layer is there: given its diff ID, nothing is read (the fd is not even valid) */
    struct berth_layer_input none = {.fd = -1, .length = 5};
    char c2[72], d2[72];
    check(berth_store_add_layer_input(s, NULL, &none, want, c2, d2, NULL) == 0 &&
              !strcmp(c2, chain) && !strcmp(d2, want),
          "inputs: a layer in the store is not read again");

    /* another diff ID than the config's is refused, and leaves nothing */
    const struct tent one[] = {{'f', "x", "x", 0644, 0, 0, 0, 0, NULL, NULL}};
    int other = make_tar("gzip", one, 1);
    struct berth_layer_input oin = {.fd = other, .length = -1};
    char bogus[72] = "sha256:";
    memset(bogus + 7, '0', 64);
    bogus[71] = '\0';
    check(berth_store_add_layer_input(s, NULL, &oin, bogus, c2, d2, &e) == -EBADMSG &&
              msg_has(e, "the image config says"),
          "inputs: a diff ID other than the expected one is refused");
    berth_error_freep(&e);
    check(count_in_root("layers") == 1 && count_in_root("tmp") == 0,
          "inputs: nothing registered, tmp empty");
    close(other);
    close(fd);
    unlink(path);
    berth_store_close(s);
}

/* berth_layer_unpack's message for a child that cannot chroot (not a directory) */
static void
test_unpack_errors(void)
{
    int fd = make_tar("plain", top, 1);
    struct berth_error *e = NULL;
    int64_t size = 0;
    check(berth_layer_unpack(fd, "/nonexistent/berth", BERTH_DRIVER_OVERLAY2, &size, &e) ==
                  -ENOENT &&
              msg_has(e, "chroot"),
          "unpack into a missing directory: the child's error comes back");
    berth_error_freep(&e);
    int p[2];
    check(pipe2(p, O_CLOEXEC) == 0, "pipe");
    check(berth_layer_unpack(p[0], "/", BERTH_DRIVER_OVERLAY2, &size, &e) == -EINVAL,
          "unpack from a pipe is refused");
    berth_error_freep(&e);
    close(p[0]);
    close(p[1]);
    close(fd);

    /* ingest's bound on the uncompressed size */
    fd = make_tar("gzip", rich, BERTH_ARRAY_SIZE(rich));
    int out = memfd_create("out", MFD_CLOEXEC);
    char diff[72];
    uint64_t n = 0;
    check(berth_layer_ingest(fd, out, 1000, diff, &n, &e) == -EFBIG &&
              msg_has(e, "more than 1000 bytes"),
          "ingest refuses more than max_size uncompressed bytes");
    berth_error_freep(&e);
    lseek(fd, 0, SEEK_SET);
    check(berth_layer_ingest(fd, out, 0, diff, &n, NULL) == 0 && n > 1000 && n % 512 == 0,
          "and takes it without a bound (%llu bytes)", (unsigned long long)n);
    close(fd);
    close(out);
}

int
main(void)
{
    if (geteuid() != 0) {
        printf("1..0 # SKIP needs root\n");
        return 0;
    }
    if (!mkdtemp(base))
        return 1;
    snprintf(root, sizeof(root), "%s/root", base);
    snprintf(canary, sizeof(canary), "%s/canary", base);
    mkdir(canary, 0755);
    test_formats();
    test_whiteouts(BERTH_DRIVER_OVERLAY2);
    test_whiteouts(BERTH_DRIVER_VFS);
    test_hostile(BERTH_DRIVER_OVERLAY2);
    test_hostile(BERTH_DRIVER_VFS);
    test_unpack_errors();
    test_inputs();
    berth_rm_rf(base, NULL);
    return tap_done();
}
