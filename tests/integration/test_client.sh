#!/bin/bash
# The berth client against a real Docker engine, with the docker CLI as the oracle: a private
# containerd and dockerd (docker.io's, API 1.41) under the suite's temporary directory (own
# sockets, data, exec root; no network set-up), images loaded from hand-made `docker save`
# archives with fixed creation dates (so "CREATED" columns are stable), and for each command
# `docker` and `berth` run against the same daemon and must print the same bytes and exit with the
# same status. Only what cannot match is masked: the client's own version lines, and the run
# time columns of images made during the run.
#
#   tests/integration/test_client.sh          (as root; needs build/berth and build/berth-runtime)
#
# Where dockerd or the docker CLI cannot be had, the assertions print "ok N - ... # SKIP why".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dockerd-lib.sh"

ENG=$WORK/client                 # the engines' files
BERTH=${BERTH:-${BUILD:-$TOP/build}/berth}   # BERTH=/path/to/berth to test another build
DOCKER=/usr/local/bin/docker
OK=0 WHY=""
mkdir -p "$ENG"
SOCK=$ENG/docker.sock
export DOCKER_CONFIG=$ENG/docker-cli DOCKER_CLI_HINTS=false
unset DOCKER_HOST BERTH_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_API_VERSION

d() { timeout 60 "$DOCKER" -H "unix://$SOCK" "$@"; }
b() { timeout 60 "$BERTH" -H "unix://$SOCK" "$@"; }
# Runs a command under a pseudo-terminal of 30x100; CR and NUL removed.
in_pty() { timeout 60 script -qefc "stty rows 30 cols 100; $*" /dev/null </dev/null | tr -d '\r\0'; }

# Runs the same arguments through docker and berth (stdin from $IN), comparing stdout, stderr
# and the exit status; $MASK (a sed script) and $FILTER (a command) are applied to both first.
IN=/dev/null MASK="" FILTER=""
# usage errors name the program; docker 28 prints "SRun" where it means "Run"
USAGE_MASK="s/docker/berth/g; s/^SRun /Run /"
same() { # desc args...
    local desc=$1; shift
    d "$@" <"$IN" >"$ENG/d.out" 2>"$ENG/d.err"; local drc=$?
    b "$@" <"$IN" >"$ENG/b.out" 2>"$ENG/b.err"; local brc=$?
    local f
    for f in "$ENG/d.out" "$ENG/b.out" "$ENG/d.err" "$ENG/b.err"; do
        [ -n "$MASK" ] && sed -i -E "$MASK" "$f"
        if [ -n "$FILTER" ]; then $FILTER <"$f" >"$f.tmp" && mv "$f.tmp" "$f"; fi
    done
    local diffs; diffs=$(diff "$ENG/d.out" "$ENG/b.out"; diff "$ENG/d.err" "$ENG/b.err")
    [ -z "$diffs" ] && [ $drc = $brc ]
    _result $? "$desc" "status docker $drc, berth $brc"$'\n'"$(head -12 <<<"$diffs")"
}

# ---------------------------------------------------------------- the engines

note_created /run/containerd /run/docker /etc/docker/key.json

start_engines() {
    launch_containerd
    wait_secs 30 test -S "$ENG/containerd.sock" || return 1
    local drv
    for drv in overlay2 vfs; do
        start_dockerd $drv && return 0
    done
    return 1
}

stop_engines() {
    stop_dockerd
    stop_containerd
    umount_eng
    remove_created
}
trap 'stop_engines; cleanup_all' EXIT
trap 'exit 130' INT TERM

# A `docker save` archive made by hand: one layer (the test rootfs), a config with fixed dates
# and a two-step history. mk_image OUT REPO:TAG CREATED [LABEL]
mk_image() {
    local out=$1 tag=$2 created=$3 label=${4:-} dir; dir=$(mktemp -d "$ENG/img.XXXXXX")
    [ -f "$ENG/layer.tar" ] || tar -C "$BASE/rootfs" --sort=name --mtime=2019-12-31 --owner=0 \
        --group=0 --numeric-owner -cf "$ENG/layer.tar" .
    local diff; diff=$(sha256sum "$ENG/layer.tar" | cut -d' ' -f1)
    mkdir -p "$dir/$diff"
    cp "$ENG/layer.tar" "$dir/$diff/layer.tar"
    jq -cn --arg d "sha256:$diff" --arg c "$created" --arg l "$label" '{
        architecture: "amd64", os: "linux", created: $c,
        config: {Env: ["PATH=/usr/bin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/",
                 Labels: (if $l == "" then null else {"org.berth.test": $l} end)},
        rootfs: {type: "layers", diff_ids: [$d]},
        history: [{created: "2019-12-31T00:00:00Z", created_by: "/bin/sh -c #(nop) ADD file:3a7f0d5c1b6e in / "},
                  {created: $c, created_by: "/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", empty_layer: true}]}' \
        >"$dir/config.json"
    local cfg; cfg=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
    mv "$dir/config.json" "$dir/$cfg.json"
    jq -cn --arg c "$cfg.json" --arg t "$tag" --arg l "$diff/layer.tar" \
        '[{Config: $c, RepoTags: [$t], Layers: [$l]}]' >"$dir/manifest.json"
    tar -C "$dir" -cf "$out" manifest.json "$cfg.json" "$diff"
    rm -rf "$dir"
}

