/* docker save/load tarballs, docker import, and the default busybox image. */
#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/store.h"

static int add_layer_progress(struct berth_store *store, const char *parent,
                              const struct berth_layer_input *in, const char *expected_diff,
                              const struct berth_progress *progress, const char *id,
                              const char *status, char chain[72], char diff[72],
                              struct berth_error **err);

/* manifest.json, index.json and image configs larger than this are refused */
#define METADATA_MAX (16u << 20)

static void
now_rfc3339(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    berth_format_time(&ts, buf, len);
}

static const char *
go_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#else
    return "unknown";
#endif
}

/* Makes the config of a one-layer image and registers it. */
static int
register_single_layer_image(struct berth_store *store, const char *diff_id, json_t *cfg_obj,
                            const char *created, const char *created_by, const char *comment,
                            char ret_id[72], struct berth_error **err)
{
    json_t *config = json_object();
    json_object_set_new(config, "architecture", json_string(go_arch()));
    json_object_set_new(config, "os", json_string("linux"));
    json_object_set_new(config, "created", json_string(created));
    json_object_set_new(config, "config", cfg_obj);
    json_object_set_new(config, "rootfs",
                        json_pack("{s:s,s:[s]}", "type", "layers", "diff_ids", diff_id));
    json_t *hist = json_pack("{s:s,s:s}", "created", created, "created_by", created_by);
    if (comment && *comment)
        json_object_set_new(hist, "comment", json_string(comment));
    json_object_set_new(config, "history", json_pack("[o]", hist));
    char *text = json_dumps(config, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(config);
    if (!text)
        return berth_error_set(err, ENOMEM, "image config");
    int r = berth_store_add_image(store, text, strlen(text), ret_id, err);
    free(text);
    return r;
}

int
berth_archive_import(struct berth_store *store, int fd, const char *const *changes,
                     const char *message, const char *source, const struct berth_progress *progress,
                     char ret_id[72], struct berth_error **err)
{
    json_t *cfg_obj = json_object();
    int r = berth_config_apply_changes(cfg_obj, changes, err);
    if (r < 0) {
        json_decref(cfg_obj);
        return r;
    }
    char chain[72], diff[72];
    struct berth_layer_input in = {.fd = fd, .length = -1};
    if ((r = add_layer_progress(store, NULL, &in, NULL, progress, "", "Importing", chain, diff,
                                err)) < 0) {
        json_decref(cfg_obj);
        return berth_error_wrap(err, "import");
    }
    char created[64];
    now_rfc3339(created, sizeof(created));
    char comment[512];
    snprintf(comment, sizeof(comment), "Imported from %s", source ? source : "-");
    (void)message;
    return register_single_layer_image(store, diff, cfg_obj, created, "",
                                       message && *message ? message : comment, ret_id, err);
}

/* ---- progress ---- */

struct layer_progress {
    const struct berth_progress *progress;
    const char *id, *status;
};

static void
layer_progress_fn(void *cls, int64_t done, int64_t total)
{
    struct layer_progress *p = cls;
    p->progress->fn(p->progress->cls, p->id, p->status, done, total);
}

/* Adds a layer from in, reporting progress as it is read when progress is given. */
static int
add_layer_progress(struct berth_store *store, const char *parent,
                   const struct berth_layer_input *in, const char *expected_diff,
                   const struct berth_progress *progress, const char *id, const char *status,
                   char chain[72], char diff[72], struct berth_error **err)
{
    struct layer_progress lp = {.progress = progress, .id = id, .status = status};
    struct berth_layer_input with = *in;
    if (progress && progress->fn) {
        with.progress = layer_progress_fn;
        with.cls = &lp;
    }
    return berth_store_add_layer_input(store, parent, &with, expected_diff, chain, diff, err);
}

/* ---- the default image ---- */

static int
add_entry(struct archive *a, const char *path, mode_t type_mode, time_t mtime, const char *link,
          const void *data, size_t size)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_mode(e, type_mode);
    archive_entry_set_mtime(e, mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    if (link)
        archive_entry_set_symlink(e, link);
    archive_entry_set_size(e, (la_int64_t)size);
    int r = archive_write_header(a, e);
    if (r == ARCHIVE_OK && size)
        r = archive_write_data(a, data, size) == (la_ssize_t)size ? ARCHIVE_OK : ARCHIVE_FATAL;
    archive_entry_free(e);
    return r == ARCHIVE_OK ? 0 : -EIO;
}

/* The applet names of a busybox binary: `busybox --list`. */
static int
busybox_applets(const char *busybox, char ***ret, struct berth_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return berth_error_set(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return berth_error_set(err, errno, "fork");
    }
    if (pid == 0) {
        dup2(p[1], 1);
        execl(busybox, "busybox", "--list", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[65536];
    ssize_t n = berth_read_all(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return berth_error_setq(err, ENOEXEC, "%s --list failed: is it busybox?", busybox);
    buf[n] = '\0';
    char **names = calloc(1, sizeof(char *));
    char *save = NULL;
    for (char *t = strtok_r(buf, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
        if (*t && !strchr(t, '/') && strcmp(t, "busybox"))
            berth_strv_push(&names, t);
    *ret = names;
    return 0;
}

int
berth_default_image_create(struct berth_store *store, const char *busybox_path, char ret_id[72],
                           struct berth_error **err)
{
    const char *path = busybox_path ? busybox_path : "/bin/busybox";
    _cleanup_close_ int bfd = open(path, O_RDONLY | O_CLOEXEC);
    if (bfd < 0)
        return berth_error_set(err, errno,
                               "the default image needs %s (apt-get install busybox-static)", path);
    struct stat st;
    if (fstat(bfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20))
        return berth_error_setq(err, EINVAL, "%s is not a plausible busybox binary", path);
    _cleanup_free_ char *bin = malloc((size_t)st.st_size);
    if (!bin || berth_read_all(bfd, bin, (size_t)st.st_size) != st.st_size)
        return berth_error_set(err, errno ? errno : EIO, "read %s", path);
    _cleanup_strv_ char **applets = NULL;
    int r = busybox_applets(path, &applets, err);
    if (r < 0)
        return r;
    /* every timestamp is the binary's: the same busybox gives the same image id everywhere */
    time_t t = st.st_mtime;
    _cleanup_close_ int mfd = memfd_create("berth-default-image", MFD_CLOEXEC);
    if (mfd < 0)
        return berth_error_set(err, errno, "memfd_create");
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_fd(a, mfd) != ARCHIVE_OK) {
        archive_write_free(a);
        return berth_error_setq(err, EIO, "default image: %s", archive_error_string(a));
    }
    static const struct {
        const char *path;
        mode_t mode;
    } dirs[] = {{"bin", 0755},    {"dev", 0755},      {"etc", 0755}, {"home", 0755},
                {"proc", 0555},   {"root", 0700},     {"sys", 0555}, {"tmp", 01777},
                {"usr", 0755},    {"usr/sbin", 0755}, {"var", 0755}, {"var/spool", 0755},
                {"var/www", 0755}};
    static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                                 "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                                 "bin:x:2:2:bin:/bin:/bin/false\n"
                                 "sys:x:3:3:sys:/dev:/bin/false\n"
                                 "sync:x:4:100:sync:/bin:/bin/sync\n"
                                 "mail:x:8:8:mail:/var/spool/mail:/bin/false\n"
                                 "www-data:x:33:33:www-data:/var/www:/bin/false\n"
                                 "operator:x:37:37:Operator:/var:/bin/false\n"
                                 "nobody:x:65534:65534:nobody:/home:/bin/false\n";
    static const char group[] = "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\n"
                                "disk:x:6:\nwheel:x:10:root\nmail:x:8:\nwww-data:x:33:\n"
                                "operator:x:37:\nstaff:x:50:\nusers:x:100:\nnogroup:x:65534:\n";
    r = 0;
    for (size_t i = 0; r == 0 && i < BERTH_ARRAY_SIZE(dirs); i++)
        r = add_entry(a, dirs[i].path, S_IFDIR | dirs[i].mode, t, NULL, NULL, 0);
    if (r == 0)
        r = add_entry(a, "bin/busybox", S_IFREG | 0755, t, NULL, bin, (size_t)st.st_size);
    for (size_t i = 0; r == 0 && applets[i]; i++) {
        char p[256];
        snprintf(p, sizeof(p), "bin/%s", applets[i]);
        r = add_entry(a, p, S_IFLNK | 0777, t, "busybox", NULL, 0);
    }
    if (r == 0)
        r = add_entry(a, "etc/passwd", S_IFREG | 0644, t, NULL, passwd, strlen(passwd));
    if (r == 0)
        r = add_entry(a, "etc/group", S_IFREG | 0644, t, NULL, group, strlen(group));
    if (archive_write_close(a) != ARCHIVE_OK)
        r = -EIO;
    archive_write_free(a);
    if (r < 0)
        return berth_error_setq(err, EIO, "default image: cannot write its layer");
    lseek(mfd, 0, SEEK_SET);
    char chain[72], diff[72];
    if ((r = berth_store_add_layer(store, NULL, mfd, chain, diff, err)) < 0)
        return berth_error_wrap(err, "default image");
    struct timespec ts = {.tv_sec = t};
    char created[64];
    berth_format_time(&ts, created, sizeof(created));
    json_t *cfg =
        json_pack("{s:[s],s:[s]}", "Env",
                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "Cmd", "sh");
    if ((r = register_single_layer_image(store, diff, cfg, created,
                                         "berth: busybox from the host's busybox-static", "",
                                         ret_id, err)) < 0)
        return r;
    return berth_store_tag(store, ret_id, "docker.io/library/busybox:latest", err);
}

/* ---- load ---- */

/* The work directory of a load:
 *   tree/    the outer tarball's directories, symlinks and regular files
 *   body     a hard link to the tarball itself, when it is a plain tar in a file on this
 *            filesystem (the request body spooled by the daemon): then tree/'s regular files
 *            are empty placeholders and
 *   ranges   says where each one's data is in body: "<inode> <offset> <length>" lines.
 * So a layer is read once, from the body, straight into the store (no copy of the outer
 * tarball's data); the metadata (manifest.json, configs) is read from the body the same way.
 * A compressed tarball, or one in a pipe or on another filesystem, is unpacked into tree/. */
#define WORK_TREE "tree"
#define WORK_BODY "body"
#define WORK_RANGES "ranges"

struct range {
    ino_t ino;
    int64_t offset, length;
    int refs; /* layer references still to load (the last one may discard the range) */
};

struct load_ctx {
    int root; /* tree/ */
    int body; /* -1: no body, every file holds its data */
    struct range *ranges;
    size_t n_ranges;
};

/* Links the tarball fd into dir as WORK_BODY; false when it cannot be (not a regular file,
 * another filesystem, compressed). */
static bool
link_body(int fd, int dir_fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (linkat(fd, "", dir_fd, WORK_BODY, AT_EMPTY_PATH) == 0)
        return true;
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, dir_fd, WORK_BODY, AT_SYMLINK_FOLLOW) == 0;
}

/* The data of the current entry stays in the body: checks that it really is at offset (the
 * first bytes, against what libarchive reads), then skips it. 1: placeholder, 0: copy it. */
static int
entry_in_body(struct archive *a, int fd, int64_t offset, int64_t size, char *first,
              size_t *ret_first_len)
{
    char check[512];
    size_t n = size < (int64_t)sizeof(check) ? (size_t)size : sizeof(check);
    la_ssize_t got = archive_read_data(a, first, n);
    if (got < 0 || (size_t)got != n)
        return -1;
    *ret_first_len = n;
    if (pread(fd, check, n, offset) != (ssize_t)n || memcmp(check, first, n) != 0)
        return 0;
    return 1;
}

/* Unpacks (or, with a body, indexes) the outer tarball into work_dir/tree, every path resolved
 * inside it (the files are then read through berth_open_in_root as well). */
static int
unpack_outer(int fd, int work_fd, struct berth_error **err)
{
    if (mkdirat(work_fd, WORK_TREE, 0700) < 0)
        return berth_error_set(err, errno, "mkdir");
    _cleanup_close_ int root = openat(work_fd, WORK_TREE, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return berth_error_set(err, errno, "open work directory");
    bool body = link_body(fd, work_fd);
    _cleanup_fclose_ FILE *ranges = NULL;
    if (body) {
        int rfd = openat(work_fd, WORK_RANGES, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (rfd < 0 || !(ranges = fdopen(rfd, "w"))) {
            if (rfd >= 0)
                close(rfd);
            return berth_error_set(err, errno, "create ranges");
        }
    }
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int r = 0;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
        r = berth_error_setq(err, EINVAL, "invalid tar file: %s", archive_error_string(a));
        goto out;
    }
    struct archive_entry *e;
    int ar;
    bool first_entry = true;
    while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (first_entry && body && archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE) {
            /* compressed: offsets in the file mean nothing, the data is copied */
            body = false;
            (void)unlinkat(work_fd, WORK_BODY, 0);
        }
        first_entry = false;
        const char *name = archive_entry_pathname(e);
        if (!name || !*name)
            continue;
        mode_t type = archive_entry_filetype(e);
        if (type == AE_IFDIR) {
            _cleanup_close_ int d = -1;
            if ((r = berth_mkdir_in_root(root, name, 0755, false, &d, err)) < 0)
                goto out;
            continue;
        }
        char parent[4096];
        snprintf(parent, sizeof(parent), "%s", name);
        char *slash = strrchr(parent, '/');
        const char *base = slash ? slash + 1 : parent;
        if (slash)
            *slash = '\0';
        _cleanup_close_ int pfd = -1;
        if ((r = berth_mkdir_in_root(root, slash ? parent : ".", 0755, false, &pfd, err)) < 0)
            goto out;
        _cleanup_close_ int pdir = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pdir < 0 || !*base || !strcmp(base, "..") || !strcmp(base, ".")) {
            r = berth_error_setq(err, EINVAL, "invalid tar entry \"%s\"", name);
            goto out;
        }
        if (type == AE_IFLNK) {
            (void)unlinkat(pdir, base, 0);
            if (symlinkat(archive_entry_symlink(e), pdir, base) < 0) {
                r = berth_error_set(err, errno, "tar entry \"%s\"", name);
                goto out;
            }
            continue;
        }
        if (type != AE_IFREG)
            continue;                  /* an image archive holds nothing else */
        (void)unlinkat(pdir, base, 0); /* a name met twice: the last one counts, as tar does */
        _cleanup_close_ int out =
            openat(pdir, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0) {
            r = berth_error_set(err, errno, "tar entry \"%s\"", name);
            goto out;
        }
        int64_t size = archive_entry_size(e);
        if (body && size > 0 && archive_entry_sparse_count(e) == 0) {
            int64_t offset = archive_filter_bytes(a, 0);
            char first[512];
            size_t first_len = 0;
            int in_body = entry_in_body(a, fd, offset, size, first, &first_len);
            if (in_body < 0) {
                r = berth_error_setq(err, EINVAL, "invalid tar file: entry \"%s\": %s", name,
                                     archive_error_string(a));
                goto out;
            }
            struct stat st;
            if (in_body && fstat(out, &st) == 0) {
                fprintf(ranges, "%llu %lld %lld\n", (unsigned long long)st.st_ino,
                        (long long)offset, (long long)size);
                if (archive_read_data_skip(a) != ARCHIVE_OK) {
                    r = berth_error_setq(err, EINVAL, "invalid tar file: entry \"%s\": %s", name,
                                         archive_error_string(a));
                    goto out;
                }
                continue;
            }
            if (berth_write_all(out, first, first_len) < 0) {
                r = berth_error_set(err, errno, "tar entry \"%s\"", name);
                goto out;
            }
        }
        if (archive_read_data_into_fd(a, out) != ARCHIVE_OK) {
            r = berth_error_setq(err, EINVAL, "invalid tar file: entry \"%s\": %s", name,
                                 archive_error_string(a));
            goto out;
        }
    }
    if (ar != ARCHIVE_EOF)
        r = berth_error_setq(err, EINVAL, "invalid tar file: %s", archive_error_string(a));
    if (r == 0 && ranges && fflush(ranges) != 0)
        r = berth_error_set(err, errno, "write ranges");
out:
    archive_read_free(a);
    return r;
}

static void
load_ctx_clear(struct load_ctx *c)
{
    if (c->root >= 0)
        close(c->root);
    if (c->body >= 0)
        close(c->body);
    free(c->ranges);
}

static int
load_ctx_open(struct load_ctx *c, const char *work_dir, struct berth_error **err)
{
    *c = (struct load_ctx){.root = -1, .body = -1};
    _cleanup_close_ int work = open(work_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (work < 0)
        return berth_error_set(err, errno, "open %s", work_dir);
    c->root = openat(work, WORK_TREE, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->root < 0)
        return berth_error_set(err, errno, "open %s/" WORK_TREE, work_dir);
    c->body = openat(work, WORK_BODY, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (c->body < 0)
        return errno == ENOENT ? 0 : berth_error_set(err, errno, "open %s/" WORK_BODY, work_dir);
    int rfd = openat(work, WORK_RANGES, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_fclose_ FILE *f = rfd >= 0 ? fdopen(rfd, "r") : NULL;
    if (!f) {
        if (rfd >= 0)
            close(rfd);
        return berth_error_set(err, errno, "open %s/" WORK_RANGES, work_dir);
    }
    unsigned long long ino;
    long long off, len;
    while (fscanf(f, "%llu %lld %lld", &ino, &off, &len) == 3) {
        struct range *n = realloc(c->ranges, (c->n_ranges + 1) * sizeof(*n));
        if (!n)
            return berth_error_set(err, ENOMEM, "load");
        c->ranges = n;
        c->ranges[c->n_ranges++] = (struct range){.ino = (ino_t)ino, .offset = off, .length = len};
    }
    return 0;
}

/* The range holding the data of the file open as fd, or NULL (the file holds it). */
static struct range *
range_of(struct load_ctx *c, int fd)
{
    struct stat st;
    if (c->body < 0 || fstat(fd, &st) < 0 || st.st_size != 0)
        return NULL;
    for (size_t i = 0; i < c->n_ranges; i++)
        if (c->ranges[i].ino == st.st_ino)
            return &c->ranges[i];
    return NULL;
}

static int
read_text_in(struct load_ctx *c, const char *path, char **ret, size_t *ret_len,
             struct berth_error **err)
{
    _cleanup_close_ int fd = berth_open_in_root(c->root, path, O_RDONLY, 0);
    if (fd < 0)
        return berth_error_set(err, -fd, "invalid archive: %s", path);
    struct range *rg = range_of(c, fd);
    if (!rg)
        return berth_read_fd(fd, path, METADATA_MAX, ret, ret_len, err);
    if (rg->length > METADATA_MAX)
        return berth_error_setq(err, EFBIG, "invalid archive: %s is larger than %u bytes", path,
                                METADATA_MAX);
    char *buf = malloc((size_t)rg->length + 1);
    if (!buf)
        return berth_error_set(err, ENOMEM, "read %s", path);
    if (pread(c->body, buf, (size_t)rg->length, rg->offset) != (ssize_t)rg->length) {
        free(buf);
        return berth_error_setq(err, EIO, "invalid archive: cannot read %s", path);
    }
    buf[rg->length] = '\0';
    *ret = buf;
    *ret_len = (size_t)rg->length;
    return 0;
}

static int
read_json_in(struct load_ctx *c, const char *path, json_t **ret, struct berth_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_text_in(c, path, &text, &len, err);
    if (r < 0)
        return r;
    json_error_t jerr;
    *ret = json_loadb(text, len, 0, &jerr);
    if (!*ret)
        return berth_error_setq(err, EINVAL, "invalid archive: %s: %s", path, jerr.text);
    return 0;
}

/* Counts the layer references of a manifest.json (so the last one may discard its range). */
static void
count_layer_refs(struct load_ctx *c, json_t *manifest)
{
    size_t i, j;
    json_t *m, *l;
    json_array_foreach(manifest, i, m)
    {
        json_array_foreach(json_object_get(m, "Layers"), j, l)
        {
            if (!json_is_string(l))
                continue;
            _cleanup_close_ int fd = berth_open_in_root(c->root, json_string_value(l), O_RDONLY, 0);
            struct range *rg = fd >= 0 ? range_of(c, fd) : NULL;
            if (rg)
                rg->refs++;
        }
    }
}

/* Adds the layers (paths inside the tree, base first) and the config; tags the image. */
static int
load_image(struct berth_store *store, struct load_ctx *c, const char *config_path, json_t *layers,
           json_t *tags, json_t *loaded, const struct berth_progress *progress,
           struct berth_error **err)
{
    /* the config first: its diff IDs let a layer already in the store be skipped unread */
    _cleanup_free_ char *config = NULL;
    size_t clen;
    int r = read_text_in(c, config_path, &config, &clen, err);
    if (r < 0)
        return r;
    json_t *cfg_json = json_loadb(config, clen, 0, NULL);
    json_t *diff_ids = json_object_get(json_object_get(cfg_json, "rootfs"), "diff_ids");
    if (json_array_size(diff_ids) != json_array_size(layers))
        diff_ids = NULL;
    char parent[72] = "";
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        if (!json_is_string(l)) {
            r = berth_error_setq(err, EINVAL, "invalid archive: a layer path is not a string");
            break;
        }
        _cleanup_close_ int lfd = berth_open_in_root(c->root, json_string_value(l), O_RDONLY, 0);
        if (lfd < 0) {
            r = berth_error_set(err, -lfd, "invalid archive: layer %s", json_string_value(l));
            break;
        }
        struct berth_layer_input in = {.fd = lfd, .length = -1};
        struct range *rg = range_of(c, lfd);
        if (rg) {
            in = (struct berth_layer_input){
                .fd = c->body, .offset = rg->offset, .length = rg->length};
            /* the last reference of a spooled body's range: read once, then punched out, so
             * that the sync after the unpack writes none of it back */
            in.discard = rg->refs > 0 && --rg->refs == 0;
        }
        const char *expected = json_string_value(json_array_get(diff_ids, i));
        char chain[72], diff[72], short_id[13];
        /* docker names the row by the layer file: its digest or directory, 12 characters */
        const char *lp = json_string_value(l), *slash = strrchr(lp, '/');
        const char *name = slash && !strcmp(slash, "/layer.tar") ? lp : (slash ? slash + 1 : lp);
        snprintf(short_id, sizeof(short_id), "%.12s", name);
        r = add_layer_progress(
            store, parent[0] ? parent : NULL, &in,
            berth_digest_valid(expected) && !strncmp(expected, "sha256:", 7) ? expected : NULL,
            progress, short_id, "Loading layer", chain, diff, err);
        if (r < 0) {
            berth_error_wrap(err, "layer %s", json_string_value(l));
            break;
        }
        memcpy(parent, chain, sizeof(parent));
    }
    json_decref(cfg_json);
    if (r < 0)
        return r;
    char id[72];
    if ((r = berth_store_add_image(store, config, clen, id, err)) < 0)
        return r;
    json_t *names = json_array();
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        if (!json_is_string(t))
            continue;
        _cleanup_reference_ struct berth_reference *ref = NULL;
        if ((r = berth_reference_parse(json_string_value(t), false, &ref, err)) < 0) {
            json_decref(names);
            return r;
        }
        _cleanup_free_ char *full = berth_reference_string(ref);
        _cleanup_free_ char *familiar = berth_reference_familiar(ref);
        if (ref->digest)
            continue; /* a digest cannot be tagged */
        if ((r = berth_store_tag(store, id, full, err)) < 0) {
            json_decref(names);
            return r;
        }
        json_array_append_new(names, json_string(familiar));
    }
    json_array_append_new(loaded, json_pack("{s:s,s:o}", "id", id, "tags", names));
    return 0;
}

/* Nested indexes deeper than this are refused (Docker writes one level, multi-platform images
 * two). An index that contains itself is refused and one met again is not walked twice, so the
 * work stays linear in the archive's size whatever the nesting. */
#define INDEX_DEPTH_MAX 8

struct index_walk {
    const char *path[INDEX_DEPTH_MAX]; /* the nested indexes being walked, outermost first */
    size_t depth;
    char **seen; /* every nested index walked so far */
};

/* A blob's path in the layout: blobs/<algorithm>/<hex>. digest must be valid. */
static void
blob_path(const char *digest, char out[256])
{
    const char *colon = strchr(digest, ':');
    snprintf(out, 256, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

/* The OCI image layout: index.json -> manifests -> config and layers, all blobs. */
static int
load_oci_layout(struct berth_store *store, struct load_ctx *c, json_t *index,
                struct index_walk *walk, json_t *loaded, const struct berth_progress *progress,
                struct berth_error **err)
{
    json_t *manifests = json_object_get(index, "manifests");
    if (!json_is_array(manifests))
        return berth_error_setq(err, EINVAL, "invalid archive: index.json has no manifests");
    size_t i;
    json_t *desc;
    json_array_foreach(manifests, i, desc)
    {
        const char *digest = json_string_value(json_object_get(desc, "digest"));
        if (!digest || !berth_digest_valid(digest))
            return berth_error_setq(err, EINVAL, "invalid archive: bad manifest digest");
        char path[256];
        blob_path(digest, path);
        json_t *manifest = NULL;
        int r = read_json_in(c, path, &manifest, err);
        if (r < 0)
            return r;
        const char *mt = json_string_value(json_object_get(manifest, "mediaType"));
        if (mt && strstr(mt, "index")) {
            /* a nested index (multi-platform): take its entries too */
            bool seen = false;
            for (size_t k = 0; k < walk->depth; k++)
                if (!strcmp(walk->path[k], digest))
                    r = berth_error_setq(err, EINVAL, "invalid archive: index %s contains itself",
                                         digest);
            for (size_t k = 0; walk->seen && walk->seen[k]; k++)
                seen |= !strcmp(walk->seen[k], digest);
            if (r == 0 && !seen && walk->depth == INDEX_DEPTH_MAX)
                r = berth_error_setq(err, EINVAL, "invalid archive: indexes nested deeper than %d",
                                     INDEX_DEPTH_MAX);
            if (r == 0 && !seen && berth_strv_push(&walk->seen, digest) < 0)
                r = berth_error_set(err, ENOMEM, "load");
            if (r == 0 && !seen) {
                walk->path[walk->depth++] = digest;
                r = load_oci_layout(store, c, manifest, walk, loaded, progress, err);
                walk->depth--;
            }
            json_decref(manifest);
            if (r < 0)
                return r;
            continue;
        }
        const char *cfg =
            json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        json_t *layer_descs = json_object_get(manifest, "layers");
        if (!cfg || !berth_digest_valid(cfg) || !json_is_array(layer_descs)) {
            json_decref(manifest);
            return berth_error_setq(err, EINVAL, "invalid archive: manifest %s is malformed",
                                    digest);
        }
        json_t *layers = json_array();
        size_t j;
        json_t *ld;
        json_array_foreach(layer_descs, j, ld)
        {
            const char *d = json_string_value(json_object_get(ld, "digest"));
            if (!d || !berth_digest_valid(d))
                break;
            char lp[256];
            blob_path(d, lp);
            json_array_append_new(layers, json_string(lp));
        }
        char cfg_path[256];
        blob_path(cfg, cfg_path);
        json_t *ann = json_object_get(desc, "annotations");
        const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        json_t *tags = name ? json_pack("[s]", name) : json_array();
        r = json_array_size(layers) == json_array_size(layer_descs)
                ? load_image(store, c, cfg_path, layers, tags, loaded, progress, err)
                : berth_error_setq(err, EINVAL, "invalid archive: bad layer digest in %s", digest);
        json_decref(layers);
        json_decref(tags);
        json_decref(manifest);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Hands a local error over to the caller's err (or frees it). */
static void
pass_error(struct berth_error **err, struct berth_error *local)
{
    if (err && !*err)
        *err = local;
    else
        berth_error_free(local);
}

int
berth_archive_unpack(int fd, const char *work_dir, struct berth_error **err)
{
    int r = berth_mkdir_p(work_dir, 0700, err);
    if (r < 0)
        return r;
    _cleanup_close_ int work_fd = open(work_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (work_fd < 0)
        r = berth_error_set(err, errno, "open %s", work_dir);
    if (r == 0)
        r = unpack_outer(fd, work_fd, err);
    if (r < 0)
        (void)berth_rm_rf(work_dir, NULL);
    return r;
}

int
berth_archive_load_unpacked(struct berth_store *store, const char *work_dir,
                            const struct berth_progress *progress, json_t **ret_loaded,
                            struct berth_error **err)
{
    struct load_ctx ctx;
    json_t *loaded = json_array();
    int r = load_ctx_open(&ctx, work_dir, err);
    if (r < 0)
        goto out;
    json_t *manifest = NULL;
    struct berth_error *local = NULL;
    r = read_json_in(&ctx, "manifest.json", &manifest, &local);
    if (r < 0 && r != -ENOENT) {
        /* a manifest.json that is there but unreadable is the error, not a missing index.json */
        pass_error(err, local);
        goto out;
    }
    if (r == 0) {
        if (!json_is_array(manifest)) {
            r = berth_error_setq(err, EINVAL, "invalid archive: manifest.json is not an array");
        } else {
            count_layer_refs(&ctx, manifest);
            size_t i;
            json_t *m;
            json_array_foreach(manifest, i, m)
            {
                const char *cfg = json_string_value(json_object_get(m, "Config"));
                json_t *layers = json_object_get(m, "Layers");
                json_t *tags = json_object_get(m, "RepoTags");
                if (!cfg || !json_is_array(layers)) {
                    r = berth_error_setq(
                        err, EINVAL, "invalid archive: manifest.json entry %zu is malformed", i);
                    break;
                }
                json_t *no_tags = json_array();
                r = load_image(store, &ctx, cfg, layers, json_is_array(tags) ? tags : no_tags,
                               loaded, progress, err);
                json_decref(no_tags);
                if (r < 0)
                    break;
            }
        }
        json_decref(manifest);
    } else {
        berth_error_free(local);
        local = NULL;
        json_t *index = NULL;
        r = read_json_in(&ctx, "index.json", &index, &local);
        if (r == -ENOENT) {
            berth_error_free(local);
            r = berth_error_setq(err, EINVAL,
                                 "invalid archive: neither manifest.json nor index.json found");
        } else if (r < 0) {
            pass_error(err, local);
        } else {
            struct index_walk walk = {.depth = 0};
            r = load_oci_layout(store, &ctx, index, &walk, loaded, progress, err);
            berth_strv_free(walk.seen);
        }
        json_decref(index);
    }
out:
    load_ctx_clear(&ctx);
    (void)berth_rm_rf(work_dir, NULL);
    if (r < 0) {
        json_decref(loaded);
        return r;
    }
    *ret_loaded = loaded;
    return 0;
}

int
berth_archive_load(struct berth_store *store, int fd, const char *work_dir, json_t **ret_loaded,
                   struct berth_error **err)
{
    int r = berth_archive_unpack(fd, work_dir, err);
    if (r < 0)
        return r;
    return berth_archive_load_unpacked(store, work_dir, NULL, ret_loaded, err);
}

/* ---- save ---- */

struct saver {
    struct archive *a;
    char **written; /* blob digests already in the archive */
};

/* The header of a regular file of the saved tarball (0644, mtime 0). */
static int
entry_header(struct saver *s, const char *path, int64_t size)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return -ENOMEM;
    archive_entry_set_pathname(e, path);
    archive_entry_set_mode(e, S_IFREG | 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_mtime(e, 0, 0);
    int r = archive_write_header(s->a, e) == ARCHIVE_OK ? 0 : -EIO;
    archive_entry_free(e);
    return r;
}

static int
write_bytes(struct saver *s, const char *path, const void *data, size_t len)
{
    if (entry_header(s, path, (int64_t)len) < 0)
        return -EIO;
    return len == 0 || archive_write_data(s->a, data, len) == (la_ssize_t)len ? 0 : -EIO;
}

static bool
already_written(struct saver *s, const char *digest)
{
    for (size_t i = 0; s->written && s->written[i]; i++)
        if (!strcmp(s->written[i], digest))
            return true;
    berth_strv_push(&s->written, digest);
    return false;
}

static int
write_blob(struct saver *s, struct berth_store *store, const char *digest, int64_t *ret_size,
           struct berth_error **err)
{
    _cleanup_close_ int fd = -1;
    int r = berth_store_open_blob(store, digest, &fd, err);
    if (r < 0)
        return r;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berth_error_set(err, errno, "blob %s", digest);
    *ret_size = st.st_size;
    if (already_written(s, digest))
        return 0;
    char path[256];
    snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
    r = entry_header(s, path, st.st_size);
    char buf[1 << 16];
    ssize_t n;
    while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
        if (archive_write_data(s->a, buf, (size_t)n) != n)
            r = -EIO;
    if (r < 0)
        return berth_error_setq(err, EIO, "save: writing %s: %s", digest,
                                archive_error_string(s->a));
    return 0;
}

static int
emit_to_archive(void *cls, const void *buf, size_t len)
{
    struct archive *a = cls;
    return archive_write_data(a, buf, len) == (la_ssize_t)len ? 0 : -EIO;
}

/* A layer's tar as blobs/sha256/<diff ID> (rebuilt from its tar-split when it has one). */
static int
write_layer(struct saver *s, struct berth_store *store, const char *chain, const char *diff,
            int64_t *ret_size, struct berth_error **err)
{
    uint64_t size = 0;
    int r = berth_store_layer_tar_size(store, chain, diff, &size, err);
    if (r < 0)
        return r;
    *ret_size = (int64_t)size;
    if (already_written(s, diff))
        return 0;
    char path[256];
    snprintf(path, sizeof(path), "blobs/sha256/%s", diff + 7);
    if ((r = entry_header(s, path, (int64_t)size)) < 0)
        return berth_error_setq(err, EIO, "save: writing %s: %s", diff, archive_error_string(s->a));
    if ((r = berth_store_layer_tar_write(store, chain, diff, emit_to_archive, s->a, err)) < 0)
        return berth_error_wrap(err, "save");
    return 0;
}

int
berth_archive_save(struct berth_store *store, const char *const *names, int out_fd,
                   struct berth_error **err)
{
    struct saver s = {.a = archive_write_new()};
    archive_write_set_format_pax_restricted(s.a);
    /* large writes (the default is one 10 KiB block each); the end is not padded, as
     * libarchive does by default for a regular file (this one is) */
    archive_write_set_bytes_per_block(s.a, 1 << 20);
    archive_write_set_bytes_in_last_block(s.a, 1);
    int r = 0;
    json_t *manifest = json_array(), *index_manifests = json_array();
    if (archive_write_open_fd(s.a, out_fd) != ARCHIVE_OK) {
        r = berth_error_setq(err, EIO, "save: %s", archive_error_string(s.a));
        goto out;
    }
    for (size_t n = 0; names[n]; n++) {
        struct berth_image *img = NULL;
        if ((r = berth_store_lookup(store, names[n], &img, err)) < 0)
            goto out;
        /* saved by name: that tag; by id: no tag, as docker does */
        _cleanup_reference_ struct berth_reference *ref = NULL;
        bool by_name = !berth_id_like(names[n]) || strchr(names[n], ':') != NULL;
        if (by_name && berth_reference_parse(names[n], false, &ref, NULL) < 0)
            by_name = false;
        if (ref && ref->digest)
            by_name = false;
        int64_t cfg_size = 0;
        if ((r = write_blob(&s, store, img->id, &cfg_size, err)) < 0) {
            berth_image_free(img);
            goto out;
        }
        char cfg_path[256];
        snprintf(cfg_path, sizeof(cfg_path), "blobs/sha256/%s", img->id + 7);
        json_t *layer_paths = json_array(), *layer_descs = json_array();
        for (size_t i = 0; img->diff_ids && img->diff_ids[i]; i++) {
            int64_t size = 0;
            if ((r = write_layer(&s, store, img->chain_ids[i], img->diff_ids[i], &size, err)) < 0)
                break;
            char lp[256];
            snprintf(lp, sizeof(lp), "blobs/sha256/%s", img->diff_ids[i] + 7);
            json_array_append_new(layer_paths, json_string(lp));
            json_array_append_new(layer_descs,
                                  json_pack("{s:s,s:s,s:I}", "mediaType",
                                            "application/vnd.oci.image.layer.v1.tar", "digest",
                                            img->diff_ids[i], "size", (json_int_t)size));
        }
        if (r < 0) {
            json_decref(layer_paths);
            json_decref(layer_descs);
            berth_image_free(img);
            goto out;
        }
        _cleanup_free_ char *familiar = ref ? berth_reference_familiar(ref) : NULL;
        _cleanup_free_ char *full = ref ? berth_reference_string(ref) : NULL;
        json_array_append_new(manifest,
                              json_pack("{s:s,s:o,s:o}", "Config", cfg_path, "RepoTags",
                                        by_name ? json_pack("[s]", familiar) : json_null(),
                                        "Layers", layer_paths));
        json_t *oci = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2, "mediaType",
                                "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                                "application/vnd.oci.image.config.v1+json", "digest", img->id,
                                "size", (json_int_t)cfg_size, "layers", layer_descs);
        char *oci_text = json_dumps(oci, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(oci);
        char oci_digest[72];
        berth_digest_buffer(oci_text, strlen(oci_text), oci_digest);
        char mp[256];
        snprintf(mp, sizeof(mp), "blobs/sha256/%s", oci_digest + 7);
        if (!already_written(&s, oci_digest) && write_bytes(&s, mp, oci_text, strlen(oci_text)) < 0)
            r = berth_error_setq(err, EIO, "save: %s", archive_error_string(s.a));
        json_t *desc =
            json_pack("{s:s,s:s,s:I}", "mediaType", "application/vnd.oci.image.manifest.v1+json",
                      "digest", oci_digest, "size", (json_int_t)strlen(oci_text));
        if (by_name)
            json_object_set_new(desc, "annotations",
                                json_pack("{s:s,s:s}", "io.containerd.image.name", full,
                                          "org.opencontainers.image.ref.name",
                                          ref->tag ? ref->tag : "latest"));
        json_array_append_new(index_manifests, desc);
        free(oci_text);
        berth_image_free(img);
        if (r < 0)
            goto out;
    }
    char *mtext = json_dumps(manifest, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_t *index =
        json_pack("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType",
                  "application/vnd.oci.image.index.v1+json", "manifests", index_manifests);
    char *itext = json_dumps(index, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(index);
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (!mtext || !itext || write_bytes(&s, "index.json", itext, strlen(itext)) < 0 ||
        write_bytes(&s, "manifest.json", mtext, strlen(mtext)) < 0 ||
        write_bytes(&s, "oci-layout", layout, strlen(layout)) < 0)
        r = berth_error_setq(err, EIO, "save: %s", archive_error_string(s.a));
    free(mtext);
    free(itext);
    if (r == 0 && archive_write_close(s.a) != ARCHIVE_OK)
        r = berth_error_setq(err, EIO, "save: %s", archive_error_string(s.a));
out:
    archive_write_free(s.a);
    berth_strv_free(s.written);
    json_decref(manifest);
    json_decref(index_manifests);
    return r;
}
