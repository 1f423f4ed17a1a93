#!/usr/bin/env bash
# README command 1: install everything, then render recipes/hello.yaml to out/hello.mp4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/vmsg render recipes/hello.yaml
