/* Unit tests of lib/image/reference.c: a table of image references as docker's CLI and daemon
 * parse them (cases from distribution/reference's reference_test.go and normalize_test.go):
 * normalised, familiar and name forms of valid references, docker's messages for invalid ones,
 * the length limits of names and tags, and the ID, tag and digest predicates. Every valid case is
 * also parsed again from its normalised and its familiar form, which must give the same string. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "image/reference.h"
#include "testutil.h"

#define F32 "ffffffffffffffffffffffffffffffff"
#define F64 F32 F32
#define F128 F64 F64
#define HEX64 "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
#define BUSYBOX_DIGEST "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
#define MSG_FORMAT "invalid reference format"
#define MSG_LOWER "invalid reference format: repository name must be lowercase"
#define MSG_LONG "repository name must not be more than 255 characters"

struct ref_case {
    const char *in;
    bool no_default_tag;
    const char *norm;     /* berth_reference_string(); NULL: the parse must fail with err */
    const char *familiar; /* berth_reference_familiar() */
    const char *name;     /* berth_reference_name() */
    const char *domain;   /* ref->domain, when not NULL */
    const char *err;
};

#define OK(in, norm, familiar, name)                                                               \
    {                                                                                              \
        in, false, norm, familiar, name, NULL, NULL                                                \
    }
#define OKD(in, norm, familiar, name, domain)                                                      \
    {                                                                                              \
        in, false, norm, familiar, name, domain, NULL                                              \
    }
#define OKN(in, norm, familiar, name)                                                              \
    {                                                                                              \
        in, true, norm, familiar, name, NULL, NULL                                                 \
    }
#define BAD(in, err)                                                                               \
    {                                                                                              \
        in, false, NULL, NULL, NULL, NULL, err                                                     \
    }

