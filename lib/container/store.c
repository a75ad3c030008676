/* Container records: the table in memory, container.json on disk, lookup and names. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/container_internal.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/daemon.h"

const char *
berth_cstate_name(enum berth_cstate s)
{
    static const char *const names[] = {"created",  "running", "paused", "restarting",
                                        "removing", "exited",  "dead"};
    return (unsigned)s < BERTH_ARRAY_SIZE(names) ? names[s] : "dead";
}

static int
cstate_parse(const char *s)
{
    for (int i = 0; i <= BERTH_C_DEAD; i++)
        if (s && !strcmp(s, berth_cstate_name((enum berth_cstate)i)))
            return i;
    return BERTH_C_DEAD;
}

void
berth_containers_lock(struct berth_containers *cs)
{
    pthread_mutex_lock(&cs->lock);
}

void
berth_containers_unlock(struct berth_containers *cs)
{
    pthread_mutex_unlock(&cs->lock);
}

void
berth_containers_wait_change(struct berth_containers *cs, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&cs->changed, &cs->lock, &until);
}

void
berth_containers_changed(struct berth_containers *cs)
{
    pthread_cond_broadcast(&cs->changed);
}

char *
berth_container_dir(struct berth_containers *cs, const char *id)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", cs->dir, id) < 0)
        return NULL;
    return p;
}

char *
berth_container_run_dir(struct berth_containers *cs, const char *id)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", cs->run_dir, id) < 0)
        return NULL;
    return p;
}

char *
berth_container_log_path(struct berth_containers *cs, const char *id)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s/%s-json.log", cs->dir, id, id) < 0)
        return NULL;
    return p;
}

const char *
berth_containers_runtime_root(struct berth_containers *cs)
{
    return cs->runtime_root;
}

const char *
berth_containers_runtime_path(struct berth_containers *cs)
{
    return cs->runtime_path;
}

struct berth_daemon *
berth_containers_daemon(struct berth_containers *cs)
{
    return cs->daemon;
}

/* ---- records ---- */

void
berth_container_free(struct berth_container *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->image_name);
    free(c->error);
    json_decref(c->config);
    json_decref(c->host_config);
    berth_container_list_cache_drop(c);
    if (c->monitor_pidfd >= 0)
        close(c->monitor_pidfd);
    if (c->monitor_sync_fd >= 0)
        close(c->monitor_sync_fd);
    free(c);
}

void
berth_container_ref(struct berth_container *c)
{
    c->refs++;
}

void
berth_container_unref(struct berth_containers *cs, struct berth_container *c)
{
    (void)cs;
    if (--c->refs == 0 && c->removed)
        berth_container_free(c);
}

static json_t *
record_json(const struct berth_container *c)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:s, s:O, s:O, s:{s:s, s:i, s:i, s:b, s:s, s:I, s:I, "
                     "s:i, s:b, s:b, s:i, s:I}}",
                     "Id", c->id, "Name", c->name, "Created", (json_int_t)c->created_ns, "Image",
                     c->image_id, "ImageName", c->image_name ? c->image_name : "", "Config",
                     c->config, "HostConfig", c->host_config, "State", "Status",
                     berth_cstate_name(c->state), "Pid", c->pid, "ExitCode", c->exit_code,
                     "OOMKilled", c->oom_killed, "Error", c->error ? c->error : "", "StartedAt",
                     (json_int_t)c->started_ns, "FinishedAt", (json_int_t)c->finished_ns,
                     "RestartCount", c->restart_count, "ManuallyStopped", c->manually_stopped,
                     "HasBeenStarted", c->has_been_started, "MonitorPid", c->monitor_pid,
                     "MonitorStart", (json_int_t)c->monitor_start_time);
}

static int
save(struct berth_containers *cs, const struct berth_container *c, bool durable,
     struct berth_error **err)
{
    json_t *j = record_json(c);
    if (!j)
        return berth_error_set(err, ENOMEM, "container %s record", c->id);
    _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    _cleanup_free_ char *path = NULL;
    if (!text || asprintf(&path, "%s/%s/container.json", cs->dir, c->id) < 0)
        return berth_error_set(err, ENOMEM, "container %s record", c->id);
    return durable ? berth_write_file_atomic(path, text, strlen(text), 0600, err)
                   : berth_write_file_replace(path, text, strlen(text), 0600, err);
}

/* State changes are written atomically but not fsynced: a container's state does not outlive
 * a power loss anyway (its processes are gone), and restore turns a lost "exited" into the
 * monitor-less exit it then is. This keeps fsyncs off `run`'s path (each costs milliseconds). */
int
berth_container_save(struct berth_containers *cs, const struct berth_container *c,
                     struct berth_error **err)
{
    return save(cs, c, false, err);
}

/* The record's existence is durable: a container created survives a power loss. */
int
berth_container_save_durable(struct berth_containers *cs, const struct berth_container *c,
                             struct berth_error **err)
{
    return save(cs, c, true, err);
}

