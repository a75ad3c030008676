#!/bin/bash
# Images through berthd with the real docker CLI: the default image, list, inspect, history,
# tag, rmi, save/load, import, system df, events; bad input gets the documented status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

t_default_image() {
    ensure_daemon i
    dk i pull busybox >"$WORK/pull.out" 2>&1
    expect_rc "docker pull busybox makes the default image offline" $? 0
    expect_match "it is listed" "$(dk i images --format '{{.Repository}}:{{.Tag}}')" "^busybox:latest$"
    local id; id=$(dk i image inspect -f '{{.Id}}' busybox)
    expect_match "inspect gives a sha256 id" "$id" '^sha256:[0-9a-f]{64}$'
    expect_eq "its config runs sh" "$(dk i image inspect -f '{{json .Config.Cmd}}' busybox)" '["sh"]'
    expect_eq "one layer" "$(dk i image inspect -f '{{len .RootFS.Layers}}' busybox)" 1
    expect_match "history" "$(dk i history busybox)" "busybox-static"
    expect_match "history shows the layer's size" "$(dk i history --format '{{.Size}}' busybox | head -1)" "^[1-9][0-9.]*[kM]B$"
    stop_daemon i
    rm -rf "$WORK/d-j"; start_daemon j
    dk j pull busybox >/dev/null 2>&1
    expect_eq "the same busybox gives the same image id in another daemon" "$(dk j image inspect -f '{{.Id}}' busybox)" "$id"
    stop_daemon j
    ensure_daemon i
    out=$(dk i pull alpine 2>&1)
    expect_match "other pulls fail clearly (no registry support yet)" "$out" "pull access denied for alpine"
}

t_tag_rmi() {
    ensure_daemon r
    dk() { local n=$1; shift; DOCKER_HOST="unix://$SOCK_r" "$DOCKER" "$@"; }
    dk i pull busybox >/dev/null 2>&1
    dk i tag busybox mybox:1
    expect_rc "docker tag" $? 0
    dk i tag busybox localhost:5000/ns/mybox:2
    expect_match "tags listed" "$(dk i images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" "busybox:latest localhost:5000/ns/mybox:2 mybox:1"
    out=$(dk i rmi "$(dk i image inspect -f '{{.Id}}' busybox)" 2>&1)
    expect_match "rmi by id with several tags needs -f" "$out" "must be forced"
    expect_eq "rmi of a tag untags" "$(dk i rmi mybox:1)" "Untagged: mybox:1"
    out=$(dk i rmi nosuch 2>&1); rc=$?
    expect_rc "rmi of a missing image fails" "$rc" 1
    expect_match "with docker's message" "$out" "No such image: nosuch:latest"
    out=$(dk i tag busybox 'Bad:Name' 2>&1)
    expect_match "a bad reference is refused" "$out" "invalid reference format"
    dk i rmi localhost:5000/ns/mybox:2 >/dev/null
    out=$(dk i rmi busybox)
    expect_match "the last tag deletes the image" "$out" "Deleted: sha256:"
    expect_eq "nothing left" "$(dk i images -q)" ""
    expect_eq "no layer left on disk" "$(ls "$WORK/d-r/data/layers" 2>/dev/null | wc -l)" 0
    unset -f dk
    . "$(dirname "$0")/daemon-lib.sh"
}

t_save_load_import() {
    ensure_daemon i
    dk i pull busybox >/dev/null 2>&1
    local id; id=$(dk i image inspect -f '{{.Id}}' busybox)
    dk i save -o "$WORK/bb.tar" busybox
    expect_rc "docker save -o" $? 0
    expect_true "the tarball has manifest.json and index.json" bash -c "tar tf '$WORK/bb.tar' | grep -qx manifest.json && tar tf '$WORK/bb.tar' | grep -qx index.json"
    dk i rmi busybox >/dev/null
    out=$(dk i load -i "$WORK/bb.tar")
    expect_eq "docker load" "$out" "Loaded image: busybox:latest"
    expect_eq "the same id after the round trip" "$(dk i image inspect -f '{{.Id}}' busybox)" "$id"
    gzip -c "$WORK/bb.tar" >"$WORK/bb.tar.gz"
    dk i rmi busybox >/dev/null
    expect_eq "docker load of a gzip tarball" "$(dk i load <"$WORK/bb.tar.gz")" "Loaded image: busybox:latest"
    # import a rootfs tarball with changes
    tar -C "$BASE/rootfs" -cf "$WORK/rootfs.tar" .
    dk i import -c 'CMD ["/probe", "echo", "hi"]' -c 'ENV A=1' -m "test import" "$WORK/rootfs.tar" imported:v1 >"$WORK/imp.out"
    expect_rc "docker import with --change" $? 0
    expect_eq "import sets Cmd" "$(dk i image inspect -f '{{json .Config.Cmd}}' imported:v1)" '["/probe","echo","hi"]'
    expect_match "import sets Env" "$(dk i image inspect -f '{{json .Config.Env}}' imported:v1)" '"A=1"'
    zstd -q -c "$WORK/rootfs.tar" >"$WORK/rootfs.tar.zst" 2>/dev/null && {
        cat "$WORK/rootfs.tar.zst" | dk i import - imported:zst >/dev/null
        expect_rc "docker import of a zstd tarball from stdin" $? 0
    }
    expect_eq "system df counts the images" "$(dk i system df --format '{{.Type}} {{.TotalCount}}' | head -1)" "Images $(dk i images -q | sort -u | wc -l)"
}

