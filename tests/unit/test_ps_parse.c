/* Unit tests of lib/client/ps_parse.c: the /containers/json reply read as it streams in, fed in
 * every split, the fields ps shows (and nothing else), and bad replies refused with an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ps_parse.h"
#include "tap.h"

static const char *reply =
    "[{\"Id\":\"aaaa\",\"Names\":[\"/one\",\"/two/x\"],\"Image\":\"busybox\",\"ImageID\":\"sha256:"
    "1234\",\"Command\":\"sh -c \\\"echo \\\\u00e9\\\"\",\"Created\":1700000000,\"Ports\":[{"
    "\"IP\":\"127.0.0.1\",\"PrivatePort\":80,\"PublicPort\":8080,\"Type\":\"tcp\"},{"
    "\"PrivatePort\":53,\"Type\":\"udp\"}],\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"State\":"
    "\"running\",\"Status\":\"Up 2 minutes\",\"HostConfig\":{\"NetworkMode\":\"none\"},"
    "\"NetworkSettings\":{\"Networks\":{\"none\":{\"IPAMConfig\":null,\"Aliases\":[\"x\"],"
    "\"IPPrefixLen\":0},\"bridge\":{}}},\"Mounts\":[{\"Name\":\"vol\",\"Source\":\"/v\","
    "\"Driver\":\"local\",\"RW\":true}],\"SizeRw\":12,\"SizeRootFs\":34},"
    "{\"Id\":\"bbbb\",\"Names\":[],\"Labels\":{},\"Created\":1.5e9,\"Extra\":{\"Id\":\"no\","
    "\"Names\":[\"/no\"],\"Deep\":[[[[{\"Image\":\"no\"}]]]]}}]\n";

static int
parse(const char *text, size_t chunk, struct berth_ps_list *out, struct berth_error **err)
{
    struct berth_ps_parser *p = NULL;
    int r = berth_ps_parser_new(&p, err);
    size_t len = strlen(text);
    for (size_t off = 0; r == 0 && off < len; off += chunk)
        r = berth_ps_parser_feed(p, text + off, len - off < chunk ? len - off : chunk, err);
    if (r == 0)
        r = berth_ps_parser_finish(p, out, err);
    berth_ps_parser_free(p);
    return r;
}

static void
check_reply(const struct berth_ps_list *l, const char *how)
{
    ok(l->n == 2, "%s: two entries (%zu)", how, l->n);
    if (l->n != 2)
        return;
    const struct berth_ps_entry *e = &l->v[0];
    is_str(e->id, "aaaa", "%s: Id", how);
    ok(e->n_names == 2 && !strcmp(e->names[0], "/one") && !strcmp(e->names[1], "/two/x"),
       "%s: Names", how);
    is_str(e->image, "busybox", "%s: Image", how);
    is_str(e->image_id, "sha256:1234", "%s: ImageID", how);
    is_str(e->command, "sh -c \"echo \\u00e9\"", "%s: Command, unescaped", how);
    ok(e->created == 1700000000 && e->size_rw == 12 && e->size_root_fs == 34,
       "%s: Created, SizeRw, SizeRootFs", how);
    ok(e->n_ports == 2 && !strcmp(e->ports[0].ip, "127.0.0.1") && e->ports[0].private_port == 80 &&
           e->ports[0].public_port == 8080 && !strcmp(e->ports[0].type, "tcp") && !e->ports[1].ip &&
           e->ports[1].private_port == 53 && e->ports[1].public_port == 0,
       "%s: Ports", how);
    ok(e->n_labels == 2 && !strcmp(e->label_keys[0], "b") && !strcmp(e->label_values[0], "2") &&
           !strcmp(e->label_keys[1], "a") && !strcmp(e->label_values[1], "1"),
       "%s: Labels in the order sent", how);
    is_str(e->state, "running", "%s: State", how);
    is_str(e->status, "Up 2 minutes", "%s: Status", how);
    ok(e->n_networks == 2 && !strcmp(e->networks[0], "none") && !strcmp(e->networks[1], "bridge"),
       "%s: the names of the networks, not their endpoints' keys", how);
    ok(e->n_mounts == 1 && !strcmp(e->mounts[0].name, "vol") &&
           !strcmp(e->mounts[0].source, "/v") && !strcmp(e->mounts[0].driver, "local"),
       "%s: Mounts", how);
    const struct berth_ps_entry *f = &l->v[1];
    ok(!strcmp(f->id, "bbbb") && f->n_names == 0 && f->n_labels == 0 && !f->image &&
           f->created == 0,
       "%s: the second entry, with the nested Extra's look-alike keys ignored", how);
}

static void
test_reply(void)
{
    struct berth_error *err = NULL;
    struct berth_ps_list l = {0};
    ok(parse(reply, strlen(reply), &l, &err) == 0, "the reply in one piece");
    check_reply(&l, "one piece");
    berth_ps_list_clear(&l);
    int bad = 0;
    for (size_t chunk = 1; chunk < 40; chunk++) {
        struct berth_ps_list m = {0};
        if (parse(reply, chunk, &m, &err) < 0 || m.n != 2 || strcmp(m.v[1].id, "bbbb") ||
            m.v[0].n_ports != 2 || strcmp(m.v[0].command, "sh -c \"echo \\u00e9\""))
            bad++;
        berth_ps_list_clear(&m);
    }
    ok(bad == 0, "the same in chunks of 1 to 39 bytes (%d differ)", bad);
    struct berth_ps_list e = {0};
    ok(parse("[]", 2, &e, &err) == 0 && e.n == 0, "an empty list");
    berth_ps_list_clear(&e);
    berth_error_free(err);
}

static void
test_bad(void)
{
    static const char *const bad[] = {
        "{\"Id\":\"x\"}",        /* not a list */
        "[{\"Id\":\"x\"}",       /* truncated */
        "[{\"Id\":\"x\"}] [",    /* trailing value */
        "[{\"Id\":\"x\\u12\"}]", /* a bad escape */
        "[{\"Id\":\"\xff\"}]",   /* not UTF-8 */
        "",                      /* nothing */
        "42",                    /* a scalar */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct berth_error *err = NULL;
        struct berth_ps_list l = {0};
        int r = parse(bad[i], 3, &l, &err);
        ok(r < 0 && err && strstr(err->msg, "container list"), "refused: '%s' (%s)", bad[i],
           err ? err->msg : "no error");
        berth_error_free(err);
        berth_ps_list_clear(&l);
    }
    /* nesting past the bound is an error, not a stack overflow */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    struct berth_error *err = NULL;
    struct berth_ps_list l = {0};
    ok(parse(deep, 4096, &l, &err) < 0, "100000 nested arrays are refused (%s)",
       err ? err->msg : "no error");
    berth_error_free(err);
    berth_ps_list_clear(&l);
    free(deep);
}

int
main(void)
{
    test_reply();
    test_bad();
    return tap_done();
}
