/* Unit tests of lib/runtime/state.c: container ids, state.json round trips, runc's wording for a
 * missing container, corrupt files, the status computed from live processes (a forked child
 * stands in for the container's init), the sorted list, and the OCI state JSON. Runs under a
 * mkdtemp state root, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/state.h"
#include "testutil.h"

static char root[] = "/tmp/berth-state-XXXXXX";

/* Creates <root>/<id>/ and, when text is given, <root>/<id>/<file> with it. */
static bool
put(const char *id, const char *file, const char *text, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", root, id);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return false;
    if (!file)
        return true;
    snprintf(path, sizeof(path), "%s/%s/%s", root, id, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return fd >= 0 && berth_write_all(fd, text, len) == 0;
}

static void
test_check_id(void)
{
    const char *good[] = {"a", "abc-123", "A_b.c+d", "...x", "x..y", "0", "a.", "-", "_"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(good); i++)
        check(berth_state_check_id(good[i], NULL) == 0, "id '%s' is valid", good[i]);

    char max[1025], over[1026];
    memset(max, 'a', 1024);
    max[1024] = '\0';
    memset(over, 'b', 1025);
    over[1025] = '\0';
    check(berth_state_check_id(max, NULL) == 0, "an id of 1024 bytes is valid");
    struct berth_error *e = NULL;
    check(berth_state_check_id(over, &e) == -EINVAL, "an id of 1025 bytes is refused");
    check(msg_has(e, "invalid container id format"), "with runc's wording");
    berth_error_freep(&e);

    const char *bad[] = {".",   "..",   "a/b", "/a", "a b", "a\nb",
                         "a:b", "a\\b", "é",   "a*", "a$b", "../x"};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
        int r = berth_state_check_id(bad[i], &e);
        check(r == -EINVAL && e && e->code == EINVAL, "id '%s' is refused",
              strchr(bad[i], '\n') ? "a<newline>b" : bad[i]);
        berth_error_freep(&e);
    }
    check(berth_state_check_id("..", &e) < 0 && msg_is(e, "invalid container id format: .."),
          "message names the id");
    berth_error_freep(&e);
    check(berth_state_check_id("", &e) == -EINVAL && msg_is(e, "container id cannot be empty"),
          "an empty id has its own message");
    berth_error_freep(&e);

    char *dir = NULL;
    check(berth_state_dir("/run/x", "abc", &dir, NULL) == 0 && dir && !strcmp(dir, "/run/x/abc"),
          "state_dir joins root and id");
    free(dir);
    dir = NULL;
    check(berth_state_dir("/run/x", "../etc", &dir, &e) == -EINVAL && !dir,
          "state_dir refuses a traversal id");
    berth_error_freep(&e);
}

static void
test_status_names(void)
{
    is_str(berth_status_name(BERTH_CREATING), "creating", "creating");
    is_str(berth_status_name(BERTH_CREATED), "created", "created");
    is_str(berth_status_name(BERTH_RUNNING), "running", "running");
    is_str(berth_status_name(BERTH_PAUSED), "paused", "paused");
    is_str(berth_status_name(BERTH_STOPPED), "stopped", "stopped");
}

static struct berth_kv ann[] = {
    {"org.example.key", "value"},
    {"com.x", ""},
    {"quote\"and\\slash", "multi\nline \xc3\xa9"},
};

