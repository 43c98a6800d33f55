"""The documentation builds without a single warning, gallery examples executed.

The build runs on a copy of ``docs/``, ``examples/`` and ``CHANGELOG.md`` in a
temporary directory, so sphinx-gallery's generated files never land in the
checkout. Every ``examples/plot_*.py`` runs offline with the packaged encoders;
their embeddings are cached under the system temporary directory (the
extractor's ``cache_dir``), so a second build is faster.
"""

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skalign._cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD_PACKAGES = (
    "sphinx",
    "sphinx_gallery",
    "numpydoc",
    "pydata_sphinx_theme",
    "myst_parser",
    "sphinx_copybutton",
)
# BLAS and OpenMP thread pools spin while they wait; next to the other pytest
# workers on a small machine that turns a 0.1 s SVD into seconds. One thread
# each keeps the build's time predictable.
SINGLE_THREADED = {
    name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}

pytestmark = pytest.mark.skipif(
    not (DOCS / "conf.py").is_file(), reason="docs/ ships with the source checkout only"
)
sphinx_build = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in BUILD_PACKAGES),
    reason="the docs extra is not installed (pip install -e '.[docs]')",
)


def _gallery_examples():
    """Each example's page (relative to auto_examples, no suffix) and name."""
    examples = ROOT / "examples"
    return sorted(
        (path.relative_to(examples).with_suffix("").as_posix(), path.stem)
        for path in examples.rglob("*.py")
    )


def _build_html(tmp):
    """Build the docs from a copy of the sources in ``tmp``; return the HTML dir."""
    generated = shutil.ignore_patterns(
        "_build", "auto_examples", "generated", "sg_execution_times.rst", "__pycache__"
    )
    shutil.copytree(DOCS, tmp / "docs", ignore=generated)
    shutil.copytree(ROOT / "examples", tmp / "examples", ignore=generated)
    shutil.copy(ROOT / "CHANGELOG.md", tmp / "CHANGELOG.md")
    env = {
        **SINGLE_THREADED,
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    html = tmp / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    command += ["-d", str(tmp / "doctrees"), str(tmp / "docs"), str(html)]
    build = subprocess.run(command, env=env, capture_output=True, text=True)
    assert build.returncode == 0, (
        f"sphinx-build failed (exit {build.returncode}):\n{build.stderr[-8000:]}"
        f"\n{build.stdout[-4000:]}"
    )
    return html


# One test, one build: a module fixture shared by several tests would be
# built once per pytest-xdist worker that runs one of them.
@pytest.mark.slow
@pytest.mark.timeout(1800)
@sphinx_build
def test_docs_build_without_warnings_with_the_gallery_executed(tmp_path):
    html = _build_html(tmp_path)

    examples = _gallery_examples()
    assert len(examples) >= 8
    for page, name in examples:
        assert (html / "auto_examples" / f"{page}.html").is_file(), page
        figures = list((html / "_images").glob(f"sphx_glr_{name}_0*.png"))
        if name.startswith("plot_"):
            assert figures, f"{name} was not run or drew no figure"
        else:
            assert not figures, f"{name} is rendered only, but it was run"

    # API pages list the examples that use them (sphinx-gallery backreferences)
    generated = html / "generated"
    assert "plot_02_stitching_anchor_curve" in (
        generated / "skalign.LatentAligner.html"
    ).read_text(encoding="utf-8")
    assert "plot_05_retrieval" in (
        generated / "skalign.retrieval.ReportRetriever.html"
    ).read_text(encoding="utf-8")

    # the API page is tables of links, each object on its own page
    api = (html / "api.html").read_text(encoding="utf-8")
    assert "sig-name descname" not in api, "an object is documented inline in api.rst"
    # intersphinx reaches every project the docstrings cite (local inventories)
    pages = "".join(
        page.read_text(encoding="utf-8")
        for page in [*(html / "generated").glob("*.html"), html / "install.html"]
    )
    for base_url in (
        "https://docs.python.org/3/",
        "https://numpy.org/doc/stable/",
        "https://pandas.pydata.org/docs/",
        "https://docs.pytorch.org/docs/stable/",
        "https://joblib.readthedocs.io/en/stable/",
        "https://scikit-learn.org/stable/",
    ):
        assert f'href="{base_url}' in pages, f"no link into {base_url}"

    guide = [page.stem for page in (DOCS / "user_guide").glob("*.rst")]
    assert {"zero_shot", "extraction", "gpu", "caching", "beyond_the_paper"} <= set(
        guide
    )
    for page in guide:
        assert (html / "user_guide" / f"{page}.html").is_file(), page
    assert "Changelog" in (html / "changelog.html").read_text(encoding="utf-8")


def _documented_command_lines():
    """``skalign ...`` lines of the user guide's bash blocks, continuations joined."""
    lines = []
    for page in sorted((DOCS / "user_guide").glob("*.rst")):
        blocks = re.findall(
            r"^\.\. code-block:: bash\n\n((?:(?:   .*)?\n)+)",
            page.read_text(encoding="utf-8"),
            flags=re.MULTILINE,
        )
        for block in blocks:
            joined = re.sub(r"\\\n\s*", " ", block)
            lines += [line.strip() for line in joined.splitlines()]
    return [line for line in lines if line.startswith("skalign ")]


def test_user_guide_command_lines_are_valid():
    commands = _documented_command_lines()
    parser = build_parser()
    for command in commands:
        args = parser.parse_args(shlex.split(command)[1:])  # exits on a bad flag
        assert args.command in command
    documented = {shlex.split(command)[1] for command in commands}
    assert documented == {"curve", "table", "zero-shot", "experiment"}
