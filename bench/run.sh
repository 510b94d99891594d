#!/usr/bin/env bash
# The read benchmark: Zoo against numpy, safetensors, torch and h5py on the same model.
#
#     bash bench/run.sh                  # 3 rounds × 5 timed repetitions per reader
#     ROUNDS=1 REPEAT=3 bash bench/run.sh
#
# Makes bench/data/ if missing (bench/make_model.py), builds zoo-bench in release
# (scratch path .build-bench), then for each round and each format runs every
# reader, Zoo and peers interleaved, each in its own process (so peak RSS is per
# reader and format), and prints one table (bench/report.py). Raw RESULT lines
# are kept in bench/data/results.tsv.
#
# Environment: PYTHON (default: bench/.venv, made from bench/requirements.txt;
# needs numpy, safetensors, torch, h5py), ROUNDS (3), REPEAT (5), WARMUP (1),
# EXPERIMENTS (0; 1 adds the diagnostic readers behind the README's findings),
# FORMATS (all; a space-separated subset of the format labels below).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
    # The peers live in a venv of the benchmark's own (bench/.venv, gitignored).
    if [[ ! -x bench/.venv/bin/python ]]; then
        python3 -m venv bench/.venv
        bench/.venv/bin/pip install -q -r bench/requirements.txt
    fi
    PYTHON=bench/.venv/bin/python
fi
ROUNDS=${ROUNDS:-3}
REPEAT=${REPEAT:-5}
WARMUP=${WARMUP:-1}
DATA=bench/data

"$PYTHON" bench/make_model.py --out "$DATA"
swift build -c release --scratch-path .build-bench --product zoo-bench >&2
ZOO=.build-bench/release/zoo-bench
RESULTS=$DATA/results.tsv
: > "$RESULTS"

# format label | file | readers ("zoo:<reader>" runs zoo-bench, "py:<reader>" runs peers.py)
PLAN=(
    "baseline|model.npy|zoo:read zoo:mmap zoo:touch"
    "npy|model.npy|zoo:stored zoo:floats py:np.load py:np.load-mmap"
    "npz-stored|model_stored.npz|zoo:stored zoo:floats py:np.load-npz"
    "npz-deflated|model_deflated.npz|zoo:stored zoo:stored-parallel py:np.load-npz"
    "safetensors|model.safetensors|zoo:stored zoo:floats py:st.load_file py:st.safe_open"
    "pt|model.pt|zoo:stored zoo:floats py:torch.load py:torch.load-mmap"
    "h5-contiguous|model_contiguous.h5|zoo:stored zoo:floats py:h5py py:h5py.read_direct"
    "h5-chunked|model_chunked.h5|zoo:stored zoo:floats py:h5py py:h5py.read_direct"
    "h5-gzip|model_gzip.h5|zoo:stored zoo:floats zoo:stored-parallel py:h5py py:h5py.read_direct"
)
# Readers that explain the findings in bench/README.md (not Zoo's API as shipped),
# appended to their format's readers so they run interleaved with them.
declare -A EXTRA=(
    [npy]="zoo:x-floats-huge zoo:x-floats-pread zoo:floats-into zoo:x-floats-fresh zoo:x-floats-fresh-huge zoo:x-memcpy-into"
    [npz-deflated]="zoo:x-libdeflate"
    [safetensors]="zoo:x-floats-huge zoo:x-floats-pread zoo:floats-into zoo:x-mmap-populate"
    [h5-contiguous]="zoo:x-floats-pread zoo:x-h5-floats-direct"
    [h5-chunked]="zoo:x-h5-read zoo:x-h5-nocache zoo:x-h5-floats-direct"
    [h5-gzip]="zoo:x-h5-read zoo:x-h5-floats-direct zoo:x-h5-chunks zoo:x-h5-chunks-libdeflate zoo:x-h5-chunks-parallel"
)
SELECTED=()
for entry in "${PLAN[@]}"; do
    IFS='|' read -r format file readers <<< "$entry"
    # FORMATS (space-separated format labels) restricts the run, e.g. FORMATS="h5-chunked h5-gzip".
    if [[ -n "${FORMATS:-}" && " $FORMATS " != *" $format "* ]]; then continue; fi
    if [[ ${EXPERIMENTS:-0} == 1 && -n "${EXTRA[$format]:-}" ]]; then readers+=" ${EXTRA[$format]}"; fi
    SELECTED+=("$format|$file|$readers")
done

for ((round = 1; round <= ROUNDS; round++)); do
    echo "round $round/$ROUNDS" >&2
    for entry in "${SELECTED[@]}"; do
        IFS='|' read -r format file readers <<< "$entry"
        path=$DATA/$file
        cat "$path" > /dev/null   # in the page cache: every reader starts warm
        read -r -a list <<< "$readers"
        # Alternate the order between rounds so no reader always runs first.
        if ((round % 2 == 0)); then
            for ((i = 0, j = ${#list[@]} - 1; i < j; i++, j--)); do
                t=${list[i]}; list[i]=${list[j]}; list[j]=$t
            done
        fi
        for reader in "${list[@]}"; do
            kind=${reader%%:*}
            name=${reader#*:}
            echo "  $format: $name" >&2
            if [[ $kind == zoo ]]; then
                "$ZOO" "$name" "$path" --format "$format" --repeat "$REPEAT" --warmup "$WARMUP" >> "$RESULTS"
            else
                "$PYTHON" bench/peers.py "$name" "$path" --format "$format" --repeat "$REPEAT" --warmup "$WARMUP" >> "$RESULTS"
            fi
        done
    done
done

"$PYTHON" bench/report.py "$RESULTS"
