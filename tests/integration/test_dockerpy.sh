#!/bin/bash
# docker-py 5 (Debian's python3-docker, run with /usr/bin/python3) against berthd:
# containers.run (detached and not), logs, exec_run, wait, stop, remove, stats.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

CGP=berth-py-$$

t_dockerpy() {
    if ! /usr/bin/python3 -c 'import docker' 2>/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-docker >/dev/null 2>&1
    fi
    if ! /usr/bin/python3 -c 'import docker' 2>/dev/null; then
        _result 1 "python3-docker could not be installed"
        return
    fi
    start_daemon py --cgroup-parent "/$CGP"
    DOCKER_HOST="unix://$SOCK_py" "$DOCKER" pull busybox >/dev/null 2>&1
    DOCKER_HOST="unix://$SOCK_py" /usr/bin/python3 - <<'EOF' >"$WORK/py.out" 2>&1
import docker, sys, time

client = docker.from_env(version="auto", timeout=60)

def check(desc, ok, detail=""):
    print(("ok" if ok else "not ok") + " - " + desc + ("" if ok else "  # " + repr(detail)))

out = client.containers.run("busybox", ["sh", "-c", "echo hello; echo err >&2"], remove=True)
check("containers.run (not detached) returns the output", out == b"hello\n", out)

try:
    client.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
    check("a failing run raises ContainerError", False, "no exception")
except docker.errors.ContainerError as e:
    check("a failing run raises ContainerError with the exit status", e.exit_status == 3, e.exit_status)

c = client.containers.run("busybox", ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line$i; sleep 0.1; done"],
                          detach=True, name="pyc", labels={"k": "v"})
check("containers.run(detach=True) gives a Container", c.id and len(c.id) == 64, c.id)
time.sleep(0.5)
c.reload()
check("its status is running", c.status == "running", c.status)
logs = c.logs()
check("logs", logs.startswith(b"line1\nline2\n"), logs[:40])
check("logs(tail=1)", c.logs(tail=1).count(b"\n") == 1, c.logs(tail=1))
r = c.exec_run(["sh", "-c", "echo from-exec; exit 4"])
check("exec_run output", r.output == b"from-exec\n", r.output)
check("exec_run exit code", r.exit_code == 4, r.exit_code)
r = c.exec_run("cat /etc/hostname")
check("exec_run with a string command", r.exit_code == 0 and len(r.output.strip()) == 12, r.output)
s = c.stats(stream=False)
check("stats(stream=False)", "memory_stats" in s and "cpu_stats" in s, list(s.keys()))
check("containers.list sees it by label",
      [x.id for x in client.containers.list(filters={"label": "k=v"})] == [c.id])
c.stop(timeout=1)
res = c.wait()
check("wait after stop", res["StatusCode"] == 137, res)
c.reload()
check("status exited", c.status == "exited", c.status)
c.remove()
check("remove", not any(x.id == c.id for x in client.containers.list(all=True)))

c = client.containers.run("busybox", ["sh", "-c", "exit 5"], detach=True)
check("wait gives the exit code", c.wait()["StatusCode"] == 5)
c.remove(force=True)
try:
    client.containers.get("pyc")
    check("get of a removed container raises NotFound", False)
except docker.errors.NotFound:
    check("get of a removed container raises NotFound", True)
EOF
    local line
    while IFS= read -r line; do
        case $line in
            "ok - "*) _result 0 "docker-py: ${line#ok - }" ;;
            "not ok - "*) _result 1 "docker-py: ${line#not ok - }" ;;
        esac
    done <"$WORK/py.out"
    grep -q "^ok - remove" "$WORK/py.out"
    _result $? "docker-py script ran to the end" "$(tail -15 "$WORK/py.out")"
    local ids; ids=$(DOCKER_HOST="unix://$SOCK_py" "$DOCKER" ps -aq)
    [ -n "$ids" ] && DOCKER_HOST="unix://$SOCK_py" "$DOCKER" rm -f $ids >/dev/null 2>&1
    stop_daemon py
    find /sys/fs/cgroup -maxdepth 2 -name "$CGP" -type d -exec rmdir {} + 2>/dev/null
}

run_tests
