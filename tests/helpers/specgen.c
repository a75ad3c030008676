/* specgen: the spec generator on the command line, for integration tests.
 *   specgen --rootfs DIR [--config FILE] [--host-config FILE] [--image-config FILE]
 *           [--id ID] [--init PATH] [--netns PATH|host] [--cgroups-path P]
 *           [--hostname-file F] [--hosts-file F] [--resolv-conf F]
 * Validates Config and HostConfig as create does, merges the image config, builds the OCI spec
 * as start does and prints it. Errors: the message on stderr, exit 1. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_gen.h"

static json_t *
load(const char *path)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j) {
        fprintf(stderr, "specgen: %s: %s\n", path, jerr.text);
        exit(2);
    }
    return j;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rootfs", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"host-config", required_argument, NULL, 'h'},
        {"image-config", required_argument, NULL, 'i'},
        {"id", required_argument, NULL, 'd'},
        {"init", required_argument, NULL, 'n'},
        {"netns", required_argument, NULL, 'N'},
        {"cgroups-path", required_argument, NULL, 'g'},
        {"hostname-file", required_argument, NULL, 'H'},
        {"hosts-file", required_argument, NULL, 'o'},
        {"resolv-conf", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    struct berth_spec_gen_input in = {
        .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    json_t *config = NULL, *hc = NULL, *image = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            in.rootfs = optarg;
            break;
        case 'c':
            config = load(optarg);
            break;
        case 'h':
            hc = load(optarg);
            break;
        case 'i':
            image = load(optarg);
            break;
        case 'd':
            in.id = optarg;
            break;
        case 'n':
            in.init_path = optarg;
            break;
        case 'N':
            in.netns_path = optarg;
            break;
        case 'g':
            in.cgroups_path = optarg;
            break;
        case 'H':
            in.hostname_path = optarg;
            break;
        case 'o':
            in.hosts_path = optarg;
            break;
        case 'R':
            in.resolv_conf_path = optarg;
            break;
        default:
            return 2;
        }
    }
    if (!in.rootfs) {
        fprintf(stderr, "specgen: --rootfs is required\n");
        return 2;
    }
    struct berth_error *err = NULL;
    json_t *merged = NULL, *spec = NULL;
    if (berth_container_validate(config, hc, &err) < 0 ||
        berth_container_config_merge(config, image, &merged, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 1;
    }
    in.config = merged;
    in.host_config = hc;
    if (berth_container_spec_build(&in, &spec, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 1;
    }
    char *text = json_dumps(spec, JSON_INDENT(2));
    puts(text);
    free(text);
    json_decref(spec);
    json_decref(merged);
    json_decref(config);
    json_decref(hc);
    json_decref(image);
    return 0;
}