static int
record_load(const char *path, struct berth_container **ret, struct berth_error **err)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return berth_error_set(err, EINVAL, "%s: %s", path, je.text);
    struct berth_container *c = calloc(1, sizeof(*c));
    if (!c) {
        json_decref(j);
        return berth_error_set(err, ENOMEM, "container record");
    }
    c->monitor_pidfd = -1;
    c->monitor_sync_fd = -1;
    const char *id = NULL, *name = NULL, *image = NULL, *image_name = NULL, *status = NULL,
               *error = NULL;
    json_int_t created = 0, started = 0, finished = 0, mon_start = 0;
    json_t *config = NULL, *hc = NULL;
    int r = json_unpack_ex(
        j, &je, 0,
        "{s:s, s:s, s:I, s:s, s?s, s:o, s:o, s:{s:s, s?i, s?i, s?b, s?s, s?I, s?I, s?i, s?b, "
        "s?b, s?i, s?I}}",
        "Id", &id, "Name", &name, "Created", &created, "Image", &image, "ImageName", &image_name,
        "Config", &config, "HostConfig", &hc, "State", "Status", &status, "Pid", &c->pid,
        "ExitCode", &c->exit_code, "OOMKilled", &c->oom_killed, "Error", &error, "StartedAt",
        &started, "FinishedAt", &finished, "RestartCount", &c->restart_count, "ManuallyStopped",
        &c->manually_stopped, "HasBeenStarted", &c->has_been_started, "MonitorPid", &c->monitor_pid,
        "MonitorStart", &mon_start);
    if (r < 0 || strlen(id) != 64) {
        json_decref(j);
        free(c);
        return berth_error_set(err, EINVAL, "%s: %s", path, r < 0 ? je.text : "bad id");
    }
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->image_id, sizeof(c->image_id), "%s", image);
    c->name = strdup(name);
    c->image_name = strdup(image_name ? image_name : image);
    c->error = error && *error ? strdup(error) : NULL;
    c->config = json_incref(config);
    c->host_config = json_incref(hc);
    c->created_ns = created;
    c->started_ns = started;
    c->finished_ns = finished;
    c->monitor_start_time = (uint64_t)mon_start;
    c->state = (enum berth_cstate)cstate_parse(status);
    json_decref(j);
    if (!c->name || !c->image_name) {
        berth_container_free(c);
        return berth_error_set(err, ENOMEM, "container record");
    }
    *ret = c;
    return 0;
}

static int
table_add(struct berth_containers *cs, struct berth_container *c)
{
    if (cs->n == cs->cap) {
        size_t ncap = cs->cap ? cs->cap * 2 : 64;
        struct berth_container **nv = realloc(cs->all, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        cs->all = nv;
        cs->cap = ncap;
    }
    cs->all[cs->n++] = c;
    c->refs++;
    return 0;
}

void
berth_containers_table_remove(struct berth_containers *cs, struct berth_container *c)
{
    for (size_t i = 0; i < cs->n; i++) {
        if (cs->all[i] == c) {
            memmove(&cs->all[i], &cs->all[i + 1], (cs->n - i - 1) * sizeof(*cs->all));
            cs->n--;
            c->removed = true;
            berth_container_unref(cs, c);
            return;
        }
    }
}

int
berth_containers_load_all(struct berth_containers *cs, struct berth_error **err)
{
    _cleanup_closedir_ DIR *dir = opendir(cs->dir);
    if (!dir)
        return berth_error_set(err, errno, "open %s", cs->dir);
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strlen(de->d_name) != 64)
            continue;
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s/container.json", cs->dir, de->d_name) < 0)
            return berth_error_set(err, ENOMEM, "containers");
        struct berth_container *c = NULL;
        struct berth_error *e = NULL;
        if (access(path, F_OK) < 0) {
            /* a create that crashed before its record was written */
            _cleanup_free_ char *d = NULL;
            if (asprintf(&d, "%s/%s", cs->dir, de->d_name) >= 0)
                (void)berth_rm_rf(d, NULL);
            continue;
        }
        if (record_load(path, &c, &e) < 0) {
            berth_log(BERTH_LOG_WARN, "skipping container %s: %s", de->d_name, e->msg);
            berth_error_free(e);
            continue;
        }
        if (table_add(cs, c) < 0) {
            berth_container_free(c);
            return berth_error_set(err, ENOMEM, "containers");
        }
    }
    return 0;
}

int
berth_containers_all(struct berth_containers *cs, struct berth_container ***ret, size_t *n)
{
    struct berth_container **v = calloc(cs->n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    /* newest first */
    for (size_t i = 0; i < cs->n; i++)
        v[i] = cs->all[i];
    for (size_t i = 1; i < cs->n; i++) {
        struct berth_container *x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1]->created_ns < x->created_ns) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    *ret = v;
    *n = cs->n;
    return 0;
}

