/* berth version, info, events, system df: docker's output for GET /version, /info, /events and
 * /system/df. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "client/commands.h"
#include "client/format.h"
#include "core/cleanup.h"

#define CONTEXT_NAME "default"

/* Go's %v of a JSON scalar (Fprintln of a field) */
static void
put_value(struct berth_strbuf *b, json_t *v)
{
    if (!v)
        v = json_null();
    if (json_is_null(v))
        berth_strbuf_puts(b, "");
    else
        berth_template_print_value(v, b);
}

static const char *
go_arch(void)
{
    static struct utsname u;
    if (uname(&u) < 0)
        return "unknown";
    static const char *const map[][2] = {
        {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i686", "386"},    {"i386", "386"},
        {"armv7l", "arm"},   {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"}};
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(map); i++)
        if (!strcmp(u.machine, map[i][0]))
            return map[i][1];
    return u.machine;
}

/* The build time of this binary in Go's ANSIC layout, like the CLI's "Built:" */
static void
build_time(char *buf, size_t len)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char mon[4] = "";
    int day = 1, year = 1970, h = 0, m = 0, s = 0;
    sscanf(__DATE__, "%3s %d %d", mon, &day, &year);
    sscanf(__TIME__, "%d:%d:%d", &h, &m, &s);
    struct tm tm = {.tm_year = year - 1900, .tm_mday = day, .tm_hour = h, .tm_min = m, .tm_sec = s};
    for (int i = 0; i < 12; i++)
        if (!strcmp(mon, months[i]))
            tm.tm_mon = i;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(buf, len, "%a %b %e %H:%M:%S %Y", &tm);
}

static json_t *
client_version_json(struct berth_cli *cli, bool with_api)
{
    char built[64];
    build_time(built, sizeof(built));
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Version", BERTH_CLIENT_VERSION,
                          "DefaultAPIVersion", BERTH_CLIENT_API_VERSION, "GitCommit",
#ifdef BERTH_GIT_COMMIT
                          BERTH_GIT_COMMIT,
#else
                          "unknown",
#endif
                          "GoVersion", "n/a", "Os", "linux", "Arch", go_arch(), "BuildTime", built);
    if (c && with_api) {
        struct berth_client *client = berth_cli_client(cli);
        json_object_set_new(
            c, "ApiVersion",
            json_string(client ? berth_client_api_version(client) : BERTH_CLIENT_API_VERSION));
    }
    if (c)
        json_object_set_new(c, "Context", json_string(CONTEXT_NAME));
    return c;
}

/* ---- version ---- */

static void
version_text(json_t *client, json_t *server, struct berth_strbuf *b)
{
    berth_strbuf_puts(b, "Client:\n");
    berth_strbuf_printf(b, " Version:\t%s\n", berth_cli_jstr(client, "Version"));
    berth_strbuf_printf(b, " API version:\t%s", berth_cli_jstr(client, "ApiVersion"));
    if (strcmp(berth_cli_jstr(client, "ApiVersion"), berth_cli_jstr(client, "DefaultAPIVersion")))
        berth_strbuf_printf(b, " (downgraded from %s)",
                            berth_cli_jstr(client, "DefaultAPIVersion"));
    berth_strbuf_printf(b,
                        "\n Go version:\t%s\n Git commit:\t%s\n Built:\t%s\n OS/Arch:\t%s/%s\n"
                        " Context:\t%s",
                        berth_cli_jstr(client, "GoVersion"), berth_cli_jstr(client, "GitCommit"),
                        berth_cli_jstr(client, "BuildTime"), berth_cli_jstr(client, "Os"),
                        berth_cli_jstr(client, "Arch"), berth_cli_jstr(client, "Context"));
    if (!server)
        return;
    const char *platform = berth_cli_jstr(json_object_get(server, "Platform"), "Name");
    berth_strbuf_printf(b, "\n\nServer:%s%s", platform[0] ? " " : "", platform);
    json_t *comp;
    size_t i;
    json_array_foreach(json_object_get(server, "Components"), i, comp)
    {
        json_t *details = json_object_get(comp, "Details");
        berth_strbuf_printf(b, "\n %s:", berth_cli_jstr(comp, "Name"));
        if (!strcmp(berth_cli_jstr(comp, "Name"), "Engine")) {
            _cleanup_free_ char *built =
                berth_time_reformat_ansic(berth_cli_jstr(details, "BuildTime"));
            berth_strbuf_printf(
                b,
                "\n  Version:\t%s\n  API version:\t%s (minimum version %s)\n"
                "  Go version:\t%s\n  Git commit:\t%s\n  Built:\t%s\n"
                "  OS/Arch:\t%s/%s\n  Experimental:\t%s",
                berth_cli_jstr(comp, "Version"), berth_cli_jstr(details, "ApiVersion"),
                berth_cli_jstr(details, "MinAPIVersion"), berth_cli_jstr(details, "GoVersion"),
                berth_cli_jstr(details, "GitCommit"), built ? built : "",
                berth_cli_jstr(details, "Os"), berth_cli_jstr(details, "Arch"),
                berth_cli_jstr(details, "Experimental"));
            continue;
        }
        berth_strbuf_printf(b, "\n  Version:\t%s", berth_cli_jstr(comp, "Version"));
        /* details in key order (the CLI's getDetailsOrder) */
        size_t n = json_object_size(details), k = 0;
        const char **keys = calloc(n + 1, sizeof(*keys));
        const char *key;
        json_t *v;
        json_object_foreach(details, key, v)
        {
            if (keys)
                keys[k++] = key;
        }
        for (size_t x = 0; keys && x < k; x++)
            for (size_t y = x + 1; y < k; y++)
                if (strcmp(keys[x], keys[y]) > 0) {
                    const char *t = keys[x];
                    keys[x] = keys[y];
                    keys[y] = t;
                }
        for (size_t x = 0; keys && x < k; x++) {
            berth_strbuf_printf(b, "\n  %s:\t", keys[x]);
            put_value(b, json_object_get(details, keys[x]));
        }
        free(keys);
    }
}

