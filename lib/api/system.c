/* System endpoints: /_ping, /version, /info, /events, /system/df. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "api/filters.h"
#include "api/routes.h"
#include "container/container.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "image/store.h"
#include "runtime/cgroup.h"

#ifndef BERTH_GIT_COMMIT
#define BERTH_GIT_COMMIT "unknown"
#endif
#ifndef BERTH_BUILD_TIME
#define BERTH_BUILD_TIME "1970-01-01T00:00:00.000000000+00:00"
#endif

static struct berth_daemon *
daemon_of(struct berth_http_request *req)
{
    return req->app;
}

void
berth_api_ping(struct berth_http_request *req)
{
    static const char *const headers[] = {
        "Builder-Version",
        "1",
        "Cache-Control",
        "no-cache, no-store, must-revalidate",
        "Pragma",
        "no-cache",
        "Swarm",
        "inactive",
        NULL,
    };
    berth_http_reply_with_headers(req, 200, "text/plain; charset=utf-8", "OK", 2, headers);
}

static const char *
arch_name(const struct utsname *u)
{
    /* Go's GOARCH names, which docker reports */
    if (!strcmp(u->machine, "x86_64"))
        return "amd64";
    if (!strcmp(u->machine, "aarch64"))
        return "arm64";
    return u->machine;
}

void
berth_api_version(struct berth_http_request *req)
{
    struct utsname u;
    uname(&u);
    json_t *details =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ApiVersion", BERTH_API_VERSION,
                  "MinAPIVersion", BERTH_API_MIN_VERSION, "GitCommit", BERTH_GIT_COMMIT,
                  "GoVersion", "n/a (C)", "Os", "linux", "Arch", arch_name(&u), "KernelVersion",
                  u.release, "Experimental", "false", "BuildTime", BERTH_BUILD_TIME);
    json_t *o = json_pack("{s:{s:s},s:[{s:s,s:s,s:o}],s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}",
                          "Platform", "Name", "Berth Engine", "Components", "Name", "Engine",
                          "Version", BERTH_ENGINE_VERSION, "Details", details, "Version",
                          BERTH_ENGINE_VERSION, "ApiVersion", BERTH_API_VERSION, "MinAPIVersion",
                          BERTH_API_MIN_VERSION, "GitCommit", BERTH_GIT_COMMIT, "GoVersion",
                          "n/a (C)", "Os", "linux", "Arch", arch_name(&u), "KernelVersion",
                          u.release, "Experimental", 0, "BuildTime", BERTH_BUILD_TIME);
    berth_http_reply_json(req, 200, o);
}

static char *
os_pretty_name(void)
{
    _cleanup_free_ char *text = NULL;
    if (berth_read_file("/etc/os-release", 64 * 1024, &text, NULL, NULL) < 0)
        return strdup("Linux");
    char *p = strstr(text, "PRETTY_NAME=");
    if (!p)
        return strdup("Linux");
    p += strlen("PRETTY_NAME=");
    if (*p == '"')
        p++;
    size_t n = strcspn(p, "\"\n");
    return strndup(p, n);
}

static char *
os_version(void)
{
    _cleanup_free_ char *text = NULL;
    if (berth_read_file("/etc/os-release", 64 * 1024, &text, NULL, NULL) < 0)
        return strdup("");
    char *p = strstr(text, "\nVERSION_ID=");
    if (!p)
        return strdup("");
    p += strlen("\nVERSION_ID=");
    if (*p == '"')
        p++;
    return strndup(p, strcspn(p, "\"\n"));
}

static int
count_fds(void)
{
    _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d))
        n++;
    return n > 2 ? n - 3 : 0; /* ".", ".." and the directory's own fd */
}

