#!/usr/bin/env bash
# Installs what reclaw needs to build and test on a fresh Debian machine: the three C libraries'
# -dev packages (and git, for the tests' repositories; systemd and binutils, whose systemd-analyze
# and readelf check the files under deploy/; gpgv, which verifies OpenPGP commit signatures, and gnupg,
# whose gpg the tests sign commits with), promtool (Prometheus' own check of the /metrics
# output), then moto and the Python test tools (cfn-lint checks the CloudFormation template,
# parliament the IAM policies).
# Safe to run again: it installs only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(libgit2-dev libcurl4-openssl-dev libyaml-dev pkg-config git openssl openssh-server openssh-client systemd binutils gpgv gnupg)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# promtool alone, out of Debian's prometheus package: installing the package would also install and
# start a Prometheus server, which the tests do not need.
if ! command -v promtool >/dev/null 2>&1; then
  echo "==> promtool (from Debian's prometheus package)"
  work="$(mktemp -d)"
  $SUDO apt-get update -qq
  (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1)
  dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -xO ./usr/bin/promtool > "$work/promtool"
  $SUDO install -m 0755 "$work/promtool" /usr/local/bin/promtool
  rm -rf "$work"
fi

python_ok() {
  python3 - <<'PY' 2>/dev/null
import importlib.metadata as m
need = {"moto": "5.1", "boto3": "1.34", "pytest": "7.0", "flask": "2.0", "flask-cors": "3.0", "awscli": "1.30",
        "jsonschema": "4.0", "PyYAML": "6.0", "cfn-lint": "1.0", "parliament": "1.6"}
for name, low in need.items():
    have = tuple(int(x) for x in m.version(name).split(".")[:2])
    assert have >= tuple(int(x) for x in low.split(".")), name
PY
}
if ! python_ok; then
  echo "==> pip install moto[server] boto3 pytest awscli jsonschema pyyaml cfn-lint parliament"
  python3 -m pip install -q "moto[server]>=5.1,<6" "boto3>=1.34" "pytest>=7" "awscli>=1.30" "jsonschema>=4" "pyyaml>=6" "cfn-lint>=1.0" "parliament>=1.6"
fi

# Policy tools the plan JSON is tested with (examples/policies): checkov, and regopy (a Rego engine,
# for the conftest-style policy). In a virtualenv of their own, since checkov pins many packages;
# about 5 minutes on a loaded 2-core machine. The tests look for them in $RECLAW_POLICY_TOOLS/bin.
# Only the tests need them: scripts/test.sh asks with --policy-tools; the demo does not wait for them.
tools="${RECLAW_POLICY_TOOLS:-$HOME/.local/share/reclaw/policy-tools}"
if [ "${1:-}" = "--policy-tools" ] && ! "$tools/bin/python" -c "import checkov, regopy" 2>/dev/null; then
  echo "==> pip install checkov regopy (into $tools)"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q "checkov>=3.2,<4" "regopy>=1.0"
fi
