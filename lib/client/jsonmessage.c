/* docker's pkg/jsonmessage rendering (see jsonmessage.h). */
#include "client/jsonmessage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client/format.h"
#include "client/http.h"
#include "core/cleanup.h"

static const char *
str_field(json_t *msg, const char *key)
{
    const char *s = json_string_value(json_object_get(msg, key));
    return s ? s : "";
}

static long long
int_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long long)json_integer_value(v)
           : json_is_real(v)  ? (long long)json_real_value(v)
                              : 0;
}

/* Go's time.Duration.String() for whole seconds */
static void
go_duration(long long secs, char *buf, size_t len)
{
    if (secs <= 0)
        snprintf(buf, len, "0s");
    else if (secs >= 3600)
        snprintf(buf, len, "%lldh%lldm%llds", secs / 3600, secs / 60 % 60, secs % 60);
    else if (secs >= 60)
        snprintf(buf, len, "%lldm%llds", secs / 60, secs % 60);
    else
        snprintf(buf, len, "%llds", secs);
}

void
berth_jsonmessage_progress(json_t *detail, int width, double now, char *buf, size_t len)
{
    long long current = int_field(detail, "current"), total = int_field(detail, "total");
    long long start = int_field(detail, "start");
    bool hide = json_is_true(json_object_get(detail, "hidecounts"));
    const char *units = str_field(detail, "units");
    char cur[32], tot[32];
    buf[0] = '\0';
    if (current <= 0 && total <= 0)
        return;
    if (total <= 0) {
        if (!units[0]) {
            berth_human_size((double)current, 4, cur, sizeof(cur));
            snprintf(buf, len, "%8s", cur);
        } else {
            snprintf(buf, len, "%lld %s", current, units);
        }
        return;
    }
    int percentage = (int)((double)current / (double)total * 100) / 2;
    if (percentage > 50)
        percentage = 50;
    char bar[64] = "";
    if (width > 110) {
        int spaces = 50 - percentage > 0 ? 50 - percentage : 0;
        char *p = bar;
        *p++ = '[';
        for (int i = 0; i < percentage; i++)
            *p++ = '=';
        *p++ = '>';
        for (int i = 0; i < spaces; i++)
            *p++ = ' ';
        *p++ = ']';
        *p++ = ' ';
        *p = '\0';
    }
    char numbers[96] = "";
    if (hide) {
        /* nothing */
    } else if (!units[0]) {
        berth_human_size((double)current, 4, cur, sizeof(cur));
        berth_human_size((double)total, 4, tot, sizeof(tot));
        if (current > total)
            snprintf(numbers, sizeof(numbers), "%8s", cur);
        else
            snprintf(numbers, sizeof(numbers), "%8s/%s", cur, tot);
    } else if (current > total) {
        snprintf(numbers, sizeof(numbers), "%lld %s", current, units);
    } else {
        snprintf(numbers, sizeof(numbers), "%lld/%lld %s", current, total, units);
    }
    char left_box[48] = "";
    if (current > 0 && start > 0 && percentage < 50) {
        /* Go: perEntry = fromStart / current (ns); left = (total - current) * perEntry */
        long long from_start = (long long)((now - (double)start) * 1e9);
        long long per_entry = from_start / current;
        long long left = (total - current) * per_entry / 1000000000LL;
        if (width > 50) {
            char d[32];
            go_duration(left, d, sizeof(d));
            snprintf(left_box, sizeof(left_box), " %s", d);
        }
    }
    snprintf(buf, len, "%s%s%s", bar, numbers, left_box);
}

