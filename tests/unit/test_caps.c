/* Unit tests of lib/runtime/caps.c: capability names both ways (and what is not a name), the
 * bounding set as the kernel reports it, and the five sets applied in forked children, read back
 * from /proc/self/status and prctl. Runs as root and stays uid 0; a capability this host's
 * bounding set lacks (CAP_SYS_RESOURCE here, or one the test drops) must be skipped. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/caps.h"
#include "runtime/spec.h"
#include "testutil.h"

#define BIT(c) (1ULL << (c))

/* ---- reading the sets back ---- */

/* The hex mask of field ("CapEff") in /proc/self/status; ~0 if missing. */
static uint64_t
status_caps(const char *field)
{
    _cleanup_free_ char *text = NULL;
    if (berth_read_file("/proc/self/status", 1u << 20, &text, NULL, NULL) < 0)
        return ~0ULL;
    char key[32];
    snprintf(key, sizeof(key), "\n%s:", field);
    char *p = strstr(text, key);
    if (!p)
        return ~0ULL;
    return strtoull(p + strlen(key), NULL, 16);
}

static bool
mask_is(const char *field, uint64_t want)
{
    uint64_t got = status_caps(field);
    if (got != want)
        cdiag("  %s: got %016llx, expected %016llx", field, (unsigned long long)got,
              (unsigned long long)want);
    return got == want;
}

static int
ambient_is_set(int cap)
{
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
}

/* ---- names ---- */

static void
test_from_name(void)
{
    check(berth_cap_from_name("CAP_SYS_ADMIN") == CAP_SYS_ADMIN, "CAP_SYS_ADMIN");
    check(berth_cap_from_name("CAP_CHOWN") == 0, "CAP_CHOWN is 0");
    check(berth_cap_from_name("cap_sys_admin") == CAP_SYS_ADMIN, "lower case: cap_sys_admin");
    check(berth_cap_from_name("Cap_Net_Raw") == CAP_NET_RAW, "mixed case: Cap_Net_Raw");
    check(berth_cap_from_name("CAP_AUDIT_READ") == CAP_AUDIT_READ, "CAP_AUDIT_READ");

    static const char *const refused[] = {
        "CAP_BOGUS",
        "SYS_ADMIN", /* the prefix is required */
        "",
        "CAP_",
        "21", /* libcap's cap_from_name takes bare numbers: names only here */
        "0",
        "cap_21",
        "CAP_0x15",
        "0x15",
        /* libcap stops at the first character that is not a letter or '_' and ignores the rest:
         * only a whole name counts */
        "CAP_KILL2",
        "CAP_SYS_ADMIN,CAP_KILL",
        "cap_kill+ep",
        "CAP_KILL ",
        "cap_sys_admin\n",
        "CAP_CHOWN=",
        "CAP_SYS_ADMINX",
        "CAP_SYS_ADMIN_CAP_SYS_ADMIN_CAP_SYS_ADMIN_CAP_SYS_ADMIN_CAP_SYS_ADMIN_CAP_SYS_ADMIN",
    };
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(refused); i++) {
        int v = berth_cap_from_name(refused[i]);
        char shown[128];
        size_t o = 0;
        for (const char *p = refused[i]; *p && o + 3 < sizeof(shown); p++)
            if (*p == '\n')
                shown[o++] = '\\', shown[o++] = 'n';
            else
                shown[o++] = *p;
        shown[o] = '\0';
        ok(v == -1, "\"%s\" is not a capability name (got %d)", shown, v);
    }

    /* the route a user takes: config.json names an unknown capability */
    static const char cfg[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/\"}, "
                              "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": "
                              "{\"uid\": 0, \"gid\": 0}, \"capabilities\": {\"bounding\": "
                              "[\"CAP_KILL\", \"CAP_KILL2\"]}}}";
    struct berth_spec *spec = NULL;
    struct berth_error *e = NULL;
    int r = berth_spec_parse(cfg, strlen(cfg), NULL, &spec, &e);
    bool named = e && e->msg && strstr(e->msg, "unknown capability CAP_KILL2");
    check(r == -EINVAL && !spec && named,
          "config.json with CAP_KILL2 is refused: unknown capability (%s)",
          e && e->msg ? e->msg : "accepted");
    berth_error_freep(&e);
    berth_spec_free(spec);
}

