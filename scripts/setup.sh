#!/usr/bin/env bash
# Create .venv (once) and install skalign with everything the demo, the tests
# and the docs need. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip

# torch first, pinned: an unpinned torch pulled in by a dependency would fetch
# a multi-GB build; these two wheels are the ones this project is tested on.
if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
    "${PIP[@]}" install "torch==2.14.1" "torchvision==0.29.1"
fi
"${PIP[@]}" install -e ".[tests,demo,docs]"
