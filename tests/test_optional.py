"""A missing optional package names the extra that installs it."""

import importlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from skalign import AdapterAligner, LatentAligner
from skalign._optional import EXTRAS, import_optional

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _block(monkeypatch, *modules):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.parametrize("module", sorted(EXTRAS))
def test_import_optional_names_the_extra(monkeypatch, module):
    _block(monkeypatch, module)
    with pytest.raises(
        ImportError, match=rf'pip install "skalign\[{EXTRAS[module]}\]"'
    ) as caught:
        import_optional(module, purpose="The test")
    assert f"{module!r}, which is not installed" in str(caught.value)


def test_a_broken_dependency_is_not_called_missing(monkeypatch):
    # pandas is installed but one of its own imports fails
    _block(monkeypatch, "skalign_no_such_dependency")

    def broken(name, *args, **kwargs):
        raise ImportError("cannot import name 'x' from 'numpy'")

    monkeypatch.setattr("importlib.import_module", broken)
    with pytest.raises(ImportError, match=r"failed to import \(cannot import"):
        import_optional("pandas")


@pytest.mark.parametrize(
    ("spec", "missing", "extra", "kwargs"),
    [
        (
            "sentence-transformers:any",
            "sentence_transformers",
            "sentence-transformers",
            {},
        ),
        ("sentence-transformers:any", "torch", "sentence-transformers", {}),
        ("open_clip:ViT-B-32", "open_clip", "open-clip", {"modality": "image"}),
        ("hf:any", "transformers", "hf", {"modality": "text"}),
        ("onnx:model.onnx", "onnxruntime", "onnx", {"modality": "text"}),
    ],
)
def test_missing_backend_package_names_the_extra(
    monkeypatch, spec, missing, extra, kwargs
):
    from skalign.extract import EmbeddingExtractor

    _block(monkeypatch, missing)
    with pytest.raises(ImportError, match=rf'pip install "skalign\[{extra}\]"'):
        EmbeddingExtractor(spec, **kwargs).transform(["a text"])


def test_missing_pydicom_names_the_extra(monkeypatch, tmp_path):
    from skalign.extract import load_image

    path = tmp_path / "scan.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
    _block(monkeypatch, "pydicom")
    with pytest.raises(ImportError, match=r'pip install "skalign\[dicom\]"'):
        load_image(path)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    import pandas as pd

    from skalign.evaluation import plot_zero_shot

    _block(monkeypatch, "matplotlib", "matplotlib.pyplot")
    table = pd.DataFrame(
        {"task": "t", "method": "m", "metric": "roc_auc", "mean": [0.5], "std": 0.0}
    )
    with pytest.raises(ImportError, match=r'pip install "skalign\[evaluation\]"'):
        plot_zero_shot(table)


def _run_without(modules, code):
    prelude = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_core_and_extract_import_without_pandas_pillow_or_tqdm():
    # (torch cannot be blocked this way: SciPy's array-API layer inspects
    # sys.modules["torch"]; the core install without torch is checked in a
    # fresh virtual environment, see CONTRIBUTING in the changelog.)
    run = _run_without(
        ["pandas", "PIL", "matplotlib", "tqdm"],
        """
        import numpy as np
        import skalign, skalign.extract, skalign.metrics, skalign.retrieval
        from skalign import LatentAligner, fit_alignment
        rng = np.random.default_rng(0)
        X = rng.normal(size=(20, 4))
        aligner = LatentAligner().fit(X, X @ np.eye(4)[::-1])
        print(round(aligner.score(X, X @ np.eye(4)[::-1]), 6), "torch" in sys.modules)
        try:
            import skalign.evaluation
        except ImportError as exc:
            print(exc)
        """,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "1.0 False"
    assert 'pip install "skalign[evaluation]"' in run.stdout


def test_importing_extract_loads_no_heavy_library():
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, skalign.extract; print(sorted(m for m in "
            "('torch', 'transformers', 'sentence_transformers', 'open_clip', "
            "'onnxruntime', 'pydicom', 'PIL', 'matplotlib', 'dask') "
            "if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_onnx_resolves_the_cpu_without_torch(monkeypatch):
    from skalign.extract._runtime import resolve_device

    _block(monkeypatch, "torch")
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ImportError, match=r"skalign\[extract\]"):
        resolve_device("cuda")


def test_digits_without_pillow_names_the_extra(monkeypatch):
    from skalign.datasets import load_digit_images

    _block(monkeypatch, "PIL", "PIL.Image")
    assert load_digit_images(size=None).images.shape == (1797, 8, 8, 3)
    with pytest.raises(ImportError, match=r"skalign\[extract\]"):
        load_digit_images(size=16)


@pytest.mark.parametrize(
    ("make", "purpose"),
    [
        (lambda: LatentAligner("affine", solver="adam"), 'solver="adam"'),
        (lambda: AdapterAligner(), "AdapterAligner"),
    ],
    ids=["adam", "adapter"],
)
def test_torch_only_fits_name_the_extra(monkeypatch, make, purpose):
    # torch stays imported for SciPy's array-API layer; only skalign's import
    # of it is made to fail, as in a core install
    real_import = importlib.import_module

    def without_torch(name, *args, **kwargs):
        if name.partition(".")[0] == "torch":
            raise ModuleNotFoundError("No module named 'torch'", name="torch")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", without_torch)
    X = np.random.default_rng(0).normal(size=(20, 4))
    estimator = make()
    with pytest.raises(
        ImportError, match=r'pip install "skalign\[extract\]"'
    ) as caught:
        estimator.fit(X, X[:, ::-1])
    assert purpose in str(caught.value)
    assert not hasattr(estimator, "n_features_in_")  # nothing fitted