static void
test_to_name(void)
{
    _cleanup_free_ char *text = NULL;
    int64_t last = -1;
    if (berth_read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL, NULL) == 0) {
        text[strcspn(text, "\n")] = '\0';
        berth_parse_i64(text, &last);
    }
    int cl = berth_cap_last();
    ok(cl == last, "berth_cap_last() %d is /proc/sys/kernel/cap_last_cap (%lld)", cl,
       (long long)last);

    is_str(berth_cap_to_name(0), "CAP_CHOWN", "0 is CAP_CHOWN");
    is_str(berth_cap_to_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN", "21 is CAP_SYS_ADMIN");
    is_str(berth_cap_to_name(CAP_SYS_RESOURCE), "CAP_SYS_RESOURCE", "24 is CAP_SYS_RESOURCE");
    is_str(berth_cap_to_name(-1), "unknown", "-1: unknown");
    is_str(berth_cap_to_name(64), "unknown", "64: unknown");
    is_str(berth_cap_to_name(100000), "unknown", "100000: unknown");

    int bad = 0;
    for (int c = 0; c <= cl; c++) {
        const char *n = berth_cap_to_name(c);
        bool upper = strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(n);
        bool prefixed = berth_str_has_prefix(n, "CAP_");
        int back = berth_cap_from_name(n);
        bool unique = true;
        for (int d = 0; d < c; d++)
            if (!strcmp(berth_cap_to_name(d), n))
                unique = false;
        if (!upper || !prefixed || back != c || !unique) {
            printf("#   %d -> '%s' -> %d\n", c, n, back);
            bad++;
        }
    }
    ok(bad == 0, "0..%d: CAP_ names in upper case, distinct, and back to the same number", cl);
    /* the name is kept: a second call returns the same text */
    const char *a = berth_cap_to_name(CAP_KILL), *b = berth_cap_to_name(CAP_KILL);
    ok(a == b && !strcmp(a, "CAP_KILL"), "to_name is stable across calls");
}

static void
test_current_bounding(void)
{
    uint64_t mask = berth_caps_current_bounding();
    uint64_t bnd = status_caps("CapBnd");
    ok(mask == bnd, "current bounding %016llx is /proc/self/status CapBnd %016llx",
       (unsigned long long)mask, (unsigned long long)bnd);
    ok(mask != 0, "root has a non-empty bounding set");
    if (!(bnd & BIT(CAP_SYS_RESOURCE)))
        printf("# this host's bounding set lacks CAP_SYS_RESOURCE\n");
}

/* ---- applying sets in children ---- */

struct caps_case {
    struct berth_spec_caps caps;
    int drop_first;    /* >= 0: drop this cap from the bounding set before anything */
    uint64_t want_bnd; /* expected CapBnd after drop_bounding */
    uint64_t want_eff, want_prm, want_inh, want_amb;
};

static void
child_apply(const void *arg)
{
    const struct caps_case *c = arg;
    struct berth_error *e = NULL;
    uint64_t host = berth_caps_current_bounding();
    if (c->drop_first >= 0) {
        int rc = prctl(PR_CAPBSET_DROP, c->drop_first, 0, 0, 0);
        ccheck(rc == 0, "the test drops %s from the bounding set first",
               berth_cap_to_name(c->drop_first));
        host &= ~BIT(c->drop_first);
    }
    int r = berth_caps_drop_bounding(&c->caps, &e);
    ccheck(r == 0, "drop_bounding succeeds (%s)", e ? e->msg : "no error");
    berth_error_freep(&e);
    uint64_t want_bnd = c->want_bnd & host;
    ccheck(mask_is("CapBnd", want_bnd), "CapBnd is %016llx", (unsigned long long)want_bnd);
    uint64_t now = berth_caps_current_bounding();
    ccheck(now == want_bnd, "berth_caps_current_bounding agrees");

    r = berth_caps_apply(&c->caps, &e);
    ccheck(r == 0, "apply succeeds (%s)", e ? e->msg : "no error");
    berth_error_freep(&e);
    ccheck(mask_is("CapEff", c->want_eff), "CapEff %016llx", (unsigned long long)c->want_eff);
    ccheck(mask_is("CapPrm", c->want_prm), "CapPrm %016llx", (unsigned long long)c->want_prm);
    ccheck(mask_is("CapInh", c->want_inh), "CapInh %016llx", (unsigned long long)c->want_inh);
    ccheck(mask_is("CapAmb", c->want_amb), "CapAmb %016llx", (unsigned long long)c->want_amb);
    ccheck(mask_is("CapBnd", want_bnd), "CapBnd unchanged by apply");
    int amb_bad = 0;
    for (int i = 0; i <= berth_cap_last(); i++) {
        int is = ambient_is_set(i);
        int want = (c->want_amb & BIT(i)) ? 1 : 0;
        if (is != want) {
            cdiag("  PR_CAP_AMBIENT_IS_SET %s: %d, expected %d", berth_cap_to_name(i), is, want);
            amb_bad++;
        }
    }
    ccheck(amb_bad == 0, "prctl(PR_CAP_AMBIENT_IS_SET) agrees for every capability");
    ccheck(getuid() == 0 && geteuid() == 0, "still uid 0");
}