static const struct ref_case cases[] = {
    /* docker.io, library/ and the default tag */
    OKD("busybox", "docker.io/library/busybox:latest", "busybox:latest",
        "docker.io/library/busybox", "docker.io"),
    OK("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36",
       "docker.io/library/busybox"),
    OK("library/busybox", "docker.io/library/busybox:latest", "busybox:latest",
       "docker.io/library/busybox"),
    OK("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest",
       "docker.io/library/busybox"),
    OK("docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest",
       "docker.io/library/busybox"),
    OK("index.docker.io/library/debian", "docker.io/library/debian:latest", "debian:latest",
       "docker.io/library/debian"),
    OKD("index.docker.io/debian", "docker.io/library/debian:latest", "debian:latest",
        "docker.io/library/debian", "docker.io"),
    OK("index.docker.io/docker/docker", "docker.io/docker/docker:latest", "docker/docker:latest",
       "docker.io/docker/docker"),
    OK("foo/bar", "docker.io/foo/bar:latest", "foo/bar:latest", "docker.io/foo/bar"),
    OK("docker.io/foo/bar", "docker.io/foo/bar:latest", "foo/bar:latest", "docker.io/foo/bar"),
    OK("library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest",
       "docker.io/library/foo/bar"),
    OK("store/foo/bar", "docker.io/store/foo/bar:latest", "store/foo/bar:latest",
       "docker.io/store/foo/bar"),
    OK("other/library", "docker.io/other/library:latest", "other/library:latest",
       "docker.io/other/library"),
    OK("ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest",
       "ubuntu-12.04-base:latest", "docker.io/library/ubuntu-12.04-base"),
    OK("alpine:3.19", "docker.io/library/alpine:3.19", "alpine:3.19", "docker.io/library/alpine"),
    OKN("busybox", "docker.io/library/busybox", "busybox", "docker.io/library/busybox"),
    OKN("foo/bar:v1", "docker.io/foo/bar:v1", "foo/bar:v1", "docker.io/foo/bar"),
    /* registries: ".", ":" or localhost (or uppercase) in the first component */
    OKD("localhost/foo", "localhost/foo:latest", "localhost/foo:latest", "localhost/foo",
        "localhost"),
    OKD("localhost:5000/ns/img:tag", "localhost:5000/ns/img:tag", "localhost:5000/ns/img:tag",
        "localhost:5000/ns/img", "localhost:5000"),
    OK("127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest", "127.0.0.1:5000/debian:latest",
       "127.0.0.1:5000/debian"),
    OK("127.0.0.1:5000/library/debian", "127.0.0.1:5000/library/debian:latest",
       "127.0.0.1:5000/library/debian:latest", "127.0.0.1:5000/library/debian"),
    OK("192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050",
       "192.168.1.1:5000/repo"),
    OK("example.com/privatebase", "example.com/privatebase:latest",
       "example.com/privatebase:latest", "example.com/privatebase"),
    OKD("example.com:8000/private/moonbase", "example.com:8000/private/moonbase:latest",
        "example.com:8000/private/moonbase:latest", "example.com:8000/private/moonbase",
        "example.com:8000"),
    OKD("test-com:8080/foo", "test-com:8080/foo:latest", "test-com:8080/foo:latest",
        "test-com:8080/foo", "test-com:8080"),
    OK("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest", "xn--n3h.com:18080/foo:latest",
       "xn--n3h.com:18080/foo"),
    OK("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
       "sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux"),
    OKD("b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app",
        "b.gcr.io"),
    OK("ghcr.io/owner/repo:v1.2.3", "ghcr.io/owner/repo:v1.2.3", "ghcr.io/owner/repo:v1.2.3",
       "ghcr.io/owner/repo"),
    OKD("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo:tag",
        "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000"),
    OK("[::1]/repo", "[::1]/repo:latest", "[::1]/repo:latest", "[::1]/repo"),
    OK("[fc00:1:2:3:4:5:6:7]:5000/library/debian",
       "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
       "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
       "[fc00:1:2:3:4:5:6:7]:5000/library/debian"),
    /* an uppercase first component is a registry name, as in docker */
    OKD("Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo/bar", "Foo"),
    OK("DOCKER/docker", "DOCKER/docker:latest", "DOCKER/docker:latest", "DOCKER/docker"),
    /* digests, with and without a tag */
    OK("foo/bar:tag@" BUSYBOX_DIGEST, "docker.io/foo/bar:tag@" BUSYBOX_DIGEST,
       "foo/bar:tag@" BUSYBOX_DIGEST, "docker.io/foo/bar"),
    OK("busybox@" BUSYBOX_DIGEST, "docker.io/library/busybox@" BUSYBOX_DIGEST,
       "busybox@" BUSYBOX_DIGEST, "docker.io/library/busybox"),
    OK("busybox:latest@" BUSYBOX_DIGEST, "docker.io/library/busybox:latest@" BUSYBOX_DIGEST,
       "busybox:latest@" BUSYBOX_DIGEST, "docker.io/library/busybox"),
    OK("test:5000/repo@sha256:" F64, "test:5000/repo@sha256:" F64, "test:5000/repo@sha256:" F64,
       "test:5000/repo"),
    OK("xn--7o8h.com/myimage:xn--7o8h.com@sha512:" F128,
       "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" F128,
       "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" F128, "xn--7o8h.com/myimage"),
    OK("foo@sha384:" F64 F32, "docker.io/library/foo@sha384:" F64 F32, "foo@sha384:" F64 F32,
       "docker.io/library/foo"),
    /* tags */
    OK("lowercase:Uppercase", "docker.io/library/lowercase:Uppercase", "lowercase:Uppercase",
       "docker.io/library/lowercase"),
    OK("busybox:_x.y-Z", "docker.io/library/busybox:_x.y-Z", "busybox:_x.y-Z",
       "docker.io/library/busybox"),
    OK("192.168.0.1:80", "docker.io/library/192.168.0.1:80", "192.168.0.1:80",
       "docker.io/library/192.168.0.1"),
    OK("foo_bar.com:8080", "docker.io/library/foo_bar.com:8080", "foo_bar.com:8080",
       "docker.io/library/foo_bar.com"),
    /* path components and their separators */
    OK("a__b", "docker.io/library/a__b:latest", "a__b:latest", "docker.io/library/a__b"),
    OK("a.b", "docker.io/library/a.b:latest", "a.b:latest", "docker.io/library/a.b"),
    OK("a-b.c_d", "docker.io/library/a-b.c_d:latest", "a-b.c_d:latest",
       "docker.io/library/a-b.c_d"),
    OK("docker---rules/docker", "docker.io/docker---rules/docker:latest",
       "docker---rules/docker:latest", "docker.io/docker---rules/docker"),
    OK("dock__er/docker", "docker.io/dock__er/docker:latest", "dock__er/docker:latest",
       "docker.io/dock__er/docker"),
    OK("d/docker", "docker.io/d/docker:latest", "d/docker:latest", "docker.io/d/docker"),
    OK("test_com/foo", "docker.io/test_com/foo:latest", "test_com/foo:latest",
       "docker.io/test_com/foo"),
    OK("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
       "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
       "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
       "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"),
    /* docker's empty-domain oddity: "a_b.c" is no host, so the whole name is a path */
    OKD("a_b.c/foo", "a_b.c/foo:latest", "a_b.c/foo:latest", "a_b.c/foo", ""),
    /* a 64-hex name is fine behind a registry; its familiar form keeps the registry (a bare
     * 64-hex name would not parse), as does a path that would read as a registry */
    OK("docker.io/" HEX64, "docker.io/library/" HEX64 ":latest",
       "docker.io/library/" HEX64 ":latest", "docker.io/library/" HEX64),
    OK(HEX64 ":v1", "docker.io/library/" HEX64 ":v1", "docker.io/library/" HEX64 ":v1",
       "docker.io/library/" HEX64),
    OK("docker.io/foo.bar/baz", "docker.io/foo.bar/baz:latest", "docker.io/foo.bar/baz:latest",
       "docker.io/foo.bar/baz"),
    OK("docker.io/localhost/foo", "docker.io/localhost/foo:latest",
       "docker.io/localhost/foo:latest", "docker.io/localhost/foo"),
    OK("docker.io/library/foo.bar/baz", "docker.io/library/foo.bar/baz:latest",
       "library/foo.bar/baz:latest", "docker.io/library/foo.bar/baz"),

    /* invalid */
    BAD("", MSG_FORMAT),
    BAD(":tag", MSG_FORMAT),
    BAD(":justtag", MSG_FORMAT),
    BAD("busybox:", MSG_FORMAT),
    BAD("busybox@", MSG_FORMAT),
    BAD("@sha256:" F64, MSG_FORMAT),
    BAD("/busybox", MSG_FORMAT),
    BAD("busybox/", MSG_FORMAT),
    BAD("docker/", MSG_FORMAT),
    BAD("a//b", MSG_FORMAT),
    BAD("docker///docker", MSG_FORMAT),
    BAD("docker.io/docker///docker", MSG_FORMAT),
    BAD("a..b", MSG_FORMAT),
    BAD("a___b", MSG_FORMAT),
    BAD("a._b", MSG_FORMAT),
    BAD("dock_.er/docker", MSG_FORMAT),
    BAD("dock-.er/docker", MSG_FORMAT),
    BAD("-docker", MSG_FORMAT),
    BAD("-docker/docker", MSG_FORMAT),
    BAD("docker-/docker", MSG_FORMAT),
    BAD("-docker.io/docker/docker", MSG_FORMAT),
    BAD("_docker/_docker", MSG_FORMAT),
    BAD("____/____", MSG_FORMAT),
    BAD("aa/asdf$$^/aa", MSG_FORMAT),
    BAD("a b", MSG_FORMAT),
    BAD("https://github.com/docker/docker", MSG_FORMAT),
    BAD("busybox:-tag", MSG_FORMAT),
    BAD("busybox:.tag", MSG_FORMAT),
    BAD("busybox:a:b", MSG_FORMAT),
    BAD("busybox:ta/g", MSG_FORMAT),
    BAD("foo@sha256:abc", MSG_FORMAT),
    BAD("foo@sha256:" F64 "@sha256:" F64, MSG_FORMAT),
    BAD("localhost:/foo", MSG_FORMAT),
    BAD("localhost:50a0/foo", MSG_FORMAT),
    BAD("-host.com/foo", MSG_FORMAT),
    BAD("host-.com/foo", MSG_FORMAT),
    BAD("host..com/foo", MSG_FORMAT),
    BAD("[2001:db8::1]", MSG_FORMAT),
    BAD("[2001:db8::1]:5000", MSG_FORMAT),
    BAD("[]/foo", MSG_FORMAT),
    BAD("[fe80::1%eth0]:5000/repo", MSG_FORMAT),
    BAD("[2001:db8:3:4::192.0.2.33]:5000/debian", MSG_FORMAT),
    BAD("fc00::1:5000/debian", MSG_FORMAT),
    BAD("Foo", MSG_LOWER),
    BAD("Uppercase:tag", MSG_LOWER),
    BAD("docker/Docker", MSG_LOWER),
    BAD("docker.io/docker/Docker", MSG_LOWER),
    BAD("test:5000/Uppercase/lowercase:tag", MSG_LOWER),
    BAD("localhost/Foo@sha256:" F64, MSG_LOWER),
    /* uppercase in a first component that is neither a host nor a path (Parse's own check) */
    BAD("Foo_x/bar", MSG_LOWER),
    /* docker checks the text before the first ":" for uppercase, digest algorithm included */
    BAD("foo@SHA256:" F64, MSG_LOWER),
    BAD(HEX64, "invalid repository name (" HEX64 "), cannot specify 64-byte hexadecimal strings"),
    BAD("repo@sha256:" F32 "ff", "invalid checksum digest length"),
    BAD("repo@sha512:" F64, "invalid checksum digest length"),
    BAD("repo@sha256:" F64 "f", "invalid checksum digest length"),
    BAD("repo:tag@sha256:"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "invalid checksum digest format"),
    BAD("validname@invaliddigest:" F64, "unsupported digest algorithm"),
    BAD("validname@md5:" F32, "unsupported digest algorithm"),
    BAD("localhost/x@Sha256:" F64, MSG_LOWER),
    BAD("localhost/x:t@Sha256:" F64, "invalid checksum digest format"),
};

