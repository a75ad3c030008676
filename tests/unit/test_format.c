/* Unit tests of lib/client/format.c and template.c: go-units sizes and durations, ID truncation
 * and ellipsis, Go time layouts, the Go text/template subset (fields, functions, control
 * structures, trimming, docker's error wording), Go's json.Indent, the tabwriter and docker's
 * table formatter. Expected strings are what docker 28 prints for the same input. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/format.h"
#include "core/cleanup.h"
#include "tap.h"

static void
size_is(double size, int prec, const char *want)
{
    char buf[64];
    berth_human_size(size, prec, buf, sizeof(buf));
    is_str(buf, want, "HumanSizeWithPrecision(%.0f, %d) = %s", size, prec, want);
}

static void
dur_is(double secs, const char *want)
{
    char buf[64];
    berth_human_duration(secs, buf, sizeof(buf));
    is_str(buf, want, "HumanDuration(%.1fs) = %s", secs, want);
}

/* Executes text against the JSON document data; returns the output or "ERR: <message>". */
static char *
run(const char *text, const char *data, const char *root_type, unsigned flags)
{
    json_t *dot = json_loads(data, JSON_DECODE_ANY, NULL);
    struct berth_template *t = NULL;
    struct berth_error *err = NULL;
    struct berth_strbuf out = {0};
    char *res = NULL;
    if (berth_template_parse(text, &t, &err) == 0) {
        struct berth_template_opts opts = {.flags = flags, .root_type = root_type};
        if (berth_template_execute(t, dot, &opts, &out, &err) == 0)
            res = berth_strbuf_steal(&out);
    }
    if (!res && asprintf(&res, "ERR: %s", err ? err->msg : "?") < 0)
        res = NULL;
    berth_strbuf_free(&out);
    berth_error_free(err);
    berth_template_free(t);
    json_decref(dot);
    return res;
}

static void
tmpl_is(const char *text, const char *data, const char *want)
{
    _cleanup_free_ char *got = run(text, data, NULL, 0);
    char desc[256];
    size_t n = 0;
    for (const char *p = text; *p && n + 3 < sizeof(desc); p++) {
        if (*p == '\n') { /* one TAP line per test */
            desc[n++] = '\\';
            desc[n++] = 'n';
        } else {
            desc[n++] = *p;
        }
    }
    desc[n] = '\0';
    is_str(got, want, "template %s", desc);
}

static void
tabwriter_is(const char *in, int minwidth, int padding, const char *want, const char *desc)
{
    struct berth_strbuf out = {0};
    int r = berth_tabwriter(in, strlen(in), minwidth, padding, ' ', &out);
    ok(r == 0, "tabwriter ran: %s", desc);
    is_str(berth_strbuf_str(&out), want, "tabwriter: %s", desc);
    berth_strbuf_free(&out);
}

static const char *image_header =
    "{\"ID\":\"IMAGE ID\",\"Repository\":\"REPOSITORY\",\"Tag\":\"TAG\","
    "\"Digest\":\"DIGEST\",\"CreatedSince\":\"CREATED\","
    "\"CreatedAt\":\"CREATED AT\",\"Size\":\"SIZE\"}";
static const char *image_rows =
    "[{\"Containers\":\"N/A\",\"CreatedAt\":\"2026-11-29 18:45:47 +0000 UTC\","
    "\"CreatedSince\":\"16 seconds ago\",\"Digest\":\"<none>\",\"ID\":\"6d1aed676c02\","
    "\"Repository\":\"aaa/zzz\",\"Size\":\"2.85MB\",\"Tag\":\"1\"},"
    "{\"Containers\":\"N/A\",\"CreatedAt\":\"2026-11-29 18:45:47 +0000 UTC\","
    "\"CreatedSince\":\"16 seconds ago\",\"Digest\":\"<none>\",\"ID\":\"6d1aed676c02\","
    "\"Repository\":\"localhost:5000/foo\",\"Size\":\"2.85MB\",\"Tag\":\"2\"}]";

