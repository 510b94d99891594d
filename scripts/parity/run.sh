#!/usr/bin/env bash
# `make parity`: every Keras Application made by the peers (Keras 3 `.keras` and tf-keras `.h5`,
# seeded, BN statistics randomized), predicted by Zoo and compared, one table at the end; then every
# built-in PyTorch architecture (torch_archs.py) the same way
# (also in $OUT/results.md; details in $OUT/results.json, logs in $OUT/sweep.log).
#
#     bash scripts/parity/run.sh                       # all 40 applications, ~13 GB of files in OUT
#     ONLY=MobileNetV2,ResNet50 bash scripts/parity/run.sh
#     PYTHON=/path/to/venv/bin/python OUT=/big/dir bash scripts/parity/run.sh
#     REUSE=1 bash scripts/parity/run.sh               # keep the model files already in OUT, rerun Zoo
#     SWEEP=torch bash scripts/parity/run.sh           # only the built-in PyTorch architectures (torch_archs.py)
#     SWEEP=keras bash scripts/parity/run.sh           # only the Keras Applications
# The PyTorch sweep writes into $OUT/torch (table in $OUT/torch/results.md; ONLY names catalog architectures there).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ ! -x scripts/parity/.venv/bin/python ]]; then
        python3 -m venv scripts/parity/.venv
        scripts/parity/.venv/bin/pip install -q -r scripts/parity/requirements.txt
        scripts/parity/.venv/bin/pip install -q --no-deps facenet-pytorch==2.6.0
    fi
    PYTHON=scripts/parity/.venv/bin/python
fi
swift build -c release --product zoo >&2
out=${OUT:-.build/parity}
mkdir -p "$out"
args=(--out "$out" --zoo .build/release/zoo)
[[ -n "${ONLY:-}" ]] && args+=(--only "$ONLY")
[[ -n "${REUSE:-}" ]] && args+=(--reuse)
sweep=${SWEEP:-all}
if [[ "$sweep" == all || "$sweep" == keras ]]; then
    KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3 "$PYTHON" scripts/parity/keras_apps.py "${args[@]}"
fi
if [[ "$sweep" == all || "$sweep" == torch ]]; then
    targs=(--out "$out/torch" --zoo .build/release/zoo)
    [[ -n "${ONLY:-}" && "$sweep" == torch ]] && targs+=(--only "$ONLY")
    [[ -n "${REUSE:-}" ]] && targs+=(--reuse)
    "$PYTHON" scripts/parity/torch_archs.py "${targs[@]}"
fi
