/* Seccomp filters from linux.seccomp, through libseccomp. */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <stdbool.h>

#include "core/error.h"
#include "runtime/spec.h"

struct berth_seccomp_filter;

/* Builds (compiles) the filter without loading it: done in the parent-facing part of init so
 * errors (unknown architecture, bad flag) are reported before the container starts.
 * Unknown syscall names are skipped (as runc does: a profile may name newer syscalls). */
int berth_seccomp_build(const struct berth_spec_seccomp *sc, struct berth_seccomp_filter **ret,
                        struct berth_error **err);
/* Loads the filter into the calling process. If the spec asked for SCMP_ACT_NOTIFY rules,
 * *ret_notify_fd receives the listener fd (else -1). */
int berth_seccomp_load(struct berth_seccomp_filter *f, int *ret_notify_fd,
                       struct berth_error **err);
void berth_seccomp_free(struct berth_seccomp_filter *f);
/* The compiled program and its load options, for the cache (seccomp_cache.c). */
int berth_seccomp_filter_export(const struct berth_seccomp_filter *f, const void **ret_insns,
                                size_t *ret_len, unsigned int *ret_flags, bool *ret_notify);
int berth_seccomp_filter_import(const void *insns, size_t len, unsigned int flags, bool notify,
                                struct berth_seccomp_filter **ret);
/* berth_seccomp_build through a cache of compiled programs in cache_dir: compiling Docker's
 * default profile with libseccomp takes ~12 ms, reading the program back ~50 us. An entry is
 * used only when its stored key (every input of the compilation: the profile, libseccomp's
 * version and API level, the native architecture) equals this one byte for byte, so a hash
 * collision can never load another profile's program. Cache failures fall back to compiling. */
/* Where compiled programs are kept: $BERTH_SECCOMP_CACHE, else /run/berth-seccomp-cache (a
 * tmpfs: one compilation per boot). Outside the state root, which engines expect to empty. */
const char *berth_seccomp_cache_dir(void);
int berth_seccomp_build_cached(const struct berth_spec_seccomp *sc, const char *cache_dir,
                               struct berth_seccomp_filter **ret, struct berth_error **err);

/* Sends the notify fd and the container state to listenerPath (SCM_RIGHTS), as runc does. */
int berth_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                                struct berth_error **err);

/* For `features`: supported action, operator, arch and flag names (static NULL-terminated). */
const char *const *berth_seccomp_known_actions(void);
const char *const *berth_seccomp_known_operators(void);
const char *const *berth_seccomp_known_archs(void);
const char *const *berth_seccomp_known_flags(void);
bool berth_seccomp_flag_supported(const char *flag);

#endif
