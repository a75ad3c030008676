/* Unit tests of the container filesystem helpers (lib/container/changes.c, fs_tar.c, archive.c,
 * top.c, stats.c): docker diff over an overlay upper directory (0/0 whiteouts, opaque
 * directories, unchanged parents, the init mount points) and over two full trees (vfs), the
 * layer tar of docker commit (whiteouts back to ".wh." entries), Go file modes and the path
 * stat header, ps output parsing and the stats mapping. Whiteouts need root (mknod, trusted.*
 * xattrs); those cases are skipped otherwise. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "container/fs.h"
#include "container/stats.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "image/layer.h"
#include "testutil.h"

static char tmp[] = "/tmp/berth-changes-XXXXXX";

/* ok() evaluates its condition twice when it fails: side effects go through this first */
#define ok1(cond, ...)                                                                             \
    do {                                                                                           \
        bool once_ = (cond);                                                                       \
        ok(once_, __VA_ARGS__);                                                                    \
    } while (0)

static bool
mk(const char *rel, const char *content)
{
    _cleanup_free_ char *p = pathf("%s", rel);
    if (!content)
        return mkdir(p, 0755) == 0;
    return put_data(p, content, strlen(content));
}

static int
dirfd_of(const char *rel)
{
    _cleanup_free_ char *p = pathf("%s", rel);
    return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* "K path" lines of a change list */
static char *
changes_text(const struct berth_changes *c)
{
    char *out = calloc(1, 1);
    size_t len = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char k = c->v[i].kind == BERTH_CHANGE_ADD      ? 'A'
                       : c->v[i].kind == BERTH_CHANGE_DELETE ? 'D'
                                                             : 'C';
        char *line = NULL;
        if (asprintf(&line, "%c %s\n", k, c->v[i].path) < 0)
            abort();
        out = realloc(out, len + strlen(line) + 1);
        memcpy(out + len, line, strlen(line) + 1);
        len += strlen(line);
        free(line);
    }
    return out;
}

/* entry names of a tar in fd (from its start), one a line */
static char *
tar_names(int fd)
{
    lseek(fd, 0, SEEK_SET);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    char *out = calloc(1, 1);
    size_t len = 0;
    if (archive_read_open_fd(a, fd, 4096) == ARCHIVE_OK) {
        struct archive_entry *e;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
            const char *n = archive_entry_pathname(e);
            const char *hl = archive_entry_hardlink(e);
            char line[512];
            snprintf(line, sizeof(line), "%s%s%s\n", n, hl ? " link to " : "", hl ? hl : "");
            out = realloc(out, len + strlen(line) + 1);
            memcpy(out + len, line, strlen(line) + 1);
            len += strlen(line);
        }
    }
    archive_read_free(a);
    return out;
}

