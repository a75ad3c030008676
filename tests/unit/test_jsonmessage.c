/* Unit tests of lib/client/jsonmessage.c and the JSON stream splitter of lib/client/http.c:
 * docker's rendering of load/pull/import streams on a terminal (progress rows, cursor movement;
 * the expected bytes were captured from docker 28 loading the same stream under a pty) and off
 * one (status lines only), errors, aux messages, timestamps, and JSONProgress.String(). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "client/jsonmessage.h"
#include "core/cleanup.h"
#include "tap.h"

static const char *load_stream =
    "{\"status\":\"Loading layer\",\"progressDetail\":{\"current\":32768,\"total\":3011000},"
    "\"progress\":\"[\\u003e      ]  32.77kB/3.011MB\",\"id\":\"549b258fed15\"}\r\n"
    "{\"status\":\"Loading layer\",\"progressDetail\":{\"current\":3011000,\"total\":3011000},"
    "\"progress\":\"[=====\\u003e]  3.011MB/3.011MB\",\"id\":\"549b258fed15\"}\r\n"
    "{\"stream\":\"Loaded image: rnd:1\\n\"}\r\n";

struct capture {
    char *buf;
    size_t len;
    FILE *f;
};

static void
capture_open(struct capture *c)
{
    memset(c, 0, sizeof(*c));
    c->f = open_memstream(&c->buf, &c->len);
}

static char *
capture_close(struct capture *c)
{
    fclose(c->f);
    return c->buf;
}

/* Renders data; returns the output, and the error message (or NULL) in *ret_err. */
static char *
render(const char *data, bool tty, int width, char **ret_err, int *ret_code)
{
    struct capture c;
    capture_open(&c);
    struct berth_jsonmessage d = {.out = c.f, .tty = tty, .width = width};
    struct berth_error *err = NULL;
    int r = berth_jsonmessage_render(&d, data, strlen(data), &err);
    if (ret_err)
        *ret_err = r < 0 && err ? strdup(err->msg) : NULL;
    if (ret_code)
        *ret_code = d.error_code;
    berth_error_free(err);
    berth_jsonmessage_clear(&d);
    return capture_close(&c);
}

static void
aux_cb(void *ud, json_t *aux)
{
    char **seen = ud;
    free(*seen);
    *seen = json_dumps(aux, JSON_COMPACT);
}

static int
count_value(void *ud, json_t *v, struct berth_error **err)
{
    struct berth_strbuf_like {
        int n;
        char names[64];
    } *st = ud;
    const char *s = json_string_value(json_object_get(v, "status"));
    st->n++;
    strncat(st->names, s ? s : "?", sizeof(st->names) - strlen(st->names) - 1);
    return 0;
}

static void
test_non_tty(void)
{
    _cleanup_free_ char *out = render(load_stream, false, 0, NULL, NULL);
    is_str(out, "Loaded image: rnd:1\n", "off a terminal, progress updates are dropped");
    _cleanup_free_ char *empty_progress = render(
        "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"abc\"}"
        "{\"status\":\"Waiting\",\"progressDetail\":{},\"id\":\"abc\"}"
        "{\"status\":\"Digest: sha256:1234\"}\n{\"status\":\"Status: Downloaded newer image for "
        "busybox:latest\"}",
        false, 0, NULL, NULL);
    is_str(empty_progress,
           "abc: Pulling fs layer\nabc: Waiting\nDigest: sha256:1234\nStatus: Downloaded newer "
           "image for busybox:latest\n",
           "status lines with an empty progress are printed, with their id");
    _cleanup_free_ char *import = render("{\"status\":\"sha256:abc\"}\r\n", false, 0, NULL, NULL);
    is_str(import, "sha256:abc\n", "import's final status line");
    _cleanup_free_ char *legacy =
        render("{\"status\":\"Downloading\",\"progress\":\"[=>  ] 1B/2B\",\"id\":\"l1\"}", false, 0,
               NULL, NULL);
    is_str(legacy, "l1: Downloading [=>  ] 1B/2B",
           "the deprecated progress text is printed, without a newline (as docker)");
    setenv("TZ", "UTC", 1);
    _cleanup_free_ char *timed =
        render("{\"status\":\"die\",\"id\":\"abc\",\"from\":\"busybox\",\"time\":1700000000}"
               "{\"status\":\"start\",\"id\":\"abc\",\"timeNano\":1700000000000000042}",
               false, 0, NULL, NULL);
    is_str(timed,
           "2023-11-14T22:13:20.000000000Z abc: (from busybox) die\n"
           "2023-11-14T22:13:20.000000042Z abc: start\n",
           "time, timeNano and from prefixes");
}

