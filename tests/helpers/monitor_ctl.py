#!/usr/bin/env python3
"""Plays berthd's side of the berth-monitor contract (lib/monitor/protocol.h) for the tests.

  monitor_ctl.py run [options] -- MONITOR ARGS...
      spawns the monitor with a SOCK_SEQPACKET sync fd, prints its "ready <pid>" line, then
      (--eof) closes the sync fd, or sends "start" and prints "started <pid>" / "error <msg>";
      with --attach, checks that "exited" and EOF follow the output's end.
      --attach I,O,E   connect to attach.sock before "start" and collect the output
      --stdin TEXT     send TEXT on the attach connection (then shut down writing unless
                       --keep-stdin)
      --die-after-start  exit right after sending "start" without reading the answer
  monitor_ctl.py attach DIR I,O,E [--stdin TEXT] [--keep-stdin]
      attaches to a running monitor and collects the output until the monitor closes it
  monitor_ctl.py command DIR LINE
      sends one line (e.g. "resize 30 100") and prints the answer
  monitor_ctl.py slow DIR SECONDS
      attaches to stdout and never reads: for the slow-client test

Collected output: --out FILE and --err FILE get the payloads of stream 1 and 2; the last line
printed is "frames ok N" or "frames bad: <why>".
"""
import os
import socket
import subprocess
import sys
import time


def connect(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(d, "attach.sock"))
    return s


def read_line(s):
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            break
        b += c
    return b.decode(errors="replace").rstrip("\n")


def attach(d, flags):
    s = connect(d)
    s.sendall(("attach %s\n" % flags.replace(",", " ")).encode())
    ans = read_line(s)
    if ans != "ok":
        print("attach answered: %r" % ans)
        sys.exit(1)
    return s


def collect(s, opts):
    out = {1: b"", 2: b""}
    frames = 0
    bad = None
    buf = b""
    s.settimeout(float(opts.get("timeout", "30")))
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            buf += c
    except socket.timeout:
        bad = "timeout waiting for the monitor to close the connection"
    while len(buf) >= 8 and not bad:
        st, z1, z2, z3 = buf[0], buf[1], buf[2], buf[3]
        n = int.from_bytes(buf[4:8], "big")
        if st not in (1, 2) or z1 or z2 or z3:
            bad = "bad header %r" % buf[:8]
            break
        if len(buf) < 8 + n:
            bad = "truncated frame"
            break
        out[st] += buf[8:8 + n]
        frames += 1
        buf = buf[8 + n:]
    if buf and not bad:
        bad = "trailing bytes %r" % buf[:16]
    for k, name in ((1, "out"), (2, "err")):
        if opts.get(name):
            with open(opts[name], "wb") as f:
                f.write(out[k])
    print("frames ok %d" % frames if not bad else "frames bad: %s" % bad)


def feed(s, opts):
    if "stdin" in opts:
        s.sendall(opts["stdin"].encode())
    if "keep-stdin" not in opts:
        s.shutdown(socket.SHUT_WR)


def parse(argv):
    opts, rest = {}, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i + 1:]
            break
        if a in ("--eof", "--keep-stdin", "--die-after-start"):
            opts[a[2:]] = True
        elif a.startswith("--"):
            opts[a[2:]] = argv[i + 1]
            i += 1
        else:
            rest.append(a)
        i += 1
    return opts, rest


def main():
    cmd = sys.argv[1]
    opts, rest = parse(sys.argv[2:])
    if cmd == "run":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        args = rest + ["--sync-fd", str(b.fileno())]
        p = subprocess.Popen(args, pass_fds=(b.fileno(),))
        b.close()
        a.settimeout(20)
        ready = a.recv(4096).decode()
        p.wait()  # the monitor forks itself away at once
        print(ready, flush=True)
        if not ready.startswith("ready "):
            sys.exit(1)
        if "eof" in opts:
            a.close()
            return
        d = rest[rest.index("--dir") + 1]
        s = attach(d, opts["attach"]) if "attach" in opts else None
        a.send(b"start")
        if "die-after-start" in opts:
            os._exit(0)
        ans = a.recv(4096).decode()
        print(ans, flush=True)
        started = ans.startswith("started ")
        if not started:
            eof = a.recv(4096)
            if eof:
                print("sync fd not closed after the answer: %r" % eof)
        if s:
            feed(s, opts)
            collect(s, opts)
            if started:
                # after the output's end: "exited" (exit.json is written), then EOF
                ex = a.recv(4096)
                if ex != b"exited":
                    print("sync fd said %r, not exited" % ex)
                elif a.recv(4096):
                    print("sync fd not closed after exited")
    elif cmd == "attach":
        s = attach(rest[0], rest[1])
        feed(s, opts)
        collect(s, opts)
    elif cmd == "command":
        s = connect(rest[0])
        s.sendall((rest[1] + "\n").encode())
        print(read_line(s))
        print("closed" if s.recv(1) == b"" else "not closed")
    elif cmd == "slow":
        s = attach(rest[0], "0,1,0")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        print("attached", flush=True)
        time.sleep(float(rest[1]))
        # the monitor dropped us: whatever we get ends with EOF (or a reset)
        total = 0
        try:
            while True:
                c = s.recv(1 << 20)
                if not c:
                    break
                total += len(c)
        except ConnectionResetError:
            pass
        print("slow client got %d bytes then EOF" % total)
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
