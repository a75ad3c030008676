/* Image references, parsed the way docker's CLI and daemon do (github.com/distribution/reference,
 * ParseNormalizedNamed followed by TagNameOnly), by hand instead of with regular expressions:
 *
 *   reference      := name [ ":" tag ] [ "@" digest ]
 *   name           := [ domain "/" ] path-component ( "/" path-component )*
 *   domain         := host [ ":" [0-9]+ ]
 *   host           := domain-label ( "." domain-label )* | "[" [a-fA-F0-9:]+ "]"
 *   domain-label   := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag            := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest         := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* ":" [0-9a-fA-F]{32,}
 *
 * The steps and their order follow docker's, so the same input fails with the same message:
 *   1. a bare 64-hex string is refused (it would be ambiguous with an image ID);
 *   2. the first "/" component is the registry when it contains "." or ":", is "localhost" or
 *      has uppercase letters; otherwise the registry is docker.io (index.docker.io is the same)
 *      and a one-component path gets "library/";
 *   3. uppercase before the first ":" of what follows the registry is refused;
 *   4. "<registry>/<rest>" is matched against the grammar above; the name (registry included) is
 *      at most 255 characters; the digest must be a supported algorithm with the right length.
 * One oddity is docker's too: when the registry part is not a valid host but the whole name is a
 * valid path ("a_b.c/foo"), the reference has an empty domain and its name is just the path. */
#include "image/reference.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define DEFAULT_TAG "latest"

/* A piece of the input: start and length (no NUL of its own). */
struct span {
    const char *s;
    size_t n;
};

static bool
is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_lower_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool
is_hex(char c)
{
    return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

/* \w of Go's regexp: ASCII letters, digits and underscore */
static bool
is_word(char c)
{
    return is_alnum(c) || c == '_';
}

static bool
all_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

/* path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )* */
static bool
is_path_component(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        if (i >= n || !is_lower_alnum(s[i]))
            return false; /* empty, or a separator not followed by an alphanumeric */
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
    }
}

