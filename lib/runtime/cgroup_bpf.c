/* The v2 device controller: a BPF_PROG_TYPE_CGROUP_DEVICE program built from the OCI device
 * rules, loaded and attached with the raw bpf() syscall (no libbpf).
 *
 * Semantics follow the v1 device cgroup: the list starts from "allow everything" (what a new
 * cgroup inherits from the root); a rule of type 'a' resets it to allow-all or deny-all and
 * drops the rules before it; after that the last matching rule wins. An allow rule matches a
 * request whose access bits are all granted by the rule, a deny rule one that wants any of
 * the bits it names. So the program tests the rules from last to first and returns the
 * default when none matched. */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "runtime/cgroup_internal.h"

#define BERTH_BPF_PROG_NAME "berth_dev"

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The kernel's insn macros are not in the uapi headers. */
#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_K(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_X(dst, src) INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_K(op, dst, imm, off) INSN(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct prog {
    struct bpf_insn *v;
    size_t n, cap;
    bool oom;
};

static void
emit(struct prog *p, struct bpf_insn insn)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 64;
        struct bpf_insn *nv = realloc(p->v, ncap * sizeof(*nv));
        if (!nv) {
            p->oom = true;
            return;
        }
        p->v = nv;
        p->cap = ncap;
    }
    p->v[p->n++] = insn;
}

static int
access_bits(const char *access)
{
    int bits = 0;
    for (const char *a = access; *a; a++)
        bits |= *a == 'r'   ? BPF_DEVCG_ACC_READ
                : *a == 'w' ? BPF_DEVCG_ACC_WRITE
                : *a == 'm' ? BPF_DEVCG_ACC_MKNOD
                            : 0;
    return bits;
}

/* One rule: jumps to the next block unless the request matches, then returns allow. */
static void
emit_rule(struct prog *p, const struct berth_spec_device_rule *rule)
{
    const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
    size_t jumps[8], n_jumps = 0;
    int bits = access_bits(rule->access);
    if (rule->type == 'c' || rule->type == 'b') {
        jumps[n_jumps++] = p->n;
        emit(p, JMP_K(BPF_JNE, BPF_REG_2,
                      rule->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0));
    }
    if (bits != all) {
        emit(p, MOV64_X(BPF_REG_1, BPF_REG_3));
        if (rule->allow) {
            /* every requested bit granted: (access & ~bits) == 0 */
            emit(p, ALU32_K(BPF_AND, BPF_REG_1, all & ~bits));
            jumps[n_jumps++] = p->n;
            emit(p, JMP_K(BPF_JNE, BPF_REG_1, 0, 0));
        } else {
            /* any requested bit denied: (access & bits) != 0 */
            emit(p, ALU32_K(BPF_AND, BPF_REG_1, bits));
            jumps[n_jumps++] = p->n;
            emit(p, JMP_K(BPF_JEQ, BPF_REG_1, 0, 0));
        }
    }
    if (rule->major >= 0) {
        jumps[n_jumps++] = p->n;
        emit(p, JMP_K(BPF_JNE, BPF_REG_4, (int32_t)rule->major, 0));
    }
    if (rule->minor >= 0) {
        jumps[n_jumps++] = p->n;
        emit(p, JMP_K(BPF_JNE, BPF_REG_5, (int32_t)rule->minor, 0));
    }
    emit(p, MOV64_K(BPF_REG_0, rule->allow ? 1 : 0));
    emit(p, EXIT());
    if (p->oom)
        return;
    for (size_t i = 0; i < n_jumps; i++)
        p->v[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
}

static int
build(const struct berth_spec_device_rule *rules, size_t n, struct prog *p,
      struct berth_error **err)
{
    /* r2 = device type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx) */
    emit(p, LDX_W(BPF_REG_2, BPF_REG_1, 0));
    emit(p, ALU32_K(BPF_AND, BPF_REG_2, 0xffff));
    emit(p, LDX_W(BPF_REG_3, BPF_REG_1, 0));
    emit(p, ALU32_K(BPF_RSH, BPF_REG_3, 16));
    emit(p, LDX_W(BPF_REG_4, BPF_REG_1, 4));
    emit(p, LDX_W(BPF_REG_5, BPF_REG_1, 8));
    size_t start = 0;
    bool dflt = true;
    for (size_t i = 0; i < n; i++)
        if (rules[i].type == 'a') {
            start = i + 1;
            dflt = rules[i].allow;
        }
    for (size_t i = n; i-- > start;) {
        const struct berth_spec_device_rule *r = &rules[i];
        if (r->type != 'c' && r->type != 'b')
            return berth_error_setq(err, EINVAL, "device rule %zu: bad type '%c'", i, r->type);
        if (r->major > INT32_MAX || r->minor > INT32_MAX)
            return berth_error_setq(err, EINVAL, "device rule %zu: bad device number", i);
        if (!r->access[0])
            continue;
        emit_rule(p, r);
    }
    emit(p, MOV64_K(BPF_REG_0, dflt ? 1 : 0));
    emit(p, EXIT());
    if (p->oom)
        return berth_error_set(err, ENOMEM, "device filter");
    return 0;
}

static int
load(const struct prog *p, struct berth_error **err)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)p->v;
    attr.insn_cnt = (uint32_t)p->n;
    attr.license = (uint64_t)(uintptr_t) "GPL";
    snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", BERTH_BPF_PROG_NAME);
    int fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0)
        return fd;
    int saved = errno;
    if (saved != EINVAL && saved != EACCES)
        return berth_error_set(err, saved, "load the device filter (bpf BPF_PROG_LOAD)");
    /* the verifier refused it: load again with a log for the message */
    _cleanup_free_ char *log = calloc(1, 16384);
    if (log) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = 16384;
        attr.log_level = 1;
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0)
            return fd;
        log[16383] = '\0';
    }
    return berth_error_setq(err, saved, "load the device filter: %s: %s", strerror(saved),
                            log && *log ? log : "no verifier log");
}

