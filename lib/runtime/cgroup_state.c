/* The cgroup manager in state.json: enough to rebuild it in another runtime process. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"

/* ---- state.json ---- */

static const char *const mode_names[] = {
    [BERTH_CGROUP_AUTO] = "auto",
    [BERTH_CGROUP_V1] = "v1",
    [BERTH_CGROUP_HYBRID] = "hybrid",
    [BERTH_CGROUP_UNIFIED] = "unified",
};

/* "cpu,cpuacct", "name=systemd", or v2's "hugetlb memory" style list joined by commas too. */
static char *
mask_to_string(uint32_t mask, const char *name, bool v2)
{
    char buf[256];
    size_t len = 0;
    buf[0] = '\0';
    for (int c = 0; c < BERTH_CG__COUNT; c++)
        if (mask & BERTH_CG_BIT(c))
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "," : "",
                                    berth_cgroup_ctrl_name(c, v2));
    if (name)
        snprintf(buf + len, sizeof(buf) - len, "%sname=%s", len ? "," : "", name);
    return strdup(buf);
}

json_t *
berth_cgroup_to_json(struct berth_cgroup *cg)
{
    json_t *dirs = json_array();
    json_t *obj =
        json_pack("{s:s,s:s,s:o}", "mode", mode_names[cg->mode], "path", cg->path, "dirs", dirs);
    if (!obj)
        return NULL;
    for (size_t i = 0; i < cg->n_dirs; i++) {
        const struct berth_cgroup_dir *d = &cg->dirs[i];
        char *ctrls = mask_to_string(d->mask, d->name, d->v2);
        json_t *e =
            ctrls ? json_pack("{s:s,s:s,s:b}", "path", d->path, "controllers", ctrls, "v2", d->v2)
                  : NULL;
        free(ctrls);
        if (!e || json_array_append_new(dirs, e) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

int
berth_cgroup_from_json(json_t *obj, struct berth_cgroup **ret, struct berth_error **err)
{
    const char *mode = NULL, *path = NULL;
    json_t *dirs = NULL;
    if (json_unpack(obj, "{s:s,s:s,s:o}", "mode", &mode, "path", &path, "dirs", &dirs) < 0 ||
        !json_is_array(dirs))
        return berth_error_setq(err, EINVAL, "cgroup state: malformed");
    _cleanup_cgroup_ struct berth_cgroup *cg = berth_cgroup_alloc(json_array_size(dirs), path);
    if (!cg)
        return berth_error_set(err, ENOMEM, "cgroup state");
    cg->mode = BERTH_CGROUP_AUTO;
    for (size_t i = 1; i < BERTH_ARRAY_SIZE(mode_names); i++)
        if (!strcmp(mode, mode_names[i]))
            cg->mode = (enum berth_cgroup_mode)i;
    if (cg->mode == BERTH_CGROUP_AUTO)
        return berth_error_setq(err, EINVAL, "cgroup state: unknown mode '%s'", mode);
    size_t i;
    json_t *e;
    json_array_foreach(dirs, i, e)
    {
        const char *p = NULL, *ctrls = NULL;
        int v2 = 0;
        if (json_unpack(e, "{s:s,s:s,s:b}", "path", &p, "controllers", &ctrls, "v2", &v2) < 0 ||
            p[0] != '/')
            return berth_error_setq(err, EINVAL, "cgroup state: malformed dir %zu", i);
        struct berth_cgroup_dir *d = &cg->dirs[cg->n_dirs++];
        d->fd = -1;
        d->v2 = v2;
        if (!(d->path = strdup(p)))
            return berth_error_set(err, ENOMEM, "cgroup state");
        for (const char *t = ctrls; *t;) {
            size_t l = strcspn(t, ",");
            int c = berth_cgroup_ctrl_from_name(t, l);
            if (c >= 0)
                d->mask |= BERTH_CG_BIT(c);
            else if (l > 5 && !strncmp(t, "name=", 5) && !d->name &&
                     !(d->name = strndup(t + 5, l - 5)))
                return berth_error_set(err, ENOMEM, "cgroup state");
            t += l;
            t += *t == ',';
        }
    }
    berth_cgroup_index_dirs(cg);
    *ret = TAKE_PTR(cg);
    return 0;
}
