/* Seccomp filters from linux.seccomp, through libseccomp.
 *
 * berth_seccomp_build() does all the work that can fail for a reason the user must see (an
 * unknown action, architecture or flag): it builds the libseccomp context and compiles it to
 * classic BPF right away. berth_seccomp_load() then only calls seccomp(2) with the program and
 * the SECCOMP_FILTER_FLAG_* bits: no allocation after fork, and every flag the kernel knows is
 * usable even where libseccomp 2.5 has no attribute for it (WAIT_KILLABLE_RECV), as crun does.
 *
 * Behaviour, following runc:
 *   - errnoRet defaults to EPERM for SCMP_ACT_ERRNO and SCMP_ACT_TRACE (as the trace value);
 *     errnoRet with any other action is refused (runtime-spec: "MUST ... fail").
 *   - Syscall names libseccomp does not know are skipped (a profile may name newer syscalls).
 *   - A rule whose action equals the default action is skipped (libseccomp refuses those).
 *   - Several conditions on the same argument index in one rule become one rule per condition
 *     (libseccomp cannot AND two comparisons of one argument; runc does the same split).
 *   - SCMP_FLTATR_CTL_NNP is off: the runtime sets no_new_privs itself, when the spec asks.
 *   - Syscalls newer than the profile: when the default action is an errno action, a syscall
 *     whose number is above every syscall the profile names (per architecture, as libseccomp
 *     resolves the names) answers ENOSYS instead, so a libc falls back to an older syscall
 *     (fchmodat2 -> fchmodat, clone3 -> clone) rather than failing with the profile's EPERM.
 *     As runc does, this is a short classic-BPF prologue put in front of libseccomp's program:
 *     per architecture of the filter, "nr > max -> ERRNO(ENOSYS)", x32 syscalls (the
 *     0x40000000 bit on the x86_64 audit arch) compared with the x32 maximum.
 *   - clone3: with an errno default and no clone3 rule, clone3 gets ENOSYS too even where it is
 *     below the maximum (Docker's default profile does this explicitly). */
#include "runtime/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

struct berth_seccomp_filter {
    struct sock_filter *insns;
    unsigned short n_insns;
    unsigned int flags; /* SECCOMP_FILTER_FLAG_* from linux.seccomp.flags */
    bool notify;        /* some rule uses SCMP_ACT_NOTIFY: load asks for a listener fd */
};