static const char *
orempty(const char *s)
{
    return s ? s : "(null)";
}

static bool
same(const char *what, const char *got, const char *want)
{
    if (got && want && !strcmp(got, want))
        return true;
    printf("#   %s: got '%s', expected '%s'\n", what, orempty(got), orempty(want));
    return false;
}

/* berth_reference_string() of a fresh parse of text, or NULL */
static char *
reparse(const char *text)
{
    _cleanup_reference_ struct berth_reference *ref = NULL;
    struct berth_error *err = NULL;
    if (berth_reference_parse(text, true, &ref, &err) < 0) {
        printf("#   parse '%s': %s\n", text, err->msg);
        berth_error_free(err);
        return NULL;
    }
    return berth_reference_string(ref);
}

static bool
run_case(const struct ref_case *c)
{
    _cleanup_reference_ struct berth_reference *ref = NULL;
    struct berth_error *err = NULL;
    int r = berth_reference_parse(c->in, c->no_default_tag, &ref, &err);
    if (!c->norm) {
        bool good = r == -EINVAL && !ref && err && err->code == EINVAL;
        if (!good)
            printf("#   expected EINVAL, got r=%d ref=%p\n", r, (void *)ref);
        good = same("error", err ? err->msg : NULL, c->err) && good;
        berth_error_free(err);
        return good;
    }
    if (r < 0 || !ref) {
        printf("#   parse failed (%d): %s\n", r, err ? err->msg : "(no error)");
        berth_error_free(err);
        return false;
    }
    _cleanup_free_ char *str = berth_reference_string(ref);
    _cleanup_free_ char *fam = berth_reference_familiar(ref);
    _cleanup_free_ char *name = berth_reference_name(ref);
    _cleanup_free_ char *again = reparse(c->norm);
    _cleanup_free_ char *from_fam = reparse(c->familiar);
    bool good = err == NULL;
    good = same("string", str, c->norm) && good;
    good = same("familiar", fam, c->familiar) && good;
    good = same("name", name, c->name) && good;
    if (c->domain)
        good = same("domain", ref->domain, c->domain) && good;
    good = same("parse(string)", again, c->norm) && good;
    good = same("parse(familiar)", from_fam, c->norm) && good;
    return good;
}