static int
term_width(struct berth_jsonmessage *d)
{
    if (d->width > 0)
        return d->width;
    struct winsize ws;
    if (d->out && ioctl(fileno(d->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 200;
}

static void
clear_ids(struct berth_jsonmessage *d)
{
    for (size_t i = 0; i < d->nids; i++)
        free(d->ids[i]);
    free(d->ids);
    d->ids = NULL;
    d->nids = 0;
}

void
berth_jsonmessage_clear(struct berth_jsonmessage *d)
{
    clear_ids(d);
}

/* JSONMessage.Display */
static int
display(struct berth_jsonmessage *d, json_t *msg, struct berth_error **err)
{
    json_t *error_detail = json_object_get(msg, "errorDetail");
    if (json_is_object(error_detail)) {
        d->error_code = (int)int_field(error_detail, "code");
        return berth_error_setq(err, EIO, "%s", str_field(error_detail, "message"));
    }
    if (json_is_string(json_object_get(msg, "error")))
        return berth_error_setq(err, EIO, "%s", str_field(msg, "error"));
    FILE *out = d->out;
    json_t *progress = json_object_get(msg, "progressDetail");
    if (json_is_null(progress))
        progress = NULL;
    const char *stream = str_field(msg, "stream"), *status = str_field(msg, "status");
    const char *id = str_field(msg, "id"), *from = str_field(msg, "from");
    const char *progress_message = str_field(msg, "progress");
    char bar[256] = "";
    if (progress)
        berth_jsonmessage_progress(progress, d->tty ? term_width(d) : 200, berth_now(), bar,
                                   sizeof(bar));
    const char *endl = "";
    if (d->tty && !stream[0] && progress) {
        fputs("\x1b[2K", out);
        endl = "\r";
        fputs(endl, out);
    } else if (progress && bar[0]) {
        return 0; /* no progress bars off a terminal */
    }
    long long time_nano = int_field(msg, "timeNano"), secs = int_field(msg, "time");
    char ts[64];
    if (time_nano != 0) {
        berth_time_rfc3339_nano_fixed(time_nano, ts, sizeof(ts));
        fprintf(out, "%s ", ts);
    } else if (secs != 0) {
        berth_time_rfc3339_nano_fixed(secs * 1000000000LL, ts, sizeof(ts));
        fprintf(out, "%s ", ts);
    }
    if (id[0])
        fprintf(out, "%s: ", id);
    if (from[0])
        fprintf(out, "(from %s) ", from);
    if (progress && d->tty)
        fprintf(out, "%s %s%s", status, bar, endl);
    else if (progress_message[0])
        fprintf(out, "%s %s%s", status, progress_message, endl);
    else if (stream[0])
        fprintf(out, "%s%s", stream, endl);
    else
        fprintf(out, "%s%s\n", status, endl);
    return 0;
}

int
berth_jsonmessage_display(struct berth_jsonmessage *d, json_t *msg, struct berth_error **err)
{
    json_t *aux = json_object_get(msg, "aux");
    if (aux && !json_is_null(aux)) {
        if (d->on_aux)
            d->on_aux(d->ud, aux);
        return 0;
    }
    const char *id = str_field(msg, "id");
    json_t *progress = json_object_get(msg, "progressDetail");
    bool has_progress = progress && !json_is_null(progress);
    size_t diff = 0;
    if (id[0] && (has_progress || str_field(msg, "progress")[0])) {
        size_t line = d->nids;
        for (size_t i = 0; i < d->nids; i++)
            if (!strcmp(d->ids[i], id)) {
                line = i;
                break;
            }
        if (line == d->nids) {
            char **n = realloc(d->ids, (d->nids + 1) * sizeof(*n));
            if (!n || !(n[d->nids] = strdup(id))) {
                if (n)
                    d->ids = n;
                return berth_error_set(err, ENOMEM, "display progress");
            }
            d->ids = n;
            d->nids++;
            if (d->tty)
                fputc('\n', d->out);
        }
        diff = d->nids - line;
        if (d->tty && diff > 0)
            fprintf(d->out, "\x1b[%zuA", diff);
    } else {
        clear_ids(d);
    }
    int r = display(d, msg, err);
    if (id[0] && d->tty && diff > 0)
        fprintf(d->out, "\x1b[%zuB", diff);
    fflush(d->out);
    return r;
}

static int
on_value(void *ud, json_t *v, struct berth_error **err)
{
    return berth_jsonmessage_display(ud, v, err);
}

int
berth_jsonmessage_render(struct berth_jsonmessage *d, const char *data, size_t len,
                         struct berth_error **err)
{
    struct berth_json_splitter s = {.on_value = on_value, .ud = d};
    int r = berth_json_splitter_feed(&s, data, len, err);
    if (r == 0)
        r = berth_json_splitter_finish(&s, err);
    berth_json_splitter_clear(&s);
    return r;
}