static const struct {
    const char *name;
    unsigned int flag;
} flag_table[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

static const char *const known_actions[] = {
    "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",      NULL,
};

static const char *const known_operators[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

static const char *const known_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    NULL,
};

/* runtime-spec architecture names; the ones this libseccomp knows are listed by features. */
static const char *const all_archs[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

static const enum scmp_compare op_table[] = {
    [SECCOMP_OP_NE] = SCMP_CMP_NE,
    [SECCOMP_OP_LT] = SCMP_CMP_LT,
    [SECCOMP_OP_LE] = SCMP_CMP_LE,
    [SECCOMP_OP_EQ] = SCMP_CMP_EQ,
    [SECCOMP_OP_GE] = SCMP_CMP_GE,
    [SECCOMP_OP_GT] = SCMP_CMP_GT,
    [SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

const char *const *
berth_seccomp_known_actions(void)
{
    return known_actions;
}

const char *const *
berth_seccomp_known_operators(void)
{
    return known_operators;
}

const char *const *
berth_seccomp_known_flags(void)
{
    return known_flags;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token ("x86_64"), 0 if unknown. */
static uint32_t
arch_token(const char *name)
{
    char lower[32];
    if (!berth_str_has_prefix(name, "SCMP_ARCH_"))
        return 0;
    name += strlen("SCMP_ARCH_");
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lower))
        return 0;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    return seccomp_arch_resolve_name(lower);
}

const char *const *
berth_seccomp_known_archs(void)
{
    static const char *archs[BERTH_ARRAY_SIZE(all_archs) + 1];
    static bool done;
    if (!done) {
        size_t n = 0;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(all_archs); i++)
            if (arch_token(all_archs[i]) != 0)
                archs[n++] = all_archs[i];
        archs[n] = NULL;
        done = true;
    }
    return archs;
}

static unsigned int
flag_from_name(const char *name)
{
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(flag_table); i++)
        if (!strcmp(flag_table[i].name, name))
            return flag_table[i].flag;
    return 0;
}

static long
sys_seccomp(unsigned int op, unsigned int flags, void *args)
{
    return syscall(SYS_seccomp, op, flags, args);
}

/* Probes the kernel as runc does: with a NULL program a known flag fails with EFAULT, an
 * unknown one with EINVAL. Nothing is installed. */
bool
berth_seccomp_flag_supported(const char *name)
{
    unsigned int flag = flag_from_name(name);
    if (!flag)
        return false;
    if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
        flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER; /* the kernel wants both */
    return sys_seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

/* Maps an action of the spec to libseccomp's value; errno_ret may be NULL (not given). */
static int
map_action(uint32_t action, const uint32_t *errno_ret, const char *where, uint32_t *ret,
           struct berth_error **err)
{
    uint32_t ret_code = errno_ret ? *errno_ret : EPERM;
    if (errno_ret && action != BERTH_SECCOMP_ERRNO && action != BERTH_SECCOMP_TRACE)
        return berth_error_setq(err, EINVAL,
                                "%s: an errno return code is only valid with SCMP_ACT_ERRNO and "
                                "SCMP_ACT_TRACE, not %s",
                                where, berth_seccomp_action_name(action));
    if (ret_code > 0xffff)
        return berth_error_setq(err, EINVAL, "%s: errno return code %u is out of range", where,
                                ret_code);
    switch (action) {
    case BERTH_SECCOMP_KILL:
    case BERTH_SECCOMP_KILL_THREAD:
        *ret = SCMP_ACT_KILL_THREAD;
        return 0;
    case BERTH_SECCOMP_KILL_PROCESS:
        *ret = SCMP_ACT_KILL_PROCESS;
        return 0;
    case BERTH_SECCOMP_TRAP:
        *ret = SCMP_ACT_TRAP;
        return 0;
    case BERTH_SECCOMP_ERRNO:
        *ret = SCMP_ACT_ERRNO(ret_code);
        return 0;
    case BERTH_SECCOMP_TRACE:
        *ret = SCMP_ACT_TRACE(ret_code);
        return 0;
    case BERTH_SECCOMP_ALLOW:
        *ret = SCMP_ACT_ALLOW;
        return 0;
    case BERTH_SECCOMP_LOG:
        *ret = SCMP_ACT_LOG;
        return 0;
    case BERTH_SECCOMP_NOTIFY:
        *ret = SCMP_ACT_NOTIFY;
        return 0;
    }
    return berth_error_setq(err, EINVAL, "%s: unknown action %u", where, action);
}

static bool
is_errno_action(uint32_t act)
{
    return (act & 0xffff0000U) == SCMP_ACT_ERRNO(0);
}

static void
ctx_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

/* Adds one syscall of a rule, splitting the conditions as runc does when an index repeats. */
static int
add_syscall(scmp_filter_ctx ctx, const char *name, int nr, uint32_t act,
            const struct berth_spec_seccomp_rule *rule, struct berth_error **err)
{
    struct scmp_arg_cmp conds[6];
    unsigned int seen = 0;
    bool split = false;
    int r;
    if (rule->n_args > BERTH_ARRAY_SIZE(conds))
        return berth_error_setq(err, EINVAL, "syscall %s: more than 6 argument conditions", name);
    for (size_t i = 0; i < rule->n_args; i++) {
        const struct berth_spec_seccomp_arg *a = &rule->args[i];
        if (a->index > 5 || (unsigned int)a->op >= BERTH_ARRAY_SIZE(op_table))
            return berth_error_setq(err, EINVAL, "syscall %s: bad argument condition", name);
        conds[i] = (struct scmp_arg_cmp){
            .arg = a->index, .op = op_table[a->op], .datum_a = a->value, .datum_b = a->value_two};
        if (seen & (1u << a->index))
            split = true;
        seen |= 1u << a->index;
    }
    if (!split) {
        r = seccomp_rule_add_array(ctx, act, nr, (unsigned int)rule->n_args,
                                   rule->n_args ? conds : NULL);
        if (r < 0)
            return berth_error_set(err, -r, "add seccomp rule for syscall %s", name);
        return 0;
    }
    for (size_t i = 0; i < rule->n_args; i++) {
        r = seccomp_rule_add_array(ctx, act, nr, 1, &conds[i]);
        if (r < 0)
            return berth_error_set(err, -r, "add seccomp rule for syscall %s (argument %u)", name,
                                   conds[i].arg);
    }
    return 0;
}

static bool
profile_names(const struct berth_spec_seccomp *sc, const char *syscall_name)
{
    for (size_t i = 0; i < sc->n_syscalls; i++)
        for (char **n = sc->syscalls[i].names; n && *n; n++)
            if (!strcmp(*n, syscall_name))
                return true;
    return false;
}

/* Compiles the context to classic BPF (libseccomp 2.5 exports to an fd only). */
static int
export_bpf(scmp_filter_ctx ctx, struct berth_seccomp_filter *f, struct berth_error **err)
{
    _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return berth_error_set(err, errno, "memfd_create");
    int r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return berth_error_set(err, -r, "compile the seccomp filter");
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berth_error_set(err, errno, "fstat the seccomp filter");
    size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
    if (n == 0 || (size_t)st.st_size % sizeof(struct sock_filter) != 0)
        return berth_error_setq(err, EINVAL, "compile the seccomp filter: bad program size %lld",
                                (long long)st.st_size);
    if (n > BPF_MAXINSNS)
        return berth_error_setq(err, E2BIG,
                                "the seccomp filter has %zu instructions, the kernel allows %d", n,
                                BPF_MAXINSNS);
    f->insns = calloc(n, sizeof(struct sock_filter));
    if (!f->insns)
        return berth_error_set(err, ENOMEM, "seccomp filter");
    if (pread(fd, f->insns, n * sizeof(struct sock_filter), 0) !=
        (ssize_t)(n * sizeof(struct sock_filter)))
        return berth_error_set(err, errno ? errno : EIO, "read the seccomp filter");
    f->n_insns = (unsigned short)n;
    return 0;
}

#define X32_SYSCALL_BIT 0x40000000U

/* The highest syscall number the profile names on one architecture, -1 if none resolves. Every
 * rule counts, whatever its action (as in runc): a syscall the profile decided about is known. */
static int64_t
profile_max_nr(const struct berth_spec_seccomp *sc, uint32_t arch)
{
    int64_t max = -1;
    for (size_t i = 0; i < sc->n_syscalls; i++)
        for (char **n = sc->syscalls[i].names; n && *n; n++) {
            int nr = seccomp_syscall_resolve_name_arch(arch, *n);
            if (nr >= 0 && nr > max) /* negative: unknown, or a multiplexed pseudo-syscall */
                max = nr;
        }
    return max;
}

/* Puts "syscall newer than the profile -> ENOSYS" in front of the compiled program. For each
 * architecture of the filter (x32 folded into the x86_64 audit arch it runs under):
 *     jeq arch ? : next      ld nr      [x86_64: jset X32 bit -> the x32 compare]
 *     jgt max -> ENOSYS : original program
 * then "ja original" (no architecture matched) and "ret ERRNO(ENOSYS)". libseccomp's program
 * reloads everything it reads, so it runs unchanged after the prologue. */
static int
prepend_enosys(scmp_filter_ctx ctx, const struct berth_spec_seccomp *sc,
               struct berth_seccomp_filter *f, struct berth_error **err)
{
    struct {
        uint32_t audit_arch;
        uint32_t max, max_x32; /* max_x32 UINT32_MAX: never ENOSYS (x32 not in the filter) */
        bool x86_64;
    } archs[BERTH_ARRAY_SIZE(all_archs)];
    size_t n_archs = 0;
    int64_t x32_max = -1;
    bool have_x32 = false;
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(all_archs); i++) {
        uint32_t token = arch_token(all_archs[i]);
        if (token == 0 || seccomp_arch_exist(ctx, token) != 0)
            continue;
        int64_t max = profile_max_nr(sc, token);
        if (token == SCMP_ARCH_X32) {
            have_x32 = true;
            x32_max = max;
            continue;
        }
        if (max < 0)
            continue; /* nothing named on this arch: leave it to the default action */
        archs[n_archs].audit_arch = token;
        archs[n_archs].max = (uint32_t)max;
        archs[n_archs].max_x32 = UINT32_MAX;
        archs[n_archs].x86_64 = token == SCMP_ARCH_X86_64;
        n_archs++;
    }
    if (n_archs == 0)
        return 0;
    for (size_t i = 0; i < n_archs; i++)
        if (archs[i].x86_64 && have_x32 && x32_max >= 0)
            archs[i].max_x32 = (uint32_t)x32_max;

    size_t len = 1 + 2; /* load arch; "ja original" + "ret ENOSYS" at the end */
    for (size_t i = 0; i < n_archs; i++)
        len += archs[i].x86_64 ? 5 : 3;
    if (len > 255 || len + f->n_insns > BPF_MAXINSNS)
        return berth_error_setq(err, E2BIG,
                                "the seccomp filter with its ENOSYS prologue is too long (%zu "
                                "instructions)",
                                len + f->n_insns);
    size_t total = len + f->n_insns;
    struct sock_filter *p = calloc(total, sizeof(*p));
    if (!p)
        return berth_error_set(err, ENOMEM, "seccomp filter");
    const size_t enosys = len - 1, orig = len;
    size_t pc = 0;
#define JUMP_TO(target) ((unsigned char)((target) - (pc + 1)))
    p[pc++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    for (size_t i = 0; i < n_archs; i++) {
        size_t block = archs[i].x86_64 ? 5 : 3;
        p[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, archs[i].audit_arch, 0,
                                             (unsigned char)(block - 1));
        pc++;
        p[pc++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                               offsetof(struct seccomp_data, nr));
        if (archs[i].x86_64) {
            p[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 1, 0);
            pc++;
        }
        p[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, archs[i].max,
                                             JUMP_TO(enosys), JUMP_TO(orig));
        pc++;
        if (archs[i].x86_64) {
            /* UINT32_MAX: "nr > max" never holds, x32 goes to libseccomp's bad-arch action */
            p[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, archs[i].max_x32,
                                                 JUMP_TO(enosys), JUMP_TO(orig));
            pc++;
        }
    }
    p[pc] =
        (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA | BPF_K, (uint32_t)(orig - (pc + 1)), 0, 0);
    pc++;
    p[pc++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS));
#undef JUMP_TO
    memcpy(p + len, f->insns, f->n_insns * sizeof(*p));
    free(f->insns);
    f->insns = p;
    f->n_insns = (unsigned short)total;
    return 0;
}

static int
build_ctx(const struct berth_spec_seccomp *sc, scmp_filter_ctx ctx, uint32_t def_act,
          struct berth_seccomp_filter *f, struct berth_error **err)
{
    int r;
    if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
        return berth_error_set(err, -r, "seccomp: disable no_new_privs");
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1); /* best effort: errno as is */
#endif
    for (char **a = sc->architectures; a && *a; a++) {
        uint32_t token = arch_token(*a);
        if (token == 0)
            return berth_error_setq(err, EINVAL, "linux.seccomp: unknown architecture \"%s\"", *a);
        r = seccomp_arch_add(ctx, token);
        if (r == -EDOM)
            return berth_error_setq(err, EINVAL,
                                    "linux.seccomp: architecture %s has another byte order than "
                                    "the native one",
                                    *a);
        if (r < 0 && r != -EEXIST)
            return berth_error_set(err, -r, "linux.seccomp: add architecture %s", *a);
    }
    for (char **fl = sc->flags; fl && *fl; fl++) {
        unsigned int flag = flag_from_name(*fl);
        if (!flag)
            return berth_error_setq(err, EINVAL, "linux.seccomp: unsupported flag \"%s\"", *fl);
        f->flags |= flag;
    }
    for (size_t i = 0; i < sc->n_syscalls; i++) {
        const struct berth_spec_seccomp_rule *rule = &sc->syscalls[i];
        char where[64];
        uint32_t act;
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", i);
        if ((r = map_action(rule->action, rule->has_errno_ret ? &rule->errno_ret : NULL, where,
                            &act, err)) < 0)
            return r;
        if (act == def_act)
            continue;
        for (char **name = rule->names; name && *name; name++) {
            int nr = seccomp_syscall_resolve_name(*name);
            if (nr == __NR_SCMP_ERROR)
                continue; /* unknown to libseccomp: skipped, like runc */
            if ((r = add_syscall(ctx, *name, nr, act, rule, err)) < 0)
                return berth_error_wrap(err, "%s", where);
            if (act == SCMP_ACT_NOTIFY)
                f->notify = true;
        }
    }
    if (is_errno_action(def_act) && def_act != SCMP_ACT_ERRNO(ENOSYS) &&
        !profile_names(sc, "clone3")) {
        int nr = seccomp_syscall_resolve_name("clone3");
        if (nr != __NR_SCMP_ERROR && (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)) < 0)
            return berth_error_set(err, -r, "add the clone3 ENOSYS rule");
    }
    /* the kernel refuses WAIT_KILLABLE_RECV without a listener: without notify rules it would
     * have nothing to change anyway */
    if (!f->notify)
        f->flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    if ((r = export_bpf(ctx, f, err)) < 0)
        return r;
    if (is_errno_action(def_act) && def_act != SCMP_ACT_ERRNO(ENOSYS))
        return prepend_enosys(ctx, sc, f, err);
    return 0;
}