void
berth_api_info(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    struct utsname u;
    uname(&u);
    struct sysinfo si;
    sysinfo(&si);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char when[64];
    berth_format_time(&now, when, sizeof(when));
    _cleanup_free_ char *os = os_pretty_name(), *osv = os_version();
    char hostname[256] = "";
    gethostname(hostname, sizeof(hostname) - 1);
    bool v2_only = berth_cgroup_detect_mode() == BERTH_CGROUP_UNIFIED;
    json_t *o = json_object();
    json_object_set_new(o, "ID", json_string(d->id));
    int n_all = 0, n_running = 0, n_paused = 0;
    if (d->containers) {
        struct berth_container **v = NULL;
        size_t nc = 0;
        berth_containers_lock(d->containers);
        if (berth_containers_all(d->containers, &v, &nc) == 0) {
            for (size_t i = 0; i < nc; i++) {
                n_running += v[i]->state == BERTH_C_RUNNING || v[i]->state == BERTH_C_RESTARTING;
                n_paused += v[i]->state == BERTH_C_PAUSED;
            }
            n_all = (int)nc;
            free(v);
        }
        berth_containers_unlock(d->containers);
    }
    json_object_set_new(o, "Containers", json_integer(n_all));
    json_object_set_new(o, "ContainersRunning", json_integer(n_running));
    json_object_set_new(o, "ContainersPaused", json_integer(n_paused));
    json_object_set_new(o, "ContainersStopped", json_integer(n_all - n_running - n_paused));
    json_object_set_new(o, "Images", json_integer(berth_store_count_images(d->store)));
    json_object_set_new(o, "Driver", json_string(d->driver));
    json_object_set_new(o, "DriverStatus", json_pack("[[s,s]]", "Backing Filesystem", "extfs"));
    json_object_set_new(o, "Plugins",
                        json_pack("{s:[s],s:[s,s,s],s:n,s:[s]}", "Volume", "local", "Network",
                                  "bridge", "host", "null", "Authorization", "Log", "json-file"));
    json_object_set_new(o, "MemoryLimit", json_true());
    json_object_set_new(
        o, "SwapLimit",
        json_boolean(access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0 ||
                     v2_only));
    json_object_set_new(o, "CpuCfsPeriod", json_true());
    json_object_set_new(o, "CpuCfsQuota", json_true());
    json_object_set_new(o, "CPUShares", json_true());
    json_object_set_new(o, "CPUSet", json_true());
    json_object_set_new(o, "PidsLimit", json_true());
    json_object_set_new(o, "IPv4Forwarding", json_true());
    json_object_set_new(o, "Debug", json_boolean(!strcmp(d->cfg.log_level, "debug")));
    json_object_set_new(o, "NFd", json_integer(count_fds()));
    json_object_set_new(o, "OomKillDisable", json_false());
    json_object_set_new(o, "NGoroutines", json_integer(0));
    json_object_set_new(o, "SystemTime", json_string(when));
    json_object_set_new(o, "LoggingDriver", json_string("json-file"));
    json_object_set_new(o, "CgroupDriver", json_string("cgroupfs"));
    json_object_set_new(o, "CgroupVersion", json_string(v2_only ? "2" : "1"));
    json_object_set_new(o, "NEventsListener", json_integer(berth_events_listeners(d->events)));
    json_object_set_new(o, "KernelVersion", json_string(u.release));
    json_object_set_new(o, "OperatingSystem", json_string(os));
    json_object_set_new(o, "OSVersion", json_string(osv));
    json_object_set_new(o, "OSType", json_string("linux"));
    json_object_set_new(o, "Architecture", json_string(u.machine));
    json_object_set_new(o, "NCPU", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(o, "MemTotal", json_integer((json_int_t)si.totalram * si.mem_unit));
    json_object_set_new(o, "IndexServerAddress", json_string("https://index.docker.io/v1/"));
    json_object_set_new(o, "RegistryConfig",
                        json_pack("{s:{s:{s:s,s:[],s:b,s:b}},s:[s],s:[]}", "IndexConfigs",
                                  "docker.io", "Name", "docker.io", "Mirrors", "Secure", 1,
                                  "Official", 1, "InsecureRegistryCIDRs", "127.0.0.0/8",
                                  "Mirrors"));
    json_object_set_new(o, "DockerRootDir", json_string(d->cfg.data_root));
    json_object_set_new(o, "HttpProxy", json_string(""));
    json_object_set_new(o, "HttpsProxy", json_string(""));
    json_object_set_new(o, "NoProxy", json_string(""));
    json_object_set_new(o, "Name", json_string(hostname));
    json_object_set_new(o, "Labels", json_array());
    json_object_set_new(o, "ExperimentalBuild", json_false());
    json_object_set_new(o, "ServerVersion", json_string(BERTH_ENGINE_VERSION));
    json_object_set_new(o, "Runtimes", json_pack("{s:{s:s}}", "berth", "path", "berth-runtime"));
    json_object_set_new(o, "DefaultRuntime", json_string("berth"));
    json_object_set_new(o, "Swarm",
                        json_pack("{s:s,s:s,s:s,s:b,s:s,s:n}", "NodeID", "", "NodeAddr", "",
                                  "LocalNodeState", "inactive", "ControlAvailable", 0, "Error", "",
                                  "RemoteManagers"));
    json_object_set_new(o, "LiveRestoreEnabled", json_true());
    json_object_set_new(o, "Isolation", json_string(""));
    json_object_set_new(o, "InitBinary", json_string(""));
    json_object_set_new(o, "ContainerdCommit", json_pack("{s:s}", "ID", ""));
    json_object_set_new(o, "RuncCommit", json_pack("{s:s}", "ID", ""));
    json_object_set_new(o, "InitCommit", json_pack("{s:s}", "ID", ""));
    json_object_set_new(o, "SecurityOptions",
                        json_pack("[s,s]", "name=seccomp,profile=builtin", "name=cgroupns"));
    json_object_set_new(o, "CDISpecDirs", json_array());
    json_object_set_new(o, "Warnings", json_null());
    berth_http_reply_json(req, 200, o);
}

/* ---- /events ---- */

struct event_stream {
    struct berth_daemon *daemon;
    struct berth_http_request *req;
    struct berth_filters filters;
    uint64_t cursor;
    int64_t until_nano; /* 0: none */
    char *pending;      /* formatted event not yet fully handed out */
    size_t pending_len, pending_off;
};

static const char *
attr(json_t *ev, const char *name)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(ev, "Actor"), "Attributes"), name));
}

