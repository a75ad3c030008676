/* sha256 digests in docker's text form ("sha256:" + 64 lowercase hex) through libcrypto's EVP
 * interface: a streaming digester, a one-shot buffer digest and a whole-file digest. */
#include "image/digest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/cleanup.h"

#define READ_CHUNK (1024 * 1024)

struct berth_digester {
    EVP_MD_CTX *ctx;
};

static void
format_digest(const unsigned char md[32], char out[72])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (size_t i = 0; i < 32; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[7 + 2 * i + 1] = hex[md[i] & 0xf];
    }
    out[71] = '\0';
}

int
berth_digester_new(struct berth_digester **ret, struct berth_error **err)
{
    struct berth_digester *d = calloc(1, sizeof(*d));
    if (!d)
        return berth_error_set(err, ENOMEM, "new sha256 digester");
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
        berth_digester_free(d);
        return berth_error_setq(err, ENOMEM, "new sha256 digester: libcrypto failed");
    }
    *ret = d;
    return 0;
}

void
berth_digester_update(struct berth_digester *d, const void *data, size_t len)
{
    /* sha256 over an initialised context cannot fail */
    if (len > 0)
        EVP_DigestUpdate(d->ctx, data, len);
}

/* Also starts the digester over, so it can be used again. */
void
berth_digester_final(struct berth_digester *d, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_DigestFinal_ex(d->ctx, md, &md_len) != 1 || md_len != 32) {
        out[0] = '\0';
        return;
    }
    format_digest(md, out);
    EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL);
}

void
berth_digester_free(struct berth_digester *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}

/* On a libcrypto failure (out of memory) out is the empty string, which matches no digest. */
void
berth_digest_buffer(const void *data, size_t len, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        out[0] = '\0';
        return;
    }
    format_digest(md, out);
}

static void
digester_freep(struct berth_digester **d)
{
    berth_digester_free(*d);
}

/* Regular files are read with pread() from offset 0, whatever the fd's position; pipes and
 * sockets (ESPIPE) with read() from where they are. */
int
berth_digest_fd(int fd, char out[72], struct berth_error **err)
{
    _cleanup_(digester_freep) struct berth_digester *d = NULL;
    int r = berth_digester_new(&d, err);
    if (r < 0)
        return r;
    _cleanup_free_ unsigned char *buf = malloc(READ_CHUNK);
    if (!buf)
        return berth_error_set(err, ENOMEM, "digest file");
    bool seekable = true;
    off_t off = 0;
    for (;;) {
        ssize_t n = seekable ? pread(fd, buf, READ_CHUNK, off) : read(fd, buf, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ESPIPE && seekable) {
            seekable = false;
            continue;
        }
        if (n < 0)
            return berth_error_set(err, errno, "digest file: read");
        if (n == 0)
            break;
        berth_digester_update(d, buf, (size_t)n);
        off += n;
    }
    berth_digester_final(d, out);
    if (!out[0])
        return berth_error_setq(err, ENOMEM, "digest file: libcrypto failed");
    return 0;
}
