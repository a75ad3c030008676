/* CVE-2019-5736: a container process that execs /proc/self/exe while we are in its namespaces
 * would run *our* binary, and could later open it for writing through /proc/<pid>/exe. So the
 * commands that enter a container run from a sealed memfd copy of the runtime: what the
 * container can reach is that copy, which no one can write. */
#include "runtime/cloned_binary.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool
running_from_sealed_memfd(void)
{
    _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

int
berth_ensure_cloned_binary(char **argv, char **envp, struct berth_error **err)
{
    if (getenv("BERTH_UNSAFE_NO_CLONE"))
        return 0;
    if (running_from_sealed_memfd())
        return 0;
    _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return berth_error_set(err, errno, "open /proc/self/exe");
    struct stat st;
    if (fstat(self, &st) < 0)
        return berth_error_set(err, errno, "stat /proc/self/exe");
    _cleanup_close_ int mfd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return berth_error_set(err, errno, "memfd_create");
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return berth_error_set(err, errno, "copy the runtime binary");
        }
        if (n == 0)
            break;
    }
    if (fcntl(mfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
        return berth_error_set(err, errno, "seal the runtime binary copy");
    fexecve(mfd, argv, envp);
    return berth_error_set(err, errno, "re-exec from the sealed copy");
}
