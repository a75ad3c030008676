/* Unit tests of lib/runtime/seccomp_cache.c: a cached program is exactly the compiled one; other
 * profiles miss; a damaged or foreign cache file is never used. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "tap.h"

static struct berth_spec *
spec_q(const char *seccomp_q)
{
    _cleanup_free_ char *json = NULL;
    if (asprintf(&json,
                 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/r\"},"
                 " \"linux\": {\"seccomp\": %s}}",
                 seccomp_q) < 0)
        abort();
    for (char *p = json; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct berth_spec *spec = NULL;
    struct berth_error *err = NULL;
    if (berth_spec_parse(json, strlen(json), NULL, &spec, &err) < 0)
        abort();
    return spec;
}

static bool
same_program(const struct berth_seccomp_filter *a, const struct berth_seccomp_filter *b)
{
    const void *pa, *pb;
    size_t la, lb;
    unsigned int fa, fb;
    bool na, nb;
    berth_seccomp_filter_export(a, &pa, &la, &fa, &na);
    berth_seccomp_filter_export(b, &pb, &lb, &fb, &nb);
    return la == lb && fa == fb && na == nb && !memcmp(pa, pb, la);
}

static int
count_entries(const char *dir)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += strstr(de->d_name, ".bpf") != NULL;
    return n;
}

static char *
only_entry(const char *dir)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;
    char *path = NULL;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".bpf") && asprintf(&path, "%s/%s", dir, de->d_name) < 0)
            path = NULL;
    return path;
}

int
main(void)
{
    char tmpl[] = "/tmp/berth-seccomp-cache.XXXXXX";
    const char *base = mkdtemp(tmpl);
    if (!base)
        return 1;
    _cleanup_free_ char *dir = NULL;
    if (asprintf(&dir, "%s/cache", base) < 0)
        return 1;
    const char *profile = "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
                          " 'syscalls': [{'names': ['read', 'write', 'exit_group'],"
                          " 'action': 'SCMP_ACT_ALLOW'}, {'names': ['personality'], 'action':"
                          " 'SCMP_ACT_ALLOW', 'args': [{'index': 0, 'value': 8, 'op':"
                          " 'SCMP_CMP_EQ'}]}]}";
    _cleanup_spec_ struct berth_spec *spec = spec_q(profile);
    struct berth_error *err = NULL;
    struct berth_seccomp_filter *direct = NULL, *first = NULL, *second = NULL, *other = NULL;
    ok(berth_seccomp_build(spec->linux_.seccomp, &direct, &err) == 0, "compiles");
    ok(berth_seccomp_build_cached(spec->linux_.seccomp, dir, &first, &err) == 0, "a miss compiles");
    ok(count_entries(dir) == 1, "and stores one entry");
    ok(berth_seccomp_build_cached(spec->linux_.seccomp, dir, &second, &err) == 0, "a hit loads");
    ok(first && second && same_program(direct, first) && same_program(direct, second),
       "both are the compiled program, byte for byte");

    _cleanup_spec_ struct berth_spec *spec2 = spec_q(
        "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1, 'syscalls': [{'names': "
        "['read', 'write', 'exit_group'], 'action': 'SCMP_ACT_ALLOW'}, {'names': ['personality'],"
        " 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 0, 'value': 9, 'op': 'SCMP_CMP_EQ'}]}]}");
    ok(berth_seccomp_build_cached(spec2->linux_.seccomp, dir, &other, &err) == 0 && other &&
           !same_program(other, direct),
       "a profile differing in one argument value gets its own program");
    ok(count_entries(dir) == 2, "and its own entry");
    berth_seccomp_free(other);
    other = NULL;

    /* a damaged entry (its program changed) must not be trusted beyond its key: truncate it */
    _cleanup_free_ char *entry = NULL;
    {
        char *p;
        /* find the entry of the first profile: rebuild the cache with only it */
        (void)berth_rm_rf(dir, NULL);
        berth_seccomp_free(first);
        first = NULL;
        ok(berth_seccomp_build_cached(spec->linux_.seccomp, dir, &first, &err) == 0,
           "rebuilt after the cache was removed");
        p = only_entry(dir);
        entry = p;
    }
    if (entry && truncate(entry, 20) == 0) {
        struct berth_seccomp_filter *again = NULL;
        ok(berth_seccomp_build_cached(spec->linux_.seccomp, dir, &again, &err) == 0 && again &&
               same_program(again, direct),
           "a truncated entry is ignored and the program compiled again");
        berth_seccomp_free(again);
    } else {
        ok(false, "truncate the entry");
    }
    /* an entry whose stored key is another profile's (a name collision) is not used */
    struct berth_seccomp_filter *b = NULL;
    _cleanup_free_ char *entry2 = NULL;
    (void)berth_rm_rf(dir, NULL);
    ok(berth_seccomp_build_cached(spec2->linux_.seccomp, dir, &b, &err) == 0, "another profile");
    entry2 = only_entry(dir);
    berth_seccomp_free(b);
    (void)berth_rm_rf(dir, NULL);
    ok(berth_seccomp_build_cached(spec->linux_.seccomp, dir, &b, &err) == 0, "the first again");
    berth_seccomp_free(b);
    b = NULL;
    _cleanup_free_ char *entry1 = only_entry(dir);
    if (entry1 && entry2) {
        /* put the second profile's entry under the first profile's name */
        _cleanup_free_ char *saved = NULL;
        size_t len = 0;
        (void)berth_rm_rf(dir, NULL);
        ok(berth_seccomp_build_cached(spec2->linux_.seccomp, dir, &b, &err) == 0, "rebuild");
        berth_seccomp_free(b);
        b = NULL;
        _cleanup_free_ char *e2 = only_entry(dir);
        ok(e2 && berth_read_file(e2, 1 << 20, &saved, &len, NULL) == 0, "read an entry");
        ok(saved && berth_write_file_replace(entry1, saved, len, 0600, NULL) == 0,
           "plant it under the other name");
        ok(berth_seccomp_build_cached(spec->linux_.seccomp, dir, &b, &err) == 0 && b &&
               same_program(b, direct),
           "a foreign entry under our name is not used: the key is compared in full");
        berth_seccomp_free(b);
    }
    berth_seccomp_free(direct);
    berth_seccomp_free(first);
    berth_seccomp_free(second);
    berth_error_free(err);
    (void)berth_rm_rf(base, NULL);
    return tap_done();
}
