#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "daemon/daemon.h"

/* The daemon.json keys berthd understands (dockerd's names). */
static const char *const known_keys[] = {
    "hosts",     "data-root", "exec-root", "pidfile", "log-level", "storage-driver", "group",
    "tlsverify", "tlscacert", "tlscert",   "tlskey",  "debug",     "cgroup-parent",  NULL,
};

static bool
flag_given(char *const *set_by_flag, const char *key)
{
    for (size_t i = 0; set_by_flag && set_by_flag[i]; i++)
        if (!strcmp(set_by_flag[i], key))
            return true;
    return false;
}

static int
take_string(json_t *v, const char *key, char **dst, struct berth_error **err)
{
    if (!json_is_string(v))
        return berth_error_setq(err, EINVAL, "daemon.json: \"%s\" must be a string", key);
    free(*dst);
    *dst = strdup(json_string_value(v));
    return *dst ? 0 : berth_error_set(err, ENOMEM, "daemon.json");
}

int
berth_daemon_config_load(const char *path, char *const *set_by_flag,
                         struct berth_daemon_config *cfg, struct berth_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = berth_read_file(path, 1u << 20, &text, &len, err);
    if (r < 0)
        return berth_error_wrap(err, "config file");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return berth_error_setq(err, EINVAL, "%s: line %d: %s", path, jerr.line,
                                root ? "the top level must be an object" : jerr.text);
    }
    char conflicts[1024] = "";
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        bool known = false;
        for (const char *const *k = known_keys; *k; k++)
            if (!strcmp(*k, key))
                known = true;
        if (!known) {
            r = berth_error_setq(
                err, EINVAL,
                "%s: the following directives don't match any configuration option: %s", path, key);
            break;
        }
        if (flag_given(set_by_flag, key)) {
            size_t l = strlen(conflicts);
            snprintf(conflicts + l, sizeof(conflicts) - l, "%s%s", l ? ", " : "", key);
            continue;
        }
        if (!strcmp(key, "hosts")) {
            if (!json_is_array(v)) {
                r = berth_error_setq(err, EINVAL, "daemon.json: \"hosts\" must be an array");
                break;
            }
            berth_strv_free(cfg->hosts);
            cfg->hosts = calloc(1, sizeof(char *));
            size_t i;
            json_t *h;
            json_array_foreach(v, i, h)
            {
                if (!json_is_string(h)) {
                    r = berth_error_setq(err, EINVAL, "daemon.json: \"hosts\" must hold strings");
                    break;
                }
                berth_strv_push(&cfg->hosts, json_string_value(h));
            }
        } else if (!strcmp(key, "tlsverify") || !strcmp(key, "debug")) {
            if (!json_is_boolean(v)) {
                r = berth_error_setq(err, EINVAL, "daemon.json: \"%s\" must be a boolean", key);
                break;
            }
            if (!strcmp(key, "tlsverify"))
                cfg->tlsverify = json_is_true(v);
            else if (json_is_true(v)) {
                free(cfg->log_level);
                cfg->log_level = strdup("debug");
            }
        } else {
            char **dst = !strcmp(key, "data-root")        ? &cfg->data_root
                         : !strcmp(key, "exec-root")      ? &cfg->exec_root
                         : !strcmp(key, "pidfile")        ? &cfg->pidfile
                         : !strcmp(key, "log-level")      ? &cfg->log_level
                         : !strcmp(key, "storage-driver") ? &cfg->storage_driver
                         : !strcmp(key, "group")          ? &cfg->group
                         : !strcmp(key, "cgroup-parent")  ? &cfg->cgroup_parent
                         : !strcmp(key, "tlscacert")      ? &cfg->tlscacert
                         : !strcmp(key, "tlscert")        ? &cfg->tlscert
                                                          : &cfg->tlskey;
            r = take_string(v, key, dst, err);
        }
        if (r < 0)
            break;
    }
    json_decref(root);
    if (r == 0 && conflicts[0])
        r = berth_error_setq(
            err, EINVAL,
            "unable to configure the daemon with file %s: the following directives "
            "are specified both as a flag and in the configuration file: %s",
            path, conflicts);
    return r;
}

static int
default_str(char **dst, const char *value, struct berth_error **err)
{
    if (*dst)
        return 0;
    *dst = strdup(value);
    return *dst ? 0 : berth_error_set(err, ENOMEM, "config");
}

int
berth_daemon_config_finish(struct berth_daemon_config *cfg, struct berth_error **err)
{
    int r;
    if (!cfg->hosts || !cfg->hosts[0]) {
        berth_strv_free(cfg->hosts);
        cfg->hosts = calloc(1, sizeof(char *));
        if (!cfg->hosts || berth_strv_push(&cfg->hosts, "unix://" BERTH_DEFAULT_SOCKET) < 0)
            return berth_error_set(err, ENOMEM, "config");
    }
    if ((r = default_str(&cfg->data_root, BERTH_DEFAULT_DATA_ROOT, err)) < 0 ||
        (r = default_str(&cfg->exec_root, BERTH_DEFAULT_EXEC_ROOT, err)) < 0 ||
        (r = default_str(&cfg->log_level, "info", err)) < 0 ||
        (r = default_str(&cfg->group, "berth", err)) < 0)
        return r;
    if (!cfg->pidfile && asprintf(&cfg->pidfile, "%s/berthd.pid", cfg->exec_root) < 0)
        return berth_error_set(err, ENOMEM, "config");
    static const char *const levels[] = {"debug", "info", "warn", "error", "fatal", NULL};
    bool ok = false;
    for (const char *const *l = levels; *l; l++)
        if (!strcmp(*l, cfg->log_level))
            ok = true;
    if (!ok)
        return berth_error_setq(err, EINVAL, "unable to parse logging level: %s", cfg->log_level);
    if (cfg->storage_driver && strcmp(cfg->storage_driver, "overlay2") &&
        strcmp(cfg->storage_driver, "overlay") && strcmp(cfg->storage_driver, "vfs"))
        return berth_error_setq(err, EINVAL,
                                "unknown storage driver \"%s\" (supported: overlay2, vfs)",
                                cfg->storage_driver);
    for (char **h = cfg->hosts; *h; h++) {
        if (berth_str_has_prefix(*h, "unix://")) {
            if (!(*h)[7])
                return berth_error_setq(err, EINVAL, "invalid host \"%s\": empty socket path", *h);
        } else if (berth_str_has_prefix(*h, "tcp://")) {
            if (!cfg->tlsverify || !cfg->tlscacert || !cfg->tlscert || !cfg->tlskey)
                return berth_error_setq(err, EINVAL,
                                        "refusing to listen on %s without mutual TLS: use "
                                        "--tlsverify with --tlscacert, --tlscert and --tlskey",
                                        *h);
        } else {
            return berth_error_setq(err, EINVAL, "invalid host \"%s\": use unix:// or tcp://", *h);
        }
    }
    return 0;
}

void
berth_daemon_config_clear(struct berth_daemon_config *cfg)
{
    berth_strv_free(cfg->hosts);
    free(cfg->data_root);
    free(cfg->exec_root);
    free(cfg->pidfile);
    free(cfg->log_level);
    free(cfg->storage_driver);
    free(cfg->cgroup_parent);
    free(cfg->group);
    free(cfg->tlscacert);
    free(cfg->tlscert);
    free(cfg->tlskey);
    memset(cfg, 0, sizeof(*cfg));
}
