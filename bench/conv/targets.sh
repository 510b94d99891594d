#!/usr/bin/env bash
# The CNN engine's speed targets in one command (issue 12), each a ratio of pairs measured seconds
# apart (bench/conv/paired.py through run.sh), then one verdict per target:
#
#   inference, 2 threads, float32, 224x224, the same weights in every framework (WEIGHTS=1):
#     ResNet-50, MobileNetV2, EfficientNet-Lite0   batch 32: >= 1.5x PyTorch eager, >= 1.0x ONNX Runtime
#                                                  batch 1:  >= 1.0x ONNX Runtime
#   training steps: small CNN 28x28x1 b64, MobileNetV2 alpha 0.35 96x96 b32: >= 1.5x the best of
#     PyTorch eager, torch.compile and Keras 3 (per pair, the fastest peer of that pair)
#
#     bash bench/conv/targets.sh              # PAIRS=6 per configuration (~25 minutes on 2 vCPUs)
#     PAIRS=8 bash bench/conv/targets.sh      # closer medians
#     LOG=/tmp/targets.log bash bench/conv/targets.sh   # keep the pairs (else a temporary file)
#
# The first lines name the CPU (model, family/model, AVX-512 or not) and oneDNN's kernels: a figure
# means something only with them. Where ZooNet tunes its kernels (CPUs on which oneDNN runs other
# than AVX2 kernels, e.g. AVX-512 ones) the choices come from ~/.cache/zoo/kernel-choices.json when
# an earlier run made them (`zoo cache` shows them; ZOONET_TUNE_CACHE=0 times them afresh in the run).
# Exit code 0 when every target is met, 1 otherwise (a median under its bound by the pairs' noise
# reads "not met" too: look at the one-die / cross-die medians and the pair count before concluding).
set -euo pipefail
cd "$(dirname "$0")/../.."
pairs=${PAIRS:-6}
log=${LOG:-$(mktemp)}
[[ -z "${LOG:-}" ]] && trap 'rm -f "$log"' EXIT
: > "$log"

family=$(awk -F': ' '/^cpu family/ { print $2; exit }' /proc/cpuinfo)
model=$(awk -F': ' '/^model\t/ { print $2; exit }' /proc/cpuinfo)
avx512=no
grep -q -m1 -w 'avx512f' /proc/cpuinfo && avx512=yes
echo "== CPU: $(lscpu | sed -n 's/^Model name: *//p') (family $family, model $model), $(nproc) CPUs, AVX-512 $avx512"
echo "== inference: $pairs pairs per configuration, batches 1 and 32 (started $(date -u +%H:%M) UTC)"
PAIRS=$pairs BATCHES=1,32 PEERS=ort,torch WEIGHTS=1 CONFIGS=resnet50,mobilenet_v2,efficientnet_lite0 \
    bash bench/conv/run.sh | tee -a "$log" | sed -u -n 's/^# pair /   pair /p'
echo "== training: $pairs pairs per configuration (started $(date -u +%H:%M) UTC)"
PAIRS=$pairs PEERS=torch,compile,keras CONFIGS=train bash bench/conv/run.sh | tee -a "$log" | sed -u -n 's/^# pair /   pair /p'
grep -m1 '^# cpu:' "$log" | sed 's/^# /== /'

# PAIRED <TAB> zoonet/<peer> <TAB> <config> <TAB> <median> <TAB> <pairs> <TAB> one-die … <TAB> cross-die …
awk -F'\t' '
    /^PAIRED/ { median[$2 "|" $3] = $4; detail[$2 "|" $3] = $5 " pairs, " $6 ", " $7 }
    function check(peer, config, bound, label,   key, value, met) {
        key = "zoonet/" peer "|" config
        if (!(key in median)) { printf "%-26s %-27s >= %.1f  missing\n", config, label, bound; failed = 1; return }
        value = median[key]; met = value + 0 >= bound
        if (!met) failed = 1
        printf "%-26s %-27s >= %.1f  %6.2fx  %-7s  (%s)\n", config, label, bound, value, met ? "met" : "NOT MET", detail[key]
    }
    END {
        print ""
        printf "%-26s %-27s %6s  %7s  %s\n", "configuration", "against", "target", "median", "verdict"
        split("resnet50 mobilenet_v2 efficientnet_lite0", models, " ")
        for (i = 1; i <= 3; i++) {
            check("ort", models[i] " b1", 1.0, "ONNX Runtime")
            check("ort", models[i] " b32", 1.0, "ONNX Runtime")
            check("torch", models[i] " b32", 1.5, "PyTorch eager")
        }
        check("best", "train small_cnn b64", 1.5, "best of torch/compile/keras")
        check("best", "train mobilenet_v2_035 b32", 1.5, "best of torch/compile/keras")
        exit failed
    }' "$log"
