#!/usr/bin/env bash
# Registers the shipped models into registry/models with `zoo import`, from the
# weights their training scripts wrote (registry/train/NAME/train.py; run those
# first with tf-keras / Keras 3 to reproduce the files; the imported copies are
# what the repository ships).
set -euo pipefail
cd "$(dirname "$0")/.."
zoo=${ZOO:-.build/release/zoo}
[ -x "$zoo" ] || swift build -c release --product zoo
models=registry/models

"$zoo" import registry/train/fashion-0to4-dnn/fashion-0to4-dnn.h5 --name fashion-0to4-dnn --registry "$models" --force \
    --summary "The seed chapter's exercise network: 5 hidden layers of 100 (He init, ELU), softmax over Fashion-MNIST classes 0-4" \
    --task image-classification --tag fashion-mnist --tag mlp --tag seed-exercise --license MIT \
    --scale 1/255 --labels "T-shirt/top,Trouser,Pullover,Dress,Coat" \
    --metric test_accuracy=0.9002 --metric test_loss=0.288084 --metric val_accuracy=0.9058 \
    --framework tf-keras --framework-version 2.21.0 --script ../../train/fashion-0to4-dnn/train.py

"$zoo" import registry/train/fashion-a/fashion-a.weights.h5 --name fashion-a --registry "$models" --force \
    --arch registry/train/fashion-a/architecture.json \
    --summary "The second edition's model A: Dense 300-100-50-50-50 (SELU), softmax over the 8 Fashion-MNIST classes other than sandal and shirt" \
    --task image-classification --tag fashion-mnist --tag mlp --license MIT \
    --scale 1/255 --labels "T-shirt/top,Trouser,Pullover,Dress,Coat,Sneaker,Bag,Ankle boot" \
    --metric test_accuracy=0.913375 --metric test_loss=0.256942 --metric val_accuracy=0.9192 \
    --framework keras --framework-version 3.15.1 --script ../../train/fashion-a/train.py
