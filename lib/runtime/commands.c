#include "runtime/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/syscall.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/state.h"

static void
print_json(json_t *o)
{
    char *t = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (t) {
        fputs(t, stdout);
        fputc('\n', stdout);
        free(t);
    }
}

int
berth_cmd_state(const char *root, const char *id, struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    json_t *o = berth_state_to_oci_json(s, berth_state_status(root, s));
    print_json(o);
    json_decref(o);
    return 0;
}

static const struct {
    const char *name;
    int sig;
} signal_table[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int
berth_signal_parse(const char *s)
{
    int64_t n;
    if (berth_parse_i64(s, &n))
        return n > 0 && n < NSIG ? (int)n : -1;
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(signal_table); i++)
        if (!strcasecmp(signal_table[i].name, s))
            return signal_table[i].sig;
    if (!strncasecmp(s, "RTMIN", 5)) {
        int off = 0;
        if (s[5] == '+' && berth_parse_i64(s + 6, &n) && n >= 0 && n <= SIGRTMAX - SIGRTMIN)
            off = (int)n;
        else if (s[5])
            return -1;
        return SIGRTMIN + off <= SIGRTMAX ? SIGRTMIN + off : -1;
    }
    return -1;
}

int
berth_cmd_kill(const char *root, const char *id, const char *signal, bool all,
               struct berth_error **err)
{
    int sig = berth_signal_parse(signal ? signal : "SIGTERM");
    if (sig < 0)
        return berth_error_setq(err, EINVAL, "unknown signal \"%s\"", signal);
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    enum berth_status st = berth_state_status(root, s);
    if (all) {
        _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
        if ((r = berth_state_cgroup(s, &cg, err)) < 0)
            return r;
        if (st == BERTH_STOPPED) {
            pid_t *pids = NULL;
            size_t n = 0;
            if (berth_cgroup_pids(cg, &pids, &n, NULL) == 0 && n == 0) {
                free(pids);
                return berth_error_setq(err, ESRCH, "container not running");
            }
            free(pids);
        }
        return berth_cgroup_kill_all(cg, sig, err);
    }
    if (st == BERTH_STOPPED)
        return berth_error_setq(err, ESRCH, "container not running");
    _cleanup_close_ int pidfd = berth_pidfd_open(s->pid, 0);
    if (pidfd >= 0 && berth_state_alive(s)) {
        if (berth_pidfd_send_signal(pidfd, sig, NULL, 0) < 0) {
            if (errno == ESRCH)
                return berth_error_setq(err, ESRCH, "no such process");
            return berth_error_set(err, errno, "kill container %s", id);
        }
        return 0;
    }
    if (kill(s->pid, sig) < 0) {
        if (errno == ESRCH)
            return berth_error_setq(err, ESRCH, "no such process");
        return berth_error_set(err, errno, "kill container %s", id);
    }
    return 0;
}

int
berth_cmd_delete(const char *root, const char *id, bool force, struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    struct berth_error *local = NULL;
    int r = berth_state_load(root, id, &s, &local);
    if (r < 0) {
        if (local->code == ENOENT && force) {
            /* runc: --force on a missing container is not an error; clear leftovers */
            berth_error_free(local);
            _cleanup_free_ char *dir = NULL;
            if (berth_state_dir(root, id, &dir, err) < 0)
                return -EINVAL;
            return berth_rm_rf(dir, err);
        }
        *err = local;
        return r;
    }
    enum berth_status st = berth_state_status(root, s);
    if ((st == BERTH_RUNNING || st == BERTH_PAUSED) && !force)
        return berth_error_setq(err, EBUSY, "cannot delete container %s that is not stopped: %s",
                                id, berth_status_name(st));
    if (st == BERTH_PAUSED) {
        _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
        if (berth_state_cgroup(s, &cg, NULL) == 0)
            (void)berth_cgroup_freeze(cg, false, NULL);
    }
    return berth_container_destroy(root, id, true, err);
}

