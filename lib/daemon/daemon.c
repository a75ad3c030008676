#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "api/routes.h"
#include "container/container.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/events.h"
#include "http/server.h"
#include "image/digest.h"
#include "image/store.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* The engine id stays the same across restarts: data-root/engine-id. */
static int
load_engine_id(struct berth_daemon *d, struct berth_error **err)
{
    _cleanup_free_ char *path = NULL, *text = NULL;
    if (asprintf(&path, "%s/engine-id", d->cfg.data_root) < 0)
        return berth_error_set(err, ENOMEM, "engine id");
    if (berth_read_file(path, 128, &text, NULL, NULL) == 0 && strlen(text) >= 32) {
        snprintf(d->id, sizeof(d->id), "%.*s", (int)strcspn(text, "\n"), text);
        return 0;
    }
    unsigned char rnd[16];
    _cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || berth_read_all(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
        return berth_error_set(err, errno, "read /dev/urandom");
    rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40);
    rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
    snprintf(d->id, sizeof(d->id),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10], rnd[11],
             rnd[12], rnd[13], rnd[14], rnd[15]);
    return berth_write_file_atomic(path, d->id, strlen(d->id), 0644, err);
}

/* overlay2 where the kernel and the backing filesystem allow it, else vfs. */
static const char *
pick_driver(const struct berth_daemon *d)
{
    if (d->cfg.storage_driver)
        return !strcmp(d->cfg.storage_driver, "overlay") ? "overlay2" : d->cfg.storage_driver;
    struct statfs sf;
    if (statfs(d->cfg.data_root, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC)
        return "vfs"; /* overlay cannot sit on overlay */
    _cleanup_free_ char *fs = NULL;
    if (berth_read_file("/proc/filesystems", 64 * 1024, &fs, NULL, NULL) == 0 &&
        strstr(fs, "\toverlay\n"))
        return "overlay2";
    return "vfs";
}

static int
write_pidfile(struct berth_daemon *d, struct berth_error **err)
{
    int fd = open(d->cfg.pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return berth_error_set(err, errno, "open pidfile %s", d->cfg.pidfile);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char other[32] = "";
        (void)!read(fd, other, sizeof(other) - 1);
        close(fd);
        if (e == EWOULDBLOCK)
            return berth_error_setq(
                err, EBUSY,
                "pid file found, ensure berthd is not running or delete %s (process %s)",
                d->cfg.pidfile, other);
        return berth_error_set(err, e, "lock pidfile %s", d->cfg.pidfile);
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return berth_error_set(err, e, "write pidfile %s", d->cfg.pidfile);
    }
    d->pidfile_fd = fd;
    return 0;
}

int
berth_daemon_start(struct berth_daemon *d, struct berth_error **err)
{
    int r;
    d->pidfile_fd = -1;
    d->started_nano = berth_now_nano();
    _cleanup_free_ char *tmp = NULL;
    if ((r = berth_mkdir_p(d->cfg.data_root, 0711, err)) < 0 ||
        (r = berth_mkdir_p(d->cfg.exec_root, 0711, err)) < 0)
        return r;
    if (asprintf(&tmp, "%s/tmp", d->cfg.data_root) < 0)
        return berth_error_set(err, ENOMEM, "daemon");
    if ((r = berth_mkdir_p(tmp, 0700, err)) < 0)
        return r;
    if ((r = write_pidfile(d, err)) < 0)
        return r;
    if ((r = load_engine_id(d, err)) < 0)
        return r;
    d->driver = pick_driver(d);
    if (!d->busybox_path)
        d->busybox_path = "/bin/busybox";
    if ((r = berth_store_open(d->cfg.data_root,
                              !strcmp(d->driver, "vfs") ? BERTH_DRIVER_VFS : BERTH_DRIVER_OVERLAY2,
                              &d->store, err)) < 0)
        return berth_error_wrap(err, "image store in %s", d->cfg.data_root);
    if ((r = berth_events_new(&d->events, err)) < 0)
        return r;
    if ((r = berth_containers_open(d, &d->containers, err)) < 0)
        return berth_error_wrap(err, "containers in %s", d->cfg.data_root);
    size_t n_routes;
    const struct berth_route *routes = berth_api_routes(&n_routes);
    if ((r = berth_http_server_new(routes, n_routes, d, tmp, &d->http, err)) < 0)
        return r;
    for (char **h = d->cfg.hosts; *h; h++) {
        if (berth_str_has_prefix(*h, "unix://"))
            r = berth_http_listen_unix(d->http, *h + 7, 0660, d->cfg.group, err);
        else
            r = berth_http_listen_tls(d->http, *h + 6, d->cfg.tlscacert, d->cfg.tlscert,
                                      d->cfg.tlskey, err);
        if (r < 0)
            return berth_error_wrap(err, "listen on %s", *h);
        d->n_bound++;
        berth_log(BERTH_LOG_INFO, "API listen on %s",
                  *h + (berth_str_has_prefix(*h, "unix://") ? 7 : 6));
    }
    return 0;
}

void
berth_daemon_stop(struct berth_daemon *d)
{
    if (d->events)
        berth_events_shutdown(d->events);
    if (d->http) {
        berth_http_server_stop(d->http);
        berth_http_server_free(d->http);
        d->http = NULL;
    }
    for (int i = 0; i < d->n_bound; i++)
        if (berth_str_has_prefix(d->cfg.hosts[i], "unix://"))
            unlink(d->cfg.hosts[i] + 7);
    d->n_bound = 0;
    berth_api_jobs_wait(60000);
    /* containers keep running: their monitors outlive us (live restore) */
    berth_containers_close(d->containers);
    d->containers = NULL;
    berth_events_free(d->events);
    d->events = NULL;
    berth_store_close(d->store);
    d->store = NULL;
    if (d->pidfile_fd >= 0) {
        unlink(d->cfg.pidfile);
        close(d->pidfile_fd);
        d->pidfile_fd = -1;
    }
}