/* Servers without an Engine component get one made of the top-level fields, as the CLI does. */
static void
server_add_engine(json_t *server)
{
    json_t *comps = json_object_get(server, "Components");
    json_t *c;
    size_t i;
    json_array_foreach(comps, i, c)
    {
        if (!strcmp(berth_cli_jstr(c, "Name"), "Engine")) {
            json_t *d = json_object_get(c, "Details");
            if (json_is_object(d) && json_is_string(json_object_get(d, "BuildTime"))) {
                _cleanup_free_ char *t = berth_time_reformat_ansic(berth_cli_jstr(d, "BuildTime"));
                json_object_set_new(d, "BuildTime", json_string(t ? t : ""));
            }
            return;
        }
    }
    if (!json_is_array(comps)) {
        comps = json_array();
        json_object_set_new(server, "Components", comps);
    }
    _cleanup_free_ char *built = berth_time_reformat_ansic(berth_cli_jstr(server, "BuildTime"));
    json_array_append_new(
        comps,
        json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "Name", "Engine",
                  "Version", berth_cli_jstr(server, "Version"), "Details", "ApiVersion",
                  berth_cli_jstr(server, "ApiVersion"), "MinAPIVersion",
                  berth_cli_jstr(server, "MinAPIVersion"), "GitCommit",
                  berth_cli_jstr(server, "GitCommit"), "GoVersion",
                  berth_cli_jstr(server, "GoVersion"), "Os", berth_cli_jstr(server, "Os"), "Arch",
                  berth_cli_jstr(server, "Arch"), "BuildTime", built ? built : "", "Experimental",
                  json_is_true(json_object_get(server, "Experimental")) ? "true" : "false"));
}

int
berth_cli_cmd_version(struct berth_cli *cli, int argc, char **argv)
{
    const char *format = NULL;
    const struct berth_opt opts[] = {
        {'f', "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'json' or a Go template"},
    };
    static const struct berth_cli_cmd_info info = {
        "[OPTIONS]", "Show the Docker version information", NULL, 0, 0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    _cleanup_template_ struct berth_template *tmpl = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    if (format && format[0]) {
        if (berth_template_parse_named("version", !strcmp(format, "json") ? "{{json .}}" : format,
                                       &tmpl, &err) < 0) {
            fprintf(cli->err, "template parsing error: %s\n", err->msg);
            return 64;
        }
    }
    json_t *client = client_version_json(cli, true);
    struct berth_client *c = berth_cli_client(cli);
    json_t *server = NULL;
    _cleanup_error_ struct berth_error *serr = NULL;
    if (c && berth_client_get_json(c, "/version", NULL, &server, NULL, &serr) == 0)
        server_add_engine(server);
    _cleanup_strbuf_ struct berth_strbuf text = {0};
    int rc = 0;
    if (tmpl) {
        json_t *doc = json_pack("{s:O, s:O?}", "Client", client, "Server", server);
        static const struct berth_template_opts vopts = {.root_type = "system.versionInfo"};
        if (berth_template_execute(tmpl, doc, &vopts, &text, &err) < 0) {
            rc = 1;
        }
        json_decref(doc);
    } else {
        version_text(client, server, &text);
    }
    berth_strbuf_putc(&text, '\n');
    _cleanup_strbuf_ struct berth_strbuf out = {0};
    berth_tabwriter(berth_strbuf_str(&text), text.len, 20, 1, ' ', &out);
    fputs(berth_strbuf_str(&out), cli->out);
    json_decref(client);
    json_decref(server);
    if (rc)
        return berth_cli_fail(cli, err);
    if (serr)
        return berth_cli_fail(cli, serr);
    return c ? 0 : 1;
}

/* ---- info ---- */

static void
lines_nonempty(struct berth_strbuf *b, const char *label, const char *value)
{
    if (value && value[0])
        berth_strbuf_printf(b, "%s %s\n", label, value);
}

static void
line_bool(struct berth_strbuf *b, const char *label, json_t *v)
{
    berth_strbuf_printf(b, "%s %s\n", label, json_is_true(v) ? "true" : "false");
}

static void
line_int(struct berth_strbuf *b, const char *label, json_t *obj, const char *key)
{
    berth_strbuf_printf(b, "%s %lld\n", label, berth_cli_jint(obj, key));
}

static void
join_strings(struct berth_strbuf *b, json_t *arr)
{
    json_t *v;
    size_t i;
    json_array_foreach(arr, i, v)
    {
        if (i)
            berth_strbuf_putc(b, ' ');
        berth_strbuf_puts(b, json_string_value(v) ? json_string_value(v) : "");
    }
}

static void
print_swarm(struct berth_strbuf *b, json_t *swarm)
{
    const char *state = berth_cli_jstr(swarm, "LocalNodeState");
    if (!strcmp(state, "inactive") || !strcmp(state, "locked") || !state[0])
        return;
    berth_strbuf_printf(b, "  NodeID: %s\n", berth_cli_jstr(swarm, "NodeID"));
    if (berth_cli_jstr(swarm, "Error")[0])
        berth_strbuf_printf(b, "  Error: %s\n", berth_cli_jstr(swarm, "Error"));
    line_bool(b, "  Is Manager:", json_object_get(swarm, "ControlAvailable"));
    berth_strbuf_printf(b, "  Node Address: %s\n", berth_cli_jstr(swarm, "NodeAddr"));
}

/* Decodes "name=seccomp,profile=builtin" entries (system.DecodeSecurityOptions). */
static int
print_security_options(struct berth_strbuf *b, json_t *opts, struct berth_strbuf *errors)
{
    struct berth_strbuf tmp = {0};
    json_t *v;
    size_t i;
    berth_strbuf_puts(&tmp, " Security Options:\n");
    json_array_foreach(opts, i, v)
    {
        _cleanup_free_ char *copy = strdup(json_string_value(v) ? json_string_value(v) : "");
        if (!copy)
            break;
        const char *name = "";
        char *profile = NULL, *save = NULL;
        for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq) {
                berth_strbuf_printf(errors, "ERROR: invalid security option \"%s\"\n", kv);
                berth_strbuf_free(&tmp);
                return -EINVAL;
            }
            *eq = '\0';
            if (!kv[0] || !eq[1]) {
                berth_strbuf_puts(errors, "ERROR: invalid empty security option\n");
                berth_strbuf_free(&tmp);
                return -EINVAL;
            }
            if (!strcmp(kv, "name"))
                name = eq + 1;
            else if (!strcmp(kv, "profile"))
                profile = eq + 1;
        }
        berth_strbuf_printf(&tmp, "  %s\n", name);
        if (profile)
            berth_strbuf_printf(&tmp, "   Profile: %s\n", profile);
    }
    berth_strbuf_append(b, berth_strbuf_str(&tmp), tmp.len);
    berth_strbuf_free(&tmp);
    return 0;
}