static void
test_apply(void)
{
    const uint64_t kill = BIT(CAP_KILL), nbs = BIT(CAP_NET_BIND_SERVICE), aw = BIT(CAP_AUDIT_WRITE),
                   chown = BIT(CAP_CHOWN), res = BIT(CAP_SYS_RESOURCE);
    uint64_t host = berth_caps_current_bounding();

    /* the five sets differ: permitted gets effective and ambient, inheritable gets ambient */
    struct caps_case mixed = {
        .caps = {.set = true,
                 .bounding = kill | nbs | aw | chown,
                 .effective = kill | chown,
                 .permitted = kill | aw,
                 .inheritable = kill,
                 .ambient = nbs},
        .drop_first = -1,
        .want_bnd = kill | nbs | aw | chown,
        .want_eff = kill | chown,
        .want_prm = kill | aw | chown | nbs,
        .want_inh = kill | nbs,
        .want_amb = nbs,
    };
    run_child("mixed sets", child_apply, &mixed);

    /* the defaults of `spec`: the same three capabilities everywhere */
    struct caps_case dflt = {
        .caps = {.set = true,
                 .bounding = kill | nbs | aw,
                 .effective = kill | nbs | aw,
                 .permitted = kill | nbs | aw,
                 .ambient = kill | nbs | aw},
        .drop_first = -1,
        .want_bnd = kill | nbs | aw,
        .want_eff = kill | nbs | aw,
        .want_prm = kill | nbs | aw,
        .want_inh = kill | nbs | aw,
        .want_amb = kill | nbs | aw,
    };
    run_child("spec defaults", child_apply, &dflt);

    struct caps_case none = {.caps = {.set = true}, .drop_first = -1};
    run_child("all sets empty", child_apply, &none);

    /* a capability this host does not grant (CAP_SYS_RESOURCE here): skipped, not an error */
    if (host & res) {
        ok(true, "# skip CAP_SYS_RESOURCE: this host grants it (the dropped-cap case covers it)");
    } else {
        struct caps_case missing = {
            .caps = {.set = true,
                     .bounding = kill | res,
                     .effective = kill | res,
                     .permitted = kill | res,
                     .inheritable = res,
                     .ambient = kill | res},
            .drop_first = -1,
            .want_bnd = kill,
            .want_eff = kill,
            .want_prm = kill,
            .want_inh = kill,
            .want_amb = kill,
        };
        run_child("CAP_SYS_RESOURCE missing on the host", child_apply, &missing);
    }
    /* the same, deterministic: a capability the test removes from the bounding set itself */
    struct caps_case dropped = {
        .caps = {.set = true,
                 .bounding = chown | BIT(CAP_SYS_TIME),
                 .effective = chown | BIT(CAP_SYS_TIME),
                 .permitted = chown | BIT(CAP_SYS_TIME),
                 .ambient = BIT(CAP_SYS_TIME)},
        .drop_first = CAP_SYS_TIME,
        .want_bnd = chown,
        .want_eff = chown,
        .want_prm = chown,
        .want_inh = 0,
        .want_amb = 0,
    };
    run_child("CAP_SYS_TIME outside the bounding set", child_apply, &dropped);
}