static char *
write_images(const char *format, struct berth_error **err)
{
    json_t *header = json_loads(image_header, 0, NULL);
    json_t *rows = json_loads(image_rows, 0, NULL);
    struct berth_strbuf out = {0};
    char *res = NULL;
    if (berth_format_write(format, header, "*formatter.imageContext", rows, &out, err) == 0)
        res = berth_strbuf_steal(&out);
    berth_strbuf_free(&out);
    json_decref(header);
    json_decref(rows);
    return res;
}

static void
test_units(void)
{
    size_is(2850023, 3, "2.85MB");
    size_is(0, 3, "0B");
    size_is(999, 3, "999B");
    size_is(1000, 3, "1kB");
    size_is(1234567, 3, "1.23MB");
    size_is(1.5e9, 3, "1.5GB");
    size_is(123456789, 4, "123.5MB");
    size_is(4, 4, "4B");
    char buf[64];
    berth_bytes_size(25275711488.0, buf, sizeof(buf));
    is_str(buf, "23.54GiB", "BytesSize of a machine's memory");
    berth_bytes_size(1536, buf, sizeof(buf));
    is_str(buf, "1.5KiB", "BytesSize(1536)");

    dur_is(0.45, "Less than a second");
    dur_is(1, "1 second");
    dur_is(47, "47 seconds");
    dur_is(60, "About a minute");
    dur_is(3 * 60, "3 minutes");
    dur_is(35 * 60 + 40, "35 minutes");
    dur_is(3600, "About an hour");
    dur_is(3600 + 29 * 60, "About an hour");
    dur_is(3600 + 31 * 60, "2 hours");
    dur_is(24 * 3600, "24 hours");
    dur_is(36 * 3600, "36 hours");
    dur_is(2 * 86400, "2 days");
    dur_is(13 * 86400 + 5 * 3600, "13 days");
    dur_is(14 * 86400, "2 weeks");
    dur_is(30 * 86400, "4 weeks");
    dur_is(60 * 86400, "2 months");
    dur_is(13 * 30 * 86400, "13 months");
    dur_is(24 * 30 * 86400 + 14 * 86400, "2 years");
    dur_is(3 * 365 * 86400 + 60 * 86400, "3 years");

    _cleanup_free_ char *id = berth_truncate_id(
        "sha256:6d1aed676c02da8331eff78e07cbc1aefb71386835ed92ff2ef20e771ab765fb");
    is_str(id, "6d1aed676c02", "TruncateID drops sha256: and keeps 12 characters");
    _cleanup_free_ char *missing = berth_truncate_id("<missing>");
    is_str(missing, "<missing>", "TruncateID of <missing>");
    _cleanup_free_ char *el =
        berth_ellipsis("/bin/sh -c #(nop)  CMD [\"/bin/sh\"] and more text", 20);
    is_str(el, "/bin/sh -c #(nop)  \xe2\x80\xa6", "Ellipsis cuts to 19 columns plus the ellipsis");
    _cleanup_free_ char *short_el = berth_ellipsis("short", 45);
    is_str(short_el, "short", "Ellipsis keeps a short text");
    ok(berth_display_width("\xe4\xb8\xad\xe6\x96\x87", 6) == 4, "wide characters count 2 columns");

    char num[64];
    berth_go_float(2850023, false, num, sizeof(num));
    is_str(num, "2.850023e+06", "Go %%v of a large float64");
    berth_go_float(0.5, false, num, sizeof(num));
    is_str(num, "0.5", "Go %%v of 0.5");
    berth_go_float(2850023, true, num, sizeof(num));
    is_str(num, "2850023", "encoding/json of a large float64");
}