/* "<prefix>" followed by n copies of c, malloc'd */
static char *
repeat(const char *prefix, char c, size_t n, const char *suffix)
{
    size_t p = strlen(prefix), s = strlen(suffix);
    char *out = malloc(p + n + s + 1);
    if (!out)
        abort();
    memcpy(out, prefix, p);
    memset(out + p, c, n);
    memcpy(out + p + n, suffix, s + 1);
    return out;
}

static void
test_table(void)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
        const struct ref_case *c = &cases[i];
        check(run_case(c), "%s '%s'%s", c->norm ? "valid" : "invalid", c->in,
              c->no_default_tag ? " (no default tag)" : "");
    }
}

static void
test_parts(void)
{
    _cleanup_reference_ struct berth_reference *ref = NULL;
    int r = berth_reference_parse("localhost:5000/ns/img:tag@" BUSYBOX_DIGEST, false, &ref, NULL);
    check(r == 0 && !strcmp(ref->domain, "localhost:5000") && !strcmp(ref->path, "ns/img") &&
              !strcmp(ref->tag, "tag") && !strcmp(ref->digest, BUSYBOX_DIGEST),
          "domain, path, tag and digest are split out");
    berth_reference_free(TAKE_PTR(ref));

    r = berth_reference_parse("busybox@" BUSYBOX_DIGEST, false, &ref, NULL);
    check(r == 0 && !ref->tag && ref->digest, "a digest alone gets no default tag");
    berth_reference_free(TAKE_PTR(ref));

    r = berth_reference_parse("busybox", true, &ref, NULL);
    check(r == 0 && !ref->tag && !ref->digest, "no_default_tag leaves the tag NULL");
    _cleanup_free_ char *fam = r == 0 ? berth_reference_familiar_name(ref) : NULL;
    check(fam && !strcmp(fam, "busybox"), "familiar name of busybox");
    berth_reference_free(TAKE_PTR(ref));

    r = berth_reference_parse("docker.io/library/foo:1@" BUSYBOX_DIGEST, false, &ref, NULL);
    _cleanup_free_ char *fam2 = r == 0 ? berth_reference_familiar_name(ref) : NULL;
    check(fam2 && !strcmp(fam2, "foo"), "familiar name drops tag and digest");

    static struct berth_reference sentinel;
    struct berth_reference *untouched = &sentinel;
    struct berth_error *err = NULL;
    r = berth_reference_parse("Foo", false, &untouched, &err);
    check(r == -EINVAL && untouched == &sentinel && err, "a failed parse leaves *ret alone");
    berth_error_free(err);
    r = berth_reference_parse(NULL, false, &ref, NULL);
    check(r == -EINVAL, "NULL text is EINVAL");
}