int
berth_containers_find(struct berth_containers *cs, const char *ref, struct berth_container **ret,
                      struct berth_error **err)
{
    if (!ref || !*ref)
        return berth_error_setq(err, ENOENT, "No such container: %s", ref ? ref : "");
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->all[i]->id, ref))
            return *ret = cs->all[i], 0;
    const char *bare = ref[0] == '/' ? ref + 1 : ref;
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->all[i]->name + 1, bare))
            return *ret = cs->all[i], 0;
    struct berth_container *found = NULL;
    size_t len = strlen(ref);
    for (size_t i = 0; i < cs->n && len <= 64; i++) {
        if (!strncmp(cs->all[i]->id, ref, len)) {
            if (found)
                return berth_error_setq(err, EINVAL, "multiple IDs found with provided prefix: %s",
                                        ref);
            found = cs->all[i];
        }
    }
    if (!found)
        return berth_error_setq(err, ENOENT, "No such container: %s", ref);
    *ret = found;
    return 0;
}

int
berth_containers_using_image(struct berth_containers *cs, const char *image_id, bool running_only,
                             char *ret_id)
{
    int n = 0;
    for (size_t i = 0; i < cs->n; i++) {
        const struct berth_container *c = cs->all[i];
        if (strcmp(c->image_id, image_id))
            continue;
        if (running_only && c->state != BERTH_C_RUNNING && c->state != BERTH_C_PAUSED &&
            c->state != BERTH_C_RESTARTING)
            continue;
        if (n++ == 0 && ret_id)
            memcpy(ret_id, c->id, 65);
    }
    return n;
}

/* ---- names ---- */

bool
berth_container_name_valid(const char *name)
{
    const char *s = name[0] == '/' ? name + 1 : name;
    size_t n = strlen(s);
    if (n < 2 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
            return false;
    }
    return true;
}

struct berth_container *
berth_containers_by_name(struct berth_containers *cs, const char *slash_name)
{
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->all[i]->name, slash_name))
            return cs->all[i];
    return NULL;
}

/* moby's scheme: adjective_surname, with a number when taken. Our own short lists. */
char *
berth_containers_generate_name(struct berth_containers *cs)
{
    static const char *const left[] = {
        "agile",   "bold",    "brave",  "bright",  "calm",   "clever",  "crisp",  "daring",
        "eager",   "fervent", "gentle", "happy",   "jolly",  "keen",    "kind",   "lively",
        "lucid",   "merry",   "modest", "nimble",  "noble",  "patient", "plucky", "quiet",
        "quick",   "serene",  "sharp",  "steady",  "sunny",  "swift",   "tender", "upbeat",
        "vibrant", "wise",    "witty",  "zealous", "amused", "busy",    "cosmic", "dreamy"};
    static const char *const right[] = {
        "babbage",    "bohr",     "boole",    "cerf",       "curie",    "dijkstra", "euler",
        "fermi",      "galois",   "gauss",    "hamilton",   "hopper",   "hypatia",  "kepler",
        "knuth",      "lamport",  "leavitt",  "liskov",     "lovelace", "maxwell",  "meitner",
        "mirzakhani", "newton",   "noether",  "pascal",     "perlman",  "planck",   "ritchie",
        "shannon",    "sinoussi", "thompson", "torvalds",   "turing",   "wiles",    "wing",
        "wozniak",    "yalow",    "zuse",     "kowalevski", "ride"};
    unsigned char rnd[4];
    _cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    for (int attempt = 0; attempt < 20; attempt++) {
        if (fd < 0 || berth_read_all(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
            return NULL;
        char *name = NULL;
        const char *l = left[rnd[0] % BERTH_ARRAY_SIZE(left)];
        const char *r = right[rnd[1] % BERTH_ARRAY_SIZE(right)];
        int ok = attempt < 10 ? asprintf(&name, "/%s_%s", l, r)
                              : asprintf(&name, "/%s_%s%u", l, r, (unsigned)(rnd[2] % 10));
        if (ok < 0)
            return NULL;
        if (!berth_containers_by_name(cs, name))
            return name;
        free(name);
    }
    char *name = NULL;
    if (asprintf(&name, "/berth_%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]) < 0)
        return NULL;
    return name;
}

int
berth_container_random_id(char out[65])
{
    unsigned char rnd[32];
    _cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || berth_read_all(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
        return -EIO;
    for (int i = 0; i < 32; i++)
        snprintf(out + i * 2, 3, "%02x", rnd[i]);
    return 0;
}

int
berth_containers_insert(struct berth_containers *cs, struct berth_container *c)
{
    return table_add(cs, c);
}

void
berth_container_add_waiter(struct berth_container *c, struct berth_attach_waiter *w)
{
    w->next = c->waiters;
    c->waiters = w;
}

void
berth_container_remove_waiter(struct berth_container *c, struct berth_attach_waiter *w)
{
    for (struct berth_attach_waiter **p = &c->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            return;
        }
    }
}
