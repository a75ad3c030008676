/* libcurl, loaded at run time for the hosts our own HTTP/1.1 does not serve (tcp:// and
 * https://, with TLS and client certificates).
 *
 * Why not linked: mapping and relocating libcurl and its ~32 dependencies costs every client
 * start ~4 ms (an empty program linked with -lcurl starts in 4.7 ms, without it in 0.6 ms),
 * which is most of `berth version`. UNIX-socket daemons, the common case, never need it. */
#ifndef BERTH_CLIENT_CURL_DL_H
#define BERTH_CLIENT_CURL_DL_H

#ifndef CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_TYPECHECK
#endif
#include <curl/curl.h>

#include "core/error.h"

/* The functions the client calls, resolved from libcurl.so.4. */
struct berth_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
};

/* Loads libcurl once (dlopen, every function resolved, curl_global_init) and returns the
 * table; never unloaded. ENOTSUP with what to install when it is missing. */
int berth_curl_load(const struct berth_curl_api **ret, struct berth_error **err);

#endif
