#include "runtime/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup.h"

#define STATE_MAX_SIZE (4u << 20)

static const char *const status_names[] = {"creating", "created", "running", "paused", "stopped"};

const char *
berth_status_name(enum berth_status status)
{
    return status_names[status];
}

int
berth_state_check_id(const char *id, struct berth_error **err)
{
    size_t n = strlen(id);
    if (n == 0)
        return berth_error_setq(err, EINVAL, "container id cannot be empty");
    if (n > 1024 || !strcmp(id, ".") || !strcmp(id, "..") ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") != n)
        return berth_error_setq(err, EINVAL, "invalid container id format: %s", id);
    return 0;
}

int
berth_state_dir(const char *root, const char *id, char **ret, struct berth_error **err)
{
    int r = berth_state_check_id(id, err);
    if (r < 0)
        return r;
    if (asprintf(ret, "%s/%s", root, id) < 0)
        return berth_error_set(err, ENOMEM, "state dir");
    return 0;
}

int
berth_state_save(const char *root, const struct berth_state *s, struct berth_error **err)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "pid", json_integer(s->pid));
    json_object_set_new(o, "pid_start", json_integer((json_int_t)s->pid_start));
    json_object_set_new(o, "bundle", json_string(s->bundle));
    json_object_set_new(o, "rootfs", json_string(s->rootfs));
    json_object_set_new(o, "created", json_string(s->created));
    json_object_set_new(o, "owner", json_string(s->owner ? s->owner : ""));
    json_object_set_new(o, "systemd_cgroup", json_boolean(s->systemd_cgroup));
    json_object_set_new(o, "use_fifo", json_boolean(s->use_fifo));
    json_t *ann = json_object();
    for (size_t i = 0; i < s->n_annotations; i++)
        json_object_set_new(ann, s->annotations[i].key, json_string(s->annotations[i].value));
    json_object_set_new(o, "annotations", ann);
    if (s->cgroup)
        json_object_set(o, "cgroup", s->cgroup);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return berth_error_set(err, ENOMEM, "state.json");
    _cleanup_free_ char *path = NULL;
    int r;
    if (asprintf(&path, "%s/%s/state.json", root, s->id) < 0)
        r = berth_error_set(err, ENOMEM, "state.json");
    else
        r = berth_write_file_replace(path, text, strlen(text), 0600, err);
    free(text);
    return r;
}

static char *
dup_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return strdup(v ? v : "");
}

int
berth_state_load(const char *root, const char *id, struct berth_state **ret,
                 struct berth_error **err)
{
    _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
    int r = berth_state_dir(root, id, &dir, err);
    if (r < 0)
        return r;
    if (asprintf(&path, "%s/state.json", dir) < 0)
        return berth_error_set(err, ENOMEM, "state");
    size_t len;
    struct berth_error *local = NULL;
    r = berth_read_file(path, STATE_MAX_SIZE, &text, &len, &local);
    if (r < 0) {
        int code = local->code;
        berth_error_free(local);
        if (code == ENOENT)
            return berth_error_setq(err, ENOENT, "container \"%s\" does not exist", id);
        return berth_error_set(err, code, "read state of container \"%s\"", id);
    }
    json_error_t jerr;
    json_t *o = json_loadb(text, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return berth_error_setq(err, EIO, "state of container \"%s\" is corrupt: %s", id,
                                jerr.text);
    }
    struct berth_state *s = calloc(1, sizeof(*s));
    if (!s) {
        json_decref(o);
        return berth_error_set(err, ENOMEM, "state");
    }
    s->id = strdup(id);
    s->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    s->pid_start = (uint64_t)json_integer_value(json_object_get(o, "pid_start"));
    s->bundle = dup_str(o, "bundle");
    s->rootfs = dup_str(o, "rootfs");
    s->created = dup_str(o, "created");
    s->owner = dup_str(o, "owner");
    s->systemd_cgroup = json_is_true(json_object_get(o, "systemd_cgroup"));
    s->use_fifo = json_is_true(json_object_get(o, "use_fifo"));
    json_t *ann = json_object_get(o, "annotations");
    if (json_is_object(ann) && json_object_size(ann) > 0) {
        s->annotations = calloc(json_object_size(ann), sizeof(struct berth_kv));
        const char *k;
        json_t *v;
        json_object_foreach(ann, k, v)
        {
            if (!s->annotations)
                break;
            s->annotations[s->n_annotations].key = strdup(k);
            s->annotations[s->n_annotations].value =
                strdup(json_string_value(v) ? json_string_value(v) : "");
            s->n_annotations++;
        }
    }
    json_t *cg = json_object_get(o, "cgroup");
    if (cg)
        s->cgroup = json_incref(cg);
    json_decref(o);
    *ret = s;
    return 0;
}

