#!/bin/bash
# Replays every committed corpus through its libFuzzer target once (ASan+UBSan build).
# Fuzzing itself: make fuzz && build-fuzz/fuzz_spec -max_total_time=600 tests/fuzz/corpus/spec
cd "$(dirname "$0")/../.."
pass=0 fail=0
if ! make -j"$(nproc)" fuzz >/tmp/berth-fuzz-build.log 2>&1; then
    echo "not ok - fuzz targets build"; tail -20 /tmp/berth-fuzz-build.log | sed 's/^/#   /'
    echo "fuzz: 0 passed, 1 failed"; exit 1
fi
for t in tests/fuzz/fuzz_*.c; do
    name=$(basename "$t" .c)
    corpus=tests/fuzz/corpus/${name#fuzz_}
    n=$(ls "$corpus" | wc -l)
    if out=$("build-fuzz/$name" -runs=0 "$corpus" 2>&1); then
        pass=$((pass + 1)); echo "ok - fuzz: $name replays $n inputs"
    else
        fail=$((fail + 1)); echo "not ok - fuzz: $name on $corpus"; tail -30 <<<"$out" | sed 's/^/#   /'
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail = 0 ]
