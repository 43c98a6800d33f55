#!/usr/bin/env bash
# Create .venv (once) and install skalign with everything the demo, the tests
# and the docs need. Safe to run again: it only installs what is missing.
#
# By default torch comes from PyPI, the pinned build CI tests (on Linux it
# bundles the CUDA libraries, several GB). On a machine without a GPU,
#     SKALIGN_TORCH=cpu bash scripts/setup.sh
# installs the same pinned versions from PyTorch's CPU-only wheel index
# instead (no nvidia/triton libraries). An existing torch is kept either way.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${SKALIGN_TORCH:-pinned}" in
    pinned) TORCH_INDEX=() ;;
    cpu) TORCH_INDEX=(--index-url https://download.pytorch.org/whl/cpu) ;;
    *)
        echo "SKALIGN_TORCH must be 'cpu' or unset (the pinned PyPI build)," \
            "got '$SKALIGN_TORCH'" >&2
        exit 2
        ;;
esac

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip

# torch first, pinned: an unpinned torch pulled in by a dependency would fetch
# a multi-GB build; these two wheels are the ones this project is tested on.
if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
    "${PIP[@]}" install ${TORCH_INDEX[@]+"${TORCH_INDEX[@]}"} "torch==2.14.1" "torchvision==0.29.1"
fi
"${PIP[@]}" install -e ".[tests,demo,docs]"
