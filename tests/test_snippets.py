"""The Python snippets of the README and the docs' front pages run as written.

Each page's ``python`` blocks run in order in one namespace, as a reader
pasting them one after the other would, from an empty working directory:
every name they use is defined in them, on real data (scikit-learn's digits,
docstring sentences, the packaged encoders). The value of a block's last
expression is what a reader would see printed; the tests check it.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_MARKDOWN_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_RST_BLOCK = re.compile(
    r"^\.\. code-block:: python\n\n((?:(?: {4}.*)?\n)+)", re.MULTILINE
)


def python_blocks(path):
    """The ``python`` code blocks of a Markdown or reStructuredText page."""
    if not path.is_file():
        pytest.skip(f"{path.name} ships with the source checkout only")
    text = path.read_text(encoding="utf-8")
    pattern = _MARKDOWN_BLOCK if path.suffix == ".md" else _RST_BLOCK
    return [textwrap.dedent(block) for block in pattern.findall(text)]


def run_block(code, namespace):
    """Execute ``code`` in ``namespace``; return its last expression's value."""
    tree = ast.parse(code)
    last = tree.body[-1] if isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, "<snippet>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<snippet>", "eval"), namespace)


def run_page(relative_path):
    """Run every python block of a page; (namespace, last values)."""
    blocks = python_blocks(ROOT / relative_path)
    assert blocks, f"{relative_path} has no python code block"
    namespace = {"__name__": "__snippet__"}
    return namespace, [run_block(block, namespace) for block in blocks]


def test_blocks_are_found_in_both_formats():
    markdown = "text\n```python\nx = 1\n```\n\n```bash\nls\n```\n"
    rst = ".. code-block:: python\n\n    x = 1\n\n    y = x\n\ntext\n"
    assert _MARKDOWN_BLOCK.findall(markdown) == ["x = 1\n"]
    blocks = [textwrap.dedent(block) for block in _RST_BLOCK.findall(rst)]
    assert blocks == ["x = 1\n\ny = x\n\n"]


def test_run_block_returns_the_last_expression_and_raises_on_undefined_names():
    namespace = {}
    assert run_block("x = 2\nx + 1\n", namespace) == 3
    assert run_block("y = x\n", namespace) is None and namespace["y"] == 2
    with pytest.raises(NameError, match="undefined_name"):
        run_block("undefined_name.fit()\n", {})


def test_readme_snippet_stitches_encoders(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    namespace, _ = run_page("README.md")
    # A's test images read by the SVM trained on B's space, through the map:
    # close to B's own score (0.976), far above chance
    assert 0.93 < namespace["auroc"] <= 1.0
    search = namespace["search"]
    transforms = {"affine", "linear", "l-ortho", "ortho"}
    assert search.best_params_["transform_type"] in transforms


def test_index_snippet_stitches_encoders(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    _, values = run_page("docs/index.rst")
    accuracy = values[-1]
    assert 0.85 < accuracy <= 1.0  # ten classes: chance is 0.1


@pytest.mark.slow
def test_install_quick_start_runs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("onnxruntime")
    namespace, values = run_page("docs/install.rst")
    assert values[0] > 0.99  # a known rotation plus noise: mean cosine near 1
    best_params, best_score = values[-1]
    assert best_params["latentaligner__transform_type"] in {"ortho", "affine"}
    assert -1.0 <= best_score <= 1.0
    assert namespace["target_embeddings"].shape == (200, 384)
