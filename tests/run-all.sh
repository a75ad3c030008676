#!/bin/bash
# Runs every suite and prints the total: "N passed, N failed".
cd "$(dirname "$0")/.."
total_pass=0 total_fail=0
log=$(mktemp)
suite() { # name command...
    local name=$1; shift
    echo "=== $name"
    "$@" 2>&1 | tee "$log"
    local line; line=$(grep -E '^[a-z_0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "not ok - $name produced no summary"
        total_fail=$((total_fail + 1))
        return
    fi
    local p f
    p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}
suite unit tests/run-unit.sh build
if make SAN=1 -j"$(nproc)" unit-bins >/dev/null 2>&1; then
    suite unit-asan tests/run-unit.sh build-san unit-asan
else
    echo "not ok - sanitizer build failed"; total_fail=$((total_fail + 1))
fi
for t in tests/integration/test_*.sh; do
    [ -n "${ONLY_SUITE:-}" ] && [[ "$t" != *"$ONLY_SUITE"* ]] && continue
    suite "$(basename "$t" .sh)" timeout 900 bash "$t"
done
if [ -x tests/fuzz/replay.sh ]; then suite fuzz tests/fuzz/replay.sh; fi
suite lint tests/lint.sh
rm -f "$log"
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
