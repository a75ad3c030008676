/* sha256 digests through libcrypto (EVP), streaming. */
#ifndef BERTH_IMAGE_DIGEST_H
#define BERTH_IMAGE_DIGEST_H

#include <stddef.h>

#include "core/error.h"

struct berth_digester;

int berth_digester_new(struct berth_digester **ret, struct berth_error **err);
void berth_digester_update(struct berth_digester *d, const void *data, size_t len);
/* Writes "sha256:<64 hex>" (72 bytes incl. NUL) into out. */
void berth_digester_final(struct berth_digester *d, char out[72]);
void berth_digester_free(struct berth_digester *d);
/* One-shot. */
void berth_digest_buffer(const void *data, size_t len, char out[72]);
/* Digest of a whole file (streamed). */
int berth_digest_fd(int fd, char out[72], struct berth_error **err);

#endif
