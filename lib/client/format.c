/* docker's output helpers: string buffer, go-units sizes and durations, Go time layouts,
 * Go-compatible JSON encoding/indentation, tabwriter, and formatter.Context.Write. The template
 * engine is in template.c (parser) and template_exec.c (execution). */
#include "client/format.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"

/* ---- string buffer ---- */

static int
strbuf_grow(struct berth_strbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < b->len + extra + 1) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    char *n = realloc(b->s, ncap);
    if (!n)
        return -ENOMEM;
    b->s = n;
    b->cap = ncap;
    return 0;
}

int
berth_strbuf_append(struct berth_strbuf *b, const char *s, size_t n)
{
    if (strbuf_grow(b, n) < 0)
        return -ENOMEM;
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

int
berth_strbuf_puts(struct berth_strbuf *b, const char *s)
{
    return berth_strbuf_append(b, s, strlen(s));
}

int
berth_strbuf_putc(struct berth_strbuf *b, char c)
{
    return berth_strbuf_append(b, &c, 1);
}

int
berth_strbuf_printf(struct berth_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if (strbuf_grow(b, (size_t)n) < 0)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *
berth_strbuf_str(const struct berth_strbuf *b)
{
    return b->s ? b->s : "";
}

char *
berth_strbuf_steal(struct berth_strbuf *b)
{
    char *s = b->s ? b->s : strdup("");
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void
berth_strbuf_free(struct berth_strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

/* ---- go-units ---- */

static const char *const decimal_abbrs[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
static const char *const binary_abbrs[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                           "PiB", "EiB", "ZiB", "YiB"};

static void
custom_size(double size, double base, const char *const *units, size_t nunits, int precision,
            char *buf, size_t len)
{
    size_t i = 0;
    while (size >= base && i < nunits - 1) {
        size /= base;
        i++;
    }
    snprintf(buf, len, "%.*g%s", precision, size, units[i]);
}

void
berth_human_size(double size, int precision, char *buf, size_t len)
{
    custom_size(size, 1000.0, decimal_abbrs, BERTH_ARRAY_SIZE(decimal_abbrs), precision, buf, len);
}

void
berth_bytes_size(double size, char *buf, size_t len)
{
    custom_size(size, 1024.0, binary_abbrs, BERTH_ARRAY_SIZE(binary_abbrs), 4, buf, len);
}

void
berth_human_duration(double d, char *buf, size_t len)
{
    long long seconds = (long long)d;
    if (seconds < 1) {
        snprintf(buf, len, "Less than a second");
        return;
    }
    if (seconds == 1) {
        snprintf(buf, len, "1 second");
        return;
    }
    if (seconds < 60) {
        snprintf(buf, len, "%lld seconds", seconds);
        return;
    }
    long long minutes = (long long)(d / 60);
    if (minutes == 1) {
        snprintf(buf, len, "About a minute");
        return;
    }
    if (minutes < 60) {
        snprintf(buf, len, "%lld minutes", minutes);
        return;
    }
    long long hours = (long long)(d / 3600 + 0.5);
    if (hours == 1)
        snprintf(buf, len, "About an hour");
    else if (hours < 48)
        snprintf(buf, len, "%lld hours", hours);
    else if (hours < 24 * 7 * 2)
        snprintf(buf, len, "%lld days", hours / 24);
    else if (hours < 24 * 30 * 2)
        snprintf(buf, len, "%lld weeks", hours / 24 / 7);
    else if (hours < 24 * 365 * 2)
        snprintf(buf, len, "%lld months", hours / 24 / 30);
    else
        snprintf(buf, len, "%lld years", (long long)(d / 3600) / 24 / 365);
}

double
berth_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *
berth_truncate_id(const char *id)
{
    const char *colon = strchr(id, ':');
    if (colon)
        id = colon + 1;
    return strndup(id, 12);
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length (1 for invalid bytes). */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *ret)
{
    unsigned char c = s[0];
    size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (l == 0 || l > n) {
        *ret = 0xfffd;
        return 1;
    }
    uint32_t cp = l == 1 ? c : l == 2 ? c & 0x1f : l == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < l; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *ret = 0xfffd;
            return 1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *ret = cp;
    return l;
}

static int
char_width(uint32_t r)
{
    /* East Asian Wide and Fullwidth ranges (the common ones) */
    if ((r >= 0x1100 && r <= 0x115f) || (r >= 0x2e80 && r <= 0x303e) ||
        (r >= 0x3041 && r <= 0x33ff) || (r >= 0x3400 && r <= 0x4dbf) ||
        (r >= 0x4e00 && r <= 0x9fff) || (r >= 0xa000 && r <= 0xa4cf) ||
        (r >= 0xac00 && r <= 0xd7a3) || (r >= 0xf900 && r <= 0xfaff) ||
        (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) ||
        (r >= 0xffe0 && r <= 0xffe6) || (r >= 0x1f300 && r <= 0x1f64f) ||
        (r >= 0x1f900 && r <= 0x1f9ff) || (r >= 0x20000 && r <= 0x3fffd))
        return 2;
    return 1;
}

size_t
berth_display_width(const char *s, size_t n)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (n > 0) {
        uint32_t r;
        size_t l = utf8_next(p, n, &r);
        w += (size_t)char_width(r);
        p += l;
        n -= l;
    }
    return w;
}

char *
berth_ellipsis(const char *s, int max_width)
{
    if (max_width <= 0)
        return strdup("");
    size_t n = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    if (max_width == 1) {
        uint32_t r;
        return strndup(s, n ? utf8_next(p, n, &r) : 0);
    }
    if (berth_display_width(s, n) <= (size_t)max_width)
        return strdup(s);
    /* keep the longest prefix of width <= max_width - 1, then the ellipsis */
    size_t off = 0, w = 0;
    while (off < n) {
        uint32_t r;
        size_t l = utf8_next(p + off, n - off, &r);
        if (w + (size_t)char_width(r) > (size_t)max_width - 1)
            break;
        w += (size_t)char_width(r);
        off += l;
    }
    char *out = malloc(off + 4);
    if (!out)
        return NULL;
    memcpy(out, s, off);
    memcpy(out + off, "\xe2\x80\xa6", 4);
    return out;
}

/* ---- Go time layouts ---- */

/* The zone part of Go's "Z07:00" */
static void
zone_rfc3339(const struct tm *tm, char *buf, size_t len)
{
    long off = tm->tm_gmtoff;
    if (off == 0) {
        snprintf(buf, len, "Z");
        return;
    }
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    snprintf(buf, len, "%c%02d:%02d", sign, (int)(off / 3600 % 100), (int)(off / 60 % 60));
}

void
berth_time_go_string(time_t t, char *buf, size_t len)
{
    struct tm tm;
    localtime_r(&t, &tm);
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    char zone[64];
    if (tm.tm_zone && tm.tm_zone[0])
        snprintf(zone, sizeof(zone), "%s", tm.tm_zone);
    else
        snprintf(zone, sizeof(zone), "%c%02d%02d", sign, (int)(off / 3600 % 100),
                 (int)(off / 60 % 60));
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d %c%02d%02d %s", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
             (int)(off / 3600 % 100), (int)(off / 60 % 60), zone);
}

void
berth_time_rfc3339(time_t t, char *buf, size_t len)
{
    struct tm tm;
    localtime_r(&t, &tm);
    char zone[16];
    zone_rfc3339(&tm, zone, sizeof(zone));
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

void
berth_time_rfc3339_nano_fixed(int64_t unix_nano, char *buf, size_t len)
{
    time_t sec = (time_t)(unix_nano / 1000000000);
    long nsec = (long)(unix_nano % 1000000000);
    if (nsec < 0) {
        nsec += 1000000000;
        sec--;
    }
    struct tm tm;
    localtime_r(&sec, &tm);
    char zone[16];
    zone_rfc3339(&tm, zone, sizeof(zone));
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec, zone);
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; tm holds the wall clock as written and
 * *ret_off the zone offset in seconds. */
static bool
parse_rfc3339(const char *s, struct tm *tm, long *ret_nsec, long *ret_off)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 ||
        (s[10] != 'T' && s[10] != 't'))
        return false;
    const char *p = s + 11;
    if (sscanf(p, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
        return false;
    p += 8;
    long nsec = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 9) {
                nsec = nsec * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        if (digits == 0)
            return false;
        while (digits++ < 9)
            nsec *= 10;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
            return false;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p)
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    memset(tm, 0, sizeof(*tm));
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = sec;
    *ret_nsec = nsec;
    *ret_off = off;
    return true;
}

bool
berth_time_parse_rfc3339(const char *text, time_t *ret_sec, long *ret_nsec)
{
    struct tm tm;
    long nsec, off;
    if (!parse_rfc3339(text, &tm, &nsec, &off))
        return false;
    *ret_sec = timegm(&tm) - off;
    *ret_nsec = nsec;
    return true;
}

char *
berth_time_reformat_ansic(const char *text)
{
    struct tm tm;
    long nsec, off;
    if (!text || !parse_rfc3339(text, &tm, &nsec, &off))
        return strdup(text ? text : "");
    time_t wall = timegm(&tm); /* normalises and fills the weekday */
    gmtime_r(&wall, &tm);
    char buf[64];
    strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
    return strdup(buf);
}

/* ---- JSON, Go style ---- */

static int
go_json_string(const char *s, size_t n, bool escape_html, struct berth_strbuf *out)
{
    static const char hex[] = "0123456789abcdef";
    int r = berth_strbuf_putc(out, '"');
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (r == 0 && i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            char esc[7] = {0};
            if (c == '"' || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)c;
            } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
                esc[0] = '\\';
                esc[1] = c == '\n'   ? 'n'
                         : c == '\r' ? 'r'
                         : c == '\t' ? 't'
                         : c == '\b' ? 'b'
                                     : 'f';
            } else if (c < 0x20 || (escape_html && (c == '<' || c == '>' || c == '&'))) {
                esc[0] = '\\';
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
            r = esc[0] ? berth_strbuf_puts(out, esc) : berth_strbuf_putc(out, (char)c);
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_next(p + i, n - i, &cp);
        if (cp == 0xfffd && l == 1)
            r = berth_strbuf_puts(out, "\\ufffd");
        else if (cp == 0x2028 || cp == 0x2029)
            r = berth_strbuf_printf(out, "\\u%04x", cp);
        else
            r = berth_strbuf_append(out, s + i, l);
        i += l;
    }
    return r < 0 ? r : berth_strbuf_putc(out, '"');
}

void
berth_go_float(double f, bool json_style, char *buf, size_t len)
{
    if (isnan(f) || isinf(f)) {
        snprintf(buf, len, "%s", isnan(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (f == 0) {
        snprintf(buf, len, "%s", signbit(f) && !json_style ? "-0" : "0");
        return;
    }
    /* the shortest digit string that reads back as f */
    char e[64];
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, f);
        if (strtod(e, NULL) == f)
            break;
    }
    snprintf(e, sizeof(e), "%.*e", prec - 1, f);
    const char *ep = strchr(e, 'e');
    long exp = ep ? strtol(ep + 1, NULL, 10) : 0;
    double a = f < 0 ? -f : f;
    bool use_exp = json_style ? (a < 1e-6 || a >= 1e21) : (exp < -4 || exp >= 6);
    if (!use_exp) {
        long decimals = prec - 1 - exp;
        snprintf(buf, len, "%.*f", (int)(decimals > 0 ? decimals : 0), f);
        return;
    }
    snprintf(buf, len, "%s", e);
    if (json_style) { /* encoding/json writes e-7, not e-07 */
        char *x = strstr(buf, "e-0");
        if (x && x[3] && !x[4])
            memmove(x + 2, x + 3, 2);
    }
}

static int
go_json_value(const json_t *v, bool escape_html, struct berth_strbuf *out)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int r = berth_strbuf_putc(out, '{');
        const char *k;
        json_t *x;
        bool first = true;
        json_object_foreach((json_t *)v, k, x)
        {
            if (r == 0 && !first)
                r = berth_strbuf_putc(out, ',');
            first = false;
            if (r == 0)
                r = go_json_string(k, strlen(k), escape_html, out);
            if (r == 0)
                r = berth_strbuf_putc(out, ':');
            if (r == 0)
                r = go_json_value(x, escape_html, out);
        }
        return r < 0 ? r : berth_strbuf_putc(out, '}');
    }
    case JSON_ARRAY: {
        int r = berth_strbuf_putc(out, '[');
        for (size_t i = 0; r == 0 && i < json_array_size(v); i++) {
            if (i)
                r = berth_strbuf_putc(out, ',');
            if (r == 0)
                r = go_json_value(json_array_get(v, i), escape_html, out);
        }
        return r < 0 ? r : berth_strbuf_putc(out, ']');
    }
    case JSON_STRING:
        return go_json_string(json_string_value(v), json_string_length(v), escape_html, out);
    case JSON_INTEGER:
        return berth_strbuf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        berth_go_float(json_real_value(v), true, num, sizeof(num));
        return berth_strbuf_puts(out, num);
    case JSON_TRUE:
        return berth_strbuf_puts(out, "true");
    case JSON_FALSE:
        return berth_strbuf_puts(out, "false");
    default:
        return berth_strbuf_puts(out, "null");
    }
}