static void
test_times(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    char buf[80];
    berth_time_go_string(1795977947, buf, sizeof(buf));
    is_str(buf, "2026-11-29 18:45:47 +0000 UTC", "Go Time.String() in UTC");
    berth_time_rfc3339(1795977947, buf, sizeof(buf));
    is_str(buf, "2026-11-29T18:45:47Z", "RFC 3339 in UTC ends in Z");
    berth_time_rfc3339_nano_fixed(1795977947361505304LL, buf, sizeof(buf));
    is_str(buf, "2026-11-29T18:45:47.361505304Z", "fixed nanoseconds (docker events)");
    berth_time_rfc3339_nano_fixed(1795977947000000001LL, buf, sizeof(buf));
    is_str(buf, "2026-11-29T18:45:47.000000001Z", "fixed nanoseconds keep leading zeros");
    setenv("TZ", "CET-1", 1);
    tzset();
    berth_time_rfc3339(1795977947, buf, sizeof(buf));
    is_str(buf, "2026-11-29T19:45:47+01:00", "RFC 3339 with a zone offset");
    setenv("TZ", "UTC", 1);
    tzset();
    _cleanup_free_ char *ansic = berth_time_reformat_ansic("2026-05-07T21:09:36.000000000+00:00");
    is_str(ansic, "Thu May  7 21:09:36 2026", "docker version's Built: (ANSIC, day padded)");
    _cleanup_free_ char *kept = berth_time_reformat_ansic("not a time");
    is_str(kept, "not a time", "an unparsable build time is printed as is");
    time_t sec;
    long nsec;
    bool parsed = berth_time_parse_rfc3339("2024-01-01T00:00:00.5+01:00", &sec, &nsec);
    ok(parsed && sec == 1704063600 && nsec == 500000000, "RFC 3339 with offset and fraction");
}