static void
info_server(json_t *info, bool debug, struct berth_strbuf *b, struct berth_strbuf *errors)
{
    char mem[32];
    line_int(b, " Containers:", info, "Containers");
    line_int(b, "  Running:", info, "ContainersRunning");
    line_int(b, "  Paused:", info, "ContainersPaused");
    line_int(b, "  Stopped:", info, "ContainersStopped");
    line_int(b, " Images:", info, "Images");
    lines_nonempty(b, " Server Version:", berth_cli_jstr(info, "ServerVersion"));
    lines_nonempty(b, " Storage Driver:", berth_cli_jstr(info, "Driver"));
    json_t *pair;
    size_t i;
    json_array_foreach(json_object_get(info, "DriverStatus"), i, pair)
    {
        berth_strbuf_printf(b, "  %s: %s\n", json_string_value(json_array_get(pair, 0)) ?: "",
                            json_string_value(json_array_get(pair, 1)) ?: "");
    }
    json_array_foreach(json_object_get(info, "SystemStatus"), i, pair)
    {
        berth_strbuf_printf(b, " %s: %s\n", json_string_value(json_array_get(pair, 0)) ?: "",
                            json_string_value(json_array_get(pair, 1)) ?: "");
    }
    lines_nonempty(b, " Logging Driver:", berth_cli_jstr(info, "LoggingDriver"));
    lines_nonempty(b, " Cgroup Driver:", berth_cli_jstr(info, "CgroupDriver"));
    lines_nonempty(b, " Cgroup Version:", berth_cli_jstr(info, "CgroupVersion"));
    json_t *plugins = json_object_get(info, "Plugins");
    berth_strbuf_puts(b, " Plugins:\n  Volume: ");
    join_strings(b, json_object_get(plugins, "Volume"));
    berth_strbuf_puts(b, "\n  Network: ");
    join_strings(b, json_object_get(plugins, "Network"));
    berth_strbuf_putc(b, '\n');
    if (json_array_size(json_object_get(plugins, "Authorization")) > 0) {
        berth_strbuf_puts(b, "  Authorization: ");
        join_strings(b, json_object_get(plugins, "Authorization"));
        berth_strbuf_putc(b, '\n');
    }
    berth_strbuf_puts(b, "  Log: ");
    join_strings(b, json_object_get(plugins, "Log"));
    berth_strbuf_putc(b, '\n');
    json_t *v;
    if (json_array_size(json_object_get(info, "CDISpecDirs")) > 0) {
        berth_strbuf_puts(b, " CDI spec directories:\n");
        json_array_foreach(json_object_get(info, "CDISpecDirs"), i, v)
        {
            berth_strbuf_printf(b, "  %s\n", json_string_value(v) ?: "");
        }
    }
    json_t *swarm = json_object_get(info, "Swarm");
    berth_strbuf_printf(b, " Swarm: %s\n", berth_cli_jstr(swarm, "LocalNodeState"));
    print_swarm(b, swarm);
    json_t *runtimes = json_object_get(info, "Runtimes");
    if (json_object_size(runtimes) > 0) {
        const char *name;
        bool first = true;
        berth_strbuf_puts(b, " Runtimes:");
        json_object_foreach(runtimes, name, v)
        {
            berth_strbuf_printf(b, "%s%s", first ? " " : " ", name);
            first = false;
        }
        berth_strbuf_printf(b, "\n Default Runtime: %s\n", berth_cli_jstr(info, "DefaultRuntime"));
    }
    if (!strcmp(berth_cli_jstr(info, "OSType"), "linux")) {
        berth_strbuf_printf(b, " Init Binary: %s\n", berth_cli_jstr(info, "InitBinary"));
        berth_strbuf_printf(b, " containerd version: %s\n",
                            berth_cli_jstr(json_object_get(info, "ContainerdCommit"), "ID"));
        berth_strbuf_printf(b, " runc version: %s\n",
                            berth_cli_jstr(json_object_get(info, "RuncCommit"), "ID"));
        berth_strbuf_printf(b, " init version: %s\n",
                            berth_cli_jstr(json_object_get(info, "InitCommit"), "ID"));
        json_t *sec = json_object_get(info, "SecurityOptions");
        if (json_array_size(sec) > 0)
            print_security_options(b, sec, errors);
    }
    if (!strcmp(berth_cli_jstr(info, "OSType"), "windows"))
        berth_strbuf_printf(b, " Default Isolation: %s\n", berth_cli_jstr(info, "Isolation"));
    lines_nonempty(b, " Kernel Version:", berth_cli_jstr(info, "KernelVersion"));
    lines_nonempty(b, " Operating System:", berth_cli_jstr(info, "OperatingSystem"));
    lines_nonempty(b, " OSType:", berth_cli_jstr(info, "OSType"));
    lines_nonempty(b, " Architecture:", berth_cli_jstr(info, "Architecture"));
    line_int(b, " CPUs:", info, "NCPU");
    berth_bytes_size((double)berth_cli_jint(info, "MemTotal"), mem, sizeof(mem));
    berth_strbuf_printf(b, " Total Memory: %s\n", mem);
    lines_nonempty(b, " Name:", berth_cli_jstr(info, "Name"));
    lines_nonempty(b, " ID:", berth_cli_jstr(info, "ID"));
    berth_strbuf_printf(b, " Docker Root Dir: %s\n", berth_cli_jstr(info, "DockerRootDir"));
    line_bool(b, " Debug Mode:", json_object_get(info, "Debug"));
    if (json_is_true(json_object_get(info, "Debug")) || debug) {
        line_int(b, "  File Descriptors:", info, "NFd");
        line_int(b, "  Goroutines:", info, "NGoroutines");
        berth_strbuf_printf(b, "  System Time: %s\n", berth_cli_jstr(info, "SystemTime"));
        line_int(b, "  EventsListeners:", info, "NEventsListener");
    }
    lines_nonempty(b, " HTTP Proxy:", berth_cli_jstr(info, "HttpProxy"));
    lines_nonempty(b, " HTTPS Proxy:", berth_cli_jstr(info, "HttpsProxy"));
    lines_nonempty(b, " No Proxy:", berth_cli_jstr(info, "NoProxy"));
    json_t *labels = json_object_get(info, "Labels");
    if (json_array_size(labels) > 0) {
        berth_strbuf_puts(b, " Labels:\n");
        json_array_foreach(labels, i, v)
        {
            berth_strbuf_printf(b, "  %s\n", json_string_value(v) ?: "");
        }
    }
    line_bool(b, " Experimental:", json_object_get(info, "ExperimentalBuild"));
    json_t *reg = json_object_get(info, "RegistryConfig");
    json_t *cidrs = json_object_get(reg, "InsecureRegistryCIDRs");
    json_t *index = json_object_get(reg, "IndexConfigs");
    if (json_is_object(reg) && (json_array_size(cidrs) > 0 || json_object_size(index) > 0)) {
        berth_strbuf_puts(b, " Insecure Registries:\n");
        const char *name;
        json_object_foreach(index, name, v)
        {
            if (!json_is_true(json_object_get(v, "Secure")))
                berth_strbuf_printf(b, "  %s\n", berth_cli_jstr(v, "Name"));
        }
        json_array_foreach(cidrs, i, v)
        {
            berth_strbuf_printf(b, "  %s\n", json_string_value(v) ?: "");
        }
    }
    json_t *mirrors = json_object_get(reg, "Mirrors");
    if (json_array_size(mirrors) > 0) {
        berth_strbuf_puts(b, " Registry Mirrors:\n");
        json_array_foreach(mirrors, i, v)
        {
            berth_strbuf_printf(b, "  %s\n", json_string_value(v) ?: "");
        }
    }
    line_bool(b, " Live Restore Enabled:", json_object_get(info, "LiveRestoreEnabled"));
    lines_nonempty(b, " Product License:", berth_cli_jstr(info, "ProductLicense"));
    json_t *pools = json_object_get(info, "DefaultAddressPools");
    if (json_array_size(pools) > 0) {
        berth_strbuf_puts(b, " Default Address Pools:\n");
        json_array_foreach(pools, i, v)
        {
            berth_strbuf_printf(b, "   Base: %s, Size: %lld\n", berth_cli_jstr(v, "Base"),
                                berth_cli_jint(v, "Size"));
        }
    }
    berth_strbuf_putc(b, '\n');
}

