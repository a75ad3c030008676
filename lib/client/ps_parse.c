/* The container list as `ps` reads it: the /containers/json body parsed as it streams in
 * (yajl's event parser) straight into the fields ps shows. With 500 containers (313 KB)
 * jansson's whole-tree load and free took 8 ms of `ps -a`'s 20; this takes about 1 ms, most of
 * an entry's bytes (NetworkSettings' endpoint) never becoming values.
 *
 * Where a value sits is known by the depth and the keys above it:
 *   depth 1  the list            depth 2  an entry: Id, Image, ..., Created (scalars)
 *   depth 3  Names[i], Labels{k}, the Ports and Mounts arrays, NetworkSettings.Networks
 *   depth 4  a port or a mount (and their fields), the network names (keys of Networks) */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "client/ps_parse.h"

/* deeper than any entry of the reply nests; beyond it is an error */
#define PS_MAX_DEPTH 64
#define PS_KEY_MAX 32 /* the keys matched are short: a longer one matches none */

struct berth_ps_parser {
    yajl_handle yajl;
    struct berth_ps_list list;
    bool list_started;
    int depth; /* open arrays and objects */
    /* the key under which each level sits ("" in arrays, or when longer than PS_KEY_MAX) */
    char keys[5][PS_KEY_MAX + 1];
    char *label_key; /* the pending key inside Labels */
    bool failed;     /* out of memory, or too deep */
    const char *why;
};

static struct berth_ps_entry *
entry(struct berth_ps_parser *p)
{
    return p->list.n ? &p->list.v[p->list.n - 1] : NULL;
}

static bool
at(const struct berth_ps_parser *p, int level, const char *key)
{
    return level < 5 && !strcmp(p->keys[level], key);
}

static bool
grow(void **v, size_t n, size_t size)
{
    /* capacity doubles at powers of two */
    if (n && (n & (n - 1)))
        return true;
    void *nv = realloc(*v, (n ? n * 2 : 1) * size);
    if (!nv)
        return false;
    *v = nv;
    return true;
}

static int
fail(struct berth_ps_parser *p, const char *why)
{
    p->failed = true;
    p->why = why;
    return 0;
}

/* A value at the current depth, under the current key: where it goes. */
static int
put_string(struct berth_ps_parser *p, const char *s, size_t len)
{
    struct berth_ps_entry *e = entry(p);
    if (!e)
        return 1;
    char **slot = NULL;
    if (p->depth == 2) {
        static const struct {
            const char *key;
            size_t off;
        } fields[] = {
            {"Id", offsetof(struct berth_ps_entry, id)},
            {"Image", offsetof(struct berth_ps_entry, image)},
            {"ImageID", offsetof(struct berth_ps_entry, image_id)},
            {"Command", offsetof(struct berth_ps_entry, command)},
            {"State", offsetof(struct berth_ps_entry, state)},
            {"Status", offsetof(struct berth_ps_entry, status)},
        };
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && !slot; i++)
            if (at(p, 2, fields[i].key))
                slot = (char **)((char *)e + fields[i].off);
    } else if (p->depth == 3 && at(p, 2, "Names")) {
        if (!grow((void **)&e->names, e->n_names, sizeof(*e->names)))
            return fail(p, "out of memory");
        slot = &e->names[e->n_names++];
        *slot = NULL;
    } else if (p->depth == 3 && at(p, 2, "Labels") && p->label_key) {
        if (!grow((void **)&e->label_keys, e->n_labels, sizeof(char *)) ||
            !grow((void **)&e->label_values, e->n_labels, sizeof(char *)))
            return fail(p, "out of memory");
        e->label_keys[e->n_labels] = p->label_key;
        p->label_key = NULL;
        slot = &e->label_values[e->n_labels++];
        *slot = NULL;
    } else if (p->depth == 4 && at(p, 2, "Ports") && e->n_ports) {
        struct berth_ps_port *port = &e->ports[e->n_ports - 1];
        slot = at(p, 4, "IP") ? &port->ip : at(p, 4, "Type") ? &port->type : NULL;
    } else if (p->depth == 4 && at(p, 2, "Mounts") && e->n_mounts) {
        struct berth_ps_mount *m = &e->mounts[e->n_mounts - 1];
        slot = at(p, 4, "Name")     ? &m->name
               : at(p, 4, "Source") ? &m->source
               : at(p, 4, "Driver") ? &m->driver
                                    : NULL;
    }
    if (!slot)
        return 1;
    free(*slot);
    *slot = strndup(s, len);
    return *slot ? 1 : fail(p, "out of memory");
}

static int
on_string(void *ud, const unsigned char *s, size_t len)
{
    return put_string(ud, (const char *)s, len);
}

static int
on_integer(void *ud, long long v)
{
    struct berth_ps_parser *p = ud;
    struct berth_ps_entry *e = entry(p);
    if (!e)
        return 1;
    if (p->depth == 2) {
        if (at(p, 2, "Created"))
            e->created = v;
        else if (at(p, 2, "SizeRw"))
            e->size_rw = v;
        else if (at(p, 2, "SizeRootFs"))
            e->size_root_fs = v;
    } else if (p->depth == 4 && at(p, 2, "Ports") && e->n_ports) {
        struct berth_ps_port *port = &e->ports[e->n_ports - 1];
        if (at(p, 4, "PrivatePort"))
            port->private_port = v;
        else if (at(p, 4, "PublicPort"))
            port->public_port = v;
    }
    return 1;
}

static int
on_other(void *ud)
{
    (void)ud;
    return 1; /* null, and the values ps does not read */
}

static int
on_boolean(void *ud, int b)
{
    (void)b;
    return on_other(ud);
}