static void
test_templates(void)
{
    tmpl_is("{{.ID}}", "{\"ID\":\"abc\"}", "abc");
    tmpl_is("a {{.A.B}} c", "{\"A\":{\"B\":\"b\"}}", "a b c");
    tmpl_is("{{.}}", "\"x\"", "x");
    tmpl_is("{{json .}}", "{\"D\":\"<none>\",\"N\":1}", "{\"D\":\"<none>\",\"N\":1}");
    _cleanup_free_ char *html =
        run("{{json .}}", "{\"D\":\"<none>\"}", "T", BERTH_TMPL_ROOT_JSON_HTML);
    is_str(html, "{\"D\":\"\\u003cnone\\u003e\"}", "{{json .}} of a row context escapes HTML");
    _cleanup_free_ char *field =
        run("{{json .D}}", "{\"D\":\"<none>\"}", "T", BERTH_TMPL_ROOT_JSON_HTML);
    is_str(field, "\"<none>\"", "{{json .Field}} does not escape HTML");
    tmpl_is("{{json .Config.Cmd}}", "{\"Config\":{\"Cmd\":[\"/bin/sh\"]}}", "[\"/bin/sh\"]");
    tmpl_is("{{upper .R}}|{{lower .R}}|{{title .T}}",
            "{\"R\":\"BusyBox\",\"T\":\"hello big-world\"}", "BUSYBOX|busybox|Hello Big-World");
    tmpl_is("{{index .M \"k\"}}|{{index .M \"nope\"}}|{{index .L 1}}",
            "{\"M\":{\"k\":\"v\"},\"L\":[\"a\",\"b\"]}", "v||b");
    tmpl_is("{{index .Config.Labels \"a\"}}", "{\"Config\":{\"Labels\":null}}",
            "ERR: template: :1:2: executing \"\" at <index .Config.Labels \"a\">: error calling "
            "index: index of untyped nil");
    tmpl_is("{{.Nonexist}}", "{\"A\":1}",
            "ERR: template: :1:2: executing \"\" at <.Nonexist>: map has no entry for key "
            "\"Nonexist\"");
    _cleanup_free_ char *typed = run("x{{.Foo}}", "{\"ID\":\"a\"}", "*formatter.imageContext", 0);
    is_str(typed,
           "ERR: template: :1:3: executing \"\" at <.Foo>: can't evaluate field Foo in type "
           "*formatter.imageContext",
           "an unknown field of a row reads like docker's error");
    tmpl_is("{{foo .ID}}", "{}", "ERR: template: :1: function \"foo\" not defined");
    tmpl_is("{{.ID}", "{}", "ERR: template: :1: bad character U+007D '}'");
    tmpl_is("{{.ID", "{}", "ERR: template: :1: unclosed action");
    tmpl_is("x\n{{end}}", "{}", "ERR: template: :2: unexpected {{end}}");
    tmpl_is("{{if .A}}x", "{}", "ERR: template: :1: unexpected EOF");
    tmpl_is("{{$x}}", "{}", "ERR: template: :1: undefined variable \"$x\"");

    tmpl_is("{{if .A}}yes{{else}}no{{end}}", "{\"A\":true}", "yes");
    tmpl_is("{{if .A}}yes{{else if .B}}b{{else}}no{{end}}", "{\"A\":\"\",\"B\":[1]}", "b");
    tmpl_is("{{if .A}}yes{{else}}no{{end}}", "{\"A\":0}", "no");
    tmpl_is("{{range .L}}[{{.}}]{{end}}", "{\"L\":[\"a\",\"b\"]}", "[a][b]");
    tmpl_is("{{range .L}}x{{else}}empty{{end}}", "{\"L\":[]}", "empty");
    tmpl_is("{{range $i, $e := .L}}{{$i}}={{$e}} {{end}}", "{\"L\":[\"a\",\"b\"]}", "0=a 1=b ");
    tmpl_is("{{range $k, $v := .M}}{{$k}}:{{$v}};{{end}}", "{\"M\":{\"b\":\"2\",\"a\":\"1\"}}",
            "a:1;b:2;");
    tmpl_is("{{range .L}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}",
            "{\"L\":[\"a\",\"b\",\"c\"]}", "a");
    tmpl_is("{{with .M}}{{.k}}{{end}}{{with .N}}x{{else}}none{{end}}",
            "{\"M\":{\"k\":\"v\"},\"N\":null}", "vnone");
    tmpl_is("{{$x := .A}}{{$x}}{{$}}", "\"s\"",
            "ERR: template: :1:8: executing \"\" at <.A>: can't evaluate field A in type string");
    tmpl_is("{{$x := .A}}{{$x}}-{{$.A}}", "{\"A\":\"v\"}", "v-v");
    tmpl_is("a  {{- .X -}}  b\n", "{\"X\":\"x\"}", "axb\n");
    tmpl_is("{{/* a comment */}}x", "{}", "x");
    tmpl_is("{{join .L \", \"}}|{{split .S \",\"}}|{{len .L}}",
            "{\"L\":[\"a\",\"b\"],\"S\":\"x,y\"}", "a, b|[x y]|2");
    tmpl_is("{{printf \"%s-%d-%5.1f|%v\" .S 3 2.25 .L}}", "{\"S\":\"s\",\"L\":[1,2]}",
            "s-3-  2.2|[1 2]");
    tmpl_is("{{pad .S 1 2}}|{{pad .E 1 2}}|{{truncate .S 2}}", "{\"S\":\"abc\",\"E\":\"\"}",
            " abc  ||ab");
    tmpl_is(
        "{{.Config.Labels}} {{.Config.Env}} {{.Config.Cmd}} {{.Config.Healthcheck}}",
        "{\"Config\":{\"Labels\":null,\"Env\":null,\"Cmd\":[\"/bin/sh\"],\"Healthcheck\":null}}",
        "map[] [] [/bin/sh] <nil>");
    tmpl_is("{{.Size}} {{.F}} {{.M}} {{.B}}",
            "{\"Size\":2850023,\"F\":2850023.0,\"M\":{\"b\":1,\"a\":\"x\"},\"B\":false}",
            "2850023 2.850023e+06 map[a:x b:1] false");
    tmpl_is("{{eq .S \"x\"}} {{ne .S \"x\"}} {{lt .N 3}} {{eq .N 1 2}}", "{\"S\":\"x\",\"N\":2}",
            "true false true true");
    tmpl_is("{{if and .A (not .B)}}ok{{end}}{{or .B .C}}", "{\"A\":1,\"B\":0,\"C\":\"c\"}", "okc");
    tmpl_is("{{.A | printf \"%s!\"}}", "{\"A\":\"hi\"}", "hi!");
    tmpl_is("{{(index .L 0).N}}", "{\"L\":[{\"N\":\"n\"}]}", "n");
    tmpl_is("{{print 1 2 \"a\" \"b\"}}|{{println \"x\" 1}}", "{}", "1 2ab|x 1\n");
    tmpl_is("{{upper 1}}", "{}",
            "ERR: template: :1:2: executing \"\" at <upper 1>: wrong type for value; expected "
            "string; got int");
    tmpl_is("{{.A.B}}", "{\"A\":null}",
            "ERR: template: :1:2: executing \"\" at <.A.B>: nil pointer evaluating interface {}.B");

    /* docker's header functions leave column names alone */
    _cleanup_free_ char *head =
        run("{{.ID}}\t{{upper .Repository}}\t{{json .Size}}",
            "{\"ID\":\"IMAGE ID\",\"Repository\":\"REPOSITORY\",\"Size\":\"SIZE\"}", NULL,
            BERTH_TMPL_HEADER);
    is_str(head, "IMAGE ID\tREPOSITORY\tSIZE", "header functions return the column name");
    _cleanup_free_ char *nohead = run("{{.Foo}}", "{\"ID\":\"IMAGE ID\"}", NULL, BERTH_TMPL_HEADER);
    is_str(nohead, "<no value>", "a header without a title prints <no value>");
}

