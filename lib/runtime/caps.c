#include "runtime/caps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "core/log.h"
#include "core/util.h"

int
berth_cap_last(void)
{
    static int last = -1;
    if (last >= 0)
        return last;
    char *text = NULL;
    int64_t v;
    if (berth_read_file("/proc/sys/kernel/cap_last_cap", 32, &text, NULL, NULL) == 0) {
        text[strcspn(text, "\n")] = '\0';
        if (berth_parse_i64(text, &v) && v > 0 && v < 64)
            last = (int)v;
        free(text);
    }
    if (last < 0)
        last = CAP_LAST_CAP;
    return last;
}

int
berth_cap_from_name(const char *name)
{
    /* libcap knows the names; it accepts them in lower case ("cap_sys_admin") */
    char lower[64];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lower))
        return -1;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    if (strncmp(lower, "cap_", 4) != 0)
        return -1;
    cap_value_t v;
    if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
        return -1;
    /* cap_from_name also accepts bare numbers and ignores what follows the first character
     * that is not a letter or '_' ("cap_kill2", "cap_kill,cap_chown"): only whole names count */
    if (strspn(lower, "abcdefghijklmnopqrstuvwxyz_") != n)
        return -1;
    return (int)v;
}

const char *
berth_cap_to_name(int cap)
{
    static char buf[64][32];
    if (cap < 0 || cap > 63)
        return "unknown";
    if (!buf[cap][0]) {
        char *n = cap_to_name((cap_value_t)cap);
        if (!n)
            return "unknown";
        size_t i = 0;
        for (; n[i] && i < sizeof(buf[cap]) - 1; i++)
            buf[cap][i] = (char)((n[i] >= 'a' && n[i] <= 'z') ? n[i] - 32 : n[i]);
        buf[cap][i] = '\0';
        cap_free(n);
    }
    return buf[cap];
}

uint64_t
berth_caps_current_bounding(void)
{
    uint64_t mask = 0;
    for (int c = 0; c <= berth_cap_last(); c++)
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            mask |= 1ULL << c;
    return mask;
}

int
berth_caps_drop_bounding(const struct berth_spec_caps *caps, struct berth_error **err)
{
    for (int c = 0; c <= berth_cap_last(); c++) {
        if (caps->bounding & (1ULL << c))
            continue;
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            return berth_error_set(err, errno, "drop %s from the bounding set",
                                   berth_cap_to_name(c));
    }
    return 0;
}

int
berth_caps_apply(const struct berth_spec_caps *caps, struct berth_error **err)
{
    /* A capability this host does not grant us (e.g. CAP_SYS_RESOURCE outside our bounding
     * set) cannot be given to the container: leave it out instead of failing capset. */
    uint64_t have = berth_caps_current_bounding();
    cap_t c = cap_init();
    if (!c)
        return berth_error_set(err, errno, "cap_init");
    struct {
        uint64_t mask;
        cap_flag_t flag;
    } sets[] = {{caps->effective, CAP_EFFECTIVE},
                {caps->permitted | caps->effective | caps->ambient, CAP_PERMITTED},
                {caps->inheritable | caps->ambient, CAP_INHERITABLE}};
    for (size_t s = 0; s < 3; s++)
        for (int i = 0; i <= berth_cap_last(); i++) {
            if (!(sets[s].mask & (1ULL << i)))
                continue;
            if (!(have & (1ULL << i))) {
                berth_debug("capability %s is not in the host's bounding set: skipped",
                            berth_cap_to_name(i));
                continue;
            }
            cap_value_t v = i;
            cap_set_flag(c, sets[s].flag, 1, &v, CAP_SET);
        }
    int r = cap_set_proc(c);
    int e = errno;
    cap_free(c);
    if (r < 0)
        return berth_error_set(err, e, "set capabilities");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return berth_error_set(err, errno, "clear ambient capabilities");
    for (int i = 0; i <= berth_cap_last(); i++) {
        if (!(caps->ambient & (1ULL << i)) || !(have & (1ULL << i)))
            continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
            return berth_error_set(err, errno, "raise ambient capability %s", berth_cap_to_name(i));
    }
    return 0;
}