static int
on_double(void *ud, double v)
{
    (void)v;
    return on_other(ud);
}

static int
open_level(struct berth_ps_parser *p, bool object)
{
    if (p->depth >= PS_MAX_DEPTH)
        return fail(p, "nests too deep");
    p->depth++;
    if (p->depth < 5)
        p->keys[p->depth][0] = '\0';
    if (p->depth == 1) {
        if (object || p->list_started)
            return fail(p, "is not a JSON array");
        p->list_started = true;
        return 1;
    }
    struct berth_ps_entry *e = entry(p);
    if (p->depth == 2 && object) {
        if (!grow((void **)&p->list.v, p->list.n, sizeof(*p->list.v)))
            return fail(p, "out of memory");
        memset(&p->list.v[p->list.n++], 0, sizeof(*p->list.v));
    } else if (p->depth == 4 && object && e && at(p, 2, "Ports")) {
        if (!grow((void **)&e->ports, e->n_ports, sizeof(*e->ports)))
            return fail(p, "out of memory");
        memset(&e->ports[e->n_ports++], 0, sizeof(*e->ports));
    } else if (p->depth == 4 && object && e && at(p, 2, "Mounts")) {
        if (!grow((void **)&e->mounts, e->n_mounts, sizeof(*e->mounts)))
            return fail(p, "out of memory");
        memset(&e->mounts[e->n_mounts++], 0, sizeof(*e->mounts));
    }
    return 1;
}

static int
on_start_map(void *ud)
{
    return open_level(ud, true);
}

static int
on_start_array(void *ud)
{
    return open_level(ud, false);
}

static int
on_end(void *ud)
{
    struct berth_ps_parser *p = ud;
    p->depth--;
    return 1;
}

static int
on_map_key(void *ud, const unsigned char *key, size_t len)
{
    struct berth_ps_parser *p = ud;
    struct berth_ps_entry *e = entry(p);
    if (p->depth < 5) {
        size_t n = len <= PS_KEY_MAX ? len : 0; /* too long: matches nothing */
        memcpy(p->keys[p->depth], key, n);
        p->keys[p->depth][n] = '\0';
    }
    if (p->depth == 3 && e && at(p, 2, "Labels")) {
        free(p->label_key);
        p->label_key = strndup((const char *)key, len);
        if (!p->label_key)
            return fail(p, "out of memory");
    } else if (p->depth == 4 && e && at(p, 2, "NetworkSettings") && at(p, 3, "Networks")) {
        if (!grow((void **)&e->networks, e->n_networks, sizeof(*e->networks)))
            return fail(p, "out of memory");
        e->networks[e->n_networks] = strndup((const char *)key, len);
        if (!e->networks[e->n_networks++])
            return fail(p, "out of memory");
    }
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_other,
    .yajl_boolean = on_boolean,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

int
berth_ps_parser_new(struct berth_ps_parser **ret, struct berth_error **err)
{
    struct berth_ps_parser *p = calloc(1, sizeof(*p));
    if (!p)
        return berth_error_set(err, ENOMEM, "parse the container list");
    p->yajl = yajl_alloc(&callbacks, NULL, p);
    if (!p->yajl) {
        free(p);
        return berth_error_set(err, ENOMEM, "parse the container list");
    }
    *ret = p;
    return 0;
}

static int
parse_error(struct berth_ps_parser *p, struct berth_error **err)
{
    if (p->failed)
        return berth_error_set(err, !strcmp(p->why, "out of memory") ? ENOMEM : EPROTO,
                               "the container list %s", p->why);
    unsigned char *msg = yajl_get_error(p->yajl, 0, NULL, 0);
    size_t n = msg ? strlen((const char *)msg) : 0;
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0'; /* yajl ends its message with a newline */
    int r = berth_error_set(err, EPROTO, "the container list is not valid JSON: %s",
                            msg ? (const char *)msg : "parse error");
    if (msg)
        yajl_free_error(p->yajl, msg);
    return r;
}

int
berth_ps_parser_feed(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct berth_ps_parser *p = ud;
    if (yajl_parse(p->yajl, (const unsigned char *)buf, len) != yajl_status_ok)
        return parse_error(p, err);
    return 0;
}

int
berth_ps_parser_finish(struct berth_ps_parser *p, struct berth_ps_list *ret,
                       struct berth_error **err)
{
    if (yajl_complete_parse(p->yajl) != yajl_status_ok)
        return parse_error(p, err);
    if (!p->list_started)
        return berth_error_set(err, EPROTO, "the container list is not a JSON array");
    *ret = p->list;
    memset(&p->list, 0, sizeof(p->list));
    return 0;
}

static void
strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void
berth_ps_list_clear(struct berth_ps_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct berth_ps_entry *e = &l->v[i];
        free(e->id);
        free(e->image);
        free(e->image_id);
        free(e->command);
        free(e->state);
        free(e->status);
        strv_free(e->names, e->n_names);
        strv_free(e->label_keys, e->n_labels);
        strv_free(e->label_values, e->n_labels);
        for (size_t k = 0; k < e->n_ports; k++) {
            free(e->ports[k].ip);
            free(e->ports[k].type);
        }
        free(e->ports);
        for (size_t k = 0; k < e->n_mounts; k++) {
            free(e->mounts[k].name);
            free(e->mounts[k].source);
            free(e->mounts[k].driver);
        }
        free(e->mounts);
        strv_free(e->networks, e->n_networks);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void
berth_ps_parser_free(struct berth_ps_parser *p)
{
    if (!p)
        return;
    yajl_free(p->yajl);
    free(p->label_key);
    berth_ps_list_clear(&p->list);
    free(p);
}