static void
test_tabwriter(void)
{
    tabwriter_is("REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n"
                 "busybox\tlatest\t6d1aed676c02\tLess than a second ago\t2.85MB\n",
                 10, 3,
                 "REPOSITORY   TAG       IMAGE ID       CREATED                  SIZE\n"
                 "busybox      latest    6d1aed676c02   Less than a second ago   2.85MB\n",
                 "docker images (minwidth 10, padding 3)");
    tabwriter_is(
        "Client:\n Version:\t28.2.2\n API version:\t1.41\n\nServer:\n Engine:\n  Version:\t20.10\n"
        "  API version:\t1.41 (minimum version 1.12)\n",
        20, 1,
        "Client:\n Version:           28.2.2\n API version:       1.41\n\nServer:\n Engine:\n"
        "  Version:          20.10\n  API version:      1.41 (minimum version 1.12)\n",
        "docker version (minwidth 20, padding 1)");
    tabwriter_is("a\tb\nsingle cell line\nccccccccccccccc\td\n", 1, 1,
                 "a b\nsingle cell line\nccccccccccccccc d\n",
                 "a line without a tab ends the column block");
    tabwriter_is("a\tb\tc\naaaa\tb\n\tx\tyy\n", 1, 1, "a    b c\naaaa b\n     x yy\n",
                 "columns are blocks of adjacent lines; empty cells are padded");
    tabwriter_is("x\ty", 1, 1, "x y", "a last line without newline");
    tabwriter_is("", 10, 3, "", "empty input");
}