int
berth_cmd_list(const char *root, bool json, bool quiet, struct berth_error **err)
{
    _cleanup_strv_ char **ids = NULL;
    int r = berth_state_list(root, &ids, err);
    if (r < 0)
        return r;
    if (quiet) {
        for (char **i = ids; *i; i++)
            printf("%s\n", *i);
        return 0;
    }
    json_t *arr = json_array();
    size_t n = berth_strv_len(ids);
    struct berth_state **states = calloc(n + 1, sizeof(*states));
    enum berth_status *sts = calloc(n + 1, sizeof(*sts));
    size_t w_id = 2, w_bundle = 6, w_pid = 3;
    for (size_t i = 0; i < n; i++) {
        if (berth_state_load(root, ids[i], &states[i], NULL) < 0)
            continue;
        sts[i] = berth_state_status(root, states[i]);
        if (strlen(ids[i]) > w_id)
            w_id = strlen(ids[i]);
        if (strlen(states[i]->bundle) > w_bundle)
            w_bundle = strlen(states[i]->bundle);
        if (json) {
            json_t *o = berth_state_to_oci_json(states[i], sts[i]);
            json_array_append_new(arr, o);
        }
    }
    if (json) {
        char *t = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", t ? t : "[]");
        free(t);
    } else {
        w_id += 3, w_bundle += 3, w_pid = 12;
        printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w_id, "ID", (int)w_pid, "PID", 12, "STATUS",
               (int)w_bundle, "BUNDLE", 33, "CREATED", "OWNER");
        for (size_t i = 0; i < n; i++) {
            if (!states[i])
                continue;
            char pid[32];
            snprintf(pid, sizeof(pid), "%d", sts[i] == BERTH_STOPPED ? 0 : (int)states[i]->pid);
            printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w_id, ids[i], (int)w_pid, pid, 12,
                   berth_status_name(sts[i]), (int)w_bundle, states[i]->bundle, 33,
                   states[i]->created, "root");
        }
    }
    for (size_t i = 0; i < n; i++)
        berth_state_free(states[i]);
    free(states);
    free(sts);
    json_decref(arr);
    return 0;
}

int
berth_cmd_ps(const char *root, const char *id, bool json, char **ps_args, struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    if ((r = berth_state_cgroup(s, &cg, err)) < 0)
        return r;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if ((r = berth_cgroup_pids(cg, &pids, &n, err)) < 0)
        return r;
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_integer(pids[i]));
        char *t = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", t ? t : "[]");
        free(t);
        json_decref(arr);
        return 0;
    }
    /* run ps(1) and keep the header and the lines of our pids, as runc does */
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return berth_error_set(err, errno, "pipe");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        char *def[] = {"ps", "-ef", NULL};
        size_t na = berth_strv_len(ps_args);
        char **argv = def;
        if (na) {
            argv = calloc(na + 2, sizeof(char *));
            argv[0] = "ps";
            for (size_t i = 0; i < na; i++)
                argv[i + 1] = ps_args[i];
        }
        execvp("ps", argv);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = fdopen(pipefd[0], "r");
    char *line = NULL;
    size_t cap = 0;
    int pid_col = -1;
    bool first = true;
    while (f && getline(&line, &cap, f) > 0) {
        if (first) {
            first = false;
            fputs(line, stdout);
            _cleanup_free_ char *copy = strdup(line);
            char *save = NULL;
            int col = 0;
            for (char *tok = strtok_r(copy, " \t\n", &save); tok;
                 tok = strtok_r(NULL, " \t\n", &save), col++)
                if (!strcmp(tok, "PID"))
                    pid_col = col;
            continue;
        }
        if (pid_col < 0)
            continue;
        _cleanup_free_ char *copy = strdup(line);
        char *save = NULL, *tok = strtok_r(copy, " \t\n", &save);
        for (int col = 0; tok && col < pid_col; col++)
            tok = strtok_r(NULL, " \t\n", &save);
        int64_t p;
        if (!tok || !berth_parse_i64(tok, &p))
            continue;
        for (size_t i = 0; i < n; i++)
            if (pids[i] == p) {
                fputs(line, stdout);
                break;
            }
    }
    free(line);
    if (f)
        fclose(f);
    int status;
    waitpid(child, &status, 0);
    if (pid_col < 0)
        return berth_error_setq(err, EINVAL, "ps: no PID column in the output of ps");
    return 0;
}

