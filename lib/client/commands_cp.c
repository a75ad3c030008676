/* berth cp: docker's copies between a container and the local filesystem through
 * HEAD/GET/PUT /containers/{id}/archive, with docker's path rules (a trailing "/." copies a
 * directory's contents, a missing destination takes the source's content under its own name,
 * an existing directory receives the source by its base name) and "-" for a tar stream. */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/container.h"
#include "client/format.h"
#include "core/cleanup.h"
#include "core/util.h"

/* "CONTAINER:PATH" → container and path; a local path (absolute, ./x or without ':') → NULL */
static bool
split_container_path(const char *arg, char **ctr, const char **path)
{
    if (arg[0] == '/' || arg[0] == '.')
        return false;
    const char *colon = strchr(arg, ':');
    if (!colon)
        return false;
    *ctr = strndup(arg, (size_t)(colon - arg));
    *path = colon + 1;
    return *ctr != NULL;
}

static const char *
go_err(int e)
{
    static char buf[128];
    snprintf(buf, sizeof(buf), "%s", strerror(e));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

/* HEAD archive: does path exist in the container? Errors read like docker's. */
static int
stat_in_container(struct berth_client *c, const char *ctr, const char *path,
                  struct berth_error **err)
{
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "path", path);
    _cleanup_free_ char *p = berth_cli_ctr_path(ctr, "/archive");
    struct berth_conn conn = {.fd = -1};
    struct berth_error *e = NULL;
    int r = berth_conn_request(c, "HEAD", p, &q, NULL, false, &conn, &e);
    berth_conn_close(&conn);
    if (r == 0)
        return 0;
    if (!e || e->code != ENOENT) {
        *err = e;
        return r;
    }
    berth_error_free(e);
    /* a HEAD reply has no message: is it the container or the path that is missing? */
    _cleanup_free_ char *ipath = berth_cli_ctr_path(ctr, "/json");
    _cleanup_(json_decrefp) json_t *v = NULL;
    if (berth_client_get_json(c, ipath, NULL, &v, NULL, err) < 0)
        return -ENOENT;
    return berth_error_setq(err, ENOENT,
                            "Error response from daemon: Could not find the file %s in container "
                            "%s",
                            path, ctr);
}

/* lstat's error for the first missing component of path, as Go's filepath walk reports it */
static void
report_missing(struct berth_cli *cli, const char *path, int e)
{
    _cleanup_free_ char *p = strdup(path);
    if (!p) {
        fprintf(cli->err, "lstat %s: %s\n", path, go_err(e));
        return;
    }
    /* the shortest prefix that does not exist */
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        struct stat st;
        if (lstat(p, &st) < 0) {
            fprintf(cli->err, "lstat %s: %s\n", p, go_err(errno));
            return;
        }
        *s = '/';
    }
    fprintf(cli->err, "lstat %s: %s\n", p, go_err(e));
}

struct tar_out {
    int fd;
};

static int
write_fd(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct tar_out *t = ud;
    int r = berth_write_all(t->fd, buf, len);
    return r < 0 ? berth_error_set(err, -r, "write") : 0;
}

/* Extracts a tar file into dir, renaming the first path component from -> to (to NULL: keep;
 * "" drops it). */