int
berth_seccomp_build(const struct berth_spec_seccomp *sc, struct berth_seccomp_filter **ret,
                    struct berth_error **err)
{
    uint32_t def_act;
    int r =
        map_action(sc->default_action, sc->has_default_errno_ret ? &sc->default_errno_ret : NULL,
                   "linux.seccomp.defaultAction", &def_act, err);
    if (r < 0)
        return r;
    if (def_act == SCMP_ACT_NOTIFY)
        return berth_error_setq(err, EINVAL,
                                "linux.seccomp: SCMP_ACT_NOTIFY cannot be the default action");
    _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(def_act);
    if (!ctx)
        return berth_error_setq(err, EINVAL,
                                "linux.seccomp: cannot create a filter with default "
                                "action %s (not supported by the kernel?)",
                                berth_seccomp_action_name(sc->default_action));
    struct berth_seccomp_filter *f = calloc(1, sizeof(*f));
    if (!f)
        return berth_error_set(err, ENOMEM, "seccomp filter");
    if ((r = build_ctx(sc, ctx, def_act, f, err)) < 0) {
        berth_seccomp_free(f);
        return r;
    }
    *ret = f;
    return 0;
}

static const char *
flag_names(unsigned int flags, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < BERTH_ARRAY_SIZE(flag_table); i++)
        if ((flags & flag_table[i].flag) && o < len) {
            int n = snprintf(buf + o, len - o, "%s%s", o ? " " : "", flag_table[i].name);
            o += n > 0 ? (size_t)n : 0;
        }
    return buf[0] ? buf : "none";
}