static void
test_lengths(void)
{
    struct {
        char *in;
        const char *err; /* NULL: valid */
        const char *what;
    } t[] = {
        {repeat("busybox:", 'a', 128, ""), NULL, "a 128-character tag"},
        {repeat("busybox:", 'a', 129, ""), MSG_FORMAT, "a 129-character tag"},
        {repeat("busybox:_", 'Z', 127, ""), NULL, "a 128-character tag of _ and Z"},
        /* "localhost/" + 245 = 255 characters of name */
        {repeat("localhost/", 'a', 245, ""), NULL, "a 255-character name"},
        {repeat("localhost/", 'a', 245, ":tag-puts-this-over-max"), NULL,
         "a 255-character name with a tag"},
        {repeat("localhost/", 'a', 246, ""), MSG_LONG, "a 256-character name"},
        /* "docker.io/" counts: 245 characters of path are the most under docker.io */
        {repeat("docker.io/x/", 'a', 243, ""), NULL, "255 characters with docker.io/"},
        {repeat("x/", 'a', 244, ""), MSG_LONG, "256 characters once docker.io/ is added"},
        /* "library/" counts too */
        {repeat("", 'a', 237, ""), NULL, "237 characters + docker.io/library/ = 255"},
        {repeat("", 'a', 238, ""), MSG_LONG, "238 characters + docker.io/library/ = 256"},
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(t); i++) {
        _cleanup_reference_ struct berth_reference *ref = NULL;
        struct berth_error *err = NULL;
        int r = berth_reference_parse(t[i].in, false, &ref, &err);
        bool good;
        if (t[i].err)
            good = r == -EINVAL && same("error", err ? err->msg : NULL, t[i].err);
        else
            good = r == 0 && ref;
        if (!good && r < 0 && !t[i].err)
            printf("#   error: %s\n", err->msg);
        check(good, "%s: %s", t[i].what, t[i].err ? "refused" : "accepted");
        berth_error_free(err);
        free(t[i].in);
    }

    /* reference_test.go's "a/" x 127 + "a" is 255 characters without a registry: one more under
     * docker.io once normalised, and refused, as docker does */
    _cleanup_free_ char *deep = malloc(256 + 32);
    if (!deep)
        abort();
    deep[0] = '\0';
    for (int i = 0; i < 127; i++)
        memcpy(deep + 2 * i, "a/", 3);
    memcpy(deep + 254, "a:tag", 6);
    struct berth_error *err = NULL;
    _cleanup_reference_ struct berth_reference *ref = NULL;
    int r = berth_reference_parse(deep, false, &ref, &err);
    check(r == -EINVAL && same("error", err ? err->msg : NULL, MSG_LONG),
          "a/ x 127 + a is too long once docker.io/ is added");
    berth_error_free(err);
    err = NULL;
    _cleanup_free_ char *behind = NULL;
    if (asprintf(&behind, "localhost/%s", deep) < 0)
        abort();
    r = berth_reference_parse(behind, false, &ref, &err);
    check(r == -EINVAL && same("error", err ? err->msg : NULL, MSG_LONG),
          "and too long behind localhost/ as well");
    berth_error_free(err);
}