static int
extract(int tar_fd, const char *dir, const char *from, const char *to, bool keep_owner,
        struct berth_error **err)
{
    struct archive *a = archive_read_new();
    struct archive *w = archive_write_disk_new();
    if (!a || !w) {
        archive_read_free(a);
        archive_write_free(w);
        return berth_error_set(err, ENOMEM, "extract");
    }
    archive_read_support_format_tar(a);
    int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_UNLINK;
    if (keep_owner)
        flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(w, flags);
    int r = 0;
    if (archive_read_open_fd(a, tar_fd, 65536) != ARCHIVE_OK) {
        r = berth_error_setq(err, EIO, "%s", archive_error_string(a));
        goto out;
    }
    struct archive_entry *e;
    size_t fl = strlen(from);
    for (;;) {
        int rr = archive_read_next_header(a, &e);
        if (rr == ARCHIVE_EOF)
            break;
        if (rr < ARCHIVE_WARN) {
            r = berth_error_setq(err, EIO, "%s", archive_error_string(a));
            break;
        }
        const char *name = archive_entry_pathname(e);
        while (name[0] == '.' && name[1] == '/')
            name += 2;
        _cleanup_free_ char *rest = NULL;
        if (to && !strncmp(name, from, fl) && (name[fl] == '\0' || name[fl] == '/')) {
            const char *tail = name + fl;
            if (!to[0]) {
                if (!tail[0])
                    continue; /* the directory itself */
                tail++;
            }
            if (asprintf(&rest, "%s/%s%s", dir, to, tail) < 0)
                rest = NULL;
        } else if (asprintf(&rest, "%s/%s", dir, name) < 0) {
            rest = NULL;
        }
        if (!rest) {
            r = berth_error_set(err, ENOMEM, "extract");
            break;
        }
        archive_entry_set_pathname(e, rest);
        const char *hl = archive_entry_hardlink(e);
        if (hl) {
            _cleanup_free_ char *h = NULL;
            if (asprintf(&h, "%s/%s", dir, hl) >= 0)
                archive_entry_set_hardlink(e, h);
        }
        if (archive_write_header(w, e) < ARCHIVE_WARN) {
            r = berth_error_setq(err, EIO, "%s", archive_error_string(w));
            break;
        }
        const void *buf;
        size_t len;
        la_int64_t off;
        while ((rr = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
            if (archive_write_data_block(w, buf, len, off) < ARCHIVE_WARN)
                break;
        archive_write_finish_entry(w);
    }
out:
    archive_read_free(a);
    archive_write_free(w);
    return r;
}

/* Writes a tar of path (its entries under name) to fd. */
static int
make_tar(const char *path, const char *name, bool follow, int fd, struct berth_error **err)
{
    struct archive *disk = archive_read_disk_new();
    struct archive *w = archive_write_new();
    if (!disk || !w) {
        archive_read_free(disk);
        archive_write_free(w);
        return berth_error_set(err, ENOMEM, "archive");
    }
    archive_read_disk_set_standard_lookup(disk);
    if (follow)
        archive_read_disk_set_symlink_hybrid(disk);
    else
        archive_read_disk_set_symlink_physical(disk);
    archive_write_set_format_pax_restricted(w);
    int r = 0;
    if (archive_write_open_fd(w, fd) != ARCHIVE_OK ||
        archive_read_disk_open(disk, path) != ARCHIVE_OK) {
        r = berth_error_setq(err, EIO, "%s", archive_error_string(disk));
        goto out;
    }
    size_t pl = strlen(path);
    for (;;) {
        struct archive_entry *e = archive_entry_new();
        int rr = archive_read_next_header2(disk, e);
        if (rr == ARCHIVE_EOF) {
            archive_entry_free(e);
            break;
        }
        if (rr < ARCHIVE_WARN) {
            r = berth_error_setq(err, EIO, "%s", archive_error_string(disk));
            archive_entry_free(e);
            break;
        }
        archive_read_disk_descend(disk);
        const char *src = archive_entry_sourcepath(e);
        _cleanup_free_ char *n = NULL;
        if (asprintf(&n, "%s%s", name, src + pl) >= 0)
            archive_entry_set_pathname(e, n);
        if (archive_write_header(w, e) < ARCHIVE_WARN) {
            r = berth_error_setq(err, EIO, "%s", archive_error_string(w));
            archive_entry_free(e);
            break;
        }
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
            _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
            char buf[65536];
            ssize_t got;
            while (in >= 0 && (got = read(in, buf, sizeof(buf))) > 0)
                archive_write_data(w, buf, (size_t)got);
        }
        archive_entry_free(e);
    }
out:
    archive_read_close(disk);
    archive_read_free(disk);
    archive_write_close(w);
    archive_write_free(w);
    return r;
}

static bool
ends_with_dot(const char *p)
{
    size_t l = strlen(p);
    return (l >= 2 && !strcmp(p + l - 2, "/.")) || !strcmp(p, ".");
}

static int
copy_from(struct berth_cli *cli, const char *ctr, const char *src, const char *dst, bool follow,
          bool archive_mode)
{
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    if (stat_in_container(c, ctr, src, &err) < 0)
        return berth_cli_fail(cli, err);
    _cleanup_query_ struct berth_query q = {0};
    berth_query_add(&q, "path", src);
    _cleanup_free_ char *path = berth_cli_ctr_path(ctr, "/archive");
    if (!strcmp(dst, "-")) {
        fflush(cli->out);
        struct tar_out t = {.fd = fileno(cli->out)};
        _cleanup_response_ struct berth_response resp = {0};
        struct berth_request req = {.method = "GET",
                                    .path = path,
                                    .query = &q,
                                    .upload_fd = -1,
                                    .on_data = write_fd,
                                    .ud = &t};
        return berth_client_request(c, &req, &resp, &err) < 0 ? berth_cli_fail(cli, err) : 0;
    }
    /* the archive into an unnamed temporary file, then extracted */
    _cleanup_close_ int tmp = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0) {
        fprintf(cli->err, "open a temporary file: %s\n", go_err(errno));
        return 1;
    }
    struct tar_out t = {.fd = tmp};
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {
        .method = "GET", .path = path, .query = &q, .upload_fd = -1, .on_data = write_fd, .ud = &t};
    if (berth_client_request(c, &req, &resp, &err) < 0)
        return berth_cli_fail(cli, err);
    lseek(tmp, 0, SEEK_SET);
    /* the source's base name as the daemon rebased it */
    _cleanup_free_ char *scopy = strdup(src);
    size_t sl = strlen(scopy);
    while (sl > 1 && scopy[sl - 1] == '/')
        scopy[--sl] = '\0';
    bool contents = ends_with_dot(src);
    if (contents && sl >= 2)
        scopy[sl - 2] = '\0';
    const char *base = basename(scopy[0] ? scopy : "/");
    struct stat ds;
    bool exists = stat(dst, &ds) == 0;
    size_t dl = strlen(dst);
    int r;
    if (exists && S_ISDIR(ds.st_mode)) {
        r = extract(tmp, dst, base, contents ? "" : NULL, archive_mode, &err);
    } else {
        if (!exists && dl > 0 && dst[dl - 1] == '/') {
            fprintf(cli->err, "destination \"%s\" does not exist\n", dst);
            return 1;
        }
        _cleanup_free_ char *d1 = strdup(dst), *d2 = strdup(dst);
        if (!d1 || !d2)
            return 1;
        const char *parent = dirname(d1);
        struct stat ps;
        if (stat(parent, &ps) < 0) {
            fprintf(cli->err, "lstat %s: %s\n", parent, go_err(errno));
            return 1;
        }
        r = extract(tmp, parent, base, basename(d2), archive_mode, &err);
    }
    return r < 0 ? berth_cli_fail(cli, err) : 0;
}