int
berth_cli_cmd_info(struct berth_cli *cli, int argc, char **argv)
{
    const char *format = NULL;
    const struct berth_opt opts[] = {
        {'f', "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'json' or a Go template"},
    };
    static const struct berth_cli_cmd_info cinfo = {"[OPTIONS]", "Display system-wide information",
                                                    "berth system info, berth info", 0, 0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &cinfo, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    _cleanup_template_ struct berth_template *tmpl = NULL;
    _cleanup_error_ struct berth_error *err = NULL;
    if (format && format[0] &&
        berth_template_parse(!strcmp(format, "json") ? "{{json .}}" : format, &tmpl, &err) < 0) {
        fprintf(cli->err, "template parsing error: %s\n", err->msg);
        return 64;
    }
    struct berth_client *c = berth_cli_client(cli);
    json_t *info = NULL;
    _cleanup_error_ struct berth_error *serr = NULL;
    if (c)
        berth_client_get_json(c, "/info", NULL, &info, NULL, &serr);
    if (tmpl) {
        json_t *doc = info ? json_deep_copy(info) : json_object();
        json_t *ci = json_pack("{s:b}", "Debug", cli->debug);
        json_t *cv = client_version_json(cli, false);
        json_object_update(ci, cv);
        json_decref(cv);
        json_object_set_new(ci, "Plugins", json_array());
        json_object_set_new(ci, "Warnings", json_null());
        json_object_set_new(doc, "ClientInfo", ci);
        if (serr) {
            json_object_set_new(doc, "ServerErrors", json_pack("[s]", serr->msg));
            fprintf(cli->err, "%s\n", serr->msg);
        }
        _cleanup_strbuf_ struct berth_strbuf text = {0};
        int r = berth_template_execute(tmpl, doc, NULL, &text, &err);
        berth_strbuf_putc(&text, '\n');
        fputs(berth_strbuf_str(&text), cli->out);
        json_decref(doc);
        json_decref(info);
        if (r < 0)
            return berth_cli_fail(cli, err);
        return serr ? 1 : 0;
    }
    _cleanup_strbuf_ struct berth_strbuf b = {0};
    _cleanup_strbuf_ struct berth_strbuf errors = {0};
    berth_strbuf_printf(&b,
                        "Client:\n Version:    %s\n Context:    %s\n Debug Mode: %s\n\nServer:\n",
                        BERTH_CLIENT_VERSION, CONTEXT_NAME, cli->debug ? "true" : "false");
    if (info)
        info_server(info, cli->debug, &b, &errors);
    fputs(berth_strbuf_str(&b), cli->out);
    fflush(cli->out);
    if (serr)
        berth_strbuf_printf(&errors, "ERROR: %s\n", serr->msg);
    json_t *w;
    size_t i;
    if (info && !serr)
        json_array_foreach(json_object_get(info, "Warnings"), i, w)
        {
            fprintf(cli->err, "%s\n", json_string_value(w) ?: "");
        }
    json_decref(info);
    if (errors.len > 0) {
        fputs(berth_strbuf_str(&errors), cli->err);
        fprintf(cli->err, "errors pretty printing info\n");
        return 1;
    }
    return 0;
}

/* ---- events ---- */

static const struct berth_template_opts event_opts = {.root_type = "*events.Message"};

struct events_state {
    struct berth_cli *cli;
    struct berth_template *tmpl;
    struct berth_json_splitter split;
};

static void
pretty_event(FILE *out, json_t *ev)
{
    char ts[64];
    long long nano = berth_cli_jint(ev, "timeNano"), secs = berth_cli_jint(ev, "time");
    if (nano != 0) {
        berth_time_rfc3339_nano_fixed(nano, ts, sizeof(ts));
        fprintf(out, "%s ", ts);
    } else if (secs != 0) {
        berth_time_rfc3339_nano_fixed(secs * 1000000000LL, ts, sizeof(ts));
        fprintf(out, "%s ", ts);
    }
    json_t *actor = json_object_get(ev, "Actor");
    fprintf(out, "%s %s %s", berth_cli_jstr(ev, "Type"), berth_cli_jstr(ev, "Action"),
            berth_cli_jstr(actor, "ID"));
    json_t *attrs = json_object_get(actor, "Attributes");
    size_t n = json_object_size(attrs);
    if (n > 0) {
        const char **keys = calloc(n, sizeof(*keys));
        const char *k;
        json_t *v;
        size_t i = 0;
        json_object_foreach(attrs, k, v)
        {
            if (keys)
                keys[i++] = k;
        }
        for (size_t x = 0; keys && x < i; x++)
            for (size_t y = x + 1; y < i; y++)
                if (strcmp(keys[x], keys[y]) > 0) {
                    const char *t = keys[x];
                    keys[x] = keys[y];
                    keys[y] = t;
                }
        fputs(" (", out);
        for (size_t x = 0; keys && x < i; x++)
            fprintf(out, "%s%s=%s", x ? ", " : "", keys[x], berth_cli_jstr(attrs, keys[x]));
        fputc(')', out);
        free(keys);
    }
    fputc('\n', out);
}

static int
on_event(void *ud, json_t *ev, struct berth_error **err)
{
    struct events_state *st = ud;
    if (!st->tmpl) {
        pretty_event(st->cli->out, ev);
    } else {
        _cleanup_strbuf_ struct berth_strbuf b = {0};
        int r = berth_template_execute(st->tmpl, ev, &event_opts, &b, err);
        berth_strbuf_putc(&b, '\n');
        fputs(berth_strbuf_str(&b), st->cli->out);
        if (r < 0)
            return r;
    }
    fflush(st->cli->out);
    return 0;
}

static int
on_events_data(void *ud, const char *buf, size_t len, struct berth_error **err)
{
    struct events_state *st = ud;
    return berth_json_splitter_feed(&st->split, buf, len, err);
}

int
berth_cli_cmd_events(struct berth_cli *cli, int argc, char **argv)
{
    const char *since = NULL, *until = NULL, *format = NULL;
    json_t *filters = NULL;
    const struct berth_opt opts[] = {
        {'f', "filter", BERTH_OPT_FILTER, &filters, "filter",
         "Filter output based on conditions provided"},
        {0, "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'json' or a Go template"},
        {0, "since", BERTH_OPT_STRING, &since, "string", "Show all events created since timestamp"},
        {0, "until", BERTH_OPT_STRING, &until, "string", "Stream events until this timestamp"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS]",
                                                   "Get real time events from the server",
                                                   "berth system events, berth events", 0, 0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    bool parsed = berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args,
                                  &nargs, &status);
    _cleanup_(json_decrefp) json_t *filters_owned = filters;
    if (!parsed)
        return status;
    _cleanup_error_ struct berth_error *err = NULL;
    struct events_state st = {.cli = cli};
    _cleanup_template_ struct berth_template *tmpl = NULL;
    if (format && format[0]) {
        /* validated against an empty message, as docker does */
        json_t *empty =
            json_pack("{s:s, s:s, s:{s:s, s:n}, s:s, s:i, s:i}", "Type", "", "Action", "", "Actor",
                      "ID", "", "Attributes", "scope", "", "time", 0, "timeNano", 0);
        struct berth_strbuf sink = {0};
        int r = berth_template_parse(!strcmp(format, "json") ? "{{json .}}" : format, &tmpl, &err);
        if (r == 0)
            r = berth_template_execute(tmpl, empty, &event_opts, &sink, &err);
        berth_strbuf_free(&sink);
        json_decref(empty);
        if (r < 0) {
            fprintf(cli->err, "Error parsing format: %s\n", err->msg);
            return 64;
        }
        st.tmpl = tmpl;
    }
    _cleanup_query_ struct berth_query q = {0};
    double now = berth_now();
    const char *names[] = {"since", "until"};
    const char *values[] = {since, until};
    for (int i = 0; i < 2; i++) {
        if (!values[i] || !values[i][0])
            continue;
        _cleanup_free_ char *ts = NULL;
        if (berth_cli_timestamp(values[i], now, &ts, &err) < 0)
            return berth_cli_fail(cli, err);
        berth_query_add(&q, names[i], ts);
    }
    _cleanup_free_ char *fj = berth_filters_json(filters);
    if (fj)
        berth_query_add(&q, "filters", fj);
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    st.split.on_value = on_event;
    st.split.ud = &st;
    _cleanup_response_ struct berth_response resp = {0};
    struct berth_request req = {.method = "GET",
                                .path = "/events",
                                .query = &q,
                                .upload_fd = -1,
                                .on_data = on_events_data,
                                .ud = &st};
    int r = berth_client_request(c, &req, &resp, &err);
    if (r == 0)
        r = berth_json_splitter_finish(&st.split, &err);
    berth_json_splitter_clear(&st.split);
    return r < 0 ? berth_cli_fail(cli, err) : 0;
}

/* ---- system df ---- */

static void
size4(double v, char *buf, size_t len)
{
    berth_human_size(v, 4, buf, len);
}

static json_t *
df_row(const char *type, long long total, long long active, long long size, long long reclaim,
       bool percent)
{
    char s[32], r[32], rec[64];
    size4((double)size, s, sizeof(s));
    size4((double)reclaim, r, sizeof(r));
    if (percent && size > 0)
        snprintf(rec, sizeof(rec), "%s (%lld%%)", r, reclaim * 100 / size);
    else
        snprintf(rec, sizeof(rec), "%s", r);
    char t[32], a[32];
    snprintf(t, sizeof(t), "%lld", total);
    snprintf(a, sizeof(a), "%lld", active);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", type, "TotalCount", t, "Active", a,
                     "Size", s, "Reclaimable", rec);
}

