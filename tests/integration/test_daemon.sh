#!/bin/bash
# berthd: the transport, version negotiation, system endpoints, lifecycle and configuration.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

t_ping_and_versions() {
    ensure_daemon a
    local h; h=$(api a -I http://d/_ping)
    expect_match "HEAD /_ping: 200" "$h" "^HTTP/1.1 200"
    expect_match "Api-Version header" "$h" "Api-Version: 1.44"
    expect_match "Ostype header" "$h" "Ostype: linux"
    expect_match "Builder-Version header" "$h" "Builder-Version: 1"
    expect_eq "GET /_ping body" "$(api a http://d/_ping)" OK
    expect_eq "versioned /v1.44/_ping (docker-py)" "$(api a http://d/v1.44/_ping)" OK
    expect_eq "/version ApiVersion" "$(api a http://d/version | jq -r .ApiVersion)" 1.44
    expect_eq "/version MinAPIVersion" "$(api a http://d/v1.24/version | jq -r .MinAPIVersion)" 1.24
    local out; out=$(api a -w '%{http_code}' http://d/v1.99/version)
    expect_match "a too new version is refused with 400" "$out" 'too new. Maximum supported API version is 1.44"}.*400$'
    out=$(api a -w '%{http_code}' http://d/v1.12/version)
    expect_match "a too old version is refused with 400" "$out" 'too old. Minimum supported API version is 1.24.*400$'
    out=$(api a -w '%{http_code}' http://d/v1.44/nosuch)
    expect_eq "unknown route: 404 page not found" "$out" '{"message":"page not found"}
404'
    expect_match "error bodies are exactly application/json" "$(api a -i http://d/nosuch)" $'Content-Type: application/json\r'
    out=$(api a -w '%{http_code}' -X DELETE http://d/version)
    expect_match "wrong method on a known path: 404" "$out" "404$"
    # keep-alive: two requests on one connection
    out=$(curl -s --unix-socket "$SOCK_a" http://d/_ping http://d/_ping)
    expect_eq "persistent connections serve several requests" "$out" OKOK
}

t_docker_cli() {
    ensure_daemon a
    expect_match "docker version shows the server" "$(dk a version)" "Server: Berth Engine"
    expect_match "docker version: API version" "$(dk a version --format '{{.Server.APIVersion}}')" "^1.44$"
    local info; info=$(dk a info --format '{{json .}}')
    expect_eq "docker info: ServerVersion" "$(jq -r .ServerVersion <<<"$info")" 0.1.0
    expect_eq "docker info: DockerRootDir" "$(jq -r .DockerRootDir <<<"$info")" "$WORK/d-a/data"
    expect_match "docker info: storage driver" "$(jq -r .Driver <<<"$info")" "^(overlay2|vfs)$"
    expect_eq "docker info: no warnings" "$(dk a info 2>&1 >/dev/null | grep -c WARNING)" 0
    expect_match "docker system df" "$(dk a system df)" "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE"
    local t0; t0=$(date +%s)
    dk a events --since "$((t0 - 60))" --until "$t0" >"$WORK/ev.out"
    expect_rc "docker events with since/until ends by itself" $? 0
    local id1 id2
    id1=$(dk a info --format '{{.ID}}')
    stop_daemon a
    start_daemon a
    id2=$(dk a info --format '{{.ID}}')
    expect_eq "the engine id survives a restart" "$id2" "$id1"
}

t_events_stream() {
    ensure_daemon a
    local out
    out=$(api a -w '%{http_code}' "http://d/events?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D")
    expect_match "events: unknown filter refused" "$out" "invalid filter 'bogus'.*400$"
    out=$(api a -w '%{http_code}' "http://d/events?since=yesterday")
    expect_match "events: bad timestamp refused" "$out" "400$"
    # a live stream ends when the client leaves, and the listener count says so
    timeout 1 curl -s -N --unix-socket "$SOCK_a" http://d/events >/dev/null
    wait_for test "$(dk a info --format '{{.NEventsListener}}')" = 0
    expect_eq "a client that left is no longer a listener" "$(dk a info --format '{{.NEventsListener}}')" 0
}

t_lifecycle() {
    ensure_daemon a
    local dir=$WORK/d-a pid
    pid=$(cat "$dir/exec/berthd.pid")
    expect_eq "pidfile holds the daemon's pid" "$pid" "$(cat "$dir/launcher.pid")"
    expect_eq "socket mode 0660" "$(stat -c %a "$SOCK_a")" 660
    # a second daemon on the same data-root and exec-root is refused
    out=$("$BERTHD" -H "unix://$dir/other.sock" --data-root "$dir/data" --exec-root "$dir/exec" 2>&1); rc=$?
    expect_rc "a second daemon on the same exec-root fails" "$rc" 1
    expect_match "and says why" "$out" "pid file found"
    expect_true "the first daemon still answers" curl -sf -o /dev/null --unix-socket "$SOCK_a" http://d/_ping
    # another daemon on the same socket path is refused, the first keeps its socket
    out=$("$BERTHD" -H "unix://$SOCK_a" --data-root "$WORK/d-x/data" --exec-root "$WORK/d-x/exec" 2>&1); rc=$?
    expect_match "a second daemon on a live socket is refused" "$out" "another daemon is listening"
    expect_true "the first daemon's socket is untouched" curl -sf -o /dev/null --unix-socket "$SOCK_a" http://d/_ping
    # side by side with other roots
    start_daemon b
    expect_eq "two daemons run side by side" "$(api b http://d/_ping)$(api a http://d/_ping)" OKOK
    stop_daemon b
    # SIGTERM: socket and pidfile removed
    stop_daemon a
    expect_true "SIGTERM removes the socket" test ! -e "$SOCK_a"
    expect_true "SIGTERM removes the pidfile" test ! -e "$dir/exec/berthd.pid"
    # a stale socket from a killed daemon is replaced
    start_daemon a
    kill -KILL "$(cat "$dir/launcher.pid")"; wait "$(cat "$dir/launcher.pid")" 2>/dev/null; sleep 0.1
    start_daemon a
    expect_eq "a stale socket and pidfile after kill -9 are replaced" "$(api a http://d/_ping)" OK
    stop_daemon a
}

t_configuration() {
    local dir=$WORK/cfg; mkdir -p "$dir"
    echo '{"log-level": "debug", "storage-driver": "vfs"}' >"$dir/daemon.json"
    start_daemon c --config-file "$dir/daemon.json"
    expect_eq "daemon.json storage-driver" "$(dk c info --format '{{.Driver}}')" vfs
    expect_eq "daemon.json debug" "$(dk c info --format '{{.Debug}}')" true
    stop_daemon c
    out=$("$BERTHD" --config-file "$dir/daemon.json" --storage-driver overlay2 -H "unix://$dir/s" --exec-root "$dir/e" 2>&1)
    expect_match "a directive both as flag and in the file is refused" "$out" "specified both as a flag and in the configuration file: storage-driver"
    echo '{"bogus-key": 1}' >"$dir/bad.json"
    out=$("$BERTHD" --config-file "$dir/bad.json" -H "unix://$dir/s" --exec-root "$dir/e" 2>&1)
    expect_match "unknown daemon.json keys are refused" "$out" "don't match any configuration option: bogus-key"
    echo '{"hosts": [' >"$dir/broken.json"
    out=$("$BERTHD" --config-file "$dir/broken.json" 2>&1); rc=$?
    expect_rc "a malformed daemon.json fails" "$rc" 1
    out=$("$BERTHD" -H tcp://127.0.0.1:23750 --data-root "$dir/d3" --exec-root "$dir/e3" 2>&1)
    expect_match "tcp without mutual TLS is refused" "$out" "without mutual TLS"
    out=$("$BERTHD" --log-level chatty -H "unix://$dir/s" 2>&1)
    expect_match "bad log level" "$out" "unable to parse logging level: chatty"
    expect_true "no socket left by failed starts" test ! -e "$dir/s"
}

# regression: SIGTERM cut uploads in progress (the server's stop closed their connections)
t_sigterm_finishes_requests() {
    local dir=$WORK/big
    mkdir -p "$dir/content"
    head -c 300000000 /dev/zero >"$dir/content/zeros"
    tar -C "$dir/content" -cf "$dir/big.tar" .
    rm -rf "$WORK/d-s"
    start_daemon s
    (dk s import "$dir/big.tar" inflight:1 >"$dir/out" 2>&1; echo "rc=$?" >>"$dir/out") &
    local bg=$!
    sleep 0.5
    kill -TERM "$(cat "$WORK/d-s/launcher.pid")"
    wait "$bg"
    expect_match "an import in flight at SIGTERM completes" "$(cat "$dir/out")" "^sha256:[0-9a-f]{64}"$'\n'"rc=0$"
    wait_for bash -c "! kill -0 $(cat "$WORK/d-s/launcher.pid") 2>/dev/null"
    expect_true "and the daemon then exits" bash -c "! kill -0 $(cat "$WORK/d-s/launcher.pid") 2>/dev/null"
    rm -f "$WORK/d-s/launcher.pid"
    start_daemon s
    expect_eq "the image is there after the restart" "$(dk s images --format '{{.Repository}}:{{.Tag}}')" "inflight:1"
    stop_daemon s
    rm -rf "$dir"
}

# make_cert NAME CA_NAME EXT: a key and a certificate signed by CA_NAME (or self-signed CA)
make_certs() {
    local d=$WORK/tls; mkdir -p "$d"; cd "$d" || return 1
    for ca in ca other-ca; do
        openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca-key.pem -out $ca.pem -days 2 -subj "/CN=berth test $ca" 2>/dev/null
    done
    openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server-cert.pem -days 2 -extfile server.ext 2>/dev/null
    printf "extendedKeyUsage=clientAuth\n" >client.ext
    for ca in ca other-ca; do
        openssl req -newkey rsa:2048 -nodes -keyout client-$ca-key.pem -out client.csr -subj "/CN=client" 2>/dev/null
        openssl x509 -req -in client.csr -CA $ca.pem -CAkey $ca-key.pem -CAcreateserial -out client-$ca.pem -days 2 -extfile client.ext 2>/dev/null
    done
    cd - >/dev/null
}

t_tls() {
    command -v openssl >/dev/null || { _result 0 "mutual TLS # SKIP openssl missing"; return; }
    make_certs
    local d=$WORK/tls port=$((23000 + RANDOM % 2000))
    start_daemon t -H "tcp://127.0.0.1:$port" --tlsverify --tlscacert "$d/ca.pem" \
        --tlscert "$d/server-cert.pem" --tlskey "$d/server-key.pem"
    wait_for curl -s -o /dev/null --cacert "$d/ca.pem" "https://127.0.0.1:$port/_ping"
    local tlsargs=(--tlsverify --tlscacert "$d/ca.pem" --tlscert "$d/client-ca.pem" --tlskey "$d/client-ca-key.pem" -H "tcp://127.0.0.1:$port")
    expect_eq "docker --tlsverify over TCP with a client certificate" "$(DOCKER_HOST= "$DOCKER" "${tlsargs[@]}" version --format '{{.Server.Version}}')" 0.1.0
    expect_eq "berth --tlsverify over TCP" "$("${BUILD:-$TOP/build}/berth" "${tlsargs[@]}" version --format '{{.Server.Version}}' 2>&1)" 0.1.0
    out=$(curl -s --cacert "$d/ca.pem" "https://127.0.0.1:$port/_ping")
    expect_match "no client certificate: refused" "$out" "client certificate signed by the daemon's CA is required"
    out=$(curl -s --cacert "$d/ca.pem" --cert "$d/client-other-ca.pem" --key "$d/client-other-ca-key.pem" "https://127.0.0.1:$port/_ping" 2>&1)
    expect_nomatch "a certificate from another CA: refused" "$out" "^OK$"
    out=$(curl -s --max-time 3 "http://127.0.0.1:$port/_ping" 2>&1); rc=$?
    expect_true "plain HTTP on the TLS port gets no answer" test "$out" != OK
    expect_eq "the unix socket still works" "$(api t http://d/_ping)" OK
    stop_daemon t
}

run_tests