static int
copy_to(struct berth_cli *cli, const char *src, const char *ctr, const char *dst, bool follow,
        bool archive_mode)
{
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_query_ struct berth_query q = {0};
    _cleanup_free_ char *path = berth_cli_ctr_path(ctr, "/archive");
    if (!strcmp(src, "-")) {
        berth_query_add(&q, "path", dst);
        berth_query_add(&q, "noOverwriteDirNonDir", "true");
        if (archive_mode)
            berth_query_add(&q, "copyUIDGID", "true");
        _cleanup_response_ struct berth_response resp = {0};
        struct berth_request req = {.method = "PUT",
                                    .path = path,
                                    .query = &q,
                                    .content_type = "application/x-tar",
                                    .upload_fd = cli->in_fd};
        return berth_client_request(c, &req, &resp, &err) < 0 ? berth_cli_fail(cli, err) : 0;
    }
    struct stat ss;
    if ((follow ? stat(src, &ss) : lstat(src, &ss)) < 0) {
        report_missing(cli, src, errno);
        return 1;
    }
    /* does the destination exist in the container, and is it a directory? */
    size_t dl = strlen(dst);
    bool dst_dir = false, exists = false;
    {
        _cleanup_query_ struct berth_query hq = {0};
        berth_query_add(&hq, "path", dst);
        struct berth_conn conn = {.fd = -1};
        if (berth_conn_request(c, "HEAD", path, &hq, NULL, false, &conn, &err) == 0) {
            exists = true;
            berth_conn_close(&conn);
        } else if (err && err->code != ENOENT) {
            return berth_cli_fail(cli, err);
        }
        berth_error_free(err);
        err = NULL;
    }
    _cleanup_free_ char *dcopy = strdup(dst);
    if (!dcopy)
        return 1;
    if (exists) {
        /* a trailing slash or "." names a directory; otherwise try the path as one */
        dst_dir = (dl > 0 && dst[dl - 1] == '/') || ends_with_dot(dst);
        if (!dst_dir) {
            _cleanup_query_ struct berth_query tq = {0};
            _cleanup_free_ char *probe = NULL;
            if (asprintf(&probe, "%s/.", dst) >= 0) {
                berth_query_add(&tq, "path", probe);
                struct berth_conn conn = {.fd = -1};
                struct berth_error *e = NULL;
                dst_dir = berth_conn_request(c, "HEAD", path, &tq, NULL, false, &conn, &e) == 0;
                berth_conn_close(&conn);
                berth_error_free(e);
            }
        }
    }
    _cleanup_free_ char *scopy = strdup(src), *s2 = strdup(src);
    size_t sl = strlen(scopy);
    bool contents = ends_with_dot(src);
    while (sl > 1 && scopy[sl - 1] == '/')
        scopy[--sl] = '\0';
    const char *name;
    _cleanup_free_ char *dparent = NULL, *dbase = NULL;
    const char *target_dir;
    if (exists && dst_dir) {
        target_dir = dst;
        name = contents ? "." : basename(scopy);
    } else {
        if (!exists && dl > 0 && dst[dl - 1] == '/' && !S_ISDIR(ss.st_mode)) {
            fprintf(cli->err, "destination \"%s:%s\" must be a directory\n", ctr, dst);
            return 1;
        }
        dparent = strdup(dirname(dcopy));
        _cleanup_free_ char *d3 = strdup(dst);
        dbase = strdup(basename(d3));
        target_dir = dparent;
        name = dbase;
    }
    (void)s2;
    _cleanup_close_ int tmp = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0) {
        fprintf(cli->err, "open a temporary file: %s\n", go_err(errno));
        return 1;
    }
    _cleanup_free_ char *srcdir = NULL;
    if (contents &&
        asprintf(&srcdir, "%.*s", (int)(strlen(src) - 2 > 0 ? strlen(src) - 2 : 1), src) < 0)
        return 1;
    if (make_tar(contents ? (srcdir[0] ? srcdir : "/") : src, name, follow, tmp, &err) < 0)
        return berth_cli_fail(cli, err);
    lseek(tmp, 0, SEEK_SET);
    berth_query_add(&q, "path", target_dir);
    berth_query_add(&q, "noOverwriteDirNonDir", "true");
    if (archive_mode)
        berth_query_add(&q, "copyUIDGID", "true");
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {.method = "PUT",
                                .path = path,
                                .query = &q,
                                .content_type = "application/x-tar",
                                .upload_fd = tmp};
    return berth_client_request(c, &req, &resp, &err) < 0 ? berth_cli_fail(cli, err) : 0;
}

