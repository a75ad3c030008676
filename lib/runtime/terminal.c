#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/rootfs.h"
#include "runtime/sync.h"

int
berth_terminal_setup(unsigned int rows, unsigned int cols, int bind_console, int *ret_master,
                     struct berth_error **err)
{
    _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return berth_error_set(err, errno, "open /dev/ptmx in the container");
    if (unlockpt(master) < 0)
        return berth_error_set(err, errno, "unlockpt");
    char name[64];
    if (ptsname_r(master, name, sizeof(name)) != 0)
        return berth_error_set(err, errno, "ptsname");
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return berth_error_set(err, errno, "open %s", name);
    if (rows && cols) {
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        ioctl(slave, TIOCSWINSZ, &ws);
    }
    if (bind_console) {
        int r = berth_rootfs_setup_console(name, err);
        if (r < 0) {
            close(slave);
            return r;
        }
    }
    if (ioctl(slave, TIOCSCTTY, 0) < 0) {
        int e = errno;
        close(slave);
        return berth_error_set(err, e, "set controlling terminal");
    }
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0) {
            int e = errno;
            close(slave);
            return berth_error_set(err, e, "dup2 pty to %d", fd);
        }
    if (slave > 2)
        close(slave);
    *ret_master = TAKE_FD(master);
    return 0;
}

int
berth_terminal_send_to_socket(const char *path, int master, struct berth_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    /* a path longer than sun_path is reached through its directory's /proc/self/fd entry */
    _cleanup_close_ int dirfd = -1;
    if (strlen(path) >= sizeof(addr.sun_path)) {
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = slash ? strndup(path, (size_t)(slash - path)) : NULL;
        if (dir)
            dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int n = dirfd < 0 ? -1
                          : snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s",
                                     dirfd, slash + 1);
        if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
            return berth_error_setq(err, ENAMETOOLONG, "console socket path too long: %s", path);
    } else {
        memcpy(addr.sun_path, path, strlen(path) + 1);
    }
    _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return berth_error_set(err, errno, "console socket");
    if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return berth_error_set(err, errno, "connect to console socket %s", path);
    /* runc sends the pty name as the message body; containerd only reads the fd */
    char name[64] = "/dev/ptmx";
    ptsname_r(master, name, sizeof(name));
    int r = berth_send_fd(s, master, name, strlen(name));
    if (r < 0)
        return berth_error_set(err, -r, "send console to %s", path);
    return 0;
}

int
berth_terminal_wait_ready(int sock, const char *console_socket, int *ret_master,
                          struct berth_error **err)
{
    for (;;) {
        _cleanup_free_ struct berth_sync_msg *m = NULL;
        int fd = -1, r;
        if ((r = berth_sync_recv(sock, &m, &fd, err)) < 0)
            return r;
        if (m->stage == SYNC_CONSOLE && fd >= 0) {
            if (console_socket) {
                r = berth_terminal_send_to_socket(console_socket, fd, err);
                close(fd);
                if (r < 0)
                    return r;
            } else {
                if (*ret_master >= 0)
                    close(*ret_master);
                *ret_master = fd;
            }
            continue;
        }
        if (fd >= 0)
            close(fd);
        if (m->stage == SYNC_READY)
            return 0;
        return berth_error_setq(err, EPROTO, "sync: unexpected stage %d", m->stage);
    }
}

static void
copy_winsize(int from, int to)
{
    struct winsize ws;
    /* a terminal without a size (0x0) keeps the container's consoleSize */
    if (ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        ioctl(to, TIOCSWINSZ, &ws);
}

int
berth_terminal_relay(int master, pid_t pid, int pidfd, const sigset_t *sigs, int *ret_status,
                     struct berth_error **err)
{
    struct termios saved, raw;
    bool is_tty = master >= 0 && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (is_tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        copy_winsize(STDIN_FILENO, master);
    }
    _cleanup_close_ int sfd = signalfd(-1, sigs, SFD_CLOEXEC);
    if (sfd < 0)
        return berth_error_set(err, errno, "signalfd");
    bool stdin_open = master >= 0;
    char buf[16384];
    for (;;) {
        struct pollfd p[4] = {{.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
                              {.fd = master, .events = POLLIN},
                              {.fd = pidfd, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[3].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGWINCH) {
                    if (is_tty)
                        copy_winsize(STDIN_FILENO, master);
                } else if (si.ssi_signo != SIGCHLD) {
                    kill(pid, (int)si.ssi_signo);
                }
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0) {
                stdin_open = false;
                /* end of input: send EOF to the terminal, as a user pressing ^D would */
                char eof = 4;
                (void)berth_write_all(master, &eof, 1);
            } else {
                (void)berth_write_all(master, buf, (size_t)n);
            }
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = read(master, buf, sizeof(buf));
            if (n > 0)
                (void)berth_write_all(STDOUT_FILENO, buf, (size_t)n);
        }
        if (p[2].revents & POLLIN) {
            if (master >= 0) {
                /* the process is gone: flush what it wrote last */
                int fl = fcntl(master, F_GETFL);
                fcntl(master, F_SETFL, fl | O_NONBLOCK);
                ssize_t n;
                while ((n = read(master, buf, sizeof(buf))) > 0)
                    (void)berth_write_all(STDOUT_FILENO, buf, (size_t)n);
            }
            break;
        }
        if (master >= 0 && (p[1].revents & (POLLHUP | POLLERR)) && !(p[1].revents & POLLIN))
            master = -1; /* all slaves closed; keep waiting for the exit */
    }
    if (is_tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    *ret_status = status;
    return 0;
}