static bool
event_matches(const struct berth_filters *f, json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "Type"));
    const char *action = json_string_value(json_object_get(ev, "Action"));
    const char *actor = json_string_value(json_object_get(json_object_get(ev, "Actor"), "ID"));
    if (!berth_filters_match(f, "type", type) || !berth_filters_match(f, "event", action))
        return false;
    if (!berth_filters_match(f, "scope", "local"))
        return false;
    static const struct {
        const char *key, *type;
    } by_object[] = {{"container", "container"}, {"network", "network"}, {"volume", "volume"},
                     {"daemon", "daemon"},       {"plugin", "plugin"},   {"node", "node"},
                     {"service", "service"},     {"secret", "secret"},   {"config", "config"}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(by_object); i++) {
        if (!berth_filters_get(f, by_object[i].key))
            continue;
        if (!type || strcmp(type, by_object[i].type))
            return false;
        if (!berth_filters_match(f, by_object[i].key, actor) &&
            !berth_filters_match(f, by_object[i].key, attr(ev, "name")))
            return false;
    }
    if (berth_filters_get(f, "image")) {
        const char *img = type && !strcmp(type, "image") ? actor : attr(ev, "image");
        if (!berth_filters_match(f, "image", img) &&
            !berth_filters_match(f, "image", attr(ev, "name")))
            return false;
    }
    return berth_filters_match_labels(f, "label",
                                      json_object_get(json_object_get(ev, "Actor"), "Attributes"));
}