static void
test_round_trip(void)
{
    struct berth_error *e = NULL;
    check(put("c1", NULL, NULL, 0), "state dir c1");
    json_t *cg =
        json_pack("{s:s,s:s,s:[{s:s,s:s,s:b}]}", "mode", "hybrid", "path", "/berth/c1", "dirs",
                  "path", "/sys/fs/cgroup/memory/berth/c1", "controllers", "memory", "v2", 0);
    struct berth_state s = {
        .id = "c1",
        .pid = 4242,
        .pid_start = 123456789012ULL,
        .bundle = "/srv/bundle",
        .rootfs = "/srv/bundle/rootfs",
        .created = "2024-01-02T03:04:05.000000006Z",
        .owner = "",
        .annotations = ann,
        .n_annotations = BERTH_ARRAY_SIZE(ann),
        .cgroup = cg,
        .systemd_cgroup = true,
        .use_fifo = true,
    };
    int r = berth_state_save(root, &s, &e);
    check(r == 0, "save");
    if (r < 0)
        printf("#   %s\n", e->msg);
    berth_error_freep(&e);

    char path[4096];
    struct stat st;
    snprintf(path, sizeof(path), "%s/c1/state.json", root);
    check(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "state.json is 0600");

    _cleanup_state_ struct berth_state *l = NULL;
    r = berth_state_load(root, "c1", &l, &e);
    check(r == 0 && l, "load");
    if (!l)
        return;
    is_str(l->id, "c1", "id");
    ok(l->pid == 4242, "pid");
    ok(l->pid_start == 123456789012ULL, "pid_start");
    is_str(l->bundle, "/srv/bundle", "bundle");
    is_str(l->rootfs, "/srv/bundle/rootfs", "rootfs");
    is_str(l->created, "2024-01-02T03:04:05.000000006Z", "created");
    is_str(l->owner, "", "owner");
    ok(l->systemd_cgroup && l->use_fifo, "systemd_cgroup and use_fifo");
    ok(l->n_annotations == 3, "three annotations");
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(ann); i++) {
        bool found = false;
        for (size_t j = 0; j < l->n_annotations; j++)
            if (!strcmp(l->annotations[j].key, ann[i].key) &&
                !strcmp(l->annotations[j].value, ann[i].value))
                found = true;
        ok(found, "annotation '%s' round-trips", ann[i].key);
    }
    ok(l->cgroup && json_equal(l->cgroup, cg), "cgroup JSON round-trips");
    json_decref(cg);

    /* no annotations, no cgroup, NULL owner */
    check(put("c2", NULL, NULL, 0), "state dir c2");
    struct berth_state s2 = {
        .id = "c2", .pid = 1, .bundle = "/b", .rootfs = "/b/r", .created = "x"};
    check(berth_state_save(root, &s2, &e) == 0, "save a minimal state");
    _cleanup_state_ struct berth_state *l2 = NULL;
    check(berth_state_load(root, "c2", &l2, &e) == 0 && l2, "load it");
    ok(l2 && l2->n_annotations == 0 && !l2->annotations && !l2->cgroup && l2->owner &&
           !l2->use_fifo,
       "no annotations, no cgroup, owner \"\"");

    /* save into a missing state directory */
    struct berth_state s3 = {.id = "nodir", .bundle = "/b", .rootfs = "/b/r", .created = "x"};
    r = berth_state_save(root, &s3, &e);
    check(r == -ENOENT && e && e->code == ENOENT, "save without the state dir: ENOENT");
    berth_error_freep(&e);

    /* overwrite: atomic, no temporary file left */
    s2.pid = 2;
    check(berth_state_save(root, &s2, &e) == 0, "save again");
    berth_state_freep(&l2);
    check(berth_state_load(root, "c2", &l2, &e) == 0 && l2 && l2->pid == 2,
          "the new state is read");
    snprintf(path, sizeof(path), "%s/c2", root);
    _cleanup_strv_ char **ents = NULL;
    _cleanup_closedir_ DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            berth_strv_push(&ents, de->d_name);
    ok(berth_strv_len(ents) == 1 && !strcmp(ents[0], "state.json"), "only state.json in the dir");
}