static void
test_id_like(void)
{
    check(berth_id_like("sha256:" HEX64), "id_like: sha256:<64 hex>");
    check(berth_id_like(HEX64), "id_like: bare 64 hex");
    check(berth_id_like("1a3f5e7d9c1b"), "id_like: 12-character short ID");
    check(berth_id_like("a"), "id_like: one hex character");
    check(!berth_id_like(""), "id_like: not the empty string");
    check(!berth_id_like(NULL), "id_like: not NULL");
    check(!berth_id_like(HEX64 "a"), "id_like: not 65 hex characters");
    check(!berth_id_like("sha256:1a3f5e"), "id_like: not sha256: with a short hex");
    check(!berth_id_like("sha256:"), "id_like: not sha256: alone");
    check(!berth_id_like("1A3F5E"), "id_like: not uppercase hex");
    check(!berth_id_like("busybox"), "id_like: not a name");
    check(!berth_id_like("sha512:" HEX64 HEX64), "id_like: not sha512");
}

static void
test_tag_valid(void)
{
    char tag128[129], tag129[130];
    memset(tag128, 'x', 128);
    tag128[128] = '\0';
    memset(tag129, 'x', 129);
    tag129[129] = '\0';
    check(berth_tag_valid("latest"), "tag_valid: latest");
    check(berth_tag_valid("v1.2.3-rc.1_b"), "tag_valid: v1.2.3-rc.1_b");
    check(berth_tag_valid("_"), "tag_valid: _");
    check(berth_tag_valid("A"), "tag_valid: A");
    check(berth_tag_valid(tag128), "tag_valid: 128 characters");
    check(!berth_tag_valid(tag129), "tag_valid: not 129 characters");
    check(!berth_tag_valid(""), "tag_valid: not empty");
    check(!berth_tag_valid(NULL), "tag_valid: not NULL");
    check(!berth_tag_valid("-x"), "tag_valid: not a leading -");
    check(!berth_tag_valid(".x"), "tag_valid: not a leading .");
    check(!berth_tag_valid("a/b"), "tag_valid: no /");
    check(!berth_tag_valid("a:b"), "tag_valid: no :");
    check(!berth_tag_valid("a@b"), "tag_valid: no @");
    check(!berth_tag_valid("caf\xc3\xa9"), "tag_valid: ASCII only");
}

static void
test_digest_valid(void)
{
    check(berth_digest_valid(BUSYBOX_DIGEST), "digest_valid: sha256");
    check(berth_digest_valid("sha512:" F128), "digest_valid: sha512");
    check(berth_digest_valid("sha384:" F64 F32), "digest_valid: sha384");
    check(!berth_digest_valid("sha256:" F32), "digest_valid: not a short sha256");
    check(!berth_digest_valid("sha256:" F64 "f"), "digest_valid: not a long sha256");
    check(!berth_digest_valid("sha512:" F64), "digest_valid: not sha512 with 64 hex");
    check(!berth_digest_valid("sha256:" F32 "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
          "digest_valid: not uppercase hex");
    check(!berth_digest_valid("sha256:" F32 "fffffffffffffffffffffffffffffffg"),
          "digest_valid: not a non-hex character");
    check(!berth_digest_valid("md5:" F32), "digest_valid: not md5");
    check(!berth_digest_valid("SHA256:" F64), "digest_valid: not SHA256");
    check(!berth_digest_valid(F64), "digest_valid: not without algorithm");
    check(!berth_digest_valid("sha256:"), "digest_valid: not sha256: alone");
    check(!berth_digest_valid(""), "digest_valid: not empty");
    check(!berth_digest_valid(NULL), "digest_valid: not NULL");
}

int
main(void)
{
    test_table();
    test_parts();
    test_lengths();
    test_id_like();
    test_tag_valid();
    test_digest_valid();
    return tap_done();
}
