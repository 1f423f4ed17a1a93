#!/usr/bin/env bash
# Install what vmsg needs on a Debian machine: system packages and the Python
# package in ./.venv. Idempotent; safe to run again.
#   bash scripts/setup.sh            # runtime only
#   bash scripts/setup.sh test       # plus what the tests use (extras and servers)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-runtime}
apt_packages=(ffmpeg)
extras=""
if [ "$mode" = "test" ]; then
  apt_packages+=(redis-server postgresql)
  extras="[test]"
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "==> apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))'; then
      python=$candidate
      break
    fi
  done
fi
[ -n "$python" ] || { echo "error: vmsg needs Python 3.11 or 3.12" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $python"
  "$python" -m venv .venv
fi
echo "==> pip install -e .$extras"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".$extras"
.venv/bin/vmsg doctor >/dev/null || .venv/bin/vmsg doctor
