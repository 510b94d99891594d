#!/usr/bin/env bash
# Training throughput: ZooNet and its peers (PyTorch eager, Keras 3, NumPy) in one run,
# with the ratio of ZooNet to the fastest peer per configuration and ZooNet's epoch GFLOP/s
# (and % of the SGEMM peak zoo-net-bench measures first).
#
#     bash bench/net/run.sh                 # PYTHON: default bench/.venv (made from bench/net/requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ ! -x bench/.venv-net/bin/python ]]; then
        python3 -m venv bench/.venv-net
        bench/.venv-net/bin/pip install -q -r bench/net/requirements.txt
    fi
    PYTHON=bench/.venv-net/bin/python
fi
swift build -c release --product zoo-net-bench >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
.build/release/zoo-net-bench | tee -a "$out"
"$PYTHON" bench/net/peers.py | tee -a "$out"
echo
awk '
    /^  / { next }
    /^PEAK/ { print; next }
    /^RESULT\tzoonet/ { split($0, f, "\t"); zoo[f[3]] = f[4]; gflops[f[3]] = f[9] " (" f[10] "%)"; next }
    / samples\/s / {
        line = $0; sub(/^[a-z]+ +/, "", line); config = line; sub(/: .*/, "", config)
        rate = line; sub(/.*: /, "", rate); sub(/ samples.*/, "", rate); gsub(/,/, "", rate)
        if (rate + 0 > best[config] + 0) { best[config] = rate; peer[config] = $1 }
    }
    END {
        printf "%-36s %12s %14s %8s %16s\n", "configuration", "zoonet/s", "fastest peer", "ratio", "GFLOP/s (% peak)"
        for (c in zoo) printf "%-36s %12d %8d %-5s %7.2fx %16s\n", c, zoo[c], best[c], peer[c], best[c] ? zoo[c] / best[c] : 0, gflops[c]
    }' "$out"
