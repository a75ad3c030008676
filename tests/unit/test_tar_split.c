/* Unit tests of lib/image/tar_split.c through the store, as load and import use it: layers added
 * from files keep a tar-split instead of their tar, and the tar rebuilt from it must be the
 * original byte for byte (its digest is the diff ID). Tars made by libarchive's writers (pax,
 * GNU long names, ustar prefixes, sparse files, xattrs, hard links) and by hand (a global pax
 * header, a pax size, non-zero padding, bytes after the end); tars whose files do not keep
 * their entries' data (a name twice, a whiteout or a directory over a file, a hard link over
 * one) fall back to the blob; a changed layer file or a damaged split is a clear error at save.
 * Needs root (layers unpack in a chroot). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "image/digest.h"
#include "image/store.h"
#include "storeutil.h"
#include "testutil.h"

static char base[] = "/tmp/berth-tarsplit-XXXXXX";
static char root[PATH_MAX];

/* ---- tars by libarchive ---- */

struct ent {
    const char *name;
    char type;        /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
    const char *data; /* file data, or the link target */
    size_t size;      /* file size (data repeated) */
};

static void
fill(char *buf, size_t n, const char *pattern)
{
    size_t p = strlen(pattern);
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern[i % p];
}

static int
tar_lib(int format, bool gzip, const struct ent *ents, size_t n, bool xattr, bool sparse)
{
    int fd = memfd_create("tar", MFD_CLOEXEC);
    struct archive *a = archive_write_new();
    archive_write_set_format(a, format);
    if (gzip)
        archive_write_add_filter_gzip(a);
    archive_write_open_fd(a, fd);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_pathname(e, ents[i].name);
        archive_entry_set_mtime(e, 1600000000, 0);
        archive_entry_set_uid(e, 1000 + (int64_t)i);
        switch (ents[i].type) {
        case 'd':
            archive_entry_set_mode(e, AE_IFDIR | 0755);
            break;
        case 'l':
            archive_entry_set_mode(e, AE_IFLNK | 0777);
            archive_entry_copy_symlink(e, ents[i].data);
            break;
        case 'h':
            archive_entry_set_mode(e, AE_IFREG | 0644);
            archive_entry_copy_hardlink(e, ents[i].data);
            break;
        default:
            archive_entry_set_mode(e, AE_IFREG | 0640);
            archive_entry_set_size(e, (la_int64_t)ents[i].size);
            if (xattr)
                archive_entry_xattr_add_entry(e, "user.berth", "v", 1);
            if (sparse && ents[i].size >= 8192) {
                archive_entry_sparse_add_entry(e, 0, 1024);
                archive_entry_sparse_add_entry(e, 4096, 1024);
            }
        }
        archive_write_header(a, e);
        if (ents[i].type == 'f' && ents[i].size) {
            char *buf = malloc(ents[i].size);
            fill(buf, ents[i].size, ents[i].data);
            if (sparse && ents[i].size >= 8192) {
                archive_write_data(a, buf, 1024);
                archive_write_data(a, buf + 4096, 1024);
            } else {
                archive_write_data(a, buf, ents[i].size);
            }
            free(buf);
        }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* ---- tars by hand ---- */

/* A ustar header (storeutil.h's) with an octal size; link: a hard link's target, or NULL. */
static void
header(unsigned char h[512], const char *name, char type, uint64_t size, const char *link)
{
    char field[13];
    snprintf(field, sizeof(field), "%011llo", (unsigned long long)size);
    ustar_header(h, name, type, (const unsigned char *)field, link);
}

struct buf {
    unsigned char *p;
    size_t len;
};

static void
put(struct buf *b, const void *data, size_t n)
{
    b->p = realloc(b->p, b->len + n);
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

/* An entry: its header, data, and padding (filled with pad_byte). */
static void
put_entry(struct buf *b, const char *name, char type, const char *data, size_t size,
          unsigned char pad_byte)
{
    unsigned char h[512];
    header(h, name, type, size, NULL);
    put(b, h, 512);
    if (size)
        put(b, data, size);
    unsigned char pad[512];
    memset(pad, pad_byte, sizeof(pad));
    if (size % 512)
        put(b, pad, 512 - size % 512);
}

static void
put_end(struct buf *b)
{
    unsigned char z[1024] = {0};
    put(b, z, sizeof(z));
}

static int
fd_of(struct buf *b)
{
    int fd = memfd_create("tar", MFD_CLOEXEC);
    (void)!write(fd, b->p, b->len);
    lseek(fd, 0, SEEK_SET);
    free(b->p);
    *b = (struct buf){0};
    return fd;
}

/* ---- checks ---- */

static struct berth_store *
open_store(enum berth_driver driver)
{
    return store_open_at(root, driver);
}

static int
rebuild(struct berth_store *s, const char *chain, const char *diff, char out[72],
        struct berth_error **e)
{
    return layer_tar_digest_e(s, chain, diff, out, e);
}

/* <root>/<dir>/<hex of digest>[/<sub>] */
static bool
exists(const char *dir, const char *digest, const char *sub)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/%s/%s%s%s", root, dir, digest + 7, sub ? "/" : "", sub ? sub : "");
    struct stat st;
    return lstat(p, &st) == 0;
}

/* The sha256 of the uncompressed tar in fd (a plain tar). */
static void
digest_of(int fd, char out[72])
{
    lseek(fd, 0, SEEK_SET);
    berth_digest_fd(fd, out, NULL);
    lseek(fd, 0, SEEK_SET);
}

/* Adds the tar in fd as a base layer: a tar-split (want_split) or a blob, and either way the
 * tar save gets is the original. plain: fd is uncompressed (its digest is the diff ID). */
static void
case_layer(struct berth_store *s, const char *what, int fd, bool plain, bool want_split,
           char ret_chain[72], char ret_diff[72])
{
    char want[72] = "", chain[72] = "", diff[72] = "", got[72] = "";
    if (plain)
        digest_of(fd, want);
    struct berth_error *e = NULL;
    int r = berth_store_add_layer(s, NULL, fd, chain, diff, &e);
    close(fd);
    check(r == 0, "%s: added (%s)", what, e ? e->msg : "ok");
    berth_error_freep(&e);
    if (r < 0)
        return;
    if (plain)
        check(!strcmp(want, diff), "%s: the diff ID is the tar's digest", what);
    bool split = exists("layers", chain, "tar-split");
    bool blob = exists("blobs/sha256", diff, NULL);
    check(split == want_split && blob == !want_split, "%s: kept as a %s", what,
          want_split ? "tar-split" : "blob");
    r = rebuild(s, chain, diff, got, &e);
    check(r == 0 && !strcmp(got, diff), "%s: save gets the same tar (%s)", what, e ? e->msg : got);
    berth_error_freep(&e);
    if (ret_chain)
        memcpy(ret_chain, chain, 72);
    if (ret_diff)
        memcpy(ret_diff, diff, 72);
}

static const struct ent mixed[] = {
    {"usr", 'd', NULL, 0},
    {"usr/bin", 'd', NULL, 0},
    {"usr/bin/tool", 'f', "tool-", 70000},
    {"usr/bin/empty", 'f', "", 0},
    {"usr/bin/block", 'f', "b", 512},
    {"usr/bin/block1", 'f', "c", 513},
    {"usr/share/a-rather-long-directory-name-that-goes-on-and-on/and-a-file-name-that-is-also-"
     "long-enough-to-need-an-extension",
     'f', "long", 3000},
    {"usr/bin/link", 'l',
     "../share/a-rather-long-directory-name-that-goes-on-and-on/and-a-target-name-that-is-long-"
     "enough-for-a-pax-record",
     0},
    {"usr/bin/hard", 'h', "usr/bin/tool", 0},
    {"etc/conf", 'f', "key=value\n", 10},
};
#define N_MIXED (sizeof(mixed) / sizeof(mixed[0]))

static void
test_made_by_libarchive(struct berth_store *s)
{
    case_layer(s, "pax",
               tar_lib(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, false, mixed, N_MIXED, false, false),
               true, true, NULL, NULL);
    case_layer(s, "pax with xattrs",
               tar_lib(ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, false, mixed, N_MIXED, true, false),
               true, true, NULL, NULL);
    case_layer(s, "GNU long names",
               tar_lib(ARCHIVE_FORMAT_TAR_GNUTAR, false, mixed, N_MIXED, false, false), true, true,
               NULL, NULL);
    static const struct ent prefixed[] = {
        {"a-directory-name-of-sixty-characters-or-so-for-the-prefix-field/"
         "and-a-file-name-for-the-name-field-that-is-long",
         'f', "p", 600},
    };
    case_layer(s, "ustar prefix",
               tar_lib(ARCHIVE_FORMAT_TAR_USTAR, false, prefixed, 1, false, false), true, true,
               NULL, NULL);
    case_layer(s, "gzip",
               tar_lib(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, true, mixed, N_MIXED, false, false),
               false, true, NULL, NULL);
    static const struct ent sparse[] = {
        {"holes", 'f', "s", 65536},
        {"after", 'f', "after", 100},
    };
    case_layer(s, "pax sparse file",
               tar_lib(ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, false, sparse, 2, false, true), true,
               true, NULL, NULL);
}

static void
test_made_by_hand(struct berth_store *s)
{
    struct buf b = {0};
    /* a global header first, then a pax size over the header's 0 */
    const char global[] = "16 comment=hey\n";
    put_entry(&b, "pax_global_header", 'g', global, strlen(global), 0);
    const char local[] = "9 size=5\n";
    put_entry(&b, "PaxHeaders/f", 'x', local, strlen(local), 0);
    unsigned char h[512];
    header(h, "f", '0', 0, NULL);
    put(&b, h, 512);
    put(&b, "fives", 5);
    unsigned char pad[507] = {0};
    put(&b, pad, sizeof(pad));
    put_entry(&b, "g", '0', "gee", 3, 0);
    put_end(&b);
    case_layer(s, "global header and pax size", fd_of(&b), true, true, NULL, NULL);

    /* padding that is not zeros, and bytes after the end of the archive */
    put_entry(&b, "p1", '0', "padded", 6, 0xab);
    put_entry(&b, "p2", '0', "x", 1, '!');
    put_end(&b);
    put(&b, "GARBAGE AFTER THE END", 21);
    case_layer(s, "odd padding and trailing bytes", fd_of(&b), true, true, NULL, NULL);

    /* a GNU long name by hand */
    char longname[300];
    fill(longname, 299, "abcdefghi/");
    longname[299] = '\0';
    put_entry(&b, "././@LongLink", 'L', longname, 300, 0);
    put_entry(&b, "nnn", '0', "long-named", 10, 0);
    put_end(&b);
    case_layer(s, "GNU long name by hand", fd_of(&b), true, true, NULL, NULL);
}

/* Tars whose files do not all keep their entries' data: the blob is kept. */
static void
test_fallbacks(struct berth_store *s)
{
    struct buf b = {0};
    put_entry(&b, "dup", '0', "first", 5, 0);
    put_entry(&b, "dup", '0', "second!", 7, 0);
    put_end(&b);
    char chain[72], diff[72];
    case_layer(s, "a name twice", fd_of(&b), true, false, chain, diff);
    _cleanup_free_ char *lp = NULL;
    if (berth_store_layer_path(s, chain, &lp, NULL) == 0) {
        char p[PATH_MAX * 2], got[16] = "";
        snprintf(p, sizeof(p), "%s/dup", lp);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        (void)!read(fd, got, sizeof(got) - 1);
        close(fd);
        check(!strcmp(got, "second!"), "a name twice: the layer has the last one");
    }

    put_entry(&b, "a/f", '0', "whited", 6, 0);
    put_entry(&b, "a/.wh.f", '0', "", 0, 0);
    put_end(&b);
    case_layer(s, "a whiteout over a file of the layer", fd_of(&b), true, false, NULL, NULL);

    put_entry(&b, "x", '0', "file", 4, 0);
    put_entry(&b, "x/y", '0', "under", 5, 0);
    put_end(&b);
    case_layer(s, "a directory over a file", fd_of(&b), true, false, NULL, NULL);

    put_entry(&b, "p", '0', "0123456789", 10, 0);
    put_entry(&b, "q", '0', "abcdefghij", 10, 0);
    unsigned char h[512];
    header(h, "p", '1', 0, "q");
    put(&b, h, 512);
    put_end(&b);
    case_layer(s, "a hard link over a file", fd_of(&b), true, false, NULL, NULL);

    /* and a tar-split that does hold: a whiteout of something not in this layer */
    put_entry(&b, "d/kept", '0', "kept", 4, 0);
    put_entry(&b, "d/.wh.gone", '0', "", 0, 0);
    put_end(&b);
    case_layer(s, "a whiteout of a lower file", fd_of(&b), true, true, NULL, NULL);
}

/* Save fails clearly when the layer's files or its split changed under it. */
static void
test_damage(struct berth_store *s)
{
    char chain[72], diff[72], got[72];
    case_layer(s, "to damage",
               tar_lib(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, false, mixed, N_MIXED, false, false),
               true, true, chain, diff);
    _cleanup_free_ char *lp = NULL;
    if (berth_store_layer_path(s, chain, &lp, NULL) < 0)
        return;
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/etc/conf", lp);
    int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
    (void)!write(fd, "more\n", 5);
    close(fd);
    struct berth_error *e = NULL;
    check(rebuild(s, chain, diff, got, &e) < 0 && e && strstr(e->msg, "etc/conf") &&
              strstr(e->msg, "changed since it was unpacked"),
          "a layer file that grew: save says which (%s)", e ? e->msg : "no error");
    berth_error_freep(&e);
    unlink(p);
    check(rebuild(s, chain, diff, got, &e) < 0 && e && strstr(e->msg, "etc/conf"),
          "a layer file removed: save says which (%s)", e ? e->msg : "no error");
    berth_error_freep(&e);
    snprintf(p, sizeof(p), "%s/layers/%s/tar-split", root, chain + 7);
    struct stat st;
    check(stat(p, &st) == 0 && truncate(p, st.st_size - 5) == 0, "the split truncated");
    check(rebuild(s, chain, diff, got, &e) < 0 && e && strstr(e->msg, "tar-split"),
          "a damaged split is an error (%s)", e ? e->msg : "no error");
    berth_error_freep(&e);
    check(truncate(p, 3) == 0 && rebuild(s, chain, diff, got, &e) < 0 && e,
          "and so is a split of 3 bytes");
    berth_error_freep(&e);
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
    mkdir(root, 0700);
    struct berth_store *s = open_store(BERTH_DRIVER_OVERLAY2);
    check(s != NULL, "store opened");
    if (s) {
        test_made_by_libarchive(s);
        test_made_by_hand(s);
        test_fallbacks(s);
        test_damage(s);
        berth_store_close(s);
    }
    berth_rm_rf(root, NULL);
    mkdir(root, 0700);
    s = open_store(BERTH_DRIVER_VFS);
    if (s) {
        case_layer(s, "vfs base layer",
                   tar_lib(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, false, mixed, N_MIXED, false, false),
                   true, true, NULL, NULL);
        berth_store_close(s);
    }
    berth_rm_rf(base, NULL);
    return tap_done();
}
