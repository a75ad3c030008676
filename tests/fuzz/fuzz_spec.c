/* libFuzzer target for the config.json parser (berth_spec_parse), run under ASan+UBSan.
 * Specs that parse are also compiled into a seccomp filter (never loaded), so the mapping of
 * every parsed linux.seccomp is exercised too. Seeds: tests/fuzz/corpus/spec/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/seccomp.h"
#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct berth_spec *spec = NULL;
    struct berth_error *err = NULL;
    int r = berth_spec_parse((const char *)data, size, "/bundle", &spec, &err);
    /* the error contract: < 0 with a message and no spec, or 0 with a spec and no error */
    if (r < 0 && (spec || !err || !err->msg || err->code <= 0 || r != -err->code))
        __builtin_trap();
    if (r == 0 && (!spec || err || !spec->root_path || !spec->oci_version))
        __builtin_trap();
    if (r == 0 && spec->process &&
        (!spec->process->args || !spec->process->args[0] || !spec->process->cwd ||
         spec->process->cwd[0] != '/'))
        __builtin_trap();
    if (r == 0 && spec->linux_.seccomp) {
        struct berth_seccomp_filter *f = NULL;
        struct berth_error *serr = NULL;
        r = berth_seccomp_build(spec->linux_.seccomp, &f, &serr);
        if ((r < 0) != (f == NULL) || (r < 0) != (serr != NULL))
            __builtin_trap();
        berth_seccomp_free(f);
        berth_error_free(serr);
    }
    berth_spec_free(spec);
    berth_error_free(err);
    return 0;
}
