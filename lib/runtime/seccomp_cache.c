/* A cache of compiled seccomp programs (see berth_seccomp_build_cached in seccomp.h).
 *
 * File cache_dir/<fnv64 of the key>.bpf:
 *   "BSC1" | u32 key length | key | u32 load flags | u8 notify | u32 program length | program
 * The key serialises every input of the compilation; FNV only names the file, the key itself
 * is compared in full. Entries are written to a temporary file and renamed. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/seccomp.h"

#define CACHE_MAGIC "BSC1"
#define CACHE_MAX_FILE (4u << 20)

struct keybuf {
    char *data;
    size_t len, cap;
    bool failed;
};

static void
key_add(struct keybuf *k, const void *p, size_t n)
{
    if (k->failed)
        return;
    if (k->len + n > k->cap) {
        size_t ncap = k->cap ? k->cap : 4096;
        while (ncap < k->len + n)
            ncap *= 2;
        char *nd = realloc(k->data, ncap);
        if (!nd) {
            k->failed = true;
            return;
        }
        k->data = nd;
        k->cap = ncap;
    }
    memcpy(k->data + k->len, p, n);
    k->len += n;
}

static void
key_u64(struct keybuf *k, uint64_t v)
{
    key_add(k, &v, sizeof(v));
}

/* a string with its terminating NUL; NULL as a lone 0xff (not a valid first byte of a name) */
static void
key_str(struct keybuf *k, const char *s)
{
    if (!s) {
        key_add(k, "\xff", 1);
        return;
    }
    key_add(k, s, strlen(s) + 1);
}

static void
key_strv(struct keybuf *k, char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    key_u64(k, n);
    for (size_t i = 0; i < n; i++)
        key_str(k, v[i]);
}

static void
key_build(const struct berth_spec_seccomp *sc, struct keybuf *k)
{
    const struct scmp_version *v = seccomp_version();
    key_str(k, "berth-seccomp-cache-1");
    key_u64(k, v ? v->major : 0);
    key_u64(k, v ? v->minor : 0);
    key_u64(k, v ? v->micro : 0);
    key_u64(k, seccomp_api_get());
    key_u64(k, seccomp_arch_native());
    /* the program also depends on our own code (the ENOSYS prologue): this binary's identity */
    struct stat st;
    if (stat("/proc/self/exe", &st) == 0) {
        key_u64(k, st.st_size);
        key_u64(k, (uint64_t)st.st_mtim.tv_sec);
        key_u64(k, (uint64_t)st.st_mtim.tv_nsec);
    }
    key_u64(k, sc->default_action);
    key_u64(k, sc->has_default_errno_ret);
    key_u64(k, sc->default_errno_ret);
    key_strv(k, sc->architectures);
    key_strv(k, sc->flags);
    key_str(k, sc->listener_path);
    key_u64(k, sc->n_syscalls);
    for (size_t i = 0; i < sc->n_syscalls; i++) {
        const struct berth_spec_seccomp_rule *r = &sc->syscalls[i];
        key_strv(k, r->names);
        key_u64(k, r->action);
        key_u64(k, r->has_errno_ret);
        key_u64(k, r->errno_ret);
        key_u64(k, r->n_args);
        for (size_t a = 0; a < r->n_args; a++) {
            key_u64(k, r->args[a].index);
            key_u64(k, r->args[a].value);
            key_u64(k, r->args[a].value_two);
            key_u64(k, (uint64_t)r->args[a].op);
        }
    }
}

static uint64_t
fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint32_t
get_u32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* The cached program for key, or -ENOENT. */
static int
cache_read(const char *path, const struct keybuf *k, struct berth_seccomp_filter **ret)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (berth_read_file(path, CACHE_MAX_FILE, &data, &len, NULL) < 0)
        return -ENOENT;
    size_t off = 0;
    if (len < 8 || memcmp(data, CACHE_MAGIC, 4))
        return -ENOENT;
    off = 4;
    uint32_t key_len = get_u32(data + off);
    off += 4;
    if (key_len != k->len || len - off < (size_t)key_len + 9 ||
        memcmp(data + off, k->data, key_len))
        return -ENOENT;
    off += key_len;
    uint32_t flags = get_u32(data + off);
    bool notify = data[off + 4] != 0;
    off += 5;
    if (len - off < 4)
        return -ENOENT;
    uint32_t prog_len = get_u32(data + off);
    off += 4;
    if (prog_len != len - off)
        return -ENOENT;
    return berth_seccomp_filter_import(data + off, prog_len, flags, notify, ret) < 0 ? -ENOENT : 0;
}

static void
cache_write(const char *dir, const char *path, const struct keybuf *k,
            const struct berth_seccomp_filter *f)
{
    const void *insns;
    size_t prog_len;
    unsigned int flags;
    bool notify;
    berth_seccomp_filter_export(f, &insns, &prog_len, &flags, &notify);
    struct keybuf out = {0};
    uint32_t u;
    key_add(&out, CACHE_MAGIC, 4);
    u = (uint32_t)k->len;
    key_add(&out, &u, 4);
    key_add(&out, k->data, k->len);
    u = flags;
    key_add(&out, &u, 4);
    unsigned char n = notify;
    key_add(&out, &n, 1);
    u = (uint32_t)prog_len;
    key_add(&out, &u, 4);
    key_add(&out, insns, prog_len);
    if (!out.failed && mkdir(dir, 0700) < 0 && errno != EEXIST)
        out.failed = true;
    if (!out.failed)
        (void)berth_write_file_replace(path, out.data, out.len, 0600, NULL);
    free(out.data);
}

const char *
berth_seccomp_cache_dir(void)
{
    const char *dir = getenv("BERTH_SECCOMP_CACHE");
    return dir && *dir ? dir : "/run/berth-seccomp-cache";
}

int
berth_seccomp_build_cached(const struct berth_spec_seccomp *sc, const char *cache_dir,
                           struct berth_seccomp_filter **ret, struct berth_error **err)
{
    struct keybuf k = {0};
    key_build(sc, &k);
    _cleanup_free_ char *path = NULL;
    if (k.failed || !cache_dir ||
        asprintf(&path, "%s/%016llx.bpf", cache_dir, (unsigned long long)fnv1a64(k.data, k.len)) <
            0) {
        free(k.data);
        return berth_seccomp_build(sc, ret, err);
    }
    if (cache_read(path, &k, ret) == 0) {
        free(k.data);
        return 0;
    }
    int r = berth_seccomp_build(sc, ret, err);
    if (r == 0)
        cache_write(cache_dir, path, &k, *ret);
    free(k.data);
    return r;
}