int
berth_cmd_pause(const char *root, const char *id, bool pause, struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    enum berth_status st = berth_state_status(root, s);
    if (pause && st != BERTH_RUNNING && st != BERTH_CREATED)
        return berth_error_setq(err, EINVAL, "container not running");
    if (!pause && st != BERTH_PAUSED)
        return berth_error_setq(err, EINVAL, "container not paused");
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    if ((r = berth_state_cgroup(s, &cg, err)) < 0)
        return r;
    return berth_cgroup_freeze(cg, pause, err);
}

int
berth_cmd_update_parse(const char *path, struct berth_spec_resources *res, struct berth_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r;
    if (!strcmp(path, "-")) {
        size_t cap = 0;
        for (;;) {
            if (len + 4096 > cap) {
                if (cap >= (4u << 20))
                    return berth_error_setq(err, EFBIG, "resources on stdin are too large");
                cap = cap ? cap * 2 : 8192;
                char *n = realloc(text, cap + 1);
                if (!n)
                    return berth_error_set(err, ENOMEM, "read stdin");
                text = n;
            }
            ssize_t got = read(STDIN_FILENO, text + len, cap - len);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                return berth_error_set(err, errno, "read stdin");
            if (got == 0)
                break;
            len += (size_t)got;
        }
        if (!text)
            return berth_error_setq(err, EINVAL, "no resources on stdin");
        text[len] = '\0';
    } else if ((r = berth_read_file(path, 4u << 20, &text, &len, err)) < 0) {
        return r;
    }
    json_t *j = NULL;
    if ((r = berth_spec_json_load("resources", text, len, &j, err)) < 0)
        return r;
    r = berth_spec_parse_resources(j, res, err);
    json_decref(j);
    return r;
}

int
berth_cmd_update(const char *root, const char *id, const struct berth_spec_resources *res,
                 struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    if (berth_state_status(root, s) == BERTH_STOPPED)
        return berth_error_setq(err, EINVAL, "container not running");
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    if ((r = berth_state_cgroup(s, &cg, err)) < 0)
        return r;
    return berth_cgroup_update(cg, res, err);
}

static void
print_event(const char *type, const char *id, json_t *data)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "id", json_string(id));
    if (data)
        json_object_set(o, "data", data);
    char *t = json_dumps(o, JSON_COMPACT);
    if (t) {
        printf("%s\n", t);
        fflush(stdout);
        free(t);
    }
    json_decref(o);
}

int
berth_cmd_events(const char *root, const char *id, bool stats_once, int interval_ms,
                 struct berth_error **err)
{
    _cleanup_state_ struct berth_state *s = NULL;
    int r = berth_state_load(root, id, &s, err);
    if (r < 0)
        return r;
    if (berth_state_status(root, s) == BERTH_STOPPED)
        return berth_error_setq(err, EINVAL, "container with id %s is not running", id);
    _cleanup_cgroup_ struct berth_cgroup *cg = NULL;
    if ((r = berth_state_cgroup(s, &cg, err)) < 0)
        return r;
    uint64_t ooms = 0;
    (void)berth_cgroup_oom_count(cg, &ooms, NULL);
    for (;;) {
        json_t *stats = NULL;
        if ((r = berth_cgroup_stats(cg, &stats, err)) < 0)
            return r;
        print_event("stats", id, stats);
        json_decref(stats);
        if (stats_once)
            return 0;
        /* sleep in small steps so OOM kills and the container's exit are seen promptly */
        for (int waited = 0; waited < interval_ms; waited += 100) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            uint64_t now = ooms;
            if (berth_cgroup_oom_count(cg, &now, NULL) == 0 && now > ooms) {
                ooms = now;
                print_event("oom", id, NULL);
            }
            if (!berth_state_alive(s))
                return 0;
        }
    }
}