int
berth_cli_cmd_cp(struct berth_cli *cli, int argc, char **argv)
{
    bool archive_mode = false, follow = false, quiet = false;
    const struct berth_opt opts[] = {
        {'a', "archive", BERTH_OPT_BOOL, &archive_mode, NULL,
         "Archive mode (copy all uid/gid information)"},
        {'L', "follow-link", BERTH_OPT_BOOL, &follow, NULL,
         "Always follow symbol link in SRC_PATH"},
        {'q', "quiet", BERTH_OPT_BOOL, &quiet, NULL,
         "Suppress progress output during copy. Progress output is automatically suppressed if "
         "no terminal is attached"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- "
        "CONTAINER:DEST_PATH",
        "Copy files/folders between a container and the local filesystem",
        "berth container cp, berth cp", 2, 2};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    if (!args[0][0]) {
        fprintf(cli->err, "source can not be empty\n");
        return 1;
    }
    if (!args[1][0]) {
        fprintf(cli->err, "destination can not be empty\n");
        return 1;
    }
    _cleanup_free_ char *sctr = NULL, *dctr = NULL;
    const char *spath = args[0], *dpath = args[1];
    bool from = split_container_path(args[0], &sctr, &spath);
    bool to = split_container_path(args[1], &dctr, &dpath);
    if (from && to) {
        fprintf(cli->err, "copying between containers is not supported\n");
        return 1;
    }
    if (!from && !to) {
        fprintf(cli->err, "must specify at least one container source\n");
        return 1;
    }
    if (from)
        return copy_from(cli, sctr, spath, dpath, follow, archive_mode);
    return copy_to(cli, spath, dctr, dpath, follow, archive_mode);
}