static bool
container_active(json_t *ctr)
{
    const char *state = berth_cli_jstr(ctr, "State");
    return strstr(state, "running") || strstr(state, "paused") || strstr(state, "restarting");
}

static json_t *
df_summary_rows(json_t *du)
{
    json_t *rows = json_array();
    json_t *v;
    size_t i;
    /* images: the layers' size, reclaimable unless a container uses the image */
    json_t *images = json_object_get(du, "Images");
    long long layers = berth_cli_jint(du, "LayersSize"), used = 0, active = 0;
    json_array_foreach(images, i, v)
    {
        if (berth_cli_jint(v, "Containers") > 0)
            active++;
        if (berth_cli_jint(v, "Containers") != 0 && berth_cli_jint(v, "Size") != -1 &&
            berth_cli_jint(v, "SharedSize") != -1)
            used += berth_cli_jint(v, "Size") - berth_cli_jint(v, "SharedSize");
    }
    json_array_append_new(rows, df_row("Images", (long long)json_array_size(images), active, layers,
                                       layers - used, true));
    json_t *ctrs = json_object_get(du, "Containers");
    long long csize = 0, creclaim = 0;
    active = 0;
    json_array_foreach(ctrs, i, v)
    {
        if (container_active(v))
            active++;
        else
            creclaim += berth_cli_jint(v, "SizeRw");
        csize += berth_cli_jint(v, "SizeRw");
    }
    json_array_append_new(rows, df_row("Containers", (long long)json_array_size(ctrs), active,
                                       csize, creclaim, true));
    json_t *vols = json_object_get(du, "Volumes");
    long long vsize = 0, vreclaim = 0;
    active = 0;
    json_array_foreach(vols, i, v)
    {
        json_t *usage = json_object_get(v, "UsageData");
        if (berth_cli_jint(usage, "RefCount") > 0)
            active++;
        if (berth_cli_jint(usage, "Size") != -1) {
            if (berth_cli_jint(usage, "RefCount") == 0)
                vreclaim += berth_cli_jint(usage, "Size");
            vsize += berth_cli_jint(usage, "Size");
        }
    }
    json_array_append_new(rows, df_row("Local Volumes", (long long)json_array_size(vols), active,
                                       vsize, vreclaim, true));
    json_t *cache = json_object_get(du, "BuildCache");
    long long bsize = 0, inuse = 0;
    active = 0;
    json_array_foreach(cache, i, v)
    {
        bool shared = json_is_true(json_object_get(v, "Shared"));
        bool in_use = json_is_true(json_object_get(v, "InUse"));
        if (in_use)
            active++;
        if (!shared)
            bsize += berth_cli_jint(v, "Size");
        if (in_use && !shared)
            inuse += berth_cli_jint(v, "Size");
    }
    json_array_append_new(rows, df_row("Build Cache", (long long)json_array_size(cache), active,
                                       bsize, bsize - inuse, false));
    return rows;
}