static void
test_overlay_changes(bool root)
{
    /* lower: /bin/ls, /bin/sh, /etc/passwd, /home/u/.profile, /var/x; upper: the changes */
    ok1(mk("lower", NULL) && mk("lower/bin", NULL) && mk("lower/bin/ls", "ls") &&
            mk("lower/bin/sh", "sh") && mk("lower/etc", NULL) && mk("lower/etc/passwd", "root") &&
            mk("lower/home", NULL) && mk("lower/home/u", NULL) &&
            mk("lower/home/u/.profile", "p") && mk("lower/var", NULL) && mk("lower/var/x", "x"),
        "lower layer made");
    ok1(mk("upper", NULL) && mk("upper/etc", NULL) && mk("upper/etc/passwd", "root2") &&
            mk("upper/etc/hosts", "") && mk("upper/new", NULL) && mk("upper/new/f", "f") &&
            mk("upper/var", NULL) && mk("upper/var/y", "y"),
        "upper layer made");
    /* /var in upper keeps lower's metadata except what changed: make it equal to lower's */
    _cleanup_free_ char *lv = pathf("lower/var"), *uv = pathf("upper/var");
    struct stat st;
    stat(lv, &st);
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    if (root) {
        _cleanup_free_ char *wh = pathf("upper/bin");
        mkdir(wh, 0755);
        _cleanup_free_ char *ls = pathf("upper/bin/ls");
        ok1(mknod(ls, S_IFCHR | 0, makedev(0, 0)) == 0, "whiteout made");
        _cleanup_free_ char *home = pathf("upper/home");
        mkdir(home, 0755);
        _cleanup_free_ char *hu = pathf("upper/home/u");
        mkdir(hu, 0755);
        ok1(setxattr(hu, "trusted.overlay.opaque", "y", 1, 0) == 0, "opaque directory made");
        ok1(mk("upper/home/u/new", "n"), "file in the opaque directory");
        _cleanup_free_ char *op2 = pathf("upper/new/opq");
        mkdir(op2, 0755);
        (void)setxattr(op2, "trusted.overlay.opaque", "y", 1, 0);
    }
    utimensat(AT_FDCWD, uv, ts, 0); /* after its entries were made */
    /* directories whose mtime differs from the lower one's (timestamps may be coarse) */
    struct timespec old[2] = {{1000, 0}, {1000, 0}};
    _cleanup_free_ char *ue = pathf("upper/etc"), *ub = pathf("upper/bin"),
                        *uh = pathf("upper/home");
    utimensat(AT_FDCWD, ue, old, 0);
    utimensat(AT_FDCWD, ub, old, 0);
    utimensat(AT_FDCWD, uh, old, 0);
    _cleanup_close_ int upper = dirfd_of("upper"), lower = dirfd_of("lower");
    struct berth_changes c = {0};
    struct berth_error *e = NULL;
    ok1(berth_changes_overlay(upper, &lower, 1, &c, &e) == 0, "overlay changes");
    _cleanup_free_ char *text = changes_text(&c);
    if (root)
        is_str(text,
               "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nC /home\nD /home/u\nA /home/u/new\n"
               "A /new\nA /new/f\nA /new/opq\nC /var\nA /var/y\n",
               "whiteouts deleted, opaque dir deleted and remade, parents, mount points left out");
    else
        is_str(text, "C /etc\nC /etc/passwd\nA /new\nA /new/f\nC /var\nA /var/y\n",
               "modified, added, an unchanged parent skipped, mount points left out");
    json_t *j = berth_changes_json(&c);
    ok(json_array_size(j) == c.n && json_integer_value(json_object_get(
                                        json_array_get(j, 0), "Kind")) == (long long)c.v[0].kind,
       "JSON shape");
    json_decref(j);
    berth_changes_clear(&c);
    struct berth_changes empty = {0};
    j = berth_changes_json(&empty);
    ok(json_is_array(j) && json_array_size(j) == 0, "no changes: []");
    json_decref(j);

    /* the layer tar: whiteouts as .wh. entries, opaque dirs with .wh..wh..opq */
    _cleanup_free_ char *tp = pathf("diff.tar");
    _cleanup_close_ int tfd = open(tp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ok1(berth_diff_tar_overlay(upper, &lower, 1, tfd, &e) == 0, "layer tar written");
    _cleanup_free_ char *names = tar_names(tfd);
    ok(!strstr(names, "etc/hosts"), "mount point not in the layer");
    ok(strstr(names, "etc/passwd\n") && strstr(names, "new/f\n") && strstr(names, "var/y\n"),
       "changed files in the layer");
    ok(strstr(names, "new/\n") != NULL, "directories with a trailing slash");
    if (root) {
        ok(strstr(names, "bin/.wh.ls\n") != NULL, "whiteout as .wh.ls");
        ok(strstr(names, "home/u/.wh..wh..opq\n") != NULL, "opaque dir marked");
        ok(!strstr(names, "bin/ls\n"), "the whiteout device itself is not in the tar");
    }
    berth_error_free(e);
}

static void
test_tree_changes(void)
{
    ok1(mk("old", NULL) && mk("old/a", "a") && mk("old/d", NULL) && mk("old/d/gone", "g") &&
            mk("old/d/same", "s") && mk("old/keep", NULL) && mk("old/keep/k", "k"),
        "old tree");
    _cleanup_free_ char *o = pathf("old"), *n = pathf("new");
    ok1(mkdir(n, 0755) == 0, "new tree dir");
    /* copy metadata exactly: cp -a would do; a layer copy is what vfs has */
    _cleanup_close_ int ofd = dirfd_of("old"), nfd = dirfd_of("new");
    struct berth_error *e = NULL;
    ok1(berth_layer_copy_tree(ofd, nfd, &e) == 0, "copied");
    ok1(mk("new/a", "changed!") && mk("new/d/added", "x"), "changes made");
    _cleanup_free_ char *gone = pathf("new/d/gone");
    unlink(gone);
    struct berth_changes c = {0};
    ok1(berth_changes_trees(nfd, ofd, &c, &e) == 0, "tree changes");
    _cleanup_free_ char *text = changes_text(&c);
    is_str(text, "C /a\nC /d\nA /d/added\nD /d/gone\n",
           "modified file, parent of changes first, added, deleted; equal subtree silent");
    /* the layer tar of a change list */
    _cleanup_free_ char *tp = pathf("tree.tar");
    _cleanup_close_ int tfd = open(tp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ok1(berth_diff_tar_changes(nfd, &c, tfd, &e) == 0, "change tar");
    _cleanup_free_ char *names = tar_names(tfd);
    is_str(names, "a\nd/\nd/added\nd/.wh.gone\n", "entries and whiteouts");
    berth_changes_clear(&c);
    berth_error_free(e);
}

static void
test_tar_tree(void)
{
    ok1(mk("t", NULL) && mk("t/f", "data") && mk("t/sub", NULL) && mk("t/sub/g", "g"), "tree");
    _cleanup_free_ char *f = pathf("t/f"), *h = pathf("t/sub/h"), *l = pathf("t/link");
    ok1(link(f, h) == 0 && symlink("/etc/shadow", l) == 0, "hard link and absolute symlink");
    _cleanup_close_ int dfd = dirfd_of("t");
    _cleanup_free_ char *tp = pathf("t.tar");
    _cleanup_close_ int tfd = open(tp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct berth_fs_tar *t = NULL;
    struct berth_error *e = NULL;
    ok1(berth_fs_tar_new(tfd, &t, &e) == 0 && berth_fs_tar_add_tree(t, dfd, "root", &e) == 0 &&
            berth_fs_tar_close(t, &e) == 0,
        "tar of a tree");
    _cleanup_free_ char *names = tar_names(tfd);
    is_str(names, "root/f\nroot/link\nroot/sub/\nroot/sub/g\nroot/sub/h link to root/f\n",
           "sorted, prefixed, hard link kept, symlink not followed");
    berth_error_free(e);
}

static void
test_stat(void)
{
    ok1(berth_go_file_mode(S_IFDIR | 0755) == ((1u << 31) | 0755), "Go mode: directory");
    ok1(berth_go_file_mode(S_IFLNK | 0777) == ((1u << 27) | 0777), "Go mode: symlink");
    ok1(berth_go_file_mode(S_IFCHR | 0600) == ((1u << 26) | (1u << 21) | 0600),
        "Go mode: char device");
    ok1(berth_go_file_mode(S_IFREG | S_ISUID | 0755) == ((1u << 23) | 0755), "Go mode: setuid");
    ok1(mk("r", NULL) && mk("r/etc", NULL) && mk("r/etc/passwd", "root:x"), "root made");
    _cleanup_free_ char *l1 = pathf("r/up"), *l2 = pathf("r/etc/abs");
    ok1(symlink("../../../../../../etc", l1) == 0 && symlink("/etc/passwd", l2) == 0, "links");
    _cleanup_close_ int root = dirfd_of("r");
    json_t *st = NULL;
    struct berth_error *e = NULL;
    ok1(berth_path_stat(root, "/etc/passwd", &st, &e) == 0, "stat a file");
    is_str(json_string_value(json_object_get(st, "name")), "passwd", "name");
    ok(json_integer_value(json_object_get(st, "size")) == 6, "size");
    _cleanup_free_ char *hdr = berth_path_stat_header(st);
    ok(hdr && strlen(hdr) % 4 == 0, "header is base64");
    json_decref(st);
    ok1(berth_path_stat(root, "/up", &st, &e) == 0, "stat a symlink climbing out");
    is_str(json_string_value(json_object_get(st, "linkTarget")), "/etc",
           "resolved inside the root");
    json_decref(st);
    ok1(berth_path_stat(root, "/up/passwd", &st, &e) == 0, "through it: the root's file");
    ok(json_integer_value(json_object_get(st, "size")) == 6, "not the host's /etc/passwd");
    json_decref(st);
    ok1(berth_path_stat(root, "/etc/abs", &st, &e) == 0, "absolute link");
    is_str(json_string_value(json_object_get(st, "linkTarget")), "/etc/passwd", "its target");
    json_decref(st);
    ok1(berth_path_stat(root, "/nope", &st, &e) < 0 && e && e->code == ENOENT, "missing: ENOENT");
    berth_error_free(e);
}

static void
test_top(void)
{
    const char *out = "UID  PID  PPID  C STIME TTY TIME CMD\n"
                      "root 10   1     0 10:00 ?   0:00 sleep 1000 extra\n"
                      "root 11   1     0 10:00 ?   0:00 other\n"
                      "root -    -     0 10:00 ?   0:00 thread\n"
                      "root 12   10    0 10:00 ?   0:00 child\n";
    pid_t pids[] = {10, 12};
    json_t *j = NULL;
    struct berth_error *e = NULL;
    ok1(berth_top_parse(out, pids, 2, &j, &e) == 0, "ps output parsed");
    ok(json_array_size(json_object_get(j, "Titles")) == 8, "titles");
    json_t *procs = json_object_get(j, "Processes");
    ok(json_array_size(procs) == 2, "only the container's pids");
    is_str(json_string_value(json_array_get(json_array_get(procs, 0), 7)), "sleep 1000 extra",
           "the last column takes the rest");
    json_decref(j);
    ok1(berth_top_parse("USER CMD\nroot x\n", pids, 2, &j, &e) < 0 && e &&
            strstr(e->msg, "Couldn't find PID field"),
        "no PID column");
    berth_error_free(e);
    e = NULL;
    ok1(berth_top_validate_args("-o pid=PID", &e) == 0, "pid=PID allowed");
    ok1(berth_top_validate_args("-o user=PID", &e) < 0 && e && strstr(e->msg, "user=PID"),
        "other =PID refused");
    berth_error_free(e);
}

static void
test_stats_map(void)
{
    json_t *cg = json_loads(
        "{\"cpu\":{\"usage\":{\"total\":100,\"percpu\":[60,40],\"user\":70,\"kernel\":30},"
        "\"throttling\":{\"periods\":5}},\"memory\":{\"usage\":{\"usage\":4096,\"max\":8192,"
        "\"limit\":9223372036854771712},\"raw\":{\"cache\":1},\"use_hierarchy\":true},"
        "\"pids\":{\"current\":3},\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,"
        "\"minor\":0,\"op\":\"Read\",\"value\":9}]}}",
        0, NULL);
    struct berth_stats_host host = {
        .system_usage = 1000, .online_cpus = 2, .machine_memory = 1 << 30};
    json_t *s = berth_stats_from_cgroup(cg, &host, 0, "/n", "id", NULL);
    ok(json_integer_value(json_object_get(
           json_object_get(json_object_get(s, "cpu_stats"), "cpu_usage"), "total_usage")) == 100,
       "total_usage");
    json_t *mem = json_object_get(s, "memory_stats");
    ok(json_integer_value(json_object_get(mem, "limit")) == 1 << 30,
       "an unlimited container shows the machine's memory");
    ok(json_integer_value(json_object_get(mem, "max_usage")) == 8192, "v1: max_usage");
    ok(json_integer_value(json_object_get(json_object_get(s, "pids_stats"), "current")) == 3,
       "pids");
    is_str(json_string_value(
               json_object_get(json_array_get(json_object_get(json_object_get(s, "blkio_stats"),
                                                              "io_service_bytes_recursive"),
                                              0),
                               "op")),
           "Read", "v1 blkio op as is");
    ok(json_integer_value(json_object_get(
           json_object_get(json_object_get(s, "precpu_stats"), "cpu_usage"), "total_usage")) == 0,
       "no previous sample: zero precpu");
    json_t *s2 = berth_stats_from_cgroup(cg, &host, 1000000000, "/n", "id", s);
    ok(json_integer_value(json_object_get(
           json_object_get(json_object_get(s2, "precpu_stats"), "cpu_usage"), "total_usage")) ==
           100,
       "precpu from the previous sample");
    json_decref(s2);
    json_decref(s);
    json_decref(cg);
    json_t *z = berth_stats_empty("/n", "id");
    is_str(json_string_value(json_object_get(z, "read")), "0001-01-01T00:00:00Z",
           "empty stats: zero time");
    ok(json_object_size(json_object_get(z, "memory_stats")) == 0, "empty stats: no memory");
    json_decref(z);
}

int
main(void)
{
    if (!tmpdir_make(tmp))
        return tap_done();
    bool root = geteuid() == 0;
    if (!root)
        printf("# not root: whiteout cases skipped\n");
    test_overlay_changes(root);
    test_tree_changes();
    test_tar_tree();
    test_stat();
    test_top();
    test_stats_map();
    tmpdir_remove(tmp, "temporary directory removed");
    return tap_done();
}