int
berth_json_go_encode(const json_t *v, bool escape_html, struct berth_strbuf *out)
{
    if (!v)
        return berth_strbuf_puts(out, "null");
    return go_json_value(v, escape_html, out);
}

static int
json_check(const char *src, size_t len, struct berth_error **err)
{
    json_error_t jerr;
    json_t *v = json_loadb(src, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v)
        return berth_error_setq(err, EINVAL, "invalid JSON: %s", jerr.text);
    json_decref(v);
    return 0;
}

static int
newline_indent(struct berth_strbuf *out, const char *indent, int depth)
{
    int r = berth_strbuf_putc(out, '\n');
    for (int i = 0; r == 0 && i < depth; i++)
        r = berth_strbuf_puts(out, indent);
    return r;
}

int
berth_json_indent(const char *src, size_t len, const char *indent, struct berth_strbuf *out,
                  struct berth_error **err)
{
    int r = json_check(src, len, err);
    if (r < 0)
        return r;
    bool in_str = false, esc = false, need_indent = false;
    int depth = 0;
    for (size_t i = 0; r == 0 && i < len; i++) {
        char c = src[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            r = berth_strbuf_putc(out, c);
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (need_indent && c != '}' && c != ']') {
            need_indent = false;
            depth++;
            r = newline_indent(out, indent, depth);
        }
        switch (c) {
        case '"':
            in_str = true;
            r = r ? r : berth_strbuf_putc(out, c);
            break;
        case '{':
        case '[':
            need_indent = true;
            r = r ? r : berth_strbuf_putc(out, c);
            break;
        case ',':
            r = r ? r : berth_strbuf_putc(out, c);
            r = r ? r : newline_indent(out, indent, depth);
            break;
        case ':':
            r = r ? r : berth_strbuf_puts(out, ": ");
            break;
        case '}':
        case ']':
            if (need_indent) {
                need_indent = false;
            } else {
                depth--;
                r = r ? r : newline_indent(out, indent, depth);
            }
            r = r ? r : berth_strbuf_putc(out, c);
            break;
        default:
            r = r ? r : berth_strbuf_putc(out, c);
        }
    }
    return r < 0 ? berth_error_set(err, -r, "indent JSON") : 0;
}

int
berth_json_compact(const char *src, size_t len, struct berth_strbuf *out, struct berth_error **err)
{
    int r = json_check(src, len, err);
    if (r < 0)
        return r;
    bool in_str = false, esc = false;
    for (size_t i = 0; r == 0 && i < len; i++) {
        char c = src[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        }
        r = berth_strbuf_putc(out, c);
    }
    return r < 0 ? berth_error_set(err, -r, "compact JSON") : 0;
}

/* ---- tabwriter ---- */

struct tw_cell {
    const char *text;
    size_t size, width;
    bool htab;
};

struct tw_line {
    struct tw_cell *cells;
    size_t n, cap;
};

struct tw {
    struct tw_line *lines;
    size_t nlines;
    size_t *widths;
    size_t nwidths;
    int minwidth, padding;
    char padchar;
    struct berth_strbuf *out;
    int r;
};

static void
tw_pad(struct tw *t, size_t n)
{
    while (n-- > 0 && t->r == 0)
        t->r = berth_strbuf_putc(t->out, t->padchar);
}

static void
tw_write_lines(struct tw *t, size_t line0, size_t line1)
{
    for (size_t i = line0; i < line1 && t->r == 0; i++) {
        const struct tw_line *line = &t->lines[i];
        for (size_t j = 0; j < line->n; j++) {
            const struct tw_cell *c = &line->cells[j];
            if (c->size > 0)
                t->r = t->r ? t->r : berth_strbuf_append(t->out, c->text, c->size);
            if (j < t->nwidths)
                tw_pad(t, t->widths[j] > c->width ? t->widths[j] - c->width : 0);
        }
        if (i + 1 < t->nlines)
            t->r = t->r ? t->r : berth_strbuf_putc(t->out, '\n');
    }
}

/* True when the line has a cell in column (its last cell does not belong to a column). */
static bool
tw_has_column(const struct tw_line *line, size_t column)
{
    return line->n > 0 && column < line->n - 1;
}

static void
tw_format(struct tw *t, size_t line0, size_t line1)
{
    size_t column = t->nwidths;
    for (size_t this = line0; this < line1; this ++) {
        if (!tw_has_column(&t->lines[this], column))
            continue;
        tw_write_lines(t, line0, this);
        line0 = this;
        size_t width = (size_t)t->minwidth;
        for (; this < line1; this ++) {
            const struct tw_line *line = &t->lines[this];
            if (!tw_has_column(line, column))
                break;
            size_t w = line->cells[column].width + (size_t)t->padding;
            if (w > width)
                width = w;
        }
        t->widths[t->nwidths++] = width;
        tw_format(t, line0, this);
        t->nwidths--;
        line0 = this;
        if (this >= line1)
            break;
    }
    tw_write_lines(t, line0, line1);
}

static int
tw_add_cell(struct tw_line *line, const char *text, size_t size, bool htab)
{
    if (line->n == line->cap) {
        size_t ncap = line->cap ? line->cap * 2 : 8;
        struct tw_cell *n = realloc(line->cells, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        line->cells = n;
        line->cap = ncap;
    }
    line->cells[line->n++] = (struct tw_cell){
        .text = text, .size = size, .width = berth_display_width(text, size), .htab = htab};
    return 0;
}

int
berth_tabwriter(const char *text, size_t len, int minwidth, int padding, char padchar,
                struct berth_strbuf *out)
{
    struct tw t = {.minwidth = minwidth, .padding = padding, .padchar = padchar, .out = out};
    size_t maxcells = 1, nl = 1;
    for (size_t i = 0; i < len; i++)
        nl += text[i] == '\n';
    t.lines = calloc(nl, sizeof(*t.lines));
    if (!t.lines)
        return -ENOMEM;
    int r = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len && r == 0; i++) {
        if (i < len && text[i] != '\t' && text[i] != '\n')
            continue;
        struct tw_line *line = &t.lines[t.nlines];
        if (i < len || i > start) /* the text after the last newline, when there is some */
            r = tw_add_cell(line, text + start, i - start, i < len && text[i] == '\t');
        start = i + 1;
        if (line->n > maxcells)
            maxcells = line->n;
        if (i == len || text[i] == '\n')
            t.nlines++;
    }
    if (r == 0) {
        t.widths = calloc(maxcells + 1, sizeof(*t.widths));
        if (!t.widths)
            r = -ENOMEM;
    }
    /* a line with a single cell flushes: columns never span it */
    size_t seg = 0;
    for (size_t i = 0; r == 0 && i < t.nlines; i++) {
        if (t.lines[i].n == 1 && i + 1 < t.nlines) {
            tw_format(&t, seg, i + 1);
            seg = i + 1;
        }
    }
    if (r == 0)
        tw_format(&t, seg, t.nlines);
    if (r == 0)
        r = t.r;
    for (size_t i = 0; i < nl; i++)
        free(t.lines[i].cells);
    free(t.lines);
    free(t.widths);
    return r;
}

/* ---- docker's formatter.Context ---- */

static char *
replace_all(const char *s, const char *from, const char *to)
{
    struct berth_strbuf b = {0};
    size_t fl = strlen(from);
    while (*s) {
        if (!strncmp(s, from, fl)) {
            if (berth_strbuf_puts(&b, to) < 0)
                goto oom;
            s += fl;
        } else if (berth_strbuf_putc(&b, *s++) < 0) {
            goto oom;
        }
    }
    return berth_strbuf_steal(&b);
oom:
    berth_strbuf_free(&b);
    return NULL;
}

char *
berth_format_prepare(const char *format, bool *ret_is_table)
{
    bool table = !strncmp(format, "table", 5);
    const char *f = format;
    if (table)
        f += 5;
    else if (!strcmp(format, "json"))
        f = "{{json .}}";
    while (*f == ' ')
        f++;
    size_t n = strlen(f);
    while (n > 0 && f[n - 1] == ' ')
        n--;
    _cleanup_free_ char *trimmed = strndup(f, n);
    _cleanup_free_ char *tabs = trimmed ? replace_all(trimmed, "\\t", "\t") : NULL;
    char *nl = tabs ? replace_all(tabs, "\\n", "\n") : NULL;
    if (nl && ret_is_table)
        *ret_is_table = table;
    return nl;
}

int
berth_format_write(const char *format, json_t *header, const char *root_type, json_t *rows,
                   struct berth_strbuf *out, struct berth_error **err)
{
    return berth_format_write_methods(format, header, root_type, rows, NULL, NULL, out, err);
}

int
berth_format_write_methods(const char *format, json_t *header, const char *root_type, json_t *rows,
                           json_t *(*method)(void *ud, json_t *dot, const char *name, json_t **args,
                                             size_t nargs),
                           void *method_ud, struct berth_strbuf *out, struct berth_error **err)
{
    bool table = false;
    _cleanup_free_ char *text = berth_format_prepare(format, &table);
    if (!text)
        return berth_error_set(err, ENOMEM, "format");
    _cleanup_template_ struct berth_template *t = NULL;
    int r = berth_template_parse(text, &t, err);
    if (r < 0)
        return berth_error_wrap(err, "template parsing error");
    _cleanup_strbuf_ struct berth_strbuf body = {0};
    struct berth_template_opts row_opts = {.flags = BERTH_TMPL_ROOT_JSON_HTML,
                                           .root_type = root_type,
                                           .method = method,
                                           .method_ud = method_ud};
    for (size_t i = 0; i < json_array_size(rows); i++) {
        r = berth_template_execute(t, json_array_get(rows, i), &row_opts, &body, err);
        if (r < 0)
            return berth_error_wrap(err, "template parsing error");
        if (berth_strbuf_putc(&body, '\n') < 0)
            return berth_error_set(err, ENOMEM, "format");
    }
    if (!table)
        return berth_strbuf_append(out, berth_strbuf_str(&body), body.len) < 0
                   ? berth_error_set(err, ENOMEM, "format")
                   : 0;
    _cleanup_strbuf_ struct berth_strbuf all = {0};
    struct berth_template_opts head_opts = {.flags = BERTH_TMPL_HEADER};
    struct berth_error *herr = NULL; /* docker ignores errors of the header row */
    berth_template_execute(t, header, &head_opts, &all, &herr);
    berth_error_free(herr);
    if (berth_strbuf_putc(&all, '\n') < 0 ||
        berth_strbuf_append(&all, berth_strbuf_str(&body), body.len) < 0 ||
        berth_tabwriter(berth_strbuf_str(&all), all.len, 10, 3, ' ', out) < 0)
        return berth_error_set(err, ENOMEM, "format");
    return 0;
}