/* The ids of the device programs attached to the cgroup itself. */
static int
query(int dirfd, uint32_t **ret, uint32_t *n_ret, struct berth_error **err)
{
    uint32_t cap = 16;
    for (;;) {
        _cleanup_free_ uint32_t *ids = calloc(cap, sizeof(*ids));
        if (!ids)
            return berth_error_set(err, ENOMEM, "device filter");
        union bpf_attr attr;
        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)dirfd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = cap;
        if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) {
            if (errno == ENOSPC && cap < 4096) {
                cap *= 4;
                continue;
            }
            return berth_error_set(err, errno, "query the device filters (bpf BPF_PROG_QUERY)");
        }
        *n_ret = attr.query.prog_cnt;
        *ret = TAKE_PTR(ids);
        return 0;
    }
}

/* An fd for the program with this id if it is berth's, else -1 (gone, or not ours). */
static int
open_if_ours(uint32_t id)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    _cleanup_close_ int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0)
        return -1;
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    memset(&attr, 0, sizeof(attr));
    attr.info.bpf_fd = (uint32_t)fd;
    attr.info.info_len = sizeof(info);
    attr.info.info = (uint64_t)(uintptr_t)&info;
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
        return -1;
    if (strncmp(info.name, BERTH_BPF_PROG_NAME, sizeof(info.name)) != 0)
        return -1;
    return TAKE_FD(fd);
}

int
berth_cgroup_bpf_query(int dirfd, size_t *ret_total, size_t *ret_ours, struct berth_error **err)
{
    _cleanup_free_ uint32_t *ids = NULL;
    uint32_t n = 0;
    int r = query(dirfd, &ids, &n, err);
    if (r < 0)
        return r;
    size_t ours = 0;
    for (uint32_t i = 0; i < n; i++) {
        int fd = open_if_ours(ids[i]);
        if (fd >= 0) {
            ours++;
            close(fd);
        }
    }
    *ret_total = n;
    *ret_ours = ours;
    return 0;
}

int
berth_cgroup_bpf_apply(int dirfd, const struct berth_spec_device_rule *rules, size_t n, bool fresh,
                       struct berth_error **err)
{
    struct prog p = {0};
    int r = build(rules, n, &p, err);
    if (r < 0) {
        free(p.v);
        return r;
    }
    _cleanup_close_ int prog_fd = load(&p, err);
    free(p.v);
    if (prog_fd < 0)
        return prog_fd;
    /* the programs to replace: looked up before attaching, so the new one is not among them */
    _cleanup_free_ uint32_t *ids = NULL;
    uint32_t n_ids = 0;
    if (!fresh && (r = query(dirfd, &ids, &n_ids, err)) < 0)
        return r;
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)dirfd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
        return berth_error_set(err, errno, "attach the device filter (bpf BPF_PROG_ATTACH)");
    /* both programs run until the old one goes: a request passes only if both allow it, so
     * there is no moment without a filter */
    for (uint32_t i = 0; i < n_ids; i++) {
        _cleanup_close_ int old = open_if_ours(ids[i]);
        if (old < 0)
            continue;
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)dirfd;
        attr.attach_bpf_fd = (uint32_t)old;
        attr.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
            return berth_error_set(err, errno,
                                   "detach the old device filter (bpf BPF_PROG_DETACH)");
    }
    return 0;
}
