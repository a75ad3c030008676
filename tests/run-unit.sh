#!/bin/bash
# Runs every unit test binary in $1/tests and prints TAP; exit 1 if any failed.
dir=${1:-build}
label=${2:-unit}
pass=0 fail=0
for t in "$dir"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "# $t"
    out=$("$t" 2>&1); rc=$?
    echo "$out"
    p=$(grep -c '^ok ' <<<"$out"); f=$(grep -c '^not ok ' <<<"$out")
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $t exited $rc"; fi
    pass=$((pass + p)); fail=$((fail + f))
done
echo "$label: $pass passed, $fail failed"
[ $fail -eq 0 ]
