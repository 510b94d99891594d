#!/usr/bin/env bash
# The peers' side of the conv benchmark: runs bench/conv/peers.py (arguments passed on) and then
# prints its RESULT lines as one table: images/s per config and peer, and in parentheses each
# peer's rate divided by the fastest peer's on that config (1.00 = the fastest).
#
#     bash bench/conv/peers.sh                              # all peers, all configs
#     bash bench/conv/peers.sh --only torch,ort --configs resnet50 --batches 1
#     bash bench/conv/peers.sh --export /tmp/conv-weights   # weights and fixtures for Zoo (no table)
#
# Environment: PYTHON (default: bench/conv/.venv, made from bench/conv/requirements.txt),
# NICE (niceness for the run, default 0), OUT (keep the raw output in this file).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ ! -x bench/conv/.venv/bin/python ]]; then
        python3 -m venv bench/conv/.venv
        bench/conv/.venv/bin/pip install -q -r bench/conv/requirements.txt
    fi
    PYTHON=bench/conv/.venv/bin/python
fi
if [[ -n "${OUT:-}" ]]; then
    raw=$OUT
else
    raw=$(mktemp)
    trap 'rm -f "$raw"' EXIT
fi
nice -n "${NICE:-0}" "$PYTHON" bench/conv/peers.py "$@" | tee "$raw"
if [[ " $* " == *" --export"* ]]; then exit 0; fi
echo
awk -F'\t' '
    $1 == "RESULT" {
        if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 }
        rate[$3, $2] = $4
        if ($4 + 0 > best[$3] + 0) best[$3] = $4
    }
    END {
        split("torch compile ort keras", peers, " ")
        printf "%-28s", "images/s (/ fastest)"
        for (p = 1; p <= 4; p++) printf "%20s", peers[p]
        printf "\n"
        for (i = 1; i <= n; i++) {
            c = order[i]
            printf "%-28s", c
            for (p = 1; p <= 4; p++) {
                if ((c, peers[p]) in rate) printf "%12.1f (%5.2f)", rate[c, peers[p]], rate[c, peers[p]] / best[c]
                else printf "%20s", "-"
            }
            printf "\n"
        }
    }' "$raw"
