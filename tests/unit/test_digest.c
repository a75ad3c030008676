/* Unit tests of lib/image/digest.c: known sha256 vectors (FIPS 180-2), the streaming digester
 * against the one-shot digest for data fed in odd-sized pieces, reuse after final, and the digest
 * of a file descriptor (a temporary file larger than the 1 MiB read chunk, whatever its offset,
 * a pipe, an empty file and a bad fd). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "image/digest.h"
#include "image/reference.h"
#include "testutil.h"

#define SHA_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_448 "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define SHA_MILLION_A "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static bool
same(const char *got, const char *want)
{
    if (!strcmp(got, want))
        return true;
    printf("#   got '%s'\n#   expected '%s'\n", got, want);
    return false;
}

static void
digester_freep(struct berth_digester **d)
{
    berth_digester_free(*d);
}

/* deterministic pseudo-random bytes */
static unsigned char *
make_data(size_t n)
{
    unsigned char *p = malloc(n);
    if (!p)
        abort();
    unsigned int x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

static void
test_vectors(void)
{
    char out[72];
    berth_digest_buffer("", 0, out);
    check(same(out, SHA_EMPTY), "sha256 of the empty string");
    berth_digest_buffer(NULL, 0, out);
    check(same(out, SHA_EMPTY), "sha256 of (NULL, 0)");
    berth_digest_buffer("abc", 3, out);
    check(same(out, SHA_ABC), "sha256 of abc");
    berth_digest_buffer(MSG_448, strlen(MSG_448), out);
    check(same(out, SHA_448), "sha256 of the 448-bit FIPS message");
    check(strlen(out) == 71 && berth_digest_valid(out), "the digest is sha256:<64 lowercase hex>");

    _cleanup_free_ char *million = malloc(1000000);
    if (!million)
        abort();
    memset(million, 'a', 1000000);
    berth_digest_buffer(million, 1000000, out);
    check(same(out, SHA_MILLION_A), "sha256 of a million a");
}

static void
test_streaming(void)
{
    _cleanup_(digester_freep) struct berth_digester *d = NULL;
    struct berth_error *err = NULL;
    int r = berth_digester_new(&d, &err);
    check(r == 0 && d && !err, "new digester");
    if (r < 0)
        return;

    char out[72], want[72];
    berth_digester_final(d, out);
    check(same(out, SHA_EMPTY), "streaming: nothing fed is the empty digest");

    berth_digester_update(d, "a", 1);
    berth_digester_update(d, "", 0);
    berth_digester_update(d, "bc", 2);
    berth_digester_final(d, out);
    check(same(out, SHA_ABC), "streaming: a + '' + bc is abc (after a reuse)");

    const size_t n = 3 * 1024 * 1024 + 17;
    _cleanup_free_ unsigned char *data = make_data(n);
    berth_digest_buffer(data, n, want);
    static const size_t pieces[] = {1, 7, 63, 64, 65, 4096, 65537, 1 << 20};
    size_t off = 0, k = 0;
    while (off < n) {
        size_t len = pieces[k++ % BERTH_ARRAY_SIZE(pieces)];
        if (len > n - off)
            len = n - off;
        berth_digester_update(d, data + off, len);
        off += len;
    }
    berth_digester_final(d, out);
    check(same(out, want), "streaming in odd pieces == one-shot (3 MiB)");

    berth_digester_update(d, data, n);
    berth_digester_final(d, out);
    check(same(out, want), "streaming in one piece == one-shot");

    berth_digester_free(NULL);
    check(true, "berth_digester_free(NULL) is a no-op");
}

static void
test_fd(void)
{
    char path[] = "/tmp/berth-digest-XXXXXX";
    _cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
    check(fd >= 0, "temporary file");
    if (fd < 0)
        return;
    unlink(path);

    char out[72], want[72];
    struct berth_error *err = NULL;
    int r = berth_digest_fd(fd, out, &err);
    check(r == 0 && same(out, SHA_EMPTY), "digest_fd of an empty file");

    const size_t n = 2 * 1024 * 1024 + 12345; /* three 1 MiB reads, the last one short */
    _cleanup_free_ unsigned char *data = make_data(n);
    berth_digest_buffer(data, n, want);
    check(berth_write_all(fd, data, n) == 0, "write %zu bytes", n);
    r = berth_digest_fd(fd, out, &err);
    check(r == 0 && !err && same(out, want), "digest_fd == one-shot, fd positioned at the end");
    check(lseek(fd, 0, SEEK_CUR) == (off_t)n, "digest_fd leaves the file offset alone");

    check(lseek(fd, 4096, SEEK_SET) == 4096, "seek into the middle");
    r = berth_digest_fd(fd, out, &err);
    check(r == 0 && same(out, want), "digest_fd digests the whole file from any offset");

    /* a pipe: read() from where it is */
    int p[2];
    check(pipe2(p, O_CLOEXEC) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        _exit(berth_write_all(p[1], data, n) == 0 ? 0 : 1);
    }
    close(p[1]);
    r = berth_digest_fd(p[0], out, &err);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    check(r == 0 && same(out, want) && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "digest_fd of a pipe == one-shot");

    r = berth_digest_fd(-1, out, &err);
    check(r == -EBADF && err && err->code == EBADF && strstr(err->msg, "Bad file descriptor"),
          "digest_fd of a bad fd fails with EBADF");
    if (err)
        printf("#   %s\n", err->msg);
    berth_error_free(err);
}

int
main(void)
{
    test_vectors();
    test_streaming();
    test_fd();
    return tap_done();
}
