/* berth-init: the --init process of a container (docker's /sbin/docker-init).
 *   berth-init [--] COMMAND [ARG...] */
#include <stdio.h>
#include <string.h>

#include "container/init_process.h"

int
main(int argc, char **argv)
{
    int i = 1;
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (i >= argc) {
        fprintf(stderr, "usage: berth-init [--] COMMAND [ARG...]\n");
        return 2;
    }
    struct berth_error *err = NULL;
    int r = berth_init_run(argv + i, &err);
    if (r < 0) {
        fprintf(stderr, "berth-init: %s\n", err ? err->msg : "failed");
        berth_error_free(err);
        return 1;
    }
    return r;
}