static void
test_load_errors(void)
{
    struct berth_error *e = NULL;
    struct berth_state *s = NULL;

    int r = berth_state_load(root, "x", &s, &e);
    check(r == -ENOENT && !s && e && e->code == ENOENT, "missing container: ENOENT");
    check(msg_is(e, "container \"x\" does not exist"), "runc's wording");
    berth_error_freep(&e);

    /* a directory without state.json is missing too */
    put("empty", NULL, NULL, 0);
    r = berth_state_load(root, "empty", &s, &e);
    check(r == -ENOENT && msg_is(e, "container \"empty\" does not exist"),
          "a state dir without state.json: does not exist");
    berth_error_freep(&e);

    r = berth_state_load(root, "../etc", &s, &e);
    check(r == -EINVAL && !s, "load refuses a traversal id");
    berth_error_freep(&e);

    struct {
        const char *id, *text;
    } corrupt[] = {
        {"trunc", "{\"id\": \"trunc\", \"pid\": 12"},
        {"zero", ""},
        {"garbage", "\x01\x02\xff\xfe not json"},
        {"array", "[1, 2, 3]"},
        {"string", "\"state\""},
        {"nul", "{\"pid\": 1}\0{\"pid\": 2}"},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(corrupt); i++) {
        size_t len = strlen(corrupt[i].text);
        if (!strcmp(corrupt[i].id, "nul"))
            len = 21;
        put(corrupt[i].id, "state.json", corrupt[i].text, len);
        s = NULL;
        r = berth_state_load(root, corrupt[i].id, &s, &e);
        check(r < 0 && !s && e, "corrupt state.json (%s) is an error", corrupt[i].id);
        char want[128];
        snprintf(want, sizeof(want), "state of container \"%s\" is corrupt", corrupt[i].id);
        check(msg_has(e, want), "the message says '%s' is corrupt", corrupt[i].id);
        berth_error_freep(&e);
        berth_state_free(s);
    }

    /* a state.json above the bound */
    size_t big_len = (4u << 20) + 10;
    char *big = malloc(big_len);
    memset(big, ' ', big_len);
    big[0] = '{', big[big_len - 1] = '}';
    put("huge", "state.json", big, big_len);
    free(big);
    s = NULL;
    r = berth_state_load(root, "huge", &s, &e);
    check(r == -EFBIG && !s, "an oversized state.json: EFBIG");
    check(msg_has(e, "read state of container \"huge\""), "message names the container");
    berth_error_freep(&e);

    /* wrong types are tolerated field by field */
    const char *odd = "{\"pid\": \"12\", \"bundle\": 5, \"annotations\": {\"k\": 1, \"s\": \"v\"},"
                      " \"use_fifo\": \"yes\", \"cgroup\": null}";
    put("odd", "state.json", odd, strlen(odd));
    s = NULL;
    r = berth_state_load(root, "odd", &s, &e);
    check(r == 0 && s, "wrong field types still load");
    if (s) {
        ok(s->pid == 0 && s->bundle && !strcmp(s->bundle, "") && !s->use_fifo,
           "wrong types read as zero values");
        ok(s->n_annotations == 2, "non-string annotation kept");
        for (size_t i = 0; i < s->n_annotations; i++)
            if (!strcmp(s->annotations[i].key, "k"))
                is_str(s->annotations[i].value, "", "non-string annotation value reads as \"\"");
    }
    berth_state_free(s);
    berth_error_freep(&e);
}

/* ---- status ---- */

