#!/bin/bash
# The whole test suite: builds, then unit tests (also under ASan+UBSan), integration tests as
# root (runtime, real engines), fuzz corpus replay, lint. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
scripts/deps.sh test || exit 1
make -j"$(nproc)" all >/dev/null || { echo "build failed"; make all; exit 1; }
exec tests/run-all.sh
