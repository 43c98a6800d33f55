"""The core install's command line (no pandas, no matplotlib): help, version and
``python -m skalign`` work, and a command that needs the extra names it."""

import subprocess
import sys
import textwrap

import pytest

_WITHOUT_EXTRA = """\
import runpy, sys
for name in ("pandas", "matplotlib", "matplotlib.pyplot"):
    sys.modules[name] = None  # unimportable, as in a core install
sys.argv = ["skalign", *{argv!r}]
runpy.run_module("skalign", run_name="__main__")
"""


def _skalign(*argv):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_WITHOUT_EXTRA.format(argv=argv))],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_every_command_without_pandas_or_matplotlib():
    run = _skalign("--help")
    assert run.returncode == 0, run.stderr
    for command in ("demo", "curve", "table", "zero-shot", "experiment"):
        assert command in run.stdout
    assert "Traceback" not in run.stderr


def test_version_without_pandas_or_matplotlib():
    run = _skalign("--version")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("skalign ")


@pytest.mark.parametrize(
    "argv",
    [
        ("curve", "--source", "a.npz", "--target", "b.npz", "-o", "out"),
        ("demo",),
        ("experiment", "skalign:demo", "-o", "out"),
    ],
)
def test_a_command_that_needs_the_extra_names_it(argv):
    run = _skalign(*argv)
    assert run.returncode == 1, run.stderr
    assert f"skalign {argv[0]}: error: 'skalign {argv[0]}' needs an extra" in run.stderr
    assert 'pip install "skalign[evaluation]"' in run.stderr
    assert "Traceback" not in run.stderr


def test_a_command_help_names_the_extra():
    run = _skalign("table", "--help")
    assert run.returncode == 0, run.stderr
    assert 'pip install "skalign[evaluation]"' in " ".join(run.stdout.split())


def test_no_command_is_a_usage_error():
    run = _skalign()
    assert run.returncode == 2
    assert "required: COMMAND" in run.stderr
