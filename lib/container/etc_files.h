/* The container's own /etc/hostname, /etc/hosts and /etc/resolv.conf, bind-mounted at start. */
#ifndef BERTH_CONTAINER_ETC_FILES_H
#define BERTH_CONTAINER_ETC_FILES_H

#include "core/error.h"

struct json_t;

/* hosts: localhost entries, the container's hostname (host network: the host's own /etc/hosts),
 * then HostConfig.ExtraHosts ("name:ip", "name=ip"); resolv.conf: HostConfig.Dns /
 * DnsSearch / DnsOptions when given, else the host's file without loopback nameservers (they
 * cannot work from another network namespace), as moby does. */
int berth_etc_files_write(const struct json_t *config, const struct json_t *host_config,
                          const char *hostname_path, const char *hosts_path,
                          const char *resolv_path, struct berth_error **err);
/* The host resolv.conf text with loopback nameservers dropped (exposed for unit tests). */
char *berth_resolv_conf_filter(const char *host_text);

#endif