/* Ambient capabilities from before are cleared, not kept. */
static void
child_ambient_replaced(const void *arg)
{
    (void)arg;
    cap_t c = cap_get_proc();
    cap_value_t v = CAP_KILL;
    bool pre = c && cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET) == 0 && cap_set_proc(c) == 0 &&
               prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) == 0;
    cap_free(c);
    ccheck(pre && ambient_is_set(CAP_KILL) == 1, "CAP_KILL raised in the ambient set beforehand");
    struct berth_spec_caps caps = {.set = true,
                                   .bounding = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
                                   .effective = BIT(CAP_KILL),
                                   .permitted = BIT(CAP_KILL),
                                   .ambient = BIT(CAP_NET_BIND_SERVICE)};
    struct berth_error *e = NULL;
    int r = berth_caps_drop_bounding(&caps, &e);
    r = r == 0 ? berth_caps_apply(&caps, &e) : r;
    ccheck(r == 0, "drop_bounding and apply (%s)", e ? e->msg : "no error");
    berth_error_freep(&e);
    ccheck(ambient_is_set(CAP_KILL) == 0, "the earlier ambient CAP_KILL is cleared");
    ccheck(ambient_is_set(CAP_NET_BIND_SERVICE) == 1, "CAP_NET_BIND_SERVICE is ambient");
    ccheck(mask_is("CapAmb", BIT(CAP_NET_BIND_SERVICE)), "CapAmb has only it");
}

/* apply asks for a capability the process no longer has in its permitted set: capset fails
 * and the error says so; drop_bounding without CAP_SETPCAP fails naming the capability. */
static void
child_errors(const void *arg)
{
    (void)arg;
    cap_t c = cap_get_proc();
    cap_value_t v = CAP_NET_ADMIN;
    bool pre = c && cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_CLEAR) == 0 &&
               cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) == 0 && cap_set_proc(c) == 0;
    cap_free(c);
    ccheck(pre && prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) == 1,
           "CAP_NET_ADMIN removed from permitted, still in the bounding set");
    struct berth_spec_caps caps = {.set = true,
                                   .bounding = BIT(CAP_NET_ADMIN) | BIT(CAP_KILL),
                                   .effective = BIT(CAP_NET_ADMIN) | BIT(CAP_KILL),
                                   .permitted = BIT(CAP_NET_ADMIN) | BIT(CAP_KILL)};
    struct berth_error *e = NULL;
    uint64_t eff_before = status_caps("CapEff");
    int r = berth_caps_apply(&caps, &e);
    ccheck(r == -EPERM && e && e->code == EPERM, "regaining a dropped capability: EPERM (%d)", r);
    ccheck(msg_is(e, "set capabilities: Operation not permitted"), "message");
    ccheck(status_caps("CapEff") == eff_before, "the sets are unchanged after the failure");
    berth_error_freep(&e);

    /* without CAP_SETPCAP in the effective set the bounding set cannot shrink */
    struct berth_spec_caps keep = {.set = true,
                                   .bounding = berth_caps_current_bounding(),
                                   .effective = BIT(CAP_KILL),
                                   .permitted = BIT(CAP_KILL)};
    r = berth_caps_apply(&keep, &e);
    ccheck(r == 0, "apply effective CAP_KILL only (%s)", e ? e->msg : "no error");
    berth_error_freep(&e);
    struct berth_spec_caps shrink = {.set = true, .bounding = 0};
    r = berth_caps_drop_bounding(&shrink, &e);
    ccheck(r == -EPERM, "drop_bounding without CAP_SETPCAP: EPERM (%d)", r);
    ccheck(msg_is(e, "drop CAP_CHOWN from the bounding set: Operation not permitted"),
           "the first capability is named");
    berth_error_freep(&e);

    /* bounding already as wanted: nothing to drop, so no CAP_SETPCAP needed */
    struct berth_spec_caps same = {.set = true, .bounding = berth_caps_current_bounding()};
    r = berth_caps_drop_bounding(&same, &e);
    ccheck(r == 0, "drop_bounding to the current set is a no-op without CAP_SETPCAP");
    berth_error_freep(&e);
}

int
main(void)
{
    test_from_name();
    test_to_name();
    test_current_bounding();
    test_apply();
    run_child("ambient replaced", child_ambient_replaced, NULL);
    run_child("errors", child_errors, NULL);
    return tap_done();
}
