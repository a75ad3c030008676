#!/bin/bash
# Makes an OCI bundle from the host's busybox-static (and the test probe when built):
#   scripts/make-bundle.sh DIR [RUNTIME]
# DIR/rootfs holds busybox with its applets linked, /probe, /etc/passwd and /etc/group;
# DIR/config.json is the runtime's default spec, made non-interactive.
set -euo pipefail
dir=$1
rt=${2:-build/berth-runtime}
here=$(cd "$(dirname "$0")/.." && pwd)
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$dir/rootfs"/{bin,etc,proc,sys,dev,tmp,root,home/user}
chmod 1777 "$dir/rootfs/tmp"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$dir/rootfs/bin/$applet" ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
[ -x "$here/build/probe" ] && cp "$here/build/probe" "$dir/rootfs/probe"
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/rootfs/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' >"$dir/rootfs/etc/group"
chown 1000:1000 "$dir/rootfs/home/user"
rm -f "$dir/config.json"
"$rt" spec --bundle "$dir"
jq '.process.terminal = false | .root.readonly = false' "$dir/config.json" >"$dir/config.json.new"
mv "$dir/config.json.new" "$dir/config.json"