static void
test_tty(void)
{
    _cleanup_free_ char *wide = render(load_stream, true, 120, NULL, NULL);
    is_str(
        wide,
        "\n\x1b[1A\x1b[2K\r549b258fed15: Loading layer [>                                        "
        "          ]  32.77kB/3.011MB\r\x1b[1B"
        "\x1b[1A\x1b[2K\r549b258fed15: Loading layer [=========================================="
        "========>]  3.011MB/3.011MB\r\x1b[1B"
        "Loaded image: rnd:1\n",
        "a terminal of 120 columns: one progress row updated in place (docker's bytes)");
    _cleanup_free_ char *narrow = render(load_stream, true, 60, NULL, NULL);
    is_str(narrow,
           "\n\x1b[1A\x1b[2K\r549b258fed15: Loading layer  32.77kB/3.011MB\r\x1b[1B"
           "\x1b[1A\x1b[2K\r549b258fed15: Loading layer  3.011MB/3.011MB\r\x1b[1B"
           "Loaded image: rnd:1\n",
           "a terminal of 60 columns: no bar");
    _cleanup_free_ char *two = render(
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":2},\"id\":\"a\"}"
        "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":2},\"id\":\"b\"}"
        "{\"status\":\"Done\",\"progressDetail\":{},\"id\":\"a\"}",
        true, 80, NULL, NULL);
    is_str(two,
           "\n\x1b[1A\x1b[2K\ra: Downloading       1B/2B\r\x1b[1B"
           "\n\x1b[1A\x1b[2K\rb: Downloading       1B/2B\r\x1b[1B"
           "\x1b[2A\x1b[2K\ra: Done \r\x1b[2B",
           "two rows: the first is reached by moving up two lines");
}

static void
test_errors_and_aux(void)
{
    char *msg = NULL;
    int code = 0;
    _cleanup_free_ char *out = render(
        "{\"status\":\"Loading\"}{\"errorDetail\":{\"message\":\"Error processing tar file"
        "(exit status 1): unexpected EOF\"},\"error\":\"Error processing tar file(exit status"
        " 1): unexpected EOF\"}{\"status\":\"never\"}",
        false, 0, &msg, &code);
    is_str(out, "Loading\n", "output before the error is kept, nothing after it");
    is_str(msg, "Error processing tar file(exit status 1): unexpected EOF",
           "errorDetail becomes the error, docker's text alone");
    free(msg);
    _cleanup_free_ char *out2 = render(
        "{\"errorDetail\":{\"code\":2,\"message\":\"The command '/bin/sh -c false' returned a "
        "non-zero code: 2\"}}",
        false, 0, &msg, &code);
    ok(code == 2, "errorDetail.code is kept (build's exit status)");
    free(msg);
    _cleanup_free_ char *out3 = render("{\"error\":\"legacy failure\"}", false, 0, &msg, NULL);
    is_str(msg, "legacy failure", "a lone legacy error field is an error too");
    free(msg);

    struct capture c;
    capture_open(&c);
    char *seen = NULL;
    struct berth_jsonmessage d = {.out = c.f, .on_aux = aux_cb, .ud = &seen};
    const char *aux = "{\"aux\":{\"ID\":\"sha256:abc\"}}{\"stream\":\"Successfully built abc\\n\"}";
    struct berth_error *err = NULL;
    int r = berth_jsonmessage_render(&d, aux, strlen(aux), &err);
    _cleanup_free_ char *aux_out = capture_close(&c);
    ok(r == 0, "aux stream renders");
    is_str(seen, "{\"ID\":\"sha256:abc\"}", "aux goes to the callback");
    is_str(aux_out, "Successfully built abc\n", "aux is not printed");
    free(seen);
    berth_jsonmessage_clear(&d);

    _cleanup_free_ char *bad = render("junk", false, 0, &msg, NULL);
    ok(msg && strstr(msg, "invalid character 'j'"), "a body that is not JSON is an error: %s",
       msg ? msg : "(none)");
    free(msg);
    _cleanup_free_ char *cut = render("{\"status\":\"a\"}{\"status\":", false, 0, &msg, NULL);
    is_str(cut, "a\n", "complete messages before a cut are shown");
    is_str(msg, "unexpected EOF", "a cut stream is an error");
    free(msg);
}

