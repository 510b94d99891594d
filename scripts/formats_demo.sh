#!/usr/bin/env bash
# The formats demo (make formats-demo): inspect a weights file, convert it through
# every format Zoo writes, and show that every tensor's digest survives.
set -euo pipefail
cd "$(dirname "$0")/.."

zoo=${ZOO:-.build/release/zoo}
input=${1:-Tests/Fixtures/cli/seed_small.safetensors}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== zoo inspect $input --stats"
"$zoo" inspect "$input" --stats
echo
echo "== safetensors -> npz -> compressed npz -> safetensors (float16) and back"
"$zoo" convert "$input" "$work/w.npz"
"$zoo" convert "$work/w.npz" "$work/wc.npz" --compress
"$zoo" convert "$work/wc.npz" "$work/w.safetensors"
"$zoo" convert "$work/w.safetensors" "$work/w16.safetensors" --dtype float16
echo
echo "== digests of the original and of the round trip (must be equal)"
"$zoo" inspect "$input" --checksums --json | grep -E '"(name|sha256)"' > "$work/a"
"$zoo" inspect "$work/w.safetensors" --checksums --json | grep -E '"(name|sha256)"' > "$work/b"
if diff "$work/a" "$work/b" >/dev/null; then
    echo "identical: $(grep -c sha256 "$work/a") tensors"
else
    echo "digests differ" >&2
    diff "$work/a" "$work/b" >&2
    exit 1
fi
echo
echo "== the float16 copy"
"$zoo" inspect "$work/w16.safetensors"
