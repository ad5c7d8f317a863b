#!/usr/bin/env bash
# Fuzzes what parses client bytes (room ids; the generated JSON decoding path)
# with cargo fuzz (libFuzzer), for a bounded time per target, and reports
# executions and crashes. cargo fuzz needs nightly features; on a stable
# toolchain it runs with RUSTC_BOOTSTRAP=1.
#
#   scripts/fuzz.sh        # 60 s per target
#   scripts/fuzz.sh 10     # 10 s per target (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"

if ! cargo fuzz --version > /dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1

status=0
for target in room_id decode; do
    log="target/fuzz-$target.log"
    mkdir -p target
    if cargo fuzz run --fuzz-dir fuzz "$target" -- -max_total_time="$SECONDS_PER_TARGET" > "$log" 2>&1; then
        runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
        echo "fuzz: $target: $runs executions in ${SECONDS_PER_TARGET}s, 0 crashes"
    else
        status=1
        echo "fuzz: $target: CRASH (see $log and fuzz/artifacts/$target)"
        tail -30 "$log"
    fi
done
exit $status
