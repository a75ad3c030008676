/* The /containers/json reply parsed as it streams in, into the fields `ps` shows. */
#ifndef BERTH_CLIENT_PS_PARSE_H
#define BERTH_CLIENT_PS_PARSE_H

#include <stddef.h>

#include "core/error.h"

struct berth_ps_port {
    char *ip, *type;
    long long private_port, public_port;
};

struct berth_ps_mount {
    char *name, *source, *driver;
};

/* One entry; strings the daemon did not send are NULL. */
struct berth_ps_entry {
    char *id, *image, *image_id, *command, *state, *status;
    long long created, size_rw, size_root_fs;
    char **names;
    size_t n_names;
    char **label_keys, **label_values; /* in the order sent */
    size_t n_labels;
    struct berth_ps_port *ports;
    size_t n_ports;
    struct berth_ps_mount *mounts;
    size_t n_mounts;
    char **networks; /* the keys of NetworkSettings.Networks */
    size_t n_networks;
};

struct berth_ps_list {
    struct berth_ps_entry *v;
    size_t n;
};

struct berth_ps_parser;

int berth_ps_parser_new(struct berth_ps_parser **ret, struct berth_error **err);
/* Takes the next bytes of the body: the on_data callback of a berth_request. */
int berth_ps_parser_feed(void *ud, const char *buf, size_t len, struct berth_error **err);
/* The list, handed over to the caller (berth_ps_list_clear frees it). */
int berth_ps_parser_finish(struct berth_ps_parser *p, struct berth_ps_list *ret,
                           struct berth_error **err);
void berth_ps_parser_free(struct berth_ps_parser *p);
void berth_ps_list_clear(struct berth_ps_list *l);

#endif