void
berth_state_free(struct berth_state *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->bundle);
    free(s->rootfs);
    free(s->created);
    free(s->owner);
    for (size_t i = 0; i < s->n_annotations; i++)
        free(s->annotations[i].key), free(s->annotations[i].value);
    free(s->annotations);
    json_decref(s->cgroup);
    free(s);
}

void
berth_state_freep(struct berth_state **s)
{
    berth_state_free(*s);
    *s = NULL;
}

bool
berth_state_alive(const struct berth_state *s)
{
    if (s->pid <= 0)
        return false;
    uint64_t start = berth_proc_start_time(s->pid);
    return start != 0 && start == s->pid_start;
}

int
berth_state_cgroup(const struct berth_state *s, struct berth_cgroup **ret, struct berth_error **err)
{
    if (!s->cgroup)
        return berth_error_setq(err, ENOENT, "container \"%s\" has no cgroup", s->id);
    return berth_cgroup_from_json(s->cgroup, ret, err);
}

enum berth_status
berth_state_status(const char *root, const struct berth_state *s)
{
    if (!berth_state_alive(s))
        return BERTH_STOPPED;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/exec.fifo", root, s->id);
    if (s->use_fifo && access(path, F_OK) == 0)
        return BERTH_CREATED;
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    if (s->cgroup && berth_cgroup_from_json(s->cgroup, &cg, NULL) == 0 &&
        berth_cgroup_is_frozen(cg))
        return BERTH_PAUSED;
    return BERTH_RUNNING;
}

json_t *
berth_state_to_oci_json(const struct berth_state *s, enum berth_status status)
{
    json_t *o = json_object();
    json_object_set_new(o, "ociVersion", json_string(BERTH_OCI_VERSION));
    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "status", json_string(berth_status_name(status)));
    json_object_set_new(o, "pid", json_integer(status == BERTH_STOPPED ? 0 : s->pid));
    json_object_set_new(o, "bundle", json_string(s->bundle));
    json_object_set_new(o, "rootfs", json_string(s->rootfs));
    json_object_set_new(o, "created", json_string(s->created));
    json_object_set_new(o, "owner", json_string(s->owner ? s->owner : ""));
    if (s->n_annotations) {
        json_t *ann = json_object();
        for (size_t i = 0; i < s->n_annotations; i++)
            json_object_set_new(ann, s->annotations[i].key, json_string(s->annotations[i].value));
        json_object_set_new(o, "annotations", ann);
    }
    return o;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
berth_state_list(const char *root, char ***ret, struct berth_error **err)
{
    _cleanup_closedir_ DIR *d = opendir(root);
    char **ids = calloc(1, sizeof(char *));
    if (!ids)
        return berth_error_set(err, ENOMEM, "list");
    if (!d) {
        if (errno == ENOENT) {
            *ret = ids;
            return 0;
        }
        free(ids);
        return berth_error_set(err, errno, "open '%s'", root);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (berth_state_check_id(de->d_name, NULL) < 0) /* also refuses "." and ".." */
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s/state.json", root, de->d_name);
        if (access(path, F_OK) < 0)
            continue;
        if (berth_strv_push(&ids, de->d_name) < 0) {
            berth_strv_free(ids);
            return berth_error_set(err, ENOMEM, "list");
        }
    }
    qsort(ids, berth_strv_len(ids), sizeof(char *), cmp_str);
    *ret = ids;
    return 0;
}

int
berth_state_load_spec(const char *root, const char *id, struct berth_spec **ret,
                      struct berth_error **err)
{
    _cleanup_free_ char *dir = NULL;
    int r = berth_state_dir(root, id, &dir, err);
    if (r < 0)
        return r;
    _cleanup_state_ struct berth_state *s = NULL;
    if ((r = berth_state_load(root, id, &s, err)) < 0)
        return r;
    _cleanup_free_ char *text = NULL, *path = NULL;
    size_t len;
    if (asprintf(&path, "%s/config.json", dir) < 0)
        return berth_error_set(err, ENOMEM, "config");
    if ((r = berth_read_file(path, 16u << 20, &text, &len, err)) < 0)
        return r;
    return berth_spec_parse(text, len, s->bundle, ret, err);
}