int
berth_seccomp_load(struct berth_seccomp_filter *f, int *ret_notify_fd, struct berth_error **err)
{
    struct sock_fprog prog = {.len = f->n_insns, .filter = f->insns};
    unsigned int flags = f->flags;
    if (f->notify) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        if (flags & SECCOMP_FILTER_FLAG_TSYNC)
            flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH; /* else the kernel refuses the pair */
    }
    long r = sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0 && errno == ENOSYS && flags == 0)
        r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    if (r < 0) {
        char names[160];
        if (errno == EINVAL && f->flags)
            return berth_error_set(err, errno, "load the seccomp filter (flags: %s)",
                                   flag_names(f->flags, names, sizeof(names)));
        if (errno == EACCES)
            return berth_error_set(err, errno,
                                   "load the seccomp filter (needs no_new_privs or CAP_SYS_ADMIN)");
        return berth_error_set(err, errno, "load the seccomp filter");
    }
    if (r > 0 && (flags & SECCOMP_FILTER_FLAG_TSYNC) && !f->notify)
        return berth_error_setq(err, EBUSY,
                                "load the seccomp filter: thread %ld could not be synchronized", r);
    if (ret_notify_fd)
        *ret_notify_fd = f->notify ? (int)r : -1;
    else if (f->notify)
        close((int)r);
    return 0;
}

