"""scripts/setup.sh: the pinned torch by default, the CPU-only wheels on request."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "scripts" / "setup.sh"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

pytestmark = pytest.mark.skipif(
    not SETUP.is_file() or shutil.which("bash") is None,
    reason="scripts/setup.sh ships with the source checkout only; needs bash",
)


def _run_setup(tmp_path, torch_choice, fake_python):
    """Run a copy of setup.sh whose venv python only records its arguments."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(SETUP, tmp_path / "scripts" / "setup.sh")
    venv_python = tmp_path / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(fake_python)
    venv_python.chmod(0o755)
    env = {**os.environ, "SKALIGN_TORCH": torch_choice}
    if not torch_choice:
        del env["SKALIGN_TORCH"]
    return subprocess.run(
        ["bash", str(tmp_path / "scripts" / "setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# Records every call; "import torch, torchvision" fails, so torch is installed.
RECORDING_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/calls.log"
[ "$1" = "-c" ] && exit 1
exit 0
"""


def _torch_install_calls(tmp_path):
    calls = (tmp_path / ".venv" / "bin" / "calls.log").read_text().splitlines()
    return [call for call in calls if "torch==" in call]


def test_default_installs_the_pinned_pypi_build(tmp_path):
    result = _run_setup(tmp_path, "", RECORDING_PYTHON)
    assert result.returncode == 0, result.stderr
    [call] = _torch_install_calls(tmp_path)
    assert call.endswith("install torch==2.14.1 torchvision==0.29.1")
    assert "--index-url" not in call


def test_cpu_opt_in_uses_the_cpu_wheel_index(tmp_path):
    result = _run_setup(tmp_path, "cpu", RECORDING_PYTHON)
    assert result.returncode == 0, result.stderr
    [call] = _torch_install_calls(tmp_path)
    assert f"install --index-url {CPU_INDEX} torch==2.14.1 torchvision==0.29.1" in call


def test_unknown_choice_is_refused_before_anything_is_installed(tmp_path):
    result = _run_setup(tmp_path, "rocm", RECORDING_PYTHON)
    assert result.returncode == 2
    assert "SKALIGN_TORCH must be 'cpu' or unset" in result.stderr
    assert "'rocm'" in result.stderr
    assert not (tmp_path / ".venv" / "bin" / "calls.log").exists()
