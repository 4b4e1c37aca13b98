#!/usr/bin/env bash
# The main job: reclaw's daemon reconciling the bundled examples, served from a local git
# repository, against the local AWS emulator. Ctrl-C stops reclaw (gracefully) and the emulator.
#
#   RECLAW_DEMO_DIR   where the demo keeps its repository, state and emulator (default /tmp/reclaw-demo)
#   RECLAW_DEMO_ONCE  set to 1 for one pass and exit (0 or 2 is success)
#   RECLAW_BUILD_DIR  swift build's --scratch-path, for a build kept outside the clone (default .build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO="${RECLAW_DEMO_DIR:-/tmp/reclaw-demo}"

scripts/setup.sh
BUILD="${RECLAW_BUILD_DIR:-$ROOT/.build}"
echo "==> swift build --scratch-path $BUILD"
swift build --scratch-path "$BUILD"
RECLAW="$BUILD/debug/reclaw"

# A fresh start each time: the emulator keeps its AWS in memory, so reclaw's state goes too.
python3 scripts/emulator/emulator.py stop --state-dir "$DEMO/emulator" >/dev/null 2>&1 || true
rm -rf "$DEMO"
mkdir -p "$DEMO"
URL=$(python3 scripts/emulator/emulator.py start --state-dir "$DEMO/emulator")
trap 'python3 "$ROOT/scripts/emulator/emulator.py" stop --state-dir "$DEMO/emulator" >/dev/null 2>&1 || true' EXIT

# The settings that point reclaw and the AWS CLI at the emulator, kept for the next steps.
cat > "$DEMO/env" <<ENV
export AWS_ENDPOINT_URL=$URL
export AWS_ACCESS_KEY_ID=AKIDDEMORECLAW000001
export AWS_SECRET_ACCESS_KEY=demo-secret
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export RECLAW_STATE_DIR=$DEMO/state
ENV
# shellcheck disable=SC1091
. "$DEMO/env"

# The specs repository: a bare repository reclaw polls, and a work tree to push edits from.
git init -q --bare -b main "$DEMO/specs.git"
git init -q -b main "$DEMO/work"
cp examples/openclaw-seed.yaml "$DEMO/work/openclaw.yaml"
cp -r examples/multi-team "$DEMO/work/teams"
git -C "$DEMO/work" config user.name "Demo"
git -C "$DEMO/work" config user.email "demo@example.com"
git -C "$DEMO/work" add -A
git -C "$DEMO/work" commit -q -m "OpenClaw deployments: the seed and three teams"
git -C "$DEMO/work" remote add origin "$DEMO/specs.git"
git -C "$DEMO/work" push -q -u origin main

cat <<INFO
==> local AWS emulator at $URL
==> specs repository file://$DEMO/specs.git (edit and push from $DEMO/work)
==> settings for the AWS CLI and reclaw: . $DEMO/env
==> metrics: curl http://127.0.0.1:9464/metrics
INFO

ARGS=(run --source "file://$DEMO/specs.git" --interval 15s --drift-interval 30s)
if [ "${RECLAW_DEMO_ONCE:-}" = 1 ]; then
  set +e
  "$RECLAW" "${ARGS[@]}" --once
  code=$?
  set -e
  [ "$code" -eq 0 ] || [ "$code" -eq 2 ] || exit "$code"
  "$RECLAW" status
  exit 0
fi
echo "==> reclaw ${ARGS[*]} (Ctrl-C to stop)"
"$RECLAW" "${ARGS[@]}" --metrics-address 127.0.0.1:9464