static void
since_text(long long created, char *buf, size_t len)
{
    char d[64];
    berth_human_duration(berth_now() - (double)created, d, sizeof(d));
    snprintf(buf, len, "%s ago", d);
}

static int
df_section(struct berth_cli *cli, const char *title, const char *format, json_t *header,
           const char *type, json_t *rows, struct berth_error **err)
{
    _cleanup_strbuf_ struct berth_strbuf out = {0};
    int r = berth_format_write(format, header, type, rows, &out, err);
    json_decref(header);
    if (r < 0)
        return r;
    fputs(title, cli->out);
    fputs(berth_strbuf_str(&out), cli->out);
    return 0;
}

static char *
join_sorted(json_t *arr)
{
    size_t n = json_array_size(arr);
    const char **v = calloc(n + 1, sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(arr, i)) ?: "";
    for (size_t x = 0; x < n; x++)
        for (size_t y = x + 1; y < n; y++)
            if (strcmp(v[x], v[y]) > 0) {
                const char *t = v[x];
                v[x] = v[y];
                v[y] = t;
            }
    struct berth_strbuf b = {0};
    for (size_t i = 0; i < n; i++)
        berth_strbuf_printf(&b, "%s%s", i ? "," : "", v[i]);
    free(v);
    return berth_strbuf_steal(&b);
}

/* "k=v,k=v" of a labels object */
static char *
labels_text(json_t *labels)
{
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        char *kv = NULL;
        if (asprintf(&kv, "%s=%s", k, json_string_value(v) ?: "") >= 0)
            json_array_append_new(arr, json_string(kv));
        free(kv);
    }
    char *s = join_sorted(arr);
    json_decref(arr);
    return s;
}

/* docker's image, container, volume and build cache contexts of `system df -v` */
static json_t *
df_image_rows(json_t *du, bool trunc)
{
    json_t *rows = json_array();
    json_t *v;
    size_t i;
    char since[96], created_at[96], size[32], vsize[32], shared[32], unique[32], ctrs[32];
    json_array_foreach(json_object_get(du, "Images"), i, v)
    {
        const char *repo = "<none>", *tag = "<none>";
        _cleanup_free_ char *repo_s = NULL, *tag_s = NULL;
        json_t *tags = json_object_get(v, "RepoTags");
        const char *first = json_string_value(json_array_get(tags, 0));
        if (first && strcmp(first, "<none>:<none>")) {
            const char *colon = strrchr(first, ':');
            const char *slash = strrchr(first, '/');
            if (colon && (!slash || colon > slash)) {
                repo_s = strndup(first, (size_t)(colon - first));
                tag_s = strdup(colon + 1);
                repo = repo_s ? repo_s : repo;
                tag = tag_s ? tag_s : tag;
            }
        }
        _cleanup_free_ char *id =
            trunc ? berth_truncate_id(berth_cli_jstr(v, "Id")) : strdup(berth_cli_jstr(v, "Id"));
        long long sz = berth_cli_jint(v, "Size"), sh = berth_cli_jint(v, "SharedSize"),
                  c = berth_cli_jint(v, "Containers");
        since_text(berth_cli_jint(v, "Created"), since, sizeof(since));
        berth_time_go_string((time_t)berth_cli_jint(v, "Created"), created_at, sizeof(created_at));
        berth_human_size((double)sz, 3, size, sizeof(size));
        size4((double)sz, vsize, sizeof(vsize));
        if (sh == -1)
            snprintf(shared, sizeof(shared), "N/A");
        else
            size4((double)sh, shared, sizeof(shared));
        if (sz == -1 || sh == -1)
            snprintf(unique, sizeof(unique), "N/A");
        else
            size4((double)(sz - sh), unique, sizeof(unique));
        if (c == -1)
            snprintf(ctrs, sizeof(ctrs), "N/A");
        else
            snprintf(ctrs, sizeof(ctrs), "%lld", c);
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
                            ctrs, "CreatedAt", created_at, "CreatedSince", since, "Digest", "",
                            "ID", id ? id : "", "Repository", repo, "SharedSize", shared, "Size",
                            size, "Tag", tag, "UniqueSize", unique, "VirtualSize", vsize));
    }
    return rows;
}

