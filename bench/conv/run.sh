#!/usr/bin/env bash
# CNN inference and training: ZooNet and its peers (PyTorch eager, torch.compile, ONNX Runtime,
# Keras 3) in one run, ROUNDS times (default 3), alternating. Per round and configuration the
# ratio of ZooNet's images/s to PyTorch eager's, to ONNX Runtime's and to the fastest peer's;
# then the medians over the rounds, ZooNet's GFLOP/s as a % of the oneDNN SGEMM peak measured
# in the same round, and its peak RSS against weights + largest live activations.
#
#     bash bench/conv/run.sh                       # PYTHON: default bench/.venv-conv (bench/conv/requirements.txt)
#     ROUNDS=5 PEERS=torch,ort CONFIGS=resnet50,mobilenet_v2 bash bench/conv/run.sh
#     WEIGHTS=1 bash bench/conv/run.sh             # also check Zoo against torch on the same weights (PARITY lines)
#     PASSIVE=1 bash bench/conv/run.sh             # every engine's threads sleep when idle (OMP_WAIT_POLICY=passive,
#                                                  # ORT allow_spinning=0): fairer when the machine is shared;
#                                                  # default: every library's own policy (spin a while, then sleep)
#     NEIGHBOUR=1 bash bench/conv/run.sh           # a busy loop pinned to the last core for the whole run (a noisy
#                                                  # neighbour, as on a shared host): how each engine copes with a
#                                                  # thread that gets half a core
#     PAIRS=15 bash bench/conv/run.sh              # instead of rounds: Zoo and its peers alternating a few seconds
#                                                  # apart (bench/conv/paired.py, PAIRED lines), the cores' distance
#                                                  # probed before each pair: CONFIGS (default the three
#                                                  # inference models; train = both training steps) at BATCHES
#                                                  # (default 1), PEERS (default ort,compile: ONNX Runtime for
#                                                  # inference, torch.compile for training; torch = eager)
#     PAIRS=8 BATCHES=1,32 PEERS=ort,torch CONFIGS=densenet121,efficientnet_b0 bash bench/conv/run.sh
#                                                  # any of Zoo's other built-in 224x224 architectures (peers.py
#                                                  # ZOO_MODELS: resnet18 … vgg16, the torchvision constructors)
#     PAIRS=8 PEERS=torch,compile,keras CONFIGS=mobilenet_v3_small_96,efficientnet_b0_96 bash bench/conv/run.sh
#                                                  # training steps of the squeeze-excitation networks (96x96, b32)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ ! -x bench/.venv-conv/bin/python ]]; then
        python3 -m venv bench/.venv-conv
        bench/.venv-conv/bin/pip install -q -r bench/conv/requirements.txt
    fi
    PYTHON=bench/.venv-conv/bin/python
fi
swift build -c release --product zoo-conv-bench >&2
rounds=${ROUNDS:-3}
configs=${CONFIGS:-resnet50,mobilenet_v2,efficientnet_lite0,train}
dir=$(mktemp -d)
neighbour=
trap 'rm -rf "$dir"; [[ -n "$neighbour" ]] && kill "$neighbour" 2>/dev/null; true' EXIT
if [[ -n "${NEIGHBOUR:-}" ]]; then
    taskset -c "$(( $(nproc) - 1 ))" sh -c 'while :; do :; done' &
    neighbour=$!
    echo "== a busy loop on core $(( $(nproc) - 1 )) (pid $neighbour) for the whole run" >&2
fi
if [[ -n "${WEIGHTS:-}" ]]; then
    "$PYTHON" bench/conv/peers.py --export "$dir/weights" --configs "$configs" >&2  # + the named ZOO_MODELS
    export ZOO_CONV_WEIGHTS="$dir/weights"
fi
if [[ -n "${PAIRS:-}" ]]; then
    gcc -O2 -pthread bench/conv/cores.c -o "$dir/cores"
    paired=$(echo "${CONFIGS:-resnet50,mobilenet_v2,efficientnet_lite0}" \
        | sed -e 's/\btrain\b/train_small_cnn,train_mobilenet_v2_035/' -e 's/\b\([a-z0-9_]*_96\)\b/train_\1/g')
    "$PYTHON" bench/conv/paired.py --zoo .build/release/zoo-conv-bench --cores "$dir/cores" --pairs "$PAIRS" \
        --configs "$paired" --batches "${BATCHES:-1}" --only "${PEERS:-ort,compile}" \
        ${VARIANTS:+$(printf -- "--variant %s " $VARIANTS)}
    exit 0
