/* Helpers shared by the image store's unit tests (test_store, test_layer, test_tar_split):
 * opening a store with its error printed, the digest of a layer's tar as save rebuilds it, and
 * a ustar header made by hand. Header-only, static inline, like testutil.h. */
#ifndef BERTH_TESTS_STOREUTIL_H
#define BERTH_TESTS_STOREUTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "image/digest.h"
#include "image/store.h"

/* The store at root, or NULL (the error printed as a TAP comment). */
static inline struct berth_store *
store_open_at(const char *root, enum berth_driver driver)
{
    struct berth_store *s = NULL;
    struct berth_error *e = NULL;
    if (berth_store_open(root, driver, &s, &e) < 0)
        printf("# open store: %s\n", e ? e->msg : "?");
    berth_error_free(e);
    return s;
}

static inline int
digest_emit(void *cls, const void *buf, size_t len)
{
    berth_digester_update(cls, buf, len);
    return 0;
}

/* The digest of a layer's tar as save gets it (its blob or its tar-split); r < 0 with *e set
 * when it cannot be made. */
static inline int
layer_tar_digest_e(struct berth_store *s, const char *chain, const char *diff, char out[72],
                   struct berth_error **e)
{
    struct berth_digester *d = NULL;
    out[0] = '\0';
    if (berth_digester_new(&d, NULL) < 0)
        return -1;
    int r = berth_store_layer_tar_write(s, chain, diff, digest_emit, d, e);
    berth_digester_final(d, out);
    berth_digester_free(d);
    return r;
}

/* A ustar header by hand, for what libarchive's writer will not produce. size: 12 raw bytes. */
static inline void
ustar_header(unsigned char blk[512], const char *name, char type, const unsigned char size[12],
             const char *link)
{
    memset(blk, 0, 512);
    snprintf((char *)blk, 100, "%s", name);
    memcpy(blk + 100, "0000644", 8);
    memcpy(blk + 108, "0000000", 8);
    memcpy(blk + 116, "0000000", 8);
    memcpy(blk + 124, size, 12);
    memcpy(blk + 136, "13241321200", 12);
    blk[156] = (unsigned char)type;
    if (link)
        snprintf((char *)blk + 157, 100, "%s", link);
    memcpy(blk + 257, "ustar", 6);
    memcpy(blk + 263, "00", 2);
    memset(blk + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += blk[i];
    snprintf((char *)blk + 148, 8, "%06o", sum);
    blk[155] = ' ';
}
#endif
