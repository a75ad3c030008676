/* libFuzzer target for the image reference parser (berth_reference_parse), run under ASan+UBSan.
 * The input, cut at its first NUL, is parsed with and without the default tag. When it parses:
 * the error contract holds, the predicates agree with the fields, and both the normalised string
 * and the familiar form parse back to the same normalised string. Seeds:
 * tests/fuzz/corpus/reference/. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* berth_reference_string() of a parse of text (which must succeed), or traps */
static char *
reparse(const char *text)
{
    struct berth_reference *ref = NULL;
    struct berth_error *err = NULL;
    if (berth_reference_parse(text, true, &ref, &err) < 0 || !ref || err)
        __builtin_trap();
    char *s = berth_reference_string(ref);
    berth_reference_free(ref);
    if (!s)
        __builtin_trap();
    return s;
}

static void
check_one(const char *text, bool no_default_tag)
{
    struct berth_reference *ref = NULL;
    struct berth_error *err = NULL;
    int r = berth_reference_parse(text, no_default_tag, &ref, &err);
    if (r < 0) {
        if (ref || !err || !err->msg || err->code != EINVAL || r != -EINVAL)
            __builtin_trap();
        berth_error_free(err);
        return;
    }
    if (r != 0 || !ref || err || !ref->domain || !ref->path || !ref->path[0])
        __builtin_trap();
    if ((ref->tag && !berth_tag_valid(ref->tag)) ||
        (ref->digest && !berth_digest_valid(ref->digest)))
        __builtin_trap();
    if (!no_default_tag && !ref->tag && !ref->digest)
        __builtin_trap();

    char *str = berth_reference_string(ref);
    char *fam = berth_reference_familiar(ref);
    char *name = berth_reference_name(ref);
    char *fam_name = berth_reference_familiar_name(ref);
    if (!str || !fam || !name || !fam_name || strlen(name) > 255 ||
        strncmp(str, name, strlen(name)) != 0 || strncmp(fam, fam_name, strlen(fam_name)) != 0)
        __builtin_trap();

    char *again = reparse(str);
    char *from_fam = reparse(fam);
    if (strcmp(again, str) != 0 || strcmp(from_fam, str) != 0)
        __builtin_trap();

    free(again);
    free(from_fam);
    free(str);
    free(fam);
    free(name);
    free(fam_name);
    berth_reference_free(ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_one(text, false);
    check_one(text, true);
    free(text);
    return 0;
}
