#include "container/etc_files.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"

/* A growing text buffer; on allocation failure it becomes NULL and stays so. */
struct text {
    char *s;
    size_t len;
    bool failed;
};

static void text_addf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_addf(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *piece = NULL;
    int n = vasprintf(&piece, fmt, ap);
    va_end(ap);
    char *ns = n < 0 ? NULL : realloc(t->s, t->len + (size_t)n + 1);
    if (!ns) {
        free(piece);
        free(t->s);
        t->s = NULL;
        t->failed = true;
        return;
    }
    memcpy(ns + t->len, piece, (size_t)n + 1);
    t->s = ns;
    t->len += (size_t)n;
    free(piece);
}

static bool
is_loopback_ns(const char *addr)
{
    return berth_str_has_prefix(addr, "127.") || !strcmp(addr, "::1");
}

char *
berth_resolv_conf_filter(const char *host_text)
{
    struct text t = {0};
    text_addf(&t, "%s", "");
    const char *p = host_text;
    while (p && *p) {
        size_t n = strcspn(p, "\n");
        char line[1024];
        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
        char kw[32], addr[256];
        bool drop = sscanf(line, "%31s %255s", kw, addr) == 2 && !strcmp(kw, "nameserver") &&
                    is_loopback_ns(addr);
        if (!drop)
            text_addf(&t, "%s\n", line);
        p += n;
        if (*p == '\n')
            p++;
    }
    return t.s;
}

static void
add_list(struct text *t, const char *keyword, const json_t *arr, const char *sep)
{
    if (!json_array_size(arr))
        return;
    size_t i;
    json_t *v;
    if (!sep) {
        json_array_foreach(arr, i, v)
        {
            text_addf(t, "%s %s\n", keyword, json_string_value(v));
        }
        return;
    }
    text_addf(t, "%s", keyword);
    json_array_foreach(arr, i, v)
    {
        text_addf(t, " %s", json_string_value(v));
    }
    text_addf(t, "\n");
}

int
berth_etc_files_write(const json_t *config, const json_t *host_config, const char *hostname_path,
                      const char *hosts_path, const char *resolv_path, struct berth_error **err)
{
    int r;
    const char *hostname = json_string_value(json_object_get(config, "Hostname"));
    const char *domain = json_string_value(json_object_get(config, "Domainname"));
    const char *net = json_string_value(json_object_get(host_config, "NetworkMode"));
    bool host_net = net && !strcmp(net, "host");
    struct text t = {0};
    if (host_net) {
        char host[256] = "";
        (void)gethostname(host, sizeof(host) - 1);
        text_addf(&t, "%s\n", host);
    } else {
        text_addf(&t, "%s\n", hostname ? hostname : "");
    }
    if (t.failed)
        return berth_error_set(err, ENOMEM, "hostname");
    r = berth_write_file_replace(hostname_path, t.s, t.len, 0644, err);
    free(t.s);
    if (r < 0)
        return r;

    t = (struct text){0};
    if (host_net) {
        _cleanup_free_ char *hosts = NULL;
        if (berth_read_file("/etc/hosts", 1 << 20, &hosts, NULL, NULL) == 0)
            text_addf(&t, "%s", hosts);
    } else {
        text_addf(&t, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                      "ff02::2\tip6-allrouters\n");
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(host_config, "ExtraHosts"), i, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        /* "name:ip" (the ip may itself hold colons) or "name=ip" */
        const char *sep = strchr(s, '=');
        if (!sep)
            sep = strchr(s, ':');
        if (!sep)
            continue;
        const char *ip = sep + 1;
        if (!strcmp(ip, "host-gateway"))
            ip = "127.0.0.1";
        text_addf(&t, "%s\t%.*s\n", ip, (int)(sep - s), s);
    }
    (void)domain; /* no address of its own without a network: moby writes no entry either */
    if (!t.s && !t.failed)
        text_addf(&t, "%s", "");
    if (t.failed)
        return berth_error_set(err, ENOMEM, "hosts");
    r = berth_write_file_replace(hosts_path, t.s, t.len, 0644, err);
    free(t.s);
    if (r < 0)
        return r;

    t = (struct text){0};
    json_t *dns = json_object_get(host_config, "Dns");
    json_t *search = json_object_get(host_config, "DnsSearch");
    json_t *opts = json_object_get(host_config, "DnsOptions");
    if (json_array_size(dns) || json_array_size(search) || json_array_size(opts)) {
        _cleanup_free_ char *host = NULL;
        if (!json_array_size(dns) &&
            berth_read_file("/etc/resolv.conf", 1 << 20, &host, NULL, NULL) == 0) {
            /* keep the host's nameservers, replace search/options */
            _cleanup_free_ char *f = berth_resolv_conf_filter(host);
            for (const char *p = f; p && *p;) {
                size_t n = strcspn(p, "\n");
                if (berth_str_has_prefix(p, "nameserver"))
                    text_addf(&t, "%.*s\n", (int)n, p);
                p += n + (p[n] == '\n');
            }
        }
        add_list(&t, "nameserver", dns, NULL);
        add_list(&t, "search", search, " ");
        add_list(&t, "options", opts, " ");
    } else {
        _cleanup_free_ char *host = NULL;
        if (berth_read_file("/etc/resolv.conf", 1 << 20, &host, NULL, NULL) == 0) {
            _cleanup_free_ char *f = host_net ? strdup(host) : berth_resolv_conf_filter(host);
            text_addf(&t, "%s", f ? f : "");
        }
    }
    if (!t.s && !t.failed)
        text_addf(&t, "%s", "");
    if (t.failed)
        return berth_error_set(err, ENOMEM, "resolv.conf");
    r = berth_write_file_replace(resolv_path, t.s, t.len, 0644, err);
    free(t.s);
    return r;
}
