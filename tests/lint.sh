#!/bin/bash
# Lint: banned functions, open() without O_CLOEXEC, cppcheck, clang-format.
cd "$(dirname "$0")/.."
pass=0 fail=0
check() { # desc, output (empty = pass)
    if [ -z "$2" ]; then pass=$((pass + 1)); echo "ok - lint: $1"
    else fail=$((fail + 1)); echo "not ok - lint: $1"; printf '%s\n' "$2" | head -20 | sed 's/^/#   /'; fi
}
srcs=$(ls lib/*/*.c lib/*/*.h src/*/*.c)
check "no banned functions (strcpy strcat sprintf gets atoi system)" \
    "$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|system)[[:space:]]*\(' $srcs)"
check "every open()/openat() asks for O_CLOEXEC" \
    "$(grep -nE '\bopen(at)?\(' $srcs | grep -v 'O_CLOEXEC' | grep -vE '^\S+:\s*(//|/\*|\*)' | grep -vE 'berth_open|openat2|_open\(|fdopen|popen|opendir|\.open|open_in_root|"open|open\(".*\) <')"
if command -v cppcheck >/dev/null; then
    out=$(cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE -Ilib --suppress=missingIncludeSystem \
        --inline-suppr lib src 2>&1)
    check "cppcheck finds no errors" "$out"
fi
if command -v clang-format >/dev/null; then
    bad=""
    for f in $srcs; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+="$f "
    done
    check "sources are clang-formatted (make format)" "$bad"
fi
echo "lint: $pass passed, $fail failed"
[ $fail = 0 ]