static json_t *
df_container_rows(json_t *du, bool trunc)
{
    json_t *rows = json_array();
    json_t *v;
    size_t i;
    char buf[96], size[32], since[96], created_at[96];
    json_array_foreach(json_object_get(du, "Containers"), i, v)
    {
        _cleanup_free_ char *id =
            trunc ? berth_truncate_id(berth_cli_jstr(v, "Id")) : strdup(berth_cli_jstr(v, "Id"));
        const char *cmd = berth_cli_jstr(v, "Command");
        _cleanup_free_ char *cmd_short = trunc ? berth_ellipsis(cmd, 20) : strdup(cmd);
        struct berth_strbuf quoted = {0};
        json_t *cs = json_string(cmd_short ? cmd_short : "");
        berth_json_go_encode(cs, false, &quoted);
        json_decref(cs);
        json_t *names = json_array(), *mounts = json_array(), *nets = json_array();
        json_t *x;
        size_t k;
        json_array_foreach(json_object_get(v, "Names"), k, x)
        {
            const char *n = json_string_value(x) ?: "";
            if (n[0] == '/')
                n++;
            if (!strchr(n, '/')) /* links look like /other/name */
                json_array_append_new(names, json_string(n));
        }
        long long vols = 0;
        json_array_foreach(json_object_get(v, "Mounts"), k, x)
        {
            const char *name = berth_cli_jstr(x, "Name")[0] ? berth_cli_jstr(x, "Name")
                                                            : berth_cli_jstr(x, "Source");
            _cleanup_free_ char *m = trunc ? berth_ellipsis(name, 15) : strdup(name);
            json_array_append_new(mounts, json_string(m ? m : ""));
            vols += !strcmp(berth_cli_jstr(x, "Type"), "volume");
        }
        const char *net;
        json_object_foreach(json_object_get(json_object_get(v, "NetworkSettings"), "Networks"), net,
                            x)
        {
            json_array_append_new(nets, json_string(net));
        }
        _cleanup_free_ char *names_s = NULL, *mounts_s = NULL, *nets_s = join_sorted(nets);
        struct berth_strbuf nb = {0}, mb = {0};
        json_array_foreach(names, k, x)
        {
            berth_strbuf_printf(&nb, "%s%s", k ? "," : "", json_string_value(x));
        }
        json_array_foreach(mounts, k, x)
        {
            berth_strbuf_printf(&mb, "%s%s", k ? "," : "", json_string_value(x));
        }
        names_s = berth_strbuf_steal(&nb);
        mounts_s = berth_strbuf_steal(&mb);
        _cleanup_free_ char *labels = labels_text(json_object_get(v, "Labels"));
        snprintf(buf, sizeof(buf), "%lld", vols);
        berth_human_size((double)berth_cli_jint(v, "SizeRw"), 3, size, sizeof(size));
        since_text(berth_cli_jint(v, "Created"), since, sizeof(since));
        berth_time_go_string((time_t)berth_cli_jint(v, "Created"), created_at, sizeof(created_at));
        json_array_append_new(
            rows,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:s, "
                      "s:s}",
                      "Command", berth_strbuf_str(&quoted), "CreatedAt", created_at, "ID",
                      id ? id : "", "Image", berth_cli_jstr(v, "Image"), "Labels",
                      labels ? labels : "", "LocalVolumes", buf, "Mounts", mounts_s ? mounts_s : "",
                      "Names", names_s ? names_s : "", "Networks", nets_s ? nets_s : "", "Platform",
                      "Platform", "Ports", "", "RunningFor", since, "Size", size, "State",
                      berth_cli_jstr(v, "State"), "Status", berth_cli_jstr(v, "Status")));
        berth_strbuf_free(&quoted);
        json_decref(names);
        json_decref(mounts);
        json_decref(nets);
    }
    return rows;
}

static json_t *
df_volume_rows(json_t *du)
{
    json_t *rows = json_array();
    json_t *v;
    size_t i;
    char links[32], size[32];
    json_array_foreach(json_object_get(du, "Volumes"), i, v)
    {
        json_t *usage = json_object_get(v, "UsageData");
        if (!usage || berth_cli_jint(usage, "RefCount") == -1)
            snprintf(links, sizeof(links), "N/A");
        else
            snprintf(links, sizeof(links), "%lld", berth_cli_jint(usage, "RefCount"));
        if (!usage || berth_cli_jint(usage, "Size") == -1)
            snprintf(size, sizeof(size), "N/A");
        else
            size4((double)berth_cli_jint(usage, "Size"), size, sizeof(size));
        _cleanup_free_ char *labels = labels_text(json_object_get(v, "Labels"));
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Availability",
                            "N/A", "Driver", berth_cli_jstr(v, "Driver"), "Group", "N/A", "Labels",
                            labels ? labels : "", "Links", links, "Mountpoint",
                            berth_cli_jstr(v, "Mountpoint"), "Name", berth_cli_jstr(v, "Name"),
                            "Scope", berth_cli_jstr(v, "Scope"), "Size", size, "Status", "N/A"));
    }
    return rows;
}

