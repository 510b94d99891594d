#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets of Fuzz/ (libFuzzer + AddressSanitizer, in Fuzz/.build,
# apart from the main build) and runs each for FUZZ_SECONDS (default 60) on its committed
# seeds (Fuzz/Seeds, made from the test fixtures by Fuzz/make_seeds.py). New inputs go to
# Fuzz/.build/corpus/TARGET, findings (crash-*, timeout-*, oom-*, leak-*) to
# Fuzz/.build/findings/TARGET, logs to Fuzz/.build/logs; the script ends with one line per
# target (executions, coverage, findings) and fails if anything was found.
#
#   make fuzz                                     # every target, 60 s each
#   FUZZ_SECONDS=600 FUZZ_TARGETS="npy zip" make fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"npy zip safetensors json pickle sstable tfbundle idx keras-config hdf5 keras gzip onnx"}
swift=${SWIFT:-swift}

for target in $targets; do
    nice -n 19 "$swift" build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "fuzz-$target" 2>&1 \
        | grep -v "Cannot export local symbol" | grep -E "error|complete" || true
done

summary=()
failed=0
for target in $targets; do
    corpus=Fuzz/.build/corpus/$target
    findings=Fuzz/.build/findings/$target
    mkdir -p "$corpus" "$findings" Fuzz/.build/logs
    log=Fuzz/.build/logs/$target.log
    # -malloc_limit_mb: one allocation above 512 MiB from a small input is a finding ("large allocation").
    set +e
    # The HDF5 target's libhdf5 helper is this binary re-executed: AddressSanitizer's shadow
    # memory does not fit the helper's address-space limit (ZOO_HDF5_HELPER_UNLIMITED), a crash
    # of libhdf5 in it is expected and reported as an error (no symbolized ASan report wanted),
    # and damaged files often make libhdf5 loop: 2 s before the helper is declared hung.
    asan=${ASAN_OPTIONS:-}
    if [ "$target" = hdf5 ] || [ "$target" = keras ]; then asan=${ASAN_OPTIONS:-symbolize=0:detect_leaks=0}; fi
    ASAN_OPTIONS=$asan ZOO_HDF5_HELPER_UNLIMITED=1 ZOO_HDF5_TIMEOUT=${ZOO_HDF5_TIMEOUT:-2} nice -n 19 "Fuzz/.build/debug/fuzz-$target" "$corpus" "Fuzz/Seeds/$target" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -malloc_limit_mb=512 -max_len=65536 \
        -artifact_prefix="$findings/" -print_final_stats=1 > "$log" 2>&1
    status=$?
    set -e
    runs=$(grep -o "stat::number_of_executed_units: [0-9]*" "$log" | awk '{print $2}' | tail -1)
    coverage=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1)
    # slow-unit-* files are only libFuzzer's notes of inputs that took over 10 s (on a busy machine).
    found=$(ls "$findings" | grep -cE "^(crash|timeout|oom|leak)-" || true)
    summary+=("$target: ${runs:-?} executions in ${seconds} s, ${coverage:-no coverage line}, corpus $(ls "$corpus" | wc -l), findings $found, exit $status")
    if [ "$found" -gt 0 ] || [ "$status" -ne 0 ]; then failed=1; fi
done
printf '%s\n' "${summary[@]}"
exit $failed