static pid_t
spawn_sleeper(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

static void
test_status(void)
{
    pid_t child = spawn_sleeper();
    if (child < 0) {
        ok(false, "fork");
        return;
    }
    uint64_t start = berth_proc_start_time(child);
    ok(start != 0, "child start time");
    put("live", NULL, NULL, 0);
    struct berth_state s = {.id = "live",
                            .pid = child,
                            .pid_start = start,
                            .bundle = "/b",
                            .rootfs = "/b/r",
                            .created = "x"};

    ok(berth_state_alive(&s), "alive: the right pid and start time");
    check(berth_state_status(root, &s) == BERTH_RUNNING, "a live process is running");

    char fifo[4096];
    snprintf(fifo, sizeof(fifo), "%s/live/exec.fifo", root);
    check(mkfifo(fifo, 0600) == 0, "mkfifo exec.fifo");
    s.use_fifo = true;
    check(berth_state_status(root, &s) == BERTH_CREATED,
          "live, exec.fifo present, use_fifo: created");
    s.use_fifo = false;
    check(berth_state_status(root, &s) == BERTH_RUNNING,
          "exec.fifo present but use_fifo off: running");
    s.use_fifo = true;
    unlink(fifo);
    check(berth_state_status(root, &s) == BERTH_RUNNING, "use_fifo, fifo gone (started): running");

    /* a cgroup state that does not parse does not make it paused */
    s.cgroup = json_pack("{s:s}", "mode", "bogus");
    check(berth_state_status(root, &s) == BERTH_RUNNING, "an unusable cgroup state: still running");
    json_decref(s.cgroup);
    s.cgroup = NULL;

    s.pid_start = start + 1;
    ok(!berth_state_alive(&s), "a different start time: not alive (pid reused)");
    check(berth_state_status(root, &s) == BERTH_STOPPED, "a wrong start time is stopped");
    s.pid_start = start;

    struct berth_state none = s;
    none.pid = 0;
    check(berth_state_status(root, &none) == BERTH_STOPPED, "pid 0 is stopped");
    none.pid = -5;
    ok(!berth_state_alive(&none), "a negative pid is not alive");

    mkfifo(fifo, 0600);
    kill(child, SIGKILL);
    for (int i = 0; i < 200; i++) {
        siginfo_t si = {0};
        if (waitid(P_PID, child, &si, WEXITED | WNOWAIT | WNOHANG) == 0 && si.si_pid == child)
            break;
        usleep(5000);
    }
    check(berth_state_status(root, &s) == BERTH_STOPPED,
          "a zombie is stopped (even with the fifo)");
    waitpid(child, NULL, 0);
    ok(!berth_state_alive(&s), "a reaped pid is not alive");
    check(berth_state_status(root, &s) == BERTH_STOPPED, "a reaped pid is stopped");

    /* the status of our own process, which is certainly alive */
    struct berth_state self = {
        .id = "self", .pid = getpid(), .pid_start = berth_proc_start_time(getpid())};
    check(berth_state_status(root, &self) == BERTH_RUNNING, "own process is running");
}

static void
test_list(void)
{
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/listroot", root);
    mkdir(sub, 0700);
    const char *with_state[] = {"b", "a", "c-1", "c", ".hidden", "bad id", "..."};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(with_state); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", sub, with_state[i]);
        mkdir(p, 0700);
        snprintf(p, sizeof(p), "%s/%s/state.json", sub, with_state[i]);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    }
    char p[4096];
    snprintf(p, sizeof(p), "%s/nostate", sub); /* a directory without state.json */
    mkdir(p, 0700);
    snprintf(p, sizeof(p), "%s/file", sub); /* a regular file */
    close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));

    char **ids = NULL;
    struct berth_error *e = NULL;
    int r = berth_state_list(sub, &ids, &e);
    check(r == 0 && ids, "list");
    _cleanup_free_ char *joined = berth_strv_join(ids, ",");
    /* ids may start with a dot (runc allows ".x"): only invalid ids and "." / ".." are junk */
    is_str(joined, "...,.hidden,a,b,c,c-1", "sorted; invalid ids and stateless entries skipped");
    berth_strv_free(ids);

    ids = NULL;
    snprintf(p, sizeof(p), "%s/does-not-exist", root);
    r = berth_state_list(p, &ids, &e);
    check(r == 0 && ids && ids[0] == NULL, "a missing root lists nothing");
    berth_strv_free(ids);

    ids = NULL;
    snprintf(p, sizeof(p), "%s/listroot/file", root);
    r = berth_state_list(p, &ids, &e);
    check(r == -ENOTDIR && !ids, "a root that is a file: ENOTDIR");
    berth_error_freep(&e);
}

