#!/usr/bin/env bash
# Training throughput: ZooNet and its peers (PyTorch eager, torch.compile, Keras 3, NumPy) in
# one run, ROUNDS times (default 3) alternating ZooNet and the peers, with per round the ratio of
# ZooNet's epoch rate to the fastest peer's and ZooNet's epoch GFLOP/s as a % of the SGEMM peak
# measured in the same round; then the median of each over the rounds.
#
#     bash bench/net/run.sh                 # PYTHON: default bench/.venv-net (made from bench/net/requirements.txt)
#     ROUNDS=5 PEERS=torch,compile,numpy bash bench/net/run.sh
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
rounds=${ROUNDS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds"
    .build/release/zoo-net-bench | tee "$dir/$round"
    "$PYTHON" bench/net/peers.py --only "${PEERS:-torch,compile,keras,numpy}" | tee -a "$dir/$round"
done
echo
for round in $(seq 1 "$rounds"); do
    awk -v round="$round" '
        /^  / { next }
        /^PEAK/ { peak = $3; next }
        /^RESULT\tzoonet/ { split($0, f, "\t"); zoo[f[3]] = f[4]; gflops[f[3]] = f[9]; pct[f[3]] = f[10]; next }
        / samples\/s / {
            line = $0; sub(/^[^ ]+ +/, "", line); config = line; sub(/: .*/, "", config)
            rate = line; sub(/.*: /, "", rate); sub(/ samples.*/, "", rate); gsub(/,/, "", rate)
            if (rate + 0 > best[config] + 0) { best[config] = rate; peer[config] = $1 }
        }
        END {
            for (c in zoo) printf "ROUND\t%s\t%s\t%d\t%d\t%s\t%.2f\t%s\t%s\t%s\n", round, c, zoo[c], best[c], peer[c],
                best[c] ? zoo[c] / best[c] : 0, gflops[c], pct[c], peak
        }' "$dir/$round"
done > "$dir/rounds"
printf "%-38s %5s %10s %10s %-14s %7s %9s %6s\n" configuration round zoonet/s peer/s "fastest peer" ratio "GFLOP/s" "%peak"
sort -t$'\t' -k3,3 -k2,2n "$dir/rounds" | awk -F'\t' '{ printf "%-38s %5s %10d %10d %-14s %6.2fx %9s %5s%%\n", $3, $2, $4, $5, $6, $7, $8, $9 }'
echo
echo "median over $rounds rounds (per-round ratio to the fastest peer of the same round; % of that round's SGEMM peak):"
sort -t$'\t' -k3,3 "$dir/rounds" | awk -F'\t' '
    function median(list, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && list[j - 1] > list[j]; j--) { t = list[j]; list[j] = list[j - 1]; list[j - 1] = t }
        return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
    }
    function flush() {
        if (config != "") printf "%-38s ratio %.2fx   %s%% of peak   %d samples/s\n", config, median(ratios, n), median(pcts, n), median(rates, n)
        n = 0; delete ratios; delete pcts; delete rates
    }
    $3 != config { flush(); config = $3 }
    { n++; ratios[n] = $7 + 0; pcts[n] = $9 + 0; rates[n] = $4 + 0 }
    END { flush() }'