t_progress() {
    ensure_daemon i
    dk i pull busybox >/dev/null 2>&1
    dk i save -o "$WORK/p.tar" busybox
    dk i rmi busybox >/dev/null
    local out; out=$(api i -X POST --data-binary @"$WORK/p.tar" http://d/v1.44/images/load)
    expect_match "load streams layer progress" "$out" '"status":"Loading layer","progressDetail":\{"current":[0-9]+,"total":[0-9]+\}'
    expect_match "and ends with the loaded image" "$out" '"stream":"Loaded image: busybox:latest\\n"'
    out=$(api i -X POST --data-binary @"$WORK/p.tar" "http://d/v1.44/images/load?quiet=1")
    expect_nomatch "quiet load: no progress" "$out" "Loading layer"
    tar -C "$BASE/rootfs" -cf "$WORK/p-rootfs.tar" .
    out=$(api i -X POST --data-binary @"$WORK/p-rootfs.tar" "http://d/v1.44/images/create?fromSrc=-&repo=prog&tag=1")
    expect_match "import streams progress" "$out" '"status":"Importing"'
    expect_match "and ends with the image id" "$out" '"status":"sha256:[0-9a-f]{64}"'
    out=$(api i -w '%{http_code}' -X POST --data-binary @"$WORK/p-rootfs.tar" "http://d/v1.44/images/create?fromSrc=-&changes=BOGUS%20x")
    expect_match "a bad change is refused before streaming (400)" "$out" "invalid change.*400$"
}

t_events() {
    ensure_daemon i
    dk i pull busybox >/dev/null 2>&1
    local t0; t0=$(date +%s)
    dk i tag busybox evtest:1
    dk i rmi evtest:1 >/dev/null
    sleep 1
    out=$(dk i events --since "$t0" --until "$(date +%s)" --filter type=image --format '{{.Action}} {{.Actor.Attributes.name}}')
    expect_match "tag event" "$out" "tag evtest:1"
    expect_match "untag event" "$out" "untag evtest:1"
}

t_bad_input() {
    ensure_daemon i
    head -c 10000 /dev/urandom >"$WORK/junk.tar"
    out=$(dk i load -i "$WORK/junk.tar" 2>&1); rc=$?
    expect_rc "load of junk fails" "$rc" 1
    expect_match "with a message" "$out" "invalid tar|invalid archive"
    dk i pull busybox >/dev/null 2>&1
    dk i save busybox | head -c 50000 >"$WORK/trunc.tar"
    out=$(dk i load -i "$WORK/trunc.tar" 2>&1); rc=$?
    expect_rc "load of a truncated tarball fails" "$rc" 1
    expect_eq "and loads nothing new" "$(dk i images -q | wc -l)" "$(dk i images -q | wc -l)"
    out=$(api i -w '%{http_code}' "http://d/images/Bad:Name/json")
    expect_match "inspect of a bad reference: 400" "$out" "400$"
    out=$(api i -w '%{http_code}' "http://d/images/nosuch/json")
    expect_match "inspect of a missing image: 404 No such image" "$out" 'No such image: nosuch:latest"}.*404$'
    out=$(api i -w '%{http_code}' "http://d/images/json?filters=%7Bbroken")
    expect_match "broken filters: 400" "$out" "400$"
    expect_eq "berthd is still alive" "$(api i http://d/_ping)" OK
    expect_true "no work left in tmp" test -z "$(ls "$WORK/d-i/data/tmp")"
}

# A layer loaded (or imported) from a file keeps a tar-split instead of a second copy of its tar:
# save rebuilds the tar byte for byte from it; a layer file changed under the store makes save
# fail (the stream is cut short: the CLI exits 1) instead of writing a wrong tarball.
t_save_tar_split() {
    ensure_daemon ts
    local data=$WORK/d-ts/data
    tar -C "$BASE/rootfs" -cf "$WORK/ts-rootfs.tar" .
    dk ts import "$WORK/ts-rootfs.tar" split:1 >/dev/null
    local diff; diff=$(dk ts image inspect -f '{{index .RootFS.Layers 0}}' split:1)
    local chain=${diff#sha256:}
    expect_true "the layer has a tar-split" test -s "$data/layers/$chain/tar-split"
    expect_true "and no blob of its tar" test ! -e "$data/blobs/sha256/$chain"
    dk ts save -o "$WORK/ts.tar" split:1
    expect_rc "docker save of it" $? 0
    local layer; layer=$(tar -xOf "$WORK/ts.tar" manifest.json | jq -r '.[0].Layers[0]')
    expect_eq "the saved layer is the imported tar, byte for byte" \
        "sha256:$(tar -xOf "$WORK/ts.tar" "$layer" | sha256sum | cut -d' ' -f1)" "$diff"
    expect_eq "and the rootfs tarball itself" "$(tar -xOf "$WORK/ts.tar" "$layer" | sha256sum)" \
        "$(sha256sum <"$WORK/ts-rootfs.tar")"
    dk ts save split:1 | head -c 100000 >/dev/null
    sleep 0.5
    expect_nomatch "a client that stops reading a save is not logged as an error" \
        "$(cat "$WORK/d-ts/log")" "error|save"
    expect_eq "and berthd serves on" "$(api ts http://d/_ping)" OK
    dk ts rmi split:1 >/dev/null
    expect_eq "load of the save" "$(dk ts load -i "$WORK/ts.tar")" "Loaded image: split:1"
    expect_true "a tar-split again" test -s "$data/layers/$chain/tar-split"
    local f; f=$(cd "$data/layers/$chain/diff" && find . -type f -size +1k | head -1)
    cp "$data/layers/$chain/diff/$f" "$WORK/ts-orig"
    echo tampered >>"$data/layers/$chain/diff/$f"
    out=$(dk ts save -o "$WORK/ts-bad.tar" split:1 2>&1); rc=$?
    expect_rc "save of a layer whose file changed fails" "$rc" 1
    expect_match "berthd says which file" "$(cat "$WORK/d-ts/log")" "layer file '${f#./}' changed since it was unpacked"
    expect_eq "berthd is still alive" "$(api ts http://d/_ping)" OK
    cp "$WORK/ts-orig" "$data/layers/$chain/diff/$f"
    dk ts save split:1 | cmp -s - "$WORK/ts.tar"
    expect_rc "restored, the same tarball again" $? 0
    stop_daemon ts
}

# berth's own client and the real docker CLI print the same against berthd
t_both_clients() {
    ensure_daemon b2
    local BERTH=${BUILD:-$TOP/build}/berth
    bth() { "$BERTH" -H "unix://$SOCK_b2" "$@"; }
    bth pull busybox >/dev/null 2>&1 || dk b2 pull busybox >/dev/null 2>&1
    local cmd
    for cmd in "images" "images -q" "images --no-trunc" "images --format {{.Repository}}:{{.Tag}}" \
               "image inspect busybox" "history busybox" "history --no-trunc busybox" \
               "system df" "image inspect -f {{.Id}} busybox"; do
        expect_eq "berth and docker agree: $cmd" "$(bth $cmd 2>&1)" "$(dk b2 $cmd 2>&1)"
    done
    expect_eq "berth and docker agree: version (server part)" \
        "$(bth version 2>&1 | sed -n '/^Server/,$p')" "$(dk b2 version 2>&1 | sed -n '/^Server/,$p')"
    expect_eq "berth and docker agree: info (server part, volatile lines dropped)" \
        "$(bth info 2>&1 | sed -n '/^Server/,$p' | grep -vE 'System Time|File Descriptors|EventsListeners|Goroutines')" \
        "$(dk b2 info 2>&1 | sed -n '/^Server/,$p' | grep -vE 'System Time|File Descriptors|EventsListeners|Goroutines')"
    bth tag busybox both:1
    expect_eq "berth tag is seen by docker" "$(dk b2 images --format '{{.Repository}}:{{.Tag}}' both)" "both:1"
    bth save -o "$WORK/both.tar" both:1
    dk b2 rmi both:1 >/dev/null
    expect_eq "berth load of berth save" "$(bth load -i "$WORK/both.tar")" "Loaded image: both:1"
    tar -C "$BASE/rootfs" -cf "$WORK/both-rootfs.tar" .
    bth import -c 'CMD ["sh"]' "$WORK/both-rootfs.tar" both:imported >/dev/null
    expect_eq "berth import seen by docker" "$(dk b2 image inspect -f '{{json .Config.Cmd}}' both:imported)" '["sh"]'
    expect_eq "berth rmi" "$(bth rmi both:imported | head -1)" "Untagged: both:imported"
    out=$(bth rmi nosuch 2>&1); rc=$?
    expect_eq "berth errors like docker" "$out ($rc)" "$(dk b2 rmi nosuch 2>&1) ($(dk b2 rmi nosuch >/dev/null 2>&1; echo $?))"
    local t0; t0=$(date +%s)
    bth tag busybox both:ev
    sleep 1
    expect_eq "berth events equal docker events" \
        "$(bth events --since "$t0" --until "$(date +%s)" 2>&1)" "$(dk b2 events --since "$t0" --until "$(date +%s)" 2>&1)"
    unset -f bth
}

run_tests
