/* docker's output formatting, for the client:
 *   - a growable string buffer;
 *   - go-units' human sizes and durations, docker's ID truncation and ellipsis;
 *   - Go's time layouts the CLI prints (Time.String, RFC 3339, fixed nanoseconds, ANSI C);
 *   - a Go text/template subset over JSON values (docker's --format): text, {{.Field.Sub}},
 *     {{.}}, $ and $variables, literals, pipelines, (sub pipelines), if/else if/else, range
 *     (with $i, $v :=), with, break/continue, comments and {{- -}} trimming; functions json,
 *     split, join, title, lower, upper, pad, truncate (docker's) and and, or, not, len, index,
 *     eq, ne, lt, le, gt, ge, print, printf, println (Go's);
 *   - docker's formatter.Context.Write: the "table" prefix with its header row and tabwriter
 *     alignment (minwidth 10, padding 3), "json", \t and \n escapes;
 *   - Go's json.Indent / json.Compact and a json.Marshal-like encoder.
 * Values are jansson values; numbers print as Go prints int64 or float64. */
#ifndef BERTH_CLIENT_FORMAT_H
#define BERTH_CLIENT_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

struct berth_strbuf {
    char *s; /* NUL-terminated when not NULL */
    size_t len, cap;
};

int berth_strbuf_append(struct berth_strbuf *b, const char *s, size_t n);
int berth_strbuf_puts(struct berth_strbuf *b, const char *s);
int berth_strbuf_putc(struct berth_strbuf *b, char c);
int berth_strbuf_printf(struct berth_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text so far ("" when nothing was written); stays owned by the buffer. */
const char *berth_strbuf_str(const struct berth_strbuf *b);
/* Hands the text to the caller (never NULL on success, NULL on ENOMEM); the buffer is empty. */
char *berth_strbuf_steal(struct berth_strbuf *b);
void berth_strbuf_free(struct berth_strbuf *b);
#define _cleanup_strbuf_ __attribute__((cleanup(berth_strbuf_free)))

/* go-units HumanSizeWithPrecision (decimal units: "1.24MB", "0B", "796kB"). HumanSize is
 * precision 4. */
void berth_human_size(double size, int precision, char *buf, size_t len);
/* go-units BytesSize: binary units, 4 digits ("23.54GiB"). */
void berth_bytes_size(double size, char *buf, size_t len);
/* go-units HumanDuration ("Less than a second", "About a minute", "3 hours", "2 weeks"). */
void berth_human_duration(double seconds, char *buf, size_t len);
/* Seconds since the epoch, now, with the fraction. */
double berth_now(void);
/* docker's stringid.TruncateID: drops an "algo:" prefix, keeps 12 characters. */
char *berth_truncate_id(const char *id);
/* docker's formatter.Ellipsis: fits s into max_width columns, ending in "…" when cut. */
char *berth_ellipsis(const char *s, int max_width);
/* Columns a UTF-8 string takes on a terminal (East Asian wide characters count 2). */
size_t berth_display_width(const char *s, size_t n);

/* Go's Time.String() in the local zone: "2024-01-01 10:00:00 +0000 UTC". */
void berth_time_go_string(time_t t, char *buf, size_t len);
/* RFC 3339 in the local zone, "Z" for a zero offset: "2024-01-01T10:00:00Z". */
void berth_time_rfc3339(time_t t, char *buf, size_t len);
/* "2006-01-02T15:04:05.000000000Z07:00" (docker events, jsonmessage), local zone. */
void berth_time_rfc3339_nano_fixed(int64_t unix_nano, char *buf, size_t len);
/* Reformats an RFC 3339 (nano) time as Go's ANSIC layout in its own zone
 * ("Mon Jan  2 15:04:05 2006"); returns a copy of text when it does not parse. */
char *berth_time_reformat_ansic(const char *text);
/* Parses RFC 3339 with an optional fraction; false when it does not parse. */
bool berth_time_parse_rfc3339(const char *text, time_t *ret_sec, long *ret_nsec);

/* A float64 as Go prints it: fmt's %v (json_style false: "2.850023e+06", "0.5") or
 * encoding/json's (json_style true: "2850023"). */
void berth_go_float(double f, bool json_style, char *buf, size_t len);
/* Go's encoding/json encoding of a value (compact, keys in their order; escape_html turns
 * < > & into \u003c \u003e \u0026 as json.Marshal does). */
int berth_json_go_encode(const json_t *v, bool escape_html, struct berth_strbuf *out);
/* Go's json.Indent(dst, src, "", indent) and json.Compact on raw JSON text (string escapes
 * and key order stay as the server sent them). */
int berth_json_indent(const char *src, size_t len, const char *indent, struct berth_strbuf *out,
                      struct berth_error **err);
int berth_json_compact(const char *src, size_t len, struct berth_strbuf *out,
                       struct berth_error **err);

/* ---- templates ---- */

struct berth_template;

enum berth_template_flags {
    /* docker's HeaderFunctions: json, split, join, title, lower, upper and truncate return their
     * string argument unchanged, and a missing field prints "<no value>" */
    BERTH_TMPL_HEADER = 1 << 0,
    /* {{json .}} of the root value escapes HTML characters (docker's row contexts marshal
     * themselves with json.Marshal) */
    BERTH_TMPL_ROOT_JSON_HTML = 1 << 1,
};

struct berth_template_opts {
    unsigned flags;
    /* A missing field of the root object: "can't evaluate field X in type <root_type>" when
     * set (docker's typed row contexts), else "map has no entry for key \"X\"". */
    const char *root_type;
    /* Methods with arguments of the row values ({{.Label "key"}} of docker's container
     * context): returns a new reference, or NULL when name is not a method (Go's "has
     * arguments but cannot be invoked as function"). */
    json_t *(*method)(void *ud, json_t *dot, const char *name, json_t **args, size_t nargs);
    void *method_ud;
};

/* Parse errors read like Go's: "template: :1: function \"foo\" not defined". */
int berth_template_parse(const char *text, struct berth_template **ret, struct berth_error **err);
/* A template with a name, which Go's messages show ("template: version:1:2: executing
 * \"version\" at ..."). */
int berth_template_parse_named(const char *name, const char *text, struct berth_template **ret,
                               struct berth_error **err);
void berth_template_free(struct berth_template *t);
void berth_template_freep(struct berth_template **t);
#define _cleanup_template_ __attribute__((cleanup(berth_template_freep)))
/* Appends the output for dot to out. Execution errors read like Go's:
 * "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type T". Output
 * written before an error stays in out (Go writes as it goes). */
int berth_template_execute(const struct berth_template *t, json_t *dot,
                           const struct berth_template_opts *opts, struct berth_strbuf *out,
                           struct berth_error **err);
/* Prints a value as Go's fmt %v prints what the template engine holds. */
int berth_template_print_value(const json_t *v, struct berth_strbuf *out);

/* Go's text/tabwriter (docker's fork) over a whole text: cells end with '\t', lines with '\n';
 * a column is a run of adjacent lines that have a cell in it; cell width + padding, at least
 * minwidth. */
int berth_tabwriter(const char *text, size_t len, int minwidth, int padding, char padchar,
                    struct berth_strbuf *out);

/* docker's formatter.Context: "table ..." / "json" / a template. Returns the template text
 * after docker's preFormat (prefix removed, trimmed, \t and \n escapes) and whether it is a
 * table. */
char *berth_format_prepare(const char *format, bool *ret_is_table);
/* formatter.Context.Write: executes format for each row (an array of objects) and, for a table,
 * a header row from header (field -> column title) with tabwriter alignment. Nothing is written
 * to out when a row fails ("template parsing error: ..." in err). */
int berth_format_write(const char *format, json_t *header, const char *root_type, json_t *rows,
                       struct berth_strbuf *out, struct berth_error **err);
/* The same with the rows' methods (see berth_template_opts). */
int berth_format_write_methods(const char *format, json_t *header, const char *root_type,
                               json_t *rows,
                               json_t *(*method)(void *ud, json_t *dot, const char *name,
                                                 json_t **args, size_t nargs),
                               void *method_ud, struct berth_strbuf *out, struct berth_error **err);

#endif
