/* Dockerfile-style changes on an image config (`docker import --change`, later `commit`). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "image/archive.h"

/* "[\"a\", \"b\"]" (exec form) or "a b" (shell form: /bin/sh -c "a b"). */
static json_t *
command_value(const char *arg, bool shell_form_ok)
{
    json_error_t jerr;
    json_t *v = json_loads(arg, JSON_DECODE_ANY, &jerr);
    if (v && json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (!json_is_string(json_array_get(v, i))) {
                json_decref(v);
                return NULL;
            }
        }
        return v;
    }
    json_decref(v);
    if (!shell_form_ok)
        return NULL;
    return json_pack("[s,s,s]", "/bin/sh", "-c", arg);
}

/* KEY=VALUE pairs (several, quoted values allowed) or the legacy "KEY VALUE" form. */
static int
key_values(const char *arg, json_t *into_obj, json_t *into_env_array, struct berth_error **err)
{
    const char *p = arg;
    if (!strchr(arg, '=')) {
        const char *sp = strchr(arg, ' ');
        if (!sp)
            return berth_error_setq(err, EINVAL, "invalid change: \"%s\" needs a value", arg);
        _cleanup_free_ char *k = strndup(arg, (size_t)(sp - arg));
        while (*sp == ' ')
            sp++;
        if (into_obj)
            json_object_set_new(into_obj, k, json_string(sp));
        if (into_env_array) {
            _cleanup_free_ char *kv = NULL;
            if (asprintf(&kv, "%s=%s", k, sp) >= 0)
                json_array_append_new(into_env_array, json_string(kv));
        }
        return 0;
    }
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *eq = strchr(p, '=');
        if (!eq)
            return berth_error_setq(err, EINVAL, "invalid change: \"%s\": expected KEY=VALUE", arg);
        _cleanup_free_ char *k = strndup(p, (size_t)(eq - p));
        p = eq + 1;
        char val[4096];
        size_t n = 0;
        char quote = 0;
        if (*p == '"' || *p == '\'')
            quote = *p++;
        while (*p && (quote ? *p != quote : *p != ' ') && n < sizeof(val) - 1) {
            if (*p == '\\' && p[1])
                p++;
            val[n++] = *p++;
        }
        val[n] = '\0';
        if (quote && *p == quote)
            p++;
        if (into_obj)
            json_object_set_new(into_obj, k, json_string(val));
        if (into_env_array) {
            /* a later ENV for the same key replaces it */
            size_t kl = strlen(k), i;
            json_t *e;
            json_array_foreach(into_env_array, i, e)
            {
                const char *s = json_string_value(e);
                if (s && !strncmp(s, k, kl) && s[kl] == '=') {
                    json_array_remove(into_env_array, i);
                    break;
                }
            }
            _cleanup_free_ char *kv = NULL;
            if (asprintf(&kv, "%s=%s", k, val) >= 0)
                json_array_append_new(into_env_array, json_string(kv));
        }
    }
    return 0;
}

static json_t *
object_member(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

int
berth_config_apply_changes(json_t *config, const char *const *changes, struct berth_error **err)
{
    for (size_t i = 0; changes && changes[i]; i++) {
        const char *c = changes[i];
        while (isspace((unsigned char)*c))
            c++;
        size_t kl = strcspn(c, " \t");
        char instr[16];
        if (kl == 0 || kl >= sizeof(instr))
            return berth_error_setq(err, EINVAL, "invalid change: \"%s\"", changes[i]);
        for (size_t j = 0; j < kl; j++)
            instr[j] = (char)toupper((unsigned char)c[j]);
        instr[kl] = '\0';
        const char *arg = c + kl;
        while (isspace((unsigned char)*arg))
            arg++;
        if (!*arg)
            return berth_error_setq(err, EINVAL, "invalid change: %s needs an argument", instr);
        int r = 0;
        if (!strcmp(instr, "CMD") || !strcmp(instr, "ENTRYPOINT")) {
            json_t *v = command_value(arg, true);
            if (!v)
                return berth_error_setq(err, EINVAL, "invalid change: %s %s", instr, arg);
            json_object_set_new(config, !strcmp(instr, "CMD") ? "Cmd" : "Entrypoint", v);
        } else if (!strcmp(instr, "ENV")) {
            json_t *env = json_object_get(config, "Env");
            if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(config, "Env", env);
            }
            r = key_values(arg, NULL, env, err);
        } else if (!strcmp(instr, "LABEL")) {
            r = key_values(arg, object_member(config, "Labels"), NULL, err);
        } else if (!strcmp(instr, "EXPOSE")) {
            _cleanup_free_ char *copy = strdup(arg);
            char *save = NULL;
            for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                char port[64];
                snprintf(port, sizeof(port), "%s%s", tok, strchr(tok, '/') ? "" : "/tcp");
                int64_t n;
                char num[32];
                snprintf(num, sizeof(num), "%.*s", (int)strcspn(port, "/"), port);
                if (!berth_parse_i64(num, &n) || n < 1 || n > 65535)
                    return berth_error_setq(err, EINVAL, "invalid change: EXPOSE %s: bad port",
                                            tok);
                json_object_set_new(object_member(config, "ExposedPorts"), port, json_object());
            }
        } else if (!strcmp(instr, "VOLUME")) {
            json_t *v = command_value(arg, false);
            json_t *vols = object_member(config, "Volumes");
            if (v) {
                for (size_t j = 0; j < json_array_size(v); j++)
                    json_object_set_new(vols, json_string_value(json_array_get(v, j)),
                                        json_object());
                json_decref(v);
            } else {
                json_object_set_new(vols, arg, json_object());
            }
        } else if (!strcmp(instr, "USER") || !strcmp(instr, "WORKDIR") ||
                   !strcmp(instr, "STOPSIGNAL")) {
            const char *key = !strcmp(instr, "USER")      ? "User"
                              : !strcmp(instr, "WORKDIR") ? "WorkingDir"
                                                          : "StopSignal";
            json_object_set_new(config, key, json_string(arg));
        } else {
            return berth_error_setq(
                err, EINVAL,
                "invalid change: %s is not one of CMD, ENTRYPOINT, ENV, EXPOSE, "
                "LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL",
                instr);
        }
        if (r < 0)
            return r;
    }
    return 0;
}
