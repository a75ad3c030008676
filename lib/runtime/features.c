/* `features` (what this runtime supports, runc's JSON shape) and `spec` (a default bundle). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/util.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/commands.h"
#include "runtime/seccomp.h"
#include "runtime/state.h"

static json_t *
strv_json(const char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

int
berth_cmd_features(struct berth_error **err)
{
    static const char *const hooks[] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
        NULL};
    static const char *const mount_options[] = {"async",
                                                "atime",
                                                "bind",
                                                "defaults",
                                                "dev",
                                                "diratime",
                                                "dirsync",
                                                "exec",
                                                "loud",
                                                "mand",
                                                "noatime",
                                                "nodev",
                                                "nodiratime",
                                                "noexec",
                                                "nomand",
                                                "norelatime",
                                                "nostrictatime",
                                                "nosuid",
                                                "private",
                                                "rbind",
                                                "relatime",
                                                "remount",
                                                "ro",
                                                "rprivate",
                                                "rshared",
                                                "rslave",
                                                "runbindable",
                                                "rw",
                                                "shared",
                                                "silent",
                                                "slave",
                                                "strictatime",
                                                "suid",
                                                "sync",
                                                "tmpcopyup",
                                                "unbindable",
                                                NULL};
    static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network", "pid",
                                             "time",   "user", "uts",   NULL};
    json_t *o = json_object();
    json_object_set_new(o, "ociVersionMin", json_string("1.0.0"));
    json_object_set_new(o, "ociVersionMax", json_string("1.1.0"));
    json_object_set_new(o, "hooks", strv_json(hooks));
    json_object_set_new(o, "mountOptions", strv_json(mount_options));
    json_t *lin = json_object();
    json_object_set_new(lin, "namespaces", strv_json(namespaces));
    json_t *caps = json_array();
    for (int c = 0; c <= berth_cap_last(); c++)
        json_array_append_new(caps, json_string(berth_cap_to_name(c)));
    json_object_set_new(lin, "capabilities", caps);
    json_t *cg = json_object();
    json_object_set_new(cg, "v1", json_boolean(berth_cgroup_has_v1()));
    json_object_set_new(cg, "v2", json_boolean(berth_cgroup_has_v2()));
    json_object_set_new(cg, "systemd", json_false());
    json_object_set_new(cg, "systemdUser", json_false());
    json_object_set_new(cg, "rdma", json_false());
    json_object_set_new(lin, "cgroup", cg);
    json_t *sc = json_object();
    json_object_set_new(sc, "enabled", json_true());
    json_object_set_new(sc, "actions", strv_json(berth_seccomp_known_actions()));
    json_object_set_new(sc, "operators", strv_json(berth_seccomp_known_operators()));
    json_object_set_new(sc, "archs", strv_json(berth_seccomp_known_archs()));
    json_object_set_new(sc, "knownFlags", strv_json(berth_seccomp_known_flags()));
    json_t *supported = json_array();
    for (const char *const *f = berth_seccomp_known_flags(); f && *f; f++)
        if (berth_seccomp_flag_supported(*f))
            json_array_append_new(supported, json_string(*f));
    json_object_set_new(sc, "supportedFlags", supported);
    json_object_set_new(lin, "seccomp", sc);
    json_t *aa = json_object();
    json_object_set_new(aa, "enabled", json_false());
    json_object_set_new(lin, "apparmor", aa);
    json_t *se = json_object();
    json_object_set_new(se, "enabled", json_false());
    json_object_set_new(lin, "selinux", se);
    json_t *rdt = json_object();
    json_object_set_new(rdt, "enabled", json_false());
    json_object_set_new(lin, "intelRdt", rdt);
    json_object_set_new(o, "linux", lin);
    json_t *ann = json_object();
    json_object_set_new(ann, "org.opencontainers.runtime-spec.features", json_string("berth"));
    json_object_set_new(o, "annotations", ann);
    char *t = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!t)
        return berth_error_set(err, ENOMEM, "features");
    printf("%s\n", t);
    free(t);
    return 0;
}

/* The default config.json of `spec`: the same container runc's spec makes. */
static const char default_spec[] =
    "{\n"
    "\t\"ociVersion\": \"" BERTH_OCI_VERSION "\",\n"
    "\t\"process\": {\n"
    "\t\t\"terminal\": true,\n"
    "\t\t\"user\": {\"uid\": 0, \"gid\": 0},\n"
    "\t\t\"args\": [\"sh\"],\n"
    "\t\t\"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", "
    "\"TERM=xterm\"],\n"
    "\t\t\"cwd\": \"/\",\n"
    "\t\t\"capabilities\": {\n"
    "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
    "\t\t\t\"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
    "\t\t},\n"
    "\t\t\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
    "\t\t\"noNewPrivileges\": true\n"
    "\t},\n"
    "\t\"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "\t\"hostname\": \"berth\",\n"
    "\t\"mounts\": [\n"
    "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
    "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": "
    "[\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
    "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", "
    "\"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", "
    "\"gid=5\"]},\n"
    "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": "
    "[\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
    "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", "
    "\"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
    "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": "
    "[\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
    "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", "
    "\"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
    "\t],\n"
    "\t\"linux\": {\n"
    "\t\t\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
    "\t\t\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, "
    "{\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],\n"
    "\t\t\"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", "
    "\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", "
    "\"/sys/firmware\", \"/proc/scsi\"],\n"
    "\t\t\"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", "
    "\"/proc/sysrq-trigger\"]\n"
    "\t}\n"
    "}\n";

int
berth_cmd_spec(const char *bundle, bool rootless, struct berth_error **err)
{
    json_error_t jerr;
    json_t *o = json_loads(default_spec, 0, &jerr);
    if (!o)
        return berth_error_setq(err, EINVAL, "default spec: %s", jerr.text);
    if (rootless) {
        /* rootless: a user namespace mapping the caller, no network namespace, bind /sys */
        json_t *lin = json_object_get(o, "linux");
        json_t *ns = json_array();
        const char *types[] = {"pid", "ipc", "uts", "mount", "cgroup", "user"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(types); i++)
            json_array_append_new(ns, json_pack("{s:s}", "type", types[i]));
        json_object_set_new(lin, "namespaces", ns);
        json_object_set_new(
            lin, "uidMappings",
            json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)getuid(), "size", 1));
        json_object_set_new(
            lin, "gidMappings",
            json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)getgid(), "size", 1));
        json_object_del(lin, "resources");
        json_t *mounts = json_object_get(o, "mounts");
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
        {
            const char *d = json_string_value(json_object_get(m, "destination"));
            if (d && !strcmp(d, "/sys")) {
                json_object_set_new(m, "type", json_string("none"));
                json_object_set_new(m, "source", json_string("/sys"));
                json_object_set_new(
                    m, "options",
                    json_pack("[s,s,s,s,s]", "rbind", "nosuid", "noexec", "nodev", "ro"));
            }
        }
    }
    char *t = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!t)
        return berth_error_set(err, ENOMEM, "spec");
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/config.json", bundle ? bundle : ".") < 0) {
        free(t);
        return berth_error_set(err, ENOMEM, "spec");
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        free(t);
        if (e == EEXIST)
            return berth_error_setq(err, EEXIST, "File %s exists. Remove it first", path);
        return berth_error_set(err, e, "create %s", path);
    }
    int r = berth_write_all(fd, t, strlen(t));
    r = r == 0 ? berth_write_all(fd, "\n", 1) : r;
    close(fd);
    free(t);
    return r < 0 ? berth_error_set(err, -r, "write %s", path) : 0;
}
