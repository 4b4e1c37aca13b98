#!/usr/bin/env bash
# The whole test suite from a fresh clone: install what is needed, build, test the local AWS
# emulator, then run every Swift test (they start their own emulator and git servers, which stop
# when the tests end).
#
# No test bounds wall-clock time (how fast things are is bench/'s job), but some still depend on
# the machine keeping up, so the Swift tests run in three phases:
#   1. everything else, fully in parallel;
#   2. suites that run daemons against emulators, and the operations endpoint (header deadlines of
#      a second or less), in parallel with each other: their tests mostly wait on AWS's (scaled)
#      delays, so they overlap well, but beside the CPU-bound rest of the suite their daemons,
#      emulators and deadlines would starve on two cores. The wire fence's replicas run here too:
#      only one of them runs while its deployments are applied, so a lease it lost to starvation
#      would go to no one else;
#   3. one at a time, with the machine to themselves: replicas sharing leases while they all run (a
#      replica starved past its renewal deadline loses a lease to a peer that then applies the same
#      deployment, and with it what those tests check: each deployment applied by one replica),
#      and the endpoint's connection-limit test, which needs the server to accept its connections
#      in the order they were opened.
# The filters are regular expressions searched for in "Target.Suite/test": anchored, one suite's
# name never matches inside another's (as SourceTests did inside SignedSourceTests).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --policy-tools

# The emulator's own tests run beside the build (they mostly wait on the emulator; the build,
# niced, leaves them the CPU they need). No debug info: nothing here runs a debugger, and DWARF
# costs a clean build about a sixth of its CPU time (a crash's backtrace still names functions).
# A later plain `swift build` in the same clone rebuilds everything once, for its own flags.
echo "==> swift build --build-tests, with the emulator's tests beside it"
emulator_log=$(mktemp)
python3 -m pytest -q scripts/emulator > "$emulator_log" 2>&1 &
emulator_tests=$!
trap 'kill "$emulator_tests" 2>/dev/null || true' EXIT
nice -n 10 swift build --build-tests -debug-info-format none

echo "==> emulator tests"
if ! wait "$emulator_tests"; then
    cat "$emulator_log"
    exit 1
fi
tail -n 3 "$emulator_log"
rm -f "$emulator_log"

daemons='^(ReclawDaemonTests\.(RealisticDaemonTests|EventDrivenDriftTests|DriftAndAlertTests|ControllerTests|SourceTests|EventFloodTests|OperationsEndpointTests)'
daemons+='|ReclawProviderAWSTests\.RealisticModeTests|ReclawAuditTests\.RealisticAuditTests|ReclawAWSTests\.TransientTests'
daemons+='|reclawTests\.(EventsCommandTests|SignedDaemonTests|TamperedLeaseTests|WireFenceTests|AssumeRoleFenceTests))/'
serial='^reclawTests\.(ReplicaTests|FairShareTests)/'
# Which connection the server admitted first decides this one; under load it may accept them late, together.
serial+='|^ReclawDaemonTests\.OperationsEndpointTests/beyondTheConnectionLimit'

echo "==> swift test: everything else, in parallel"
swift test --skip-build --skip "$daemons|$serial"
echo "==> swift test: daemons against emulators, in parallel"
swift test --skip-build --filter "$daemons" --skip "$serial"
echo "==> swift test: replicas sharing leases, one at a time"
swift test --skip-build --no-parallel --filter "$serial"
