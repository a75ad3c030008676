/* The contract between berthd and berth-monitor, the per-container (and per-exec) monitor.
 *
 * One monitor runs one process (a container's init, or one exec) from start to exit. It owns
 * the process's stdio (pipes, or the pty master), writes the json-file log, serves attach
 * connections, records the exit status, and outlives berthd: berthd finds it again after a
 * restart through the files in the monitor's directory.
 *
 * Command line (berthd spawns it; the monitor detaches itself: setsid, double fork, stdio to
 * /dev/null, PR_SET_CHILD_SUBREAPER so the container init / exec process is its child):
 *   berth-monitor --id ID --dir DIR --runtime PATH --runtime-root DIR
 *                 (--bundle DIR | --exec-process FILE)
 *                 [--log-path FILE --log-max-size BYTES --log-max-file N]
 *                 [--tty] [--stdin] [--stdin-once] [--oom-file FILE] [--sync-fd N]
 *   --dir          exists (berthd made it); the monitor writes the files named below there
 *   --bundle       container mode: `runtime run --detach --bundle DIR --pid-file ... ID`
 *   --exec-process exec mode: `runtime exec --detach --process FILE --pid-file ... ID`
 *   --log-path     json-file log (docker's format, one JSON object per line:
 *                  {"log":"text\n","stream":"stdout","time":"RFC3339Nano"}); rotated to
 *                  FILE.1 .. FILE.(N-1) when it passes max-size (0: never rotate)
 *   --oom-file     read after the exit (v1 memory.oom_control or v2 memory.events): an
 *                  "oom_kill N" line with N > 0 means the process was OOM-killed
 *   --sync-fd      SOCK_SEQPACKET to berthd (default 3); messages below, one per packet
 *
 * Sync messages (text, no trailing newline):
 *   monitor -> berthd  "ready <monitor pid>"    attach.sock listens; nothing runs yet
 *   berthd  -> monitor "start"                   (EOF instead: give up, remove files, exit)
 *   monitor -> berthd  "started <process pid>"   the process runs (after the runtime exited 0)
 *                   or "error <message>"         the runtime failed: its error line (runc
 *                                                wording); the monitor then exits, and writes
 *                                                no exit file
 *   monitor -> berthd  "exited"                  exit.json is written (sent only after
 *                                                "started"); the monitor then closes the
 *                                                attach connections (once their output is
 *                                                out), runs `runtime delete` and exits:
 *                                                berthd may answer waiters now, but must wait
 *                                                for the monitor's exit before it starts the
 *                                                container again or removes DIR
 *   The monitor closes the sync fd after "error", or after "exited" and the runtime's delete.
 *
 * Files in DIR:
 *   attach.sock   SOCK_STREAM; see below. Removed when the monitor exits.
 *   pid           the process pid (written before "started")
 *   runtime.log   the runtime's --log (JSON lines)
 *   exit.json     written atomically once the process has exited and its output is drained:
 *                 {"ExitCode":N,"OOMKilled":bool,"FinishedAt":"RFC3339Nano","Pid":N}
 *                 (ExitCode is 128+signal when killed by a signal). In container mode the
 *                 monitor runs `runtime delete --force ID` after it and after the attach
 *                 connections are closed, then exits.
 *
 * attach.sock: a client connects and sends one line:
 *   "attach <stdin 0|1> <stdout 0|1> <stderr 0|1>\n"  the monitor answers "ok\n", then sends
 *       the process's output from that moment as frames: 8-byte header {stream (1 stdout,
 *       2 stderr; always 1 with a tty), 0, 0, 0, payload length u32 big-endian} + payload.
 *       With stdin 1, bytes from the client go to the process's stdin; the client's EOF
 *       (shutdown SHUT_WR) closes the process's stdin when --stdin-once, else only ends that
 *       client's input. A slow client never blocks the process: beyond 1 MiB queued for a
 *       client, that client is dropped. When the process has exited and its output is
 *       drained, the monitor closes every attach connection.
 *   "resize <rows> <cols>\n"   TIOCSWINSZ on the pty; answers "ok\n" and closes.
 *   anything else: answers "error <message>\n" and closes.
 *
 * Details the monitor settles (lib/monitor/):
 *   - A failure before "ready" (bad directory, attach.sock cannot be bound) is sent as
 *     "error <message>" instead of "ready"; bad arguments go to stderr (exit 2) before the fork.
 *   - The output pipes are read only once the runtime has exited 0: what the runtime itself
 *     prints on a failed start never reaches the log or the clients. Attach clients connected
 *     before "start" get the output from its first byte.
 *   - With --tty the console socket is DIR/console.sock, removed when the master has arrived;
 *     a resize before that is kept and applied to the new pty. --stdin-once with a tty ends the
 *     input with ^D (a pty cannot be half-closed).
 *   - After the exit the output is drained until every writer is gone, at most 1 s (a leftover
 *     process of an exec may keep the pipe open); exit.json is written before the attach
 *     connections are closed, which get up to 2 s to take what is queued for them.
 *   - --log-max-size <= 0 means no rotation, --log-max-file 0 means 1 (truncate in place).
 *   - A log write error (full disk) loses that entry and is counted; the process is unaffected.
 */
#ifndef BERTH_MONITOR_PROTOCOL_H
#define BERTH_MONITOR_PROTOCOL_H

#define BERTH_MONITOR_ATTACH_SOCK "attach.sock"
#define BERTH_MONITOR_PID_FILE "pid"
#define BERTH_MONITOR_RUNTIME_LOG "runtime.log"
#define BERTH_MONITOR_EXIT_FILE "exit.json"
#define BERTH_MONITOR_FRAME_HEADER 8
#define BERTH_MONITOR_CLIENT_QUEUE_MAX (1u << 20)

#endif
