/* Raw wrappers for syscalls glibc 2.36 lacks, with ENOSYS fallbacks left to callers. */
#ifndef BERTH_CORE_SYSCALL_H
#define BERTH_CORE_SYSCALL_H

#include <linux/openat2.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline int
berth_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static inline int
berth_pidfd_open(pid_t pid, unsigned int flags)
{
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

static inline int
berth_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

static inline int
berth_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
    return (int)syscall(SYS_close_range, first, last, flags);
}

static inline int
berth_pivot_root(const char *new_root, const char *put_old)
{
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Opens path inside root (an O_PATH/directory fd): symlinks and ".." cannot leave root.
 * Falls back to a userspace walk when openat2 is unavailable (ENOSYS). */
int berth_open_in_root(int rootfd, const char *path, int flags, mode_t mode);

#endif
