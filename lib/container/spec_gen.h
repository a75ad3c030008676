/* From what a Docker client sends to an OCI runtime spec, with Docker's default security.
 *
 *   POST /containers/create:  berth_container_validate(Config, HostConfig)     400 on bad input
 *                             berth_container_config_merge(Config, image config) -> Config
 *   start:                    berth_container_spec_build(...) -> config.json for berth-runtime
 *
 * Pure translation: nothing here creates files, mounts or cgroups. The only reads are the
 * rootfs's /etc/passwd and /etc/group (resolved inside the rootfs), /proc and /sys facts (the
 * cgroup version, the last capability, the kernel version, the rlimits the daemon may grant)
 * and stat() of host device paths named by HostConfig.Devices.
 *
 * Errors follow docs/error-handling.md: EINVAL for the client's mistakes (HTTP 400) with moby's
 * wording, so `docker` users see the messages they know. */
#ifndef BERTH_CONTAINER_SPEC_GEN_H
#define BERTH_CONTAINER_SPEC_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct json_t;

/* At create: validates HostConfig and the (user's) Config like moby does, with moby's error
 * texts: resources ("Minimum memory limit allowed is 6MB", swap below memory, CPU ranges and
 * conflicts), restart policy, ulimits, capabilities (unknown capability: "CAP_FOO"), --tmpfs,
 * binds and mounts (named volumes are refused: not supported yet), --security-opt (and a
 * seccomp profile given as JSON text), namespace modes, sysctls, working directory, stop
 * signal, healthcheck durations. host_config may be NULL. errno EINVAL. */
int berth_container_validate(const struct json_t *config, const struct json_t *host_config,
                             struct berth_error **err);

/* At create: merges the image's config (its "config" object; may be NULL) into the container's
 * Config as moby does: User, WorkingDir, StopSignal default from the image; Env: the user's
 * entries, then the image's entries whose name the user did not set; Labels, ExposedPorts and
 * Volumes merged (the user's win); Cmd from the image only when neither Entrypoint nor Cmd is
 * given, Entrypoint from the image only when the user's is absent/null (a given Entrypoint
 * drops the image's Cmd); Entrypoint [""] means none; Healthcheck fields filled from the
 * image's. Entrypoint and Cmd given as strings become arrays. *ret_config is a new object (what
 * inspect shows as Config; a whole create body may be passed: its HostConfig and
 * NetworkingConfig are left out). "No command specified" (EINVAL) when nothing is left to run. */
int berth_container_config_merge(const struct json_t *config, const struct json_t *image_config,
                                 struct json_t **ret_config, struct berth_error **err);

/* At create, optionally: moby's adaptContainerSettings, applied to the stored HostConfig so
 * inspect shows what moby shows: CpuShares clamped to [2, 262144] when out of range, MemorySwap
 * 2x Memory when 0, ShmSize 64 MiB when 0, IpcMode "private", CgroupnsMode by cgroup version,
 * OomKillDisable false, MaskedPaths/ReadonlyPaths Docker's lists (unless privileged). */
int berth_container_hostconfig_adapt(struct json_t *host_config, struct berth_error **err);

struct berth_spec_gen_input {
    const char *id;                   /* 64 hex */
    const struct json_t *config;      /* merged Config */
    const struct json_t *host_config; /* HostConfig as stored (NULL: all defaults) */
    const char *rootfs;               /* absolute path of the mounted rootfs (for user lookup) */
    const char *hostname_path, *hosts_path, *resolv_conf_path; /* bind-mounted files (or NULL) */
    const char *init_path;    /* berth-init binary for HostConfig.Init, or NULL */
    const char *cgroups_path; /* e.g. "/berth/<id>" */
    const char *netns_path;   /* NULL: new empty net namespace ("none" mode); "host": none */
};

/* At start: the full OCI spec (ociVersion, process, root, hostname, mounts, linux...) for
 * berth-runtime, as moby's daemon/oci_linux.go builds it. Errors: a user or group the rootfs
 * does not know ("unable to find user foo: no matching entries in passwd file"), Init asked
 * without an init binary, a bad seccomp profile, a host device that cannot be stat'ed. */
int berth_container_spec_build(const struct berth_spec_gen_input *in, struct json_t **ret_spec,
                               struct berth_error **err);

/* Capability sets, exposed for tests and for `exec --privileged`: Docker's default 14 with
 * CapAdd/CapDrop applied ("ALL" and names with or without CAP_, any case), or every capability
 * the kernel knows when privileged. *ret is a JSON array of "CAP_*" names. */
int berth_container_caps(const struct json_t *cap_add, const struct json_t *cap_drop,
                         bool privileged, struct json_t **ret, struct berth_error **err);

/* Docker's default seccomp profile, in Docker's profile format (includes/excludes, archMap):
 * what `docker info` calls "builtin". A new object. */
struct json_t *berth_seccomp_default_profile(void);
/* Turns a profile in Docker's format into the OCI linux.seccomp object for a container whose
 * bounding set is caps (array of "CAP_*"), evaluating includes/excludes (caps, arches, minimum
 * kernel) and archMap for the native architecture, as moby's setupSeccomp does. *ret is NULL
 * when the profile disables seccomp (no defaultAction and no syscalls). */
int berth_seccomp_profile_to_oci(const struct json_t *profile, const struct json_t *caps,
                                 struct json_t **ret, struct berth_error **err);

#endif
