/* recvtty SOCKET_PATH: the receiving end of --console-socket, like runc's recvtty. Listens on
 * SOCKET_PATH, accepts one connection, takes the pty master passed with SCM_RIGHTS and copies
 * what the container writes to its terminal to stdout until the terminal closes. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: recvtty SOCKET_PATH\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (s < 0 || bind(s, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(s, 1) < 0) {
        perror("recvtty: listen");
        return 1;
    }
    printf("listening\n");
    fflush(stdout);
    int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
        perror("recvtty: accept");
        return 1;
    }
    char name[256] = "";
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    if (recvmsg(c, &msg, MSG_CMSG_CLOEXEC) < 0) {
        perror("recvtty: recvmsg");
        return 1;
    }
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_type != SCM_RIGHTS) {
        fprintf(stderr, "recvtty: no fd received\n");
        return 1;
    }
    int master;
    memcpy(&master, CMSG_DATA(cm), sizeof(int));
    printf("received %s\n", name);
    fflush(stdout);
    char buf[4096];
    for (;;) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            break;
        ssize_t n = read(master, buf, sizeof(buf));
        if (n <= 0)
            break; /* EIO once every slave is closed */
        fwrite(buf, 1, (size_t) n, stdout);
        fflush(stdout);
    }
    return 0;
}