static json_t *
df_cache_rows(json_t *du, bool trunc)
{
    json_t *rows = json_array();
    json_t *v;
    size_t i;
    char size[32], c1[96], c2[96], uses[32];
    json_array_foreach(json_object_get(du, "BuildCache"), i, v)
    {
        _cleanup_free_ char *id =
            trunc ? strndup(berth_cli_jstr(v, "ID"), 12) : strdup(berth_cli_jstr(v, "ID"));
        size4((double)berth_cli_jint(v, "Size"), size, sizeof(size));
        time_t t1 = 0, t2 = 0;
        long ns;
        berth_time_parse_rfc3339(berth_cli_jstr(v, "CreatedAt"), &t1, &ns);
        since_text(t1, c1, sizeof(c1));
        if (berth_time_parse_rfc3339(berth_cli_jstr(v, "LastUsedAt"), &t2, &ns))
            since_text(t2, c2, sizeof(c2));
        else
            c2[0] = '\0';
        snprintf(uses, sizeof(uses), "%lld", berth_cli_jint(v, "UsageCount"));
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "CacheType",
                            berth_cli_jstr(v, "Type"), "CreatedSince", c1, "Description",
                            berth_cli_jstr(v, "Description"), "ID", id ? id : "", "InUse",
                            json_is_true(json_object_get(v, "InUse")) ? "true" : "false",
                            "LastUsedSince", c2, "Parent", berth_cli_jstr(v, "Parent"), "Shared",
                            json_is_true(json_object_get(v, "Shared")) ? "true" : "false", "Size",
                            size, "UsageCount", uses));
    }
    return rows;
}

static int
df_verbose(struct berth_cli *cli, json_t *du, const char *format, struct berth_error **err)
{
    bool table = !format || !format[0] || !strcmp(format, "table");
    _cleanup_(json_decrefp) json_t *images = df_image_rows(du, table);
    _cleanup_(json_decrefp) json_t *ctrs = df_container_rows(du, table);
    _cleanup_(json_decrefp) json_t *vols = df_volume_rows(du);
    _cleanup_(json_decrefp) json_t *cache = df_cache_rows(du, table);
    if (!table) {
        /* a template over all of it, printed as is */
        _cleanup_template_ struct berth_template *t = NULL;
        _cleanup_free_ char *text = berth_format_prepare(format, NULL);
        _cleanup_strbuf_ struct berth_strbuf out = {0};
        _cleanup_(json_decrefp) json_t *doc =
            json_pack("{s:O, s:O, s:O, s:O}", "Images", images, "Containers", ctrs, "Volumes", vols,
                      "BuildCache", cache);
        if (!text || berth_template_parse(text, &t, err) < 0)
            return berth_error_wrap(err, "template parsing error");
        static const struct berth_template_opts o = {.root_type = "*formatter.diskUsageContext"};
        int r = berth_template_execute(t, doc, &o, &out, err);
        fputs(berth_strbuf_str(&out), cli->out);
        return r;
    }
    int r = df_section(
        cli, "Images space usage:\n\n",
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}"
        "\t{{.UniqueSize}}\t{{.Containers}}",
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", "REPOSITORY", "Tag",
                  "TAG", "ID", "IMAGE ID", "CreatedSince", "CREATED", "Size", "SIZE", "SharedSize",
                  "SHARED SIZE", "UniqueSize", "UNIQUE SIZE", "Containers", "CONTAINERS"),
        "*formatter.imageContext", images, err);
    if (r == 0)
        r = df_section(cli, "\nContainers space usage:\n\n",
                       "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
                       "{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
                       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CONTAINER ID",
                                 "Image", "IMAGE", "Command", "COMMAND", "LocalVolumes",
                                 "LOCAL VOLUMES", "Size", "SIZE", "RunningFor", "CREATED", "Status",
                                 "STATUS", "Names", "NAMES"),
                       "*formatter.ContainerContext", ctrs, err);
    if (r == 0)
        r = df_section(
            cli, "\nLocal Volumes space usage:\n\n", "table {{.Name}}\t{{.Links}}\t{{.Size}}",
            json_pack("{s:s, s:s, s:s}", "Name", "VOLUME NAME", "Links", "LINKS", "Size", "SIZE"),
            "*formatter.volumeContext", vols, err);
    if (r < 0)
        return r;
    long long bsize = 0;
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(du, "BuildCache"), i, v)
    {
        if (!json_is_true(json_object_get(v, "Shared")))
            bsize += berth_cli_jint(v, "Size");
    }
    char a[32], title[96];
    size4((double)bsize, a, sizeof(a));
    snprintf(title, sizeof(title), "\nBuild cache usage: %s\n\n", a);
    return df_section(cli, title,
                      "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t"
                      "{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}",
                      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CACHE ID",
                                "CacheType", "CACHE TYPE", "Size", "SIZE", "CreatedSince",
                                "CREATED", "LastUsedSince", "LAST USED", "UsageCount", "USAGE",
                                "Shared", "SHARED"),
                      "*formatter.buildCacheContext", cache, err);
}

int
berth_cli_cmd_system_df(struct berth_cli *cli, int argc, char **argv)
{
    const char *format = NULL;
    bool verbose = false;
    const struct berth_opt opts[] = {
        {0, "format", BERTH_OPT_STRING, &format, "string",
         "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go "
         "template"},
        {'v', "verbose", BERTH_OPT_BOOL, &verbose, NULL,
         "Show detailed information on space usage"},
    };
    static const struct berth_cli_cmd_info info = {"[OPTIONS]", "Show docker disk usage", NULL, 0,
                                                   0};
    _cleanup_free_ char **args = NULL;
    int nargs, status;
    if (!berth_cli_parse(cli, &info, opts, BERTH_ARRAY_SIZE(opts), argc, argv, &args, &nargs,
                         &status))
        return status;
    struct berth_client *c = berth_cli_client(cli);
    if (!c)
        return 1;
    _cleanup_error_ struct berth_error *err = NULL;
    _cleanup_(json_decrefp) json_t *du = NULL;
    if (berth_client_get_json(c, "/system/df", NULL, &du, NULL, &err) < 0)
        return berth_cli_fail(cli, err);
    if (verbose) {
        if (df_verbose(cli, du, format, &err) < 0)
            return berth_cli_fail(cli, err);
        return 0;
    }
    _cleanup_(json_decrefp) json_t *rows = df_summary_rows(du);
    _cleanup_(json_decrefp) json_t *header =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount", "TOTAL", "Active",
                  "ACTIVE", "Size", "SIZE", "Reclaimable", "RECLAIMABLE");
    const char *f = format && format[0] ? format : "table";
    if (!strcmp(f, "table"))
        f = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
    _cleanup_strbuf_ struct berth_strbuf out = {0};
    if (berth_format_write(f, header, "*formatter.diskUsageImagesContext", rows, &out, &err) < 0)
        return berth_cli_fail(cli, err);
    fputs(berth_strbuf_str(&out), cli->out);
    return 0;
}
