"""The README's two commands are the ones CI and newcomers run."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("not running from a source checkout")
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", readme.read_text(), re.S)
    return [line for line in block.group(1).splitlines() if line and line[0] != "#"]


def test_ci_runs_the_readme_test_command():
    demo, tests = _readme_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines, "'.ci/run' must run the README's test command verbatim"
    assert demo.startswith("bash scripts/setup.sh && ")