static void
test_oci_json(void)
{
    struct berth_state s = {
        .id = "web",
        .pid = 777,
        .bundle = "/srv/web",
        .rootfs = "/srv/web/rootfs",
        .created = "2024-05-06T07:08:09.123456789Z",
        .owner = NULL,
        .annotations = ann,
        .n_annotations = 2,
    };
    json_t *o = berth_state_to_oci_json(&s, BERTH_RUNNING);
    ok(o && json_is_object(o), "an object");
    is_str(json_string_value(json_object_get(o, "ociVersion")), BERTH_OCI_VERSION, "ociVersion");
    is_str(json_string_value(json_object_get(o, "id")), "web", "id");
    is_str(json_string_value(json_object_get(o, "status")), "running", "status");
    ok(json_integer_value(json_object_get(o, "pid")) == 777, "pid");
    is_str(json_string_value(json_object_get(o, "bundle")), "/srv/web", "bundle");
    is_str(json_string_value(json_object_get(o, "rootfs")), "/srv/web/rootfs", "rootfs");
    is_str(json_string_value(json_object_get(o, "created")), "2024-05-06T07:08:09.123456789Z",
           "created");
    is_str(json_string_value(json_object_get(o, "owner")), "", "a NULL owner is \"\"");
    json_t *a = json_object_get(o, "annotations");
    ok(json_is_object(a) && json_object_size(a) == 2 &&
           !strcmp(json_string_value(json_object_get(a, "org.example.key")), "value"),
       "annotations");
    json_decref(o);

    o = berth_state_to_oci_json(&s, BERTH_STOPPED);
    is_str(json_string_value(json_object_get(o, "status")), "stopped", "stopped");
    ok(json_integer_value(json_object_get(o, "pid")) == 0 && json_object_get(o, "pid"),
       "a stopped container shows pid 0");
    json_decref(o);

    s.n_annotations = 0;
    o = berth_state_to_oci_json(&s, BERTH_CREATED);
    is_str(json_string_value(json_object_get(o, "status")), "created", "created");
    ok(json_integer_value(json_object_get(o, "pid")) == 777, "a created container shows its pid");
    ok(!json_object_get(o, "annotations"), "no annotations: the key is left out");
    json_decref(o);
}

static void
test_load_spec(void)
{
    put("spec", NULL, NULL, 0);
    struct berth_state s = {
        .id = "spec", .pid = 1, .bundle = "/srv/bundle", .rootfs = "/r", .created = "x"};
    struct berth_error *e = NULL;
    berth_state_save(root, &s, &e);
    const char *cfg = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                      " \"hostname\": \"h1\", \"linux\": {\"namespaces\": [{\"type\": \"uts\"}]}}";
    put("spec", "config.json", cfg, strlen(cfg));
    struct berth_spec *spec = NULL;
    int r = berth_state_load_spec(root, "spec", &spec, &e);
    check(r == 0 && spec, "load_spec");
    if (r < 0)
        printf("#   %s\n", e ? e->msg : "?");
    if (spec) {
        is_str(spec->root_path, "/srv/bundle/rootfs",
               "root.path resolved against the saved bundle");
        is_str(spec->hostname, "h1", "hostname");
    }
    berth_spec_free(spec);
    berth_error_freep(&e);

    spec = NULL;
    r = berth_state_load_spec(root, "nope", &spec, &e);
    check(r == -ENOENT && msg_is(e, "container \"nope\" does not exist"),
          "load_spec of a missing container");
    berth_error_freep(&e);
}

int
main(void)
{
    if (!tmpdir_make(root))
        return tap_done();
    test_check_id();
    test_status_names();
    test_round_trip();
    test_load_errors();
    test_status();
    test_list();
    test_oci_json();
    test_load_spec();
    tmpdir_remove(root, "state root removed");
    return tap_done();
}
