#!/usr/bin/env bash
# Builds and runs the library-usage examples (used by CI).
#   Examples/run.sh [fashion-mnist-dir]
# CONFIGURATION=debug for a faster build and a slower run (default: release).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

configuration="${CONFIGURATION:-release}"
swift build -c "$configuration" --package-path Examples/TransferFashion
swift run -c "$configuration" --skip-build --package-path Examples/TransferFashion transfer-fashion "$@"
