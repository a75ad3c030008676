/* Image references, parsed and normalised as docker does (distribution/reference):
 *   busybox                      -> docker.io/library/busybox:latest
 *   localhost:5000/ns/img:tag    -> registry localhost:5000, path ns/img, tag tag
 *   name@sha256:<64 hex>         -> a digest reference (tag and digest may both be given)
 * and image IDs ("sha256:<64 hex>" or a unique hex prefix, resolved by the store). */
#ifndef BERTH_IMAGE_REFERENCE_H
#define BERTH_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "core/error.h"

struct berth_reference {
    char *domain; /* "docker.io", "localhost:5000", "ghcr.io" */
    char *path;   /* "library/busybox", "ns/img" */
    char *tag;    /* NULL when only a digest was given (and no default applied) */
    char *digest; /* "sha256:..." or NULL */
};

/* Parses and normalises a reference. When neither tag nor digest is given, the tag is "latest"
 * unless no_default_tag. Errors (EINVAL) use docker's wording: "invalid reference format",
 * "invalid reference format: repository name must be lowercase". */
int berth_reference_parse(const char *text, bool no_default_tag, struct berth_reference **ret,
                          struct berth_error **err);
void berth_reference_free(struct berth_reference *ref);
void berth_reference_freep(struct berth_reference **ref);
#define _cleanup_reference_ __attribute__((cleanup(berth_reference_freep)))

/* "docker.io/library/busybox" */
char *berth_reference_name(const struct berth_reference *ref);
/* "docker.io/library/busybox:latest", "...@sha256:...", or "name:tag@sha256:..." */
char *berth_reference_string(const struct berth_reference *ref);
/* docker's short form: "busybox:latest", "ns/img:tag", "localhost:5000/x:y" */
char *berth_reference_familiar(const struct berth_reference *ref);
/* "busybox", "ns/img" (familiar name without tag or digest) */
char *berth_reference_familiar_name(const struct berth_reference *ref);

/* A digest "algorithm:hex": sha256 with 64 lowercase hex digits (sha512: 128) */
bool berth_digest_valid(const char *digest);
/* True for a full ID "sha256:<64 hex>", a bare 64-hex ID, or a hex prefix of at least 1 char
 * (the store decides whether a prefix is unique). */
bool berth_id_like(const char *text);
/* A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
bool berth_tag_valid(const char *tag);

#endif