static void
test_formatter(void)
{
    struct berth_error *err = NULL;
    _cleanup_free_ char *table =
        write_images("table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{if .CreatedSince "
                     "}}{{.CreatedSince}}{{else}}N/A{{end}}\\t{{.Size}}",
                     &err);
    is_str(table,
           "REPOSITORY           TAG       IMAGE ID       CREATED          SIZE\n"
           "aaa/zzz              1         6d1aed676c02   16 seconds ago   2.85MB\n"
           "localhost:5000/foo   2         6d1aed676c02   16 seconds ago   2.85MB\n",
           "docker images' default table, escapes \\t turned into tabs");
    _cleanup_free_ char *plain = write_images("{{.Repository}}:{{.Tag}}", &err);
    is_str(plain, "aaa/zzz:1\nlocalhost:5000/foo:2\n", "a non-table format has no header");
    _cleanup_free_ char *custom =
        write_images("table {{.ID}}\t{{upper .Repository}}\t{{lower .Tag}}x{{json .Size}}", &err);
    is_str(custom,
           "IMAGE ID       REPOSITORY           TAGxSIZE\n"
           "6d1aed676c02   AAA/ZZZ              1x\"2.85MB\"\n"
           "6d1aed676c02   LOCALHOST:5000/FOO   2x\"2.85MB\"\n",
           "functions in a table header keep the column names");
    _cleanup_free_ char *json = write_images("json", &err);
    ok(json && !strncmp(json, "{\"Containers\":\"N/A\"", 19) && strstr(json, "\\u003cnone\\u003e"),
       "--format json prints each row as escaped JSON");
    _cleanup_free_ char *jtable = write_images("table {{json .}}", &err);
    ok(jtable && jtable[0] == '\n', "the header of 'table {{json .}}' is empty, as docker's");
    _cleanup_free_ char *bad = write_images("table {{.Foo}}", &err);
    ok(!bad && err &&
           !strcmp(err->msg, "template parsing error: template: :1:2: executing \"\" at <.Foo>: "
                             "can't evaluate field Foo in type *formatter.imageContext"),
       "an unknown field: nothing printed, docker's message");
    berth_error_freep(&err);
    _cleanup_free_ char *badfn = write_images("{{foo .ID}}", &err);
    ok(!badfn && err &&
           !strcmp(err->msg, "template parsing error: template: :1: function \"foo\" not defined"),
       "an unknown function: docker's message");
    berth_error_freep(&err);

    bool is_table = false;
    _cleanup_free_ char *prep = berth_format_prepare("table   {{.A}}\\t{{.B}}\\n ", &is_table);
    is_str(prep, "{{.A}}\t{{.B}}\n", "preFormat: prefix, spaces and escapes");
    ok(is_table, "preFormat: table recognised");
}

static void
test_json(void)
{
    const char *raw = "[{\"Id\":\"x\",\"RepoTags\":[\"a:1\",\"b:2\"],\"Empty\":[],\"Obj\":{},"
                      "\"N\":null,\"S\":\"a \\u003c b, c: d\"}\n]";
    struct berth_strbuf out = {0};
    struct berth_error *err = NULL;
    int r = berth_json_indent(raw, strlen(raw), "    ", &out, &err);
    ok(r == 0, "json.Indent of an inspect array");
    is_str(berth_strbuf_str(&out),
           "[\n    {\n        \"Id\": \"x\",\n        \"RepoTags\": [\n            \"a:1\",\n"
           "            \"b:2\"\n        ],\n        \"Empty\": [],\n        \"Obj\": {},\n"
           "        \"N\": null,\n        \"S\": \"a \\u003c b, c: d\"\n    }\n]",
           "Go's indentation; escapes and punctuation inside strings kept");
    berth_strbuf_free(&out);
    r = berth_json_compact("{ \"a\" : [ 1, 2 ] }\n", 19, &out, &err);
    is_str(berth_strbuf_str(&out), "{\"a\":[1,2]}", "json.Compact");
    berth_strbuf_free(&out);
    r = berth_json_indent("{\"a\":", 5, "  ", &out, &err);
    ok(r < 0 && err, "invalid JSON is an error");
    berth_error_freep(&err);
    berth_strbuf_free(&out);

    json_t *v =
        json_pack("{s:s, s:s, s:[i, f]}", "a", "x\n\"<&>\"", "u", "\xe2\x80\xa8", "n", 1, 0.5);
    berth_json_go_encode(v, false, &out);
    is_str(berth_strbuf_str(&out), "{\"a\":\"x\\n\\\"<&>\\\"\",\"u\":\"\\u2028\",\"n\":[1,0.5]}",
           "Go's JSON encoding: escapes, U+2028, numbers");
    berth_strbuf_free(&out);
    json_decref(v);
}

int
main(void)
{
    test_units();
    test_times();
    test_templates();
    test_tabwriter();
    test_formatter();
    test_json();
    return tap_done();
}