setup() {
    [ -x "$BERTH" ] || { WHY="build/berth is not built"; return; }
    [ -x "$DOCKER" ] || DOCKER=$(command -v docker)
    [ -n "$DOCKER" ] || { WHY="no docker CLI to compare with"; return; }
    engines_install || { WHY="docker.io/containerd could not be installed"; return; }
    [ -n "$DOCKERD" ] || { WHY="no dockerd"; return; }
    if ! start_engines; then
        WHY="dockerd did not start"
        echo "# $(grep -m1 -E 'level=(fatal|error)' "$ENG"/dockerd-*.log 2>/dev/null)"
        return
    fi
    mk_image "$ENG/base.tar" berthtest/base:1 2020-01-01T00:00:00Z base &&
        mk_image "$ENG/other.tar" berthtest/other:2 2021-06-01T12:00:00Z other
    d load -i "$ENG/base.tar" >/dev/null && d load -i "$ENG/other.tar" >/dev/null &&
        d tag berthtest/base:1 berthtest/base:latest
    _result $? "private dockerd up, test images loaded"
    OK=1
}

# ================================================================= tests

T0=$(date +%s)

t_10_version() {
    [ $OK = 1 ] || { skip "version" "$WHY"; return; }
    d version >"$ENG/d.out" 2>&1; b version >"$ENG/b.out" 2>&1
    expect_eq "version: the Server: section is docker's, byte for byte" \
        "$(sed -n '/^Server:/,$p' "$ENG/b.out")" "$(sed -n '/^Server:/,$p' "$ENG/d.out")"
    expect_eq "version: the Client: section has docker's lines and column" \
        "$(sed -n '1,/^$/p' "$ENG/b.out" | cut -c1-20)" "$(sed -n '1,/^$/p' "$ENG/d.out" | cut -c1-20)"
    expect_match "version: the client's own values" "$(head -3 "$ENG/b.out")" \
        $'Version: +0.1.0\n API version: +1.41 \\(downgraded from 1.44\\)'
    same "version --format with Go's field names" version --format '{{.Server.Version}} {{.Server.APIVersion}} {{.Client.Context}}'
    expect_eq "berth --version" "$("$BERTH" --version)" "Berth version 0.1.0"
    expect_eq "DOCKER_HOST picks the daemon" \
        "$(DOCKER_HOST=unix://$SOCK "$BERTH" version --format '{{.Server.Version}}')" \
        "$(d version --format '{{.Server.Version}}')"
    expect_eq "BERTH_HOST comes before DOCKER_HOST" \
        "$(BERTH_HOST=unix://$SOCK DOCKER_HOST=unix:///nonexistent "$BERTH" version --format '{{.Server.ApiVersion}}')" "1.41"
    expect_eq "DOCKER_API_VERSION forces the version prefix" \
        "$(DOCKER_API_VERSION=1.40 b version --format '{{.Client.ApiVersion}}')" "1.40"
}

# One progress update a line, the sizes in between masked, repeated updates folded.
norm_tty() { sed 's/\x1b\[1A/\n&/g' | sed -E 's# +[0-9.]+[kMG]?B/# N/#' | uniq; }

