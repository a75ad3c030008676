/* libFuzzer target for berthd's request handling, end to end on a real socket, run under
 * ASan+UBSan. LLVMFuzzerInitialize starts one daemon in-process (struct berth_daemon, as
 * src/berthd/main.c does, with a temporary data-root and exec-root, the vfs driver and a unix
 * socket in the temporary directory) and makes the default image once. Each input is written raw
 * to a new connection (it is a whole HTTP request, several, or garbage); the client then
 * half-closes, reads the reply until the server closes or READ_TIMEOUT_MS passes, and closes.
 * The daemon must never crash or leak (memory, or fds: checked with some slack for requests
 * still in flight), and every CHECK_EVERY inputs and at exit it must still answer GET /_ping.
 * At each check the store is brought back to the default image alone, so state (tags, imported
 * images) cannot pile up. Seeds: tests/fuzz/corpus/http/. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/util.h"
#include "daemon/daemon.h"
#include "image/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define READ_TIMEOUT_MS 200
#define CHECK_EVERY 16
#define PING_TIMEOUT_MS 10000
#define FD_SLACK 64 /* fds that requests still in flight may hold */
#define DEFAULT_IMAGE "docker.io/library/busybox:latest"

static struct berth_daemon daemon_ = {.pidfile_fd = -1};
static char tmp_root[64], sock_path[128];
static unsigned long n_inputs;
static int fds_at_start;

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        abort();
    int n = 0;
    while (readdir(dir))
        n++;
    closedir(dir);
    return n;
}

/* Sends data on a new connection, half-closes it, and reads the reply into buf (at most cap
 * bytes kept, the rest read and dropped) until the server closes or timeout_ms has passed. */
static size_t
exchange(const void *data, size_t size, char *buf, size_t cap, int timeout_ms)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "fuzz_http: cannot connect to %s: %s\n", sock_path, strerror(errno));
        abort();
    }
    int64_t deadline = now_ms() + timeout_ms;
    size_t off = 0;
    while (off < size) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int64_t left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t n = send(fd, (const char *)data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break; /* the server closed first (a reply to a bad request) */
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    char sink[16384];
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        bool keep = got < cap;
        ssize_t n =
            recv(fd, keep ? buf + got : sink, keep ? cap - got : sizeof(sink), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break;
        if (keep)
            got += (size_t)n;
    }
    close(fd);
    return got;
}

static void
check_ping(void)
{
    static const char ping[] = "GET /_ping HTTP/1.1\r\nHost: berth\r\n\r\n";
    char reply[4096];
    size_t n = exchange(ping, strlen(ping), reply, sizeof(reply) - 1, PING_TIMEOUT_MS);
    reply[n] = '\0';
    if (strncmp(reply, "HTTP/1.1 200", 12) != 0 || !strstr(reply, "\r\n\r\nOK")) {
        fprintf(stderr, "fuzz_http: the daemon no longer answers GET /_ping (got \"%.200s\")\n",
                reply);
        abort();
    }
}

/* Back to the default image alone, untagged of everything but busybox:latest. */
static void
tidy_store(void)
{
    struct berth_image **imgs = NULL;
    size_t n = 0;
    struct berth_error *err = NULL;
    if (berth_store_list(daemon_.store, &imgs, &n, &err) < 0) {
        fprintf(stderr, "fuzz_http: the store cannot list its images: %s\n", err->msg);
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        bool is_default = false;
        for (size_t t = 0; imgs[i]->tags && imgs[i]->tags[t]; t++)
            is_default |= !strcmp(imgs[i]->tags[t], DEFAULT_IMAGE);
        if (!is_default) {
            /* may race with a request still in flight: then it goes at the next check */
            (void)berth_store_delete_image(daemon_.store, imgs[i]->id, true, NULL, NULL);
            continue;
        }
        for (size_t t = 0; imgs[i]->tags && imgs[i]->tags[t]; t++)
            if (strcmp(imgs[i]->tags[t], DEFAULT_IMAGE))
                (void)berth_store_untag(daemon_.store, imgs[i]->tags[t], NULL);
    }
    berth_images_free(imgs, n);
}

static void
check_fds(void)
{
    /* requests still in flight hold a socket and maybe a spool file: give them time */
    for (int tries = 0; count_fds() > fds_at_start + FD_SLACK; tries++) {
        if (tries == 50) {
            fprintf(stderr, "fuzz_http: %d fds open, %d at start: the daemon leaks them\n",
                    count_fds(), fds_at_start);
            abort();
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void
stop_daemon(void)
{
    /* the last inputs count too (a replay of a small corpus may never reach CHECK_EVERY) */
    check_ping();
    check_fds();
    berth_daemon_stop(&daemon_);
    berth_daemon_config_clear(&daemon_.cfg);
    berth_rm_rf(tmp_root, NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    signal(SIGPIPE, SIG_IGN);
    berth_log_open(NULL, BERTH_LOG_TEXT, BERTH_LOG_ERROR);
    /* tmpfs when there is one: the store fsyncs every blob and transaction */
    snprintf(tmp_root, sizeof(tmp_root), "/dev/shm/berth-fuzz-http-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        snprintf(tmp_root, sizeof(tmp_root), "/tmp/berth-fuzz-http-XXXXXX");
        if (!mkdtemp(tmp_root))
            abort();
    }
    snprintf(sock_path, sizeof(sock_path), "%s/berth.sock", tmp_root);
    struct berth_daemon_config *cfg = &daemon_.cfg;
    char host[160];
    snprintf(host, sizeof(host), "unix://%s", sock_path);
    cfg->hosts = calloc(1, sizeof(char *));
    if (!cfg->hosts || berth_strv_push(&cfg->hosts, host) < 0 ||
        asprintf(&cfg->data_root, "%s/data", tmp_root) < 0 ||
        asprintf(&cfg->exec_root, "%s/exec", tmp_root) < 0 ||
        !(cfg->storage_driver = strdup("vfs")) || !(cfg->log_level = strdup("error")))
        abort();
    struct berth_error *err = NULL;
    if (berth_daemon_config_finish(cfg, &err) < 0 || berth_daemon_start(&daemon_, &err) < 0) {
        fprintf(stderr, "fuzz_http: cannot start the daemon: %s\n", err ? err->msg : "?");
        abort();
    }
    atexit(stop_daemon);
    /* the default image, made once (without /bin/busybox the requests for it fail instead) */
    static const char pull[] = "POST /v1.44/images/create?fromImage=busybox&tag=latest HTTP/1.1\r\n"
                               "Host: berth\r\nContent-Length: 0\r\n\r\n";
    char reply[4096];
    exchange(pull, strlen(pull), reply, sizeof(reply), 60000);
    check_ping();
    fds_at_start = count_fds();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char reply[65536];
    exchange(data, size, reply, sizeof(reply), READ_TIMEOUT_MS);
    if (++n_inputs % CHECK_EVERY == 0) {
        check_ping();
        tidy_store();
        check_fds();
    }
    return 0;
}