fi
zoo_configs=()
for model in ${configs//,/ }; do
    case "$model" in
        train) zoo_configs+=("train small_cnn b64" "train mobilenet_v2_035 b32") ;;
        *_96) zoo_configs+=("train $model b32") ;;  # the SE networks' training steps
        *) zoo_configs+=("$model b1" "$model b32") ;;
    esac
done
for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds" >&2
    : > "$dir/$round"
    for config in "${zoo_configs[@]}"; do  # one process per configuration: its peak RSS is its own
        if [[ -n "${PASSIVE:-}" ]]; then
            OMP_WAIT_POLICY=passive .build/release/zoo-conv-bench "$config" | tee -a "$dir/$round" >&2
        else
            .build/release/zoo-conv-bench "$config" | tee -a "$dir/$round" >&2
        fi
    done
    spin=(--spin)
    [[ -n "${PASSIVE:-}" ]] && spin=()
    "$PYTHON" bench/conv/peers.py --only "${PEERS:-torch,compile,ort,keras}" --configs "$configs" "${spin[@]}" | tee -a "$dir/$round" >&2
done
echo
grep -h "^KERNELS" "$dir"/1 | sort -u
grep -h "^PARITY" "$dir"/* | sort -u || true
echo
for round in $(seq 1 "$rounds"); do
    awk -F'\t' -v round="$round" '
        /^PEAK/ { peak = $3 }
        /^RESULT/ { rate[$2 "|" $3] = $4; configs[$3] = 1; peers[$2] = 1 }
        /^FLOPS/ { flops[$3] = $4 }
        /^MEMORY/ { rss[$3] = $4; weights[$3] = $5; live[$3] = $6 }
        END {
            for (c in configs) {
                zoo = rate["zoonet|" c]; best = 0; bestPeer = "-"
                for (p in peers) if (p != "zoonet" && rate[p "|" c] + 0 > best) { best = rate[p "|" c]; bestPeer = p }
                torch = rate["torch|" c]; ort = rate["ort|" c]
                pct = (peak > 0 && flops[c] > 0) ? 100 * flops[c] / peak : 0
                printf "%s\t%d\t%s\t%.3f\t%.3f\t%.3f\t%s\t%.2f\t%.0f\t%s\t%s\t%s\n", c, round, zoo, torch ? zoo / torch : 0,
                    ort ? zoo / ort : 0, best ? zoo / best : 0, bestPeer, flops[c], pct, rss[c], weights[c], live[c]
            }
        }' "$dir/$round"
done > "$dir/rounds"
printf "%-28s %5s %9s %8s %8s %8s %-8s %8s %6s %9s\n" configuration round zoo/s "/torch" "/ort" "/best" best "GFLOP/s" "%peak" "RSS MiB"
sort -t$'\t' -k1,1 -k2,2n "$dir/rounds" | awk -F'\t' '{ printf "%-28s %5s %9.2f %7.2fx %7.2fx %7.2fx %-8s %8s %5s%% %9s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
echo
echo "median over $rounds rounds (ratios of the same round; memory: peak RSS vs weights + largest live activations):"
sort -t$'\t' -k1,1 "$dir/rounds" | awk -F'\t' '
    function median(list, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && list[j - 1] > list[j]; j--) { t = list[j]; list[j] = list[j - 1]; list[j - 1] = t }
        return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
    }
    function flush() {
        if (config != "") printf "%-28s %8.2f img/s  %5.2fx torch  %5.2fx ort  %5.2fx best  %3.0f%% of peak  RSS %s MiB (weights %s + activations %s)\n",
            config, median(rates, n), median(torch, n), median(ort, n), median(best, n), median(pct, n), rss, weights, live
        n = 0; delete rates; delete torch; delete ort; delete best; delete pct
    }
    $1 != config { flush(); config = $1 }
    { n++; rates[n] = $3; torch[n] = $4; ort[n] = $5; best[n] = $6; pct[n] = $9; rss = $10; weights = $11; live = $12 }
    END { flush() }'