# docker prints the runtimes in Go's map order: sorted here
sort_runtimes() {
    local line
    while IFS= read -r line; do
        if [[ "$line" == " Runtimes: "* ]]; then
            echo " Runtimes: $(tr ' ' '\n' <<<"${line# Runtimes: }" | sort | xargs)"
        else
            printf '%s\n' "$line"
        fi
    done
}

t_20_info() {
    [ $OK = 1 ] || { skip "info" "$WHY"; return; }
    MASK='s/^( Version: +).*/\1X/' FILTER=sort_runtimes
    same "info (the client's version masked)" info
    MASK="" FILTER=""
    same "info --format {{.Images}} {{.Driver}} {{json .Plugins.Volume}}" info --format '{{.Images}} {{.Driver}} {{json .Plugins.Volume}}'
}

t_30_images() {
    [ $OK = 1 ] || { skip "images" "$WHY"; return; }
    same "images" images
    same "image ls -a" image ls -a
    same "images -q" images -q
    same "images --no-trunc" images --no-trunc
    same "images --digests" images --digests
    same "images REPOSITORY" images berthtest/base
    same "images -f reference=... -f label=..." images -f 'reference=berthtest/*' -f label=org.berth.test=other
    same "images --format table with functions" images --format 'table {{.ID}}\t{{upper .Repository}}\t{{.CreatedAt}}\t{{.Size}}'
    same "images --format json" images --format json
    same "images --format '{{.Repository}}:{{.Tag}} {{.VirtualSize}} {{.Containers}}'" images --format '{{.Repository}}:{{.Tag}} {{.VirtualSize}} {{.Containers}}'
    same "images: an unknown field is docker's error" images --format '{{.Nope}}'
    same "images: an unknown function is docker's error" images --format '{{nope .ID}}'
    MASK=$USAGE_MASK
    same "images: a bad filter is a usage error (125)" images -f bad
    same "images: an unknown flag (125)" images --bogus
    same "images: too many arguments" images a b
    MASK=""
}

t_40_inspect() {
    [ $OK = 1 ] || { skip "image inspect" "$WHY"; return; }
    same "image inspect (docker's indentation)" image inspect berthtest/base:1
    same "image inspect of two images" image inspect berthtest/base:1 berthtest/other:2
    same "image inspect -f" image inspect -f '{{.Id}} {{.Config.Cmd}} {{json .Config.Env}} {{index .Config.Labels "org.berth.test"}} {{.Size}} {{len .RootFS.Layers}}' berthtest/other:2
    same "image inspect --format json" image inspect --format json berthtest/base:1
    same "image inspect: a missing key is docker's error" image inspect -f '{{.Nope}}' berthtest/base:1
    same "image inspect of a missing image: [] and the error, status 1" image inspect nosuch
    same "image inspect of a found and a missing image" image inspect berthtest/base:1 nosuch
}

t_50_history() {
    [ $OK = 1 ] || { skip "history" "$WHY"; return; }
    same "history" history berthtest/base:1
    same "history --no-trunc" history --no-trunc berthtest/base:1
    same "history -H=false" history -H=false berthtest/base:1
    same "history -q" history -q berthtest/base:1
    same "history --format" history --format '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}' berthtest/other:2
    same "image history" image history berthtest/other:2
}

t_60_df() {
    [ $OK = 1 ] || { skip "system df" "$WHY"; return; }
    same "system df" system df
    same "system df -v" system df -v
    same "system df --format json" system df --format json
}

t_70_tag_rmi() {
    [ $OK = 1 ] || { skip "tag, rmi" "$WHY"; return; }
    d tag berthtest/base:1 berthtest/dtag:v1; local drc=$?
    b tag berthtest/base:1 berthtest/btag:v1; local brc=$?
    expect_eq "tag: same status" "$brc" "$drc"
    expect_eq "tag: the new tag points at the image" \
        "$(d image inspect -f '{{.Id}}' berthtest/btag:v1)" "$(d image inspect -f '{{.Id}}' berthtest/base:1)"
    b tag "$(d image inspect -f '{{.Id}}' berthtest/base:1)" localhost:5000/ns/byid
    expect_eq "tag by image ID into a registry path (default tag latest)" \
        "$(d images --format '{{.Repository}}:{{.Tag}}' localhost:5000/ns/byid)" "localhost:5000/ns/byid:latest"
    d rmi berthtest/dtag:v1 >"$ENG/d.out" 2>&1; b rmi berthtest/btag:v1 >"$ENG/b.out" 2>&1
    expect_eq "rmi of a tag: Untagged:, as docker" "$(sed 's/btag/dtag/' "$ENG/b.out")" "$(cat "$ENG/d.out")"
    expect_eq "rmi: the tag is gone" "$(d images -q berthtest/btag)" ""
    same "tag: reference format errors" tag berthtest/base:1 'Bad/Name'
    same "tag: a digest target is refused" tag berthtest/base:1 "x@sha256:$(printf '%064d' 0)"
    MASK=$USAGE_MASK
    same "tag: wrong argument count" tag berthtest/base:1
    MASK=""
    # an image deleted completely: Untagged and Deleted lines
    d load -i "$ENG/base.tar" >/dev/null
    local id; id=$(d image inspect -f '{{.Id}}' berthtest/base:1)
    d tag "$id" del/d:1; d tag "$id" del/b:1
    d rmi del/d:1 >"$ENG/d.out" 2>&1; b rmi del/b:1 >"$ENG/b.out" 2>&1
    expect_eq "rmi prints Untagged: like docker" "$(sed 's#del/b#del/d#' "$ENG/b.out")" "$(cat "$ENG/d.out")"
    expect_eq "rmi -f of a missing image: status 0, the error on stderr" \
        "$(b rmi -f nosuch 2>&1; echo "status=$?")" \
        "$(d rmi -f nosuch 2>&1; echo "status=$?")"
}

t_80_save_load() {
    [ $OK = 1 ] || { skip "save, load" "$WHY"; return; }
    d save -o "$ENG/d-save.tar" berthtest/other:2; b save -o "$ENG/b-save.tar" berthtest/other:2
    expect_true "save -o: the same archive as docker's" cmp -s "$ENG/d-save.tar" "$ENG/b-save.tar"
    b save berthtest/other:2 >"$ENG/b-stdout.tar"
    expect_true "save to stdout: the same archive" cmp -s "$ENG/d-save.tar" "$ENG/b-stdout.tar"
    expect_eq "save -o writes a 0600 file, as docker's CopyToFile" "$(stat -c %a "$ENG/b-save.tar")" \
        "$(stat -c %a "$ENG/d-save.tar")"
    expect_eq "save refuses a terminal, as docker" \
        "$(in_pty "$BERTH" -H "unix://$SOCK" save berthtest/other:2; echo "status=${PIPESTATUS[0]}")" \
        "$(in_pty "$DOCKER" -H "unix://$SOCK" save berthtest/other:2; echo "status=${PIPESTATUS[0]}")"
    same "save -o into a missing directory" save -o /nonexistent/dir/x.tar berthtest/other:2
    same "save of a missing image" save -o "$ENG/x.tar" nosuch
    same "load -i" load -i "$ENG/d-save.tar"
    IN=$ENG/d-save.tar
    same "load from stdin" load
    same "load -q" load -q
    IN=/dev/null
    same "load -i of a missing file" load -i /nonexistent
    IN=$ENG/layer.tar MASK='s/docker-import-[0-9]+/docker-import-N/'
    same "load of a tar that is no image: the stream's error, status 1" load
    IN=/dev/null MASK=""
    expect_eq "load from a terminal stdin is refused, as docker" \
        "$(in_pty "$BERTH" -H "unix://$SOCK" load; echo "status=${PIPESTATUS[0]}")" \
        "$(in_pty "$DOCKER" -H "unix://$SOCK" load; echo "status=${PIPESTATUS[0]}")"
    # the progress rows on a terminal: a layer the daemon does not have yet
    d rmi berthtest/other:2 berthtest/base:1 berthtest/base:latest localhost:5000/ns/byid >/dev/null 2>&1
    in_pty "$DOCKER" -H "unix://$SOCK" load -i "$ENG/d-save.tar" >"$ENG/d.tty"
    d rmi berthtest/other:2 >/dev/null
    in_pty "$BERTH" -H "unix://$SOCK" load -i "$ENG/d-save.tar" >"$ENG/b.tty"
    # the daemon reports progress on a timer: how often and the values in between vary
    expect_eq "load on a terminal: docker's progress rows and cursor movement" \
        "$(norm_tty <"$ENG/b.tty" | od -c)" "$(norm_tty <"$ENG/d.tty" | od -c)"
    expect_eq "load on a terminal: the last progress update, byte for byte" \
        "$(grep -o 'Loading layer [^\x1b]*' "$ENG/b.tty" | tail -1)" \
        "$(grep -o 'Loading layer [^\x1b]*' "$ENG/d.tty" | tail -1)"
    # round trips
    local id; id=$(d image inspect -f '{{.Id}}' berthtest/other:2)
    expect_eq "berth save | berth load" \
        "$(b save berthtest/other:2 | b load; echo "status=${PIPESTATUS[*]}")" \
        $'Loaded image: berthtest/other:2\nstatus=0 0'
    b save berthtest/other:2 >"$ENG/rt.tar" && d rmi berthtest/other:2 >/dev/null
    expect_eq "berth save, rmi, berth load: the image is back" \
        "$(b load <"$ENG/rt.tar"; echo "status=$?")" $'Loaded image: berthtest/other:2\nstatus=0'
    expect_eq "the round trip keeps the image ID" "$(d image inspect -f '{{.Id}}' berthtest/other:2)" "$id"
    d load -i "$ENG/base.tar" >/dev/null && d tag berthtest/base:1 berthtest/base:latest
}

t_85_import() {
    [ $OK = 1 ] || { skip "import" "$WHY"; return; }
    local out id
    out=$(b import -c 'ENV FOO=bar' -c 'CMD ["/bin/sh", "-c", "true"]' -m "a message" "$ENG/layer.tar" imported/b:1)
    expect_match "import FILE REPO:TAG prints the ID" "$out" '^sha256:[0-9a-f]{64}$'
    d import -c 'ENV FOO=bar' -c 'CMD ["/bin/sh", "-c", "true"]' -m "a message" "$ENG/layer.tar" imported/d:1 >/dev/null
    local f='{{.Config.Env}} {{json .Config.Cmd}} {{.Comment}} {{.Size}} {{.RootFS.Layers}}'
    expect_eq "import: -c and -m reach the image as with docker" \
        "$(d image inspect -f "$f" imported/b:1)" "$(d image inspect -f "$f" imported/d:1)"
    out=$(b import - imported/stdin:1 <"$ENG/layer.tar")
    expect_match "import - reads stdin" "$out" '^sha256:[0-9a-f]{64}$'
    expect_eq "import - : the image exists" "$(d images -q imported/stdin:1 | wc -l)" 1
    same "import of a missing file" import /nonexistent
    same "import with an invalid reference" import "$ENG/layer.tar" 'Bad:Ref'
    out=$(b import http://example.invalid/x.tar 2>&1); local rc=$?
    expect_match "import from a URL: a clear error" "$out" "importing from a URL .* is not supported"
    expect_rc "import from a URL: status 1" $rc 1
    d rmi imported/b:1 imported/d:1 imported/stdin:1 >/dev/null
}

t_90_events() {
    [ $OK = 1 ] || { skip "events" "$WHY"; return; }
    local t1; t1=$(($(date +%s) + 1))
    sleep 1.1 # every event so far is before --until
    same "events --since --until (docker's default format)" events --since "$T0" --until "$t1"
    same "events --format {{json .}}" events --since "$T0" --until "$t1" --format '{{json .}}'
    same "events --format with a map field" events --since "$T0" --until "$t1" \
        --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.nope}}'
    same "events -f event=tag -f type=image" events --since "$T0" --until "$t1" -f event=tag -f type=image
    same "events --since as an RFC 3339 date" events --since "$(date -u -d "@$T0" +%Y-%m-%dT%H:%M:%SZ)" --until "$t1"
    same "events --since as a duration" events --since 10m --until "$t1" -f event=load
    same "events with a bad --since" events --since bogus
    same "events with a bad --format (64)" events --format '{{.Nope}}'
}

