/* Terminals: the container's pty, handing its master to --console-socket as containerd
 * expects (SCM_RIGHTS), and relaying it to our own stdio for a foreground `run -t`. */
#ifndef BERTH_RUNTIME_TERMINAL_H
#define BERTH_RUNTIME_TERMINAL_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"

/* In the container (after pivot_root): opens a pty, makes the slave our controlling terminal
 * and stdio, binds it on /dev/console when bind_console, returns the master fd. */
int berth_terminal_setup(unsigned int rows, unsigned int cols, int bind_console, int *ret_master,
                         struct berth_error **err);
/* The parent's side of the end of setup: receives messages until SYNC_READY; a pty master that
 * arrives (SYNC_CONSOLE) goes to console_socket when given, else to *ret_master. */
int berth_terminal_wait_ready(int sock, const char *console_socket, int *ret_master,
                              struct berth_error **err);
/* Connects to the unix socket at path and sends master with SCM_RIGHTS. */
int berth_terminal_send_to_socket(const char *path, int master, struct berth_error **err);
/* The foreground loop of `run` and `exec`: forwards the signals blocked in `sigs` to pid, and
 * when master >= 0 relays it to our stdin/stdout (raw mode, window size changes) until the
 * process exits (pidfd readable). Returns its wait status. */
int berth_terminal_relay(int master, pid_t pid, int pidfd, const sigset_t *sigs, int *ret_status,
                         struct berth_error **err);

#endif