static ssize_t
events_produce(void *cls, char *buf, size_t max)
{
    struct event_stream *s = cls;
    for (;;) {
        if (s->pending) {
            size_t n = s->pending_len - s->pending_off;
            if (n > max)
                n = max;
            memcpy(buf, s->pending + s->pending_off, n);
            s->pending_off += n;
            if (s->pending_off == s->pending_len) {
                free(s->pending);
                s->pending = NULL;
            }
            return (ssize_t)n;
        }
        if (berth_http_client_gone(s->req))
            return -1;
        /* past `until`, only what is buffered is replayed: then the stream ends */
        bool past = s->until_nano && berth_now_nano() >= s->until_nano;
        json_t *ev = berth_events_next(s->daemon->events, &s->cursor, past ? 0 : 250);
        if (!ev) {
            if (past || berth_http_stopping(berth_http_request_server(s->req)))
                return -1;
            continue;
        }
        int64_t t = (int64_t)json_integer_value(json_object_get(ev, "timeNano"));
        if (s->until_nano && t > s->until_nano) {
            json_decref(ev);
            return -1;
        }
        if (event_matches(&s->filters, ev)) {
            char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (text) {
                size_t l = strlen(text);
                s->pending = realloc(text, l + 2);
                if (!s->pending) {
                    free(text);
                } else {
                    s->pending[l] = '\n';
                    s->pending[l + 1] = '\0';
                    s->pending_len = l + 1;
                    s->pending_off = 0;
                }
            }
        }
        json_decref(ev);
    }
}

static void
events_free(void *cls)
{
    struct event_stream *s = cls;
    berth_events_listener_add(s->daemon->events, -1);
    berth_filters_clear(&s->filters);
    free(s->pending);
    free(s);
}

/* Unix seconds with an optional fraction ("1700000000.5"), as the CLI sends since/until. */
static int
parse_timestamp(const char *text, int64_t *ret)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < 0 || v > 9.2e9)
        return -1;
    *ret = (int64_t)(v * 1e9);
    return 0;
}

void
berth_api_events(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    static const char *const allowed[] = {"config", "container", "daemon", "event",  "image",
                                          "label",  "network",   "node",   "plugin", "scope",
                                          "secret", "service",   "type",   "volume", NULL};
    struct event_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        berth_http_reply_error(req, 500, "out of memory");
        return;
    }
    s->daemon = d;
    s->req = req;
    struct berth_error *err = NULL;
    if (berth_filters_parse(berth_http_query(req, "filters"), allowed, &s->filters, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        free(s);
        return;
    }
    const char *since = berth_http_query(req, "since"), *until = berth_http_query(req, "until");
    int64_t since_nano = 0;
    if ((since && parse_timestamp(since, &since_nano) < 0) ||
        (until && parse_timestamp(until, &s->until_nano) < 0)) {
        berth_filters_clear(&s->filters);
        free(s);
        berth_http_reply_error(req, 400, "invalid timestamp in since/until");
        return;
    }
    s->cursor = berth_events_cursor(d->events, since_nano, since != NULL);
    berth_events_listener_add(d->events, 1);
    berth_http_reply_stream(req, 200, "application/json", events_produce, s, events_free);
}

/* ---- /system/df ---- */

void
berth_api_system_df(struct berth_http_request *req)
{
    struct berth_daemon *d = daemon_of(req);
    struct berth_image **imgs = NULL;
    size_t n = 0;
    struct berth_error *err = NULL;
    if (berth_store_list(d->store, &imgs, &n, &err) < 0) {
        berth_http_reply_berror(req, err);
        berth_error_free(err);
        return;
    }
    json_t *images = json_array();
    json_t *containers = json_array();
    berth_containers_lock(d->containers);
    for (size_t i = 0; i < n; i++) {
        json_t *sum = berth_api_image_summary(req, imgs[i]);
        json_object_set_new(
            sum, "Containers",
            json_integer(berth_containers_using_image(d->containers, imgs[i]->id, false, NULL)));
        json_array_append_new(images, sum);
    }
    struct berth_container **v = NULL;
    size_t nc = 0;
    if (berth_containers_all(d->containers, &v, &nc) == 0) {
        for (size_t i = 0; i < nc; i++)
            json_array_append_new(containers, berth_container_list_json(d->containers, v[i], true));
        free(v);
    }
    berth_containers_unlock(d->containers);
    berth_images_free(imgs, n);
    json_t *o = json_pack("{s:I,s:o,s:o,s:[],s:[]}", "LayersSize",
                          (json_int_t)berth_store_layers_size(d->store), "Images", images,
                          "Containers", containers, "Volumes", "BuildCache");
    berth_http_reply_json(req, 200, o);
}
