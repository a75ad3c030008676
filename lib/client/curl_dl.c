/* libcurl through dlopen (see curl_dl.h). */
#include "client/curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define BERTH_CURL_SONAME "libcurl.so.4"

static struct berth_curl_api api;
static bool loaded;

int
berth_curl_load(const struct berth_curl_api **ret, struct berth_error **err)
{
    if (loaded) {
        *ret = &api;
        return 0;
    }
    void *h = dlopen(BERTH_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return berth_error_setq(err, ENOTSUP,
                                "connecting over TCP needs libcurl (" BERTH_CURL_SONAME
                                ", Debian package libcurl4): %s",
                                dlerror());
    static const struct {
        const char *name;
        size_t off;
    } syms[] = {
        {"curl_global_init", offsetof(struct berth_curl_api, global_init)},
        {"curl_easy_init", offsetof(struct berth_curl_api, easy_init)},
        {"curl_easy_cleanup", offsetof(struct berth_curl_api, easy_cleanup)},
        {"curl_easy_reset", offsetof(struct berth_curl_api, easy_reset)},
        {"curl_easy_setopt", offsetof(struct berth_curl_api, easy_setopt)},
        {"curl_easy_perform", offsetof(struct berth_curl_api, easy_perform)},
        {"curl_easy_getinfo", offsetof(struct berth_curl_api, easy_getinfo)},
        {"curl_easy_strerror", offsetof(struct berth_curl_api, easy_strerror)},
        {"curl_slist_append", offsetof(struct berth_curl_api, slist_append)},
        {"curl_slist_free_all", offsetof(struct berth_curl_api, slist_free_all)},
    };
    struct berth_curl_api a;
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            int r =
                berth_error_setq(err, ENOTSUP, "%s: %s missing", BERTH_CURL_SONAME, syms[i].name);
            dlclose(h);
            return r;
        }
        /* POSIX: function pointers and void * convert both ways */
        memcpy((char *)&a + syms[i].off, &f, sizeof(f));
    }
    if (a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dlclose(h);
        return berth_error_setq(err, EIO, "initialise libcurl");
    }
    api = a;
    loaded = true;
    *ret = &api;
    return 0;
}