/* path-component ( "/" path-component )* */
static bool
is_remote_name(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (!is_path_component(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* domain-label := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool
is_domain_label(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* domain := ( domain-label ( "." domain-label )* | "[" [a-fA-F0-9:]+ "]" ) [ ":" [0-9]+ ] */
static bool
is_domain(const char *s, size_t n)
{
    size_t host_end;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || close == s + 1)
            return false;
        for (const char *p = s + 1; p < close; p++)
            if (!is_hex(*p) && *p != ':')
                return false;
        host_end = (size_t)(close - s) + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        host_end = colon ? (size_t)(colon - s) : n;
        size_t start = 0;
        for (size_t i = 0; i <= host_end; i++) {
            if (i == host_end || s[i] == '.') {
                if (!is_domain_label(s + start, i - start))
                    return false;
                start = i + 1;
            }
        }
    }
    if (host_end == n)
        return true;
    if (s[host_end] != ':' || host_end + 1 == n)
        return false;
    for (size_t i = host_end + 1; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static bool
is_tag(const char *s, size_t n)
{
    if (n == 0 || n > TAG_MAX_LEN || !is_word(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* The digest pattern of distribution/reference (looser than what go-digest then accepts):
 * [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* ":" [0-9a-fA-F]{32,} */
static bool
is_digest_pattern(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        if (i >= n || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
        while (i < n && is_alnum(s[i]))
            i++;
        if (i < n && (s[i] == '-' || s[i] == '_' || s[i] == '+' || s[i] == '.')) {
            i++;
            continue;
        }
        break;
    }
    if (i >= n || s[i] != ':' || n - i - 1 < 32)
        return false;
    for (i++; i < n; i++)
        if (!is_hex(s[i]))
            return false;
    return true;
}

/* Hex length of a digest algorithm go-digest supports (docker links sha256, sha384, sha512). */
static size_t
algorithm_hex_len(const char *s, size_t n)
{
    static const struct {
        const char *name;
        size_t hex_len;
    } algorithms[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(algorithms); i++)
        if (strlen(algorithms[i].name) == n && !memcmp(algorithms[i].name, s, n))
            return algorithms[i].hex_len;
    return 0;
}

/* go-digest's Digest.Validate, with its messages. Returns NULL when valid. */
static const char *
digest_problem(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s || colon + 1 == s + n)
        return "invalid checksum digest format";
    size_t alg_len = (size_t)(colon - s), hex_len = n - alg_len - 1;
    size_t want = algorithm_hex_len(s, alg_len);
    if (want == 0) {
        /* go-digest's own DigestRegexp: [a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+ */
        for (size_t i = 0; i < alg_len; i++)
            if (s[i] >= 'A' && s[i] <= 'Z')
                return "invalid checksum digest format";
        return "unsupported digest algorithm";
    }
    if (hex_len != want)
        return "invalid checksum digest length";
    if (!all_lower_hex(colon + 1, hex_len))
        return "invalid checksum digest format";
    return NULL;
}

/* distribution/reference's ReferenceRegexp followed by anchoredNameRegexp on the name. A ":"
 * after the last "/" can only start the tag (a registry port is always followed by a "/"), and a
 * single "@" starts the digest, so the split is unambiguous. */
static bool
match_reference(const char *s, size_t n, struct span *domain, struct span *path, struct span *tag,
                struct span *digest)
{
    *domain = *path = *tag = *digest = (struct span){s, 0};
    size_t left = n;
    const char *at = memchr(s, '@', n);
    if (at) {
        left = (size_t)(at - s);
        *digest = (struct span){at + 1, n - left - 1};
        if (!is_digest_pattern(digest->s, digest->n))
            return false;
    }
    const char *slash = memrchr(s, '/', left);
    size_t last = slash ? (size_t)(slash - s) + 1 : 0;
    const char *colon = memchr(s + last, ':', left - last);
    size_t name_len = left;
    if (colon) {
        name_len = (size_t)(colon - s);
        *tag = (struct span){colon + 1, left - name_len - 1};
        if (!is_tag(tag->s, tag->n))
            return false;
    }
    /* the optional domain is tried first, as Go's leftmost-first matching does */
    const char *first = memchr(s, '/', name_len);
    if (first) {
        size_t dn = (size_t)(first - s);
        if (is_domain(s, dn) && is_remote_name(first + 1, name_len - dn - 1)) {
            *domain = (struct span){s, dn};
            *path = (struct span){first + 1, name_len - dn - 1};
            return true;
        }
    }
    if (!is_remote_name(s, name_len))
        return false;
    *path = (struct span){s, name_len};
    return true;
}

static int
lowercase_error(struct berth_error **err)
{
    return berth_error_setq(err, EINVAL,
                            "invalid reference format: repository name must be lowercase");
}

static bool
has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

static bool
is_identifier(const char *s, size_t n)
{
    return n == 64 && all_lower_hex(s, n);
}

/* splitDockerDomain: is the first component of a familiar name a registry? */
static bool
looks_like_domain(const char *s, size_t n)
{
    return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)) ||
           has_upper(s, n);
}

static char *
span_dup(struct span sp)
{
    return strndup(sp.s, sp.n);
}

int
berth_reference_parse(const char *text, bool no_default_tag, struct berth_reference **ret,
                      struct berth_error **err)
{
    if (!text)
        return berth_error_setq(err, EINVAL, "invalid reference format");
    size_t len = strlen(text);
    if (is_identifier(text, len))
        return berth_error_setq(
            err, EINVAL, "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
            text);

    /* splitDockerDomain */
    const char *domain = DEFAULT_DOMAIN, *remainder = text;
    size_t domain_len = strlen(DEFAULT_DOMAIN);
    const char *slash = strchr(text, '/');
    if (slash && looks_like_domain(text, (size_t)(slash - text))) {
        domain = text;
        domain_len = (size_t)(slash - text);
        remainder = slash + 1;
    }
    if (domain_len == strlen(LEGACY_DEFAULT_DOMAIN) &&
        !memcmp(domain, LEGACY_DEFAULT_DOMAIN, domain_len)) {
        domain = DEFAULT_DOMAIN;
        domain_len = strlen(DEFAULT_DOMAIN);
    }
    bool official = domain_len == strlen(DEFAULT_DOMAIN) &&
                    !memcmp(domain, DEFAULT_DOMAIN, domain_len) && !strchr(remainder, '/');

    /* the repository (up to the tag) must be lowercase */
    const char *tag_sep = strchr(remainder, ':');
    size_t remote_len = tag_sep ? (size_t)(tag_sep - remainder) : strlen(remainder);
    if (has_upper(remainder, remote_len))
        return lowercase_error(err);

    /* "<domain>/[library/]<remainder>" */
    size_t prefix_len = official ? strlen(OFFICIAL_PREFIX) : 0, rest_len = strlen(remainder);
    size_t full_len = domain_len + 1 + prefix_len + rest_len;
    _cleanup_free_ char *full = malloc(full_len + 1);
    if (!full)
        return berth_error_set(err, ENOMEM, "parse reference");
    memcpy(full, domain, domain_len);
    full[domain_len] = '/';
    memcpy(full + domain_len + 1, OFFICIAL_PREFIX, prefix_len);
    memcpy(full + domain_len + 1 + prefix_len, remainder, rest_len + 1);

    /* distribution/reference.Parse */
    struct span d, p, t, dg;
    if (!match_reference(full, full_len, &d, &p, &t, &dg)) {
        _cleanup_free_ char *lower = strdup(full);
        if (!lower)
            return berth_error_set(err, ENOMEM, "parse reference");
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        struct span ld, lp, lt, ldg;
        if (match_reference(lower, full_len, &ld, &lp, &lt, &ldg))
            return lowercase_error(err);
        return berth_error_setq(err, EINVAL, "invalid reference format");
    }
    size_t name_len = d.n ? d.n + 1 + p.n : p.n;
    if (name_len > NAME_MAX_LEN)
        return berth_error_setq(err, EINVAL, "repository name must not be more than %d characters",
                                NAME_MAX_LEN);
    if (dg.n > 0) {
        const char *problem = digest_problem(dg.s, dg.n);
        if (problem)
            return berth_error_setq(err, EINVAL, "%s", problem);
    }

    bool default_tag = t.n == 0 && dg.n == 0 && !no_default_tag;
    _cleanup_free_ char *r_domain = span_dup(d), *r_path = span_dup(p);
    _cleanup_free_ char *r_tag = t.n > 0 ? span_dup(t) : default_tag ? strdup(DEFAULT_TAG) : NULL;
    _cleanup_free_ char *r_digest = dg.n > 0 ? span_dup(dg) : NULL;
    struct berth_reference *ref = NULL;
    if (!r_domain || !r_path || ((t.n > 0 || default_tag) && !r_tag) || (dg.n > 0 && !r_digest) ||
        !(ref = calloc(1, sizeof(*ref))))
        return berth_error_set(err, ENOMEM, "parse reference");
    ref->domain = TAKE_PTR(r_domain);
    ref->path = TAKE_PTR(r_path);
    ref->tag = TAKE_PTR(r_tag);
    ref->digest = TAKE_PTR(r_digest);
    *ret = ref;
    return 0;
}

void
berth_reference_free(struct berth_reference *ref)
{
    if (!ref)
        return;
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    free(ref);
}

void
berth_reference_freep(struct berth_reference **ref)
{
    berth_reference_free(*ref);
}

/* name [":" tag] ["@" digest] */
static char *
with_suffixes(const char *name, const struct berth_reference *ref)
{
    char *out = NULL;
    if (asprintf(&out, "%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                 ref->digest ? "@" : "", ref->digest ? ref->digest : "") < 0)
        return NULL;
    return out;
}

char *
berth_reference_name(const struct berth_reference *ref)
{
    char *out = NULL;
    if (!ref->domain || !ref->domain[0])
        return strdup(ref->path);
    if (asprintf(&out, "%s/%s", ref->domain, ref->path) < 0)
        return NULL;
    return out;
}

char *
berth_reference_string(const struct berth_reference *ref)
{
    _cleanup_free_ char *name = berth_reference_name(ref);
    return name ? with_suffixes(name, ref) : NULL;
}

/* docker's familiarizeName: drop "docker.io/", and "library/" when nothing nested follows it.
 * Unlike docker, the full name is kept when the short one would mean something else once parsed
 * again: a first component that looks like a registry ("docker.io/foo.bar/x" is not
 * "foo.bar/x") or a bare 64-hex name (refused by the parser). Docker Hub has no such names. */
char *
berth_reference_familiar_name(const struct berth_reference *ref)
{
    if (!ref->domain || strcmp(ref->domain, DEFAULT_DOMAIN) != 0)
        return berth_reference_name(ref);
    const char *path = ref->path;
    if (strncmp(path, OFFICIAL_PREFIX, strlen(OFFICIAL_PREFIX)) == 0 &&
        !strchr(path + strlen(OFFICIAL_PREFIX), '/'))
        path += strlen(OFFICIAL_PREFIX);
    const char *slash = strchr(path, '/');
    size_t first = slash ? (size_t)(slash - path) : strlen(path);
    if ((slash && looks_like_domain(path, first)) || is_identifier(path, strlen(path)))
        return berth_reference_name(ref);
    return strdup(path);
}

char *
berth_reference_familiar(const struct berth_reference *ref)
{
    _cleanup_free_ char *name = berth_reference_familiar_name(ref);
    return name ? with_suffixes(name, ref) : NULL;
}

bool
berth_digest_valid(const char *digest)
{
    if (!digest)
        return false;
    size_t n = strlen(digest);
    const char *colon = memchr(digest, ':', n);
    if (!colon)
        return false;
    size_t want = algorithm_hex_len(digest, (size_t)(colon - digest));
    size_t hex_len = n - (size_t)(colon - digest) - 1;
    return want != 0 && hex_len == want && all_lower_hex(colon + 1, hex_len);
}

bool
berth_id_like(const char *text)
{
    if (!text)
        return false;
    if (strncmp(text, "sha256:", 7) == 0)
        return is_identifier(text + 7, strlen(text + 7));
    size_t n = strlen(text);
    return n >= 1 && n <= 64 && all_lower_hex(text, n);
}

bool
berth_tag_valid(const char *tag)
{
    return tag && is_tag(tag, strlen(tag));
}