t_95_errors() {
    [ $OK = 1 ] || { skip "errors" "$WHY"; return; }
    local out
    out=$(b rmi nosuch 2>&1); local rc=$?
    expect_eq "rmi nosuch: docker's message" "$out" "Error response from daemon: No such image: nosuch:latest"
    expect_rc "rmi nosuch: status 1" $rc 1
    same "rmi nosuch, as docker" rmi nosuch
    same "history nosuch" history nosuch
    same "tag nosuch x" tag nosuch x
    same "image prune -f (nothing to prune)" image prune -f
    IN=/dev/null
    same "image prune without -f, no answer: cancelled" image prune
    MASK=$USAGE_MASK
    same "unknown command" nosuchcommand
    same "unknown image subcommand" image nosuchcommand
    same "an unknown flag of a command" history --nope x
    MASK=""
    out=$("$BERTH" -H unix://$ENG/nothing.sock images 2>&1); rc=$?
    expect_eq "no daemon: the client says so" "$out" \
        "Cannot connect to the berth daemon at unix://$ENG/nothing.sock. Is the berth daemon running?"
    expect_rc "no daemon: status 1" $rc 1
    "$BERTH" --bogus >/dev/null 2>&1
    expect_rc "an unknown global flag: status 125" $? 125
}

t_zz_stop() {
    [ -n "$DOCKERD_PID" ] || return 0
    stop_dockerd
    expect_eq "dockerd stopped" "$DOCKERD_PID" ""
    stop_engines
    [ $_skipped = 0 ] || echo "# $SUITE: $_skipped skipped"
}

eval "_lib_$(declare -f expect_clean)"
expect_clean() { stop_engines >/dev/null 2>&1; _lib_expect_clean "$@"; }

setup
run_tests