int
berth_seccomp_filter_export(const struct berth_seccomp_filter *f, const void **ret_insns,
                            size_t *ret_len, unsigned int *ret_flags, bool *ret_notify)
{
    *ret_insns = f->insns;
    *ret_len = (size_t)f->n_insns * sizeof(*f->insns);
    *ret_flags = f->flags;
    *ret_notify = f->notify;
    return 0;
}

int
berth_seccomp_filter_import(const void *insns, size_t len, unsigned int flags, bool notify,
                            struct berth_seccomp_filter **ret)
{
    if (len == 0 || len % sizeof(struct sock_filter) ||
        len / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return -EINVAL;
    struct berth_seccomp_filter *f = calloc(1, sizeof(*f));
    if (!f || !(f->insns = malloc(len))) {
        free(f);
        return -ENOMEM;
    }
    memcpy(f->insns, insns, len);
    f->n_insns = (unsigned short)(len / sizeof(struct sock_filter));
    f->flags = flags;
    f->notify = notify;
    *ret = f;
    return 0;
}

void
berth_seccomp_free(struct berth_seccomp_filter *f)
{
    if (!f)
        return;
    free(f->insns);
    free(f);
}

int
berth_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                            struct berth_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    const char *data = state_json && *state_json ? state_json : "{}";
    size_t len = strlen(data);
    if (!listener_path || !*listener_path)
        return berth_error_setq(err, EINVAL, "seccomp: no listenerPath to send the notify fd to");
    if (strlen(listener_path) >= sizeof(addr.sun_path))
        return berth_error_setq(err, ENAMETOOLONG, "seccomp listener path '%s' is too long",
                                listener_path);
    memcpy(addr.sun_path, listener_path, strlen(listener_path) + 1);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berth_error_set(err, errno, "seccomp listener socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return berth_error_set(err, errno, "connect to the seccomp listener '%s'", listener_path);

    /* the fd travels with the first bytes; a long state follows as plain stream data */
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &notify_fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return berth_error_set(err, errno, "send the seccomp notify fd to '%s'", listener_path);
    for (size_t done = (size_t)n; done < len; done += (size_t)n) {
        n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            n = 0;
            continue;
        }
        if (n <= 0)
            return berth_error_set(err, n < 0 ? errno : EPIPE, "send the container state to '%s'",
                                   listener_path);
    }
    return 0;
}
