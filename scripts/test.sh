#!/usr/bin/env bash
# README command 2: install everything the tests need, then run them.
#   bash scripts/test.sh              # the whole suite
#   bash scripts/test.sh -m "not slow" tests/unit   # extra args go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