static void
test_progress(void)
{
    char buf[256];
    json_t *p = json_pack("{s:i, s:i, s:i}", "current", 50, "total", 100, "start", 1000);
    berth_jsonmessage_progress(p, 200, 1010.0, buf, sizeof(buf));
    is_str(buf, "[=========================>                         ]      50B/100B 10s",
           "bar, counts and the time left");
    berth_jsonmessage_progress(p, 80, 1010.0, buf, sizeof(buf));
    is_str(buf, "     50B/100B 10s", "no bar up to 110 columns");
    berth_jsonmessage_progress(p, 40, 1010.0, buf, sizeof(buf));
    is_str(buf, "     50B/100B", "no time left up to 50 columns");
    json_decref(p);
    p = json_pack("{s:i, s:i, s:i}", "current", 10, "total", 100, "start", 1000);
    berth_jsonmessage_progress(p, 80, 1000.0 + 3725, buf, sizeof(buf));
    is_str(buf, "     10B/100B 9h18m45s", "Go's duration format");
    json_decref(p);
    p = json_pack("{s:i, s:i, s:s}", "current", 3, "total", 10, "units", "items");
    berth_jsonmessage_progress(p, 80, 0, buf, sizeof(buf));
    is_str(buf, "3/10 items", "units instead of bytes");
    json_decref(p);
    p = json_pack("{s:i, s:i, s:b}", "current", 3, "total", 10, "hidecounts", 1);
    berth_jsonmessage_progress(p, 120, 0, buf, sizeof(buf));
    is_str(buf, "[===============>                                   ] ",
           "hidecounts: 30%%, no counts");
    json_decref(p);
    p = json_pack("{s:i}", "current", 1500000);
    berth_jsonmessage_progress(p, 120, 0, buf, sizeof(buf));
    is_str(buf, "   1.5MB", "no total: the current size only");
    json_decref(p);
    p = json_pack("{s:i, s:i}", "current", 300, "total", 200);
    berth_jsonmessage_progress(p, 80, 0, buf, sizeof(buf));
    is_str(buf, "    300B", "more than the total: the total is not shown");
    json_decref(p);
    p = json_object();
    berth_jsonmessage_progress(p, 120, 0, buf, sizeof(buf));
    is_str(buf, "", "empty progress");
    json_decref(p);
}

static void
test_splitter(void)
{
    struct {
        int n;
        char names[64];
    } st = {0};
    struct berth_json_splitter s = {.on_value = count_value, .ud = &st};
    const char *data =
        "  {\"status\":\"a}\\\"{\"}\r\n{\"status\":\"b\",\"x\":[{},[]]}{\"status\":\"c\"}\n";
    struct berth_error *err = NULL;
    int r = 0;
    for (size_t i = 0; data[i] && r == 0; i++)
        r = berth_json_splitter_feed(&s, data + i, 1, &err);
    ok(r == 0 && berth_json_splitter_finish(&s, &err) == 0, "a stream fed byte by byte");
    ok(st.n == 3 && !strcmp(st.names, "a}\"{bc"),
       "three values, braces inside strings ignored (%d %s)", st.n, st.names);
    berth_json_splitter_clear(&s);
    berth_error_free(err);
}

int
main(void)
{
    test_non_tty();
    test_tty();
    test_errors_and_aux();
    test_progress();
    test_splitter();
    return tap_done();
}
