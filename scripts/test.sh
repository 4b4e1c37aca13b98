#!/usr/bin/env bash
# The whole test suite from a fresh clone: install what is needed, build, test the local AWS
# emulator, then run every Swift test (they start their own emulator and git servers, which stop
# when the tests end).
#
# The Swift tests run in two phases. Suites that measure deadlines, or run daemons against
# emulators of their own, run one at a time with the machine to themselves: on two cores,
# sharing it with the rest of the suite would measure the load, not reclaw.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --policy-tools

echo "==> swift build --build-tests"
swift build --build-tests

echo "==> emulator tests"
python3 -m pytest -q scripts/emulator

# Suites that measure deadlines, or run daemons against emulators of their own.
serial='OperationsEndpointTests|TransientTests|SourceTests|ControllerTests|DriftAndAlertTests|FetchDeadlineTests'
serial+='|RealisticModeTests|RealisticDaemonTests|RealisticAuditTests'
serial+='|EventDrivenDriftTests|EventsCommandTests|ReplicaTests|TamperedLeaseTests|WireFenceTests|EventFloodTests'
serial+='|SignedDaemonTests'
serial+='|FairShareTests'

echo "==> swift test: everything else, in parallel"
swift test --skip-build --skip "$serial"
echo "==> swift test: deadlines, AWS's realistic behaviour, events and replicas, one at a time"
swift test --skip-build --no-parallel --filter "$serial"
