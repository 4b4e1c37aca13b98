#!/usr/bin/env bash
# The main job on the local AWS emulator: install what is needed, build reclaw, start the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "==> swift build"
swift build
STATE="${RECLAW_DEMO_DIR:-/tmp/reclaw-demo}"
mkdir -p "$STATE"
URL=$(python3 scripts/emulator/emulator.py start --state-dir "$STATE/emulator")
echo "==> local AWS emulator at $URL (stop it with: python3 scripts/emulator/emulator.py stop --state-dir $STATE/emulator)"
.build/debug/reclaw --version
