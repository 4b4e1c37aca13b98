#!/usr/bin/env bash
# The whole test suite from a fresh clone: install what is needed, build, test the local AWS
# emulator, then run every Swift test (they start their own emulator and git servers, which stop
# when the tests end).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "==> swift build --build-tests"
swift build --build-tests

echo "==> emulator tests"
python3 -m pytest -q scripts/emulator

echo "==> swift test"
swift test --skip-build
