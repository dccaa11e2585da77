#!/usr/bin/env bash
# Runs every fuzz target in turn, one job at a time, and prints libFuzzer's
# final line (executions, coverage) for each. Stops at the first crash.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [SANITIZER]     defaults: 60 none
#   fuzz/run.sh 600 none        # the long run recorded in fuzz/README.md
#   fuzz/run.sh 60 address      # the same targets under AddressSanitizer
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain
# RUSTC_BOOTSTRAP=1 lets it use the nightly-only sanitizer flags.
set -euo pipefail
seconds=${1:-60}
sanitizer=${2:-none}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export RUSTC_BOOTSTRAP=1
[ -d corpus ] || ./seed.sh
mkdir -p logs
cargo fuzz build -s "$sanitizer" >/dev/null 2>&1
for target in ${TARGETS:-settings_bytes settings_structured evaluate_json evaluate_structured}; do
    dict=()
    case $target in settings_bytes | evaluate_json) dict=(-dict=json.dict) ;; esac
    log=logs/$target-$sanitizer.log
    # One in-process job (no -jobs/-workers): libFuzzer's own output and exit code.
    if ! cargo fuzz run -s "$sanitizer" "$target" -- -max_len=16384 "${dict[@]}" \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        echo "$target: CRASH, see $log and $here/artifacts/$target/"
        exit 1
    fi
    line=$(grep -E '^#[0-9]+.*DONE' "$log" | tail -1)
    execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "$target: ${seconds}s, $execs executions: $line"
done
