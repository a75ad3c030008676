/* The output of `inspect`, `image inspect` and `container inspect`, as docker prints it. */
#include <stdio.h>
#include <string.h>

#include "client/commands.h"
#include "client/format.h"
#include "core/cleanup.h"

void
berth_inspect_out_add(struct berth_inspect_out *o, json_t *v, const char *body)
{
    if (o->tmpl) {
        _cleanup_strbuf_ struct berth_strbuf one = {0};
        _cleanup_error_ struct berth_error *e = NULL;
        if (berth_template_execute(o->tmpl, v, NULL, &one, &e) < 0) {
            berth_strbuf_printf(&o->errors, "%stemplate parsing error: %s",
                                o->errors.len ? "\n" : "", e->msg);
            return;
        }
        berth_strbuf_append(&o->out, berth_strbuf_str(&one), one.len);
        berth_strbuf_putc(&o->out, '\n');
        return;
    }
    berth_strbuf_puts(&o->raw, o->found ? "," : "[");
    berth_strbuf_puts(&o->raw, body);
    o->found++;
}

void
berth_inspect_out_error(struct berth_inspect_out *o, const char *msg)
{
    berth_strbuf_printf(&o->errors, "%s%s", o->errors.len ? "\n" : "", msg);
}

int
berth_inspect_out_finish(struct berth_cli *cli, struct berth_inspect_out *o, bool json_compact)
{
    int rc = 0;
    if (o->tmpl) {
        fputs(o->out.len ? berth_strbuf_str(&o->out) : "\n", cli->out);
    } else if (o->found == 0) {
        fputs("[]\n", cli->out);
    } else {
        berth_strbuf_putc(&o->raw, ']');
        _cleanup_strbuf_ struct berth_strbuf pretty = {0};
        _cleanup_error_ struct berth_error *err = NULL;
        int r = json_compact ? berth_json_compact(o->raw.s, o->raw.len, &pretty, &err)
                             : berth_json_indent(o->raw.s, o->raw.len, "    ", &pretty, &err);
        if (r < 0)
            rc = berth_cli_fail(cli, err);
        else
            fprintf(cli->out, "%s\n", berth_strbuf_str(&pretty));
    }
    if (rc == 0 && o->errors.len) {
        fflush(cli->out);
        fprintf(cli->err, "%s\n", berth_strbuf_str(&o->errors));
        rc = 1;
    }
    berth_strbuf_free(&o->raw);
    berth_strbuf_free(&o->out);
    berth_strbuf_free(&o->errors);
    return rc;
}
