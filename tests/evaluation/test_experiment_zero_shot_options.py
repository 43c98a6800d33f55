"""run_experiment's zero-shot keys beyond the paper reach zero_shot_report:
hubness, hubness_neighbors, anchor_repeats and anchor_size (embedding files,
no model)."""

import numpy as np
import pandas as pd
import pytest

from skalign.evaluation import run_experiment, zero_shot_report

CLASSES = ["maybe", "no", "yes"]


@pytest.fixture
def files(tmp_path):
    """An image encoder and a text encoder given as files over one data set of
    90 items (the first 45 are the anchors), and the prompts embedded."""
    rng = np.random.default_rng(0)
    n = 90
    y = np.array(CLASSES)[rng.integers(0, 3, size=n)]
    ids = np.array([f"s{i}" for i in range(n)])
    text = 3 * np.eye(5)[np.searchsorted(CLASSES, y)] + 0.9 * rng.normal(size=(n, 5))
    images = text @ rng.normal(size=(5, 7)) + 0.1 * rng.normal(size=(n, 7))
    pd.DataFrame({"id": ids, "finding": y}).to_csv(tmp_path / "labels.csv", index=False)
    np.savez(tmp_path / "v.npz", embeddings=images, ids=ids)
    np.savez(tmp_path / "t.npz", embeddings=text[:45], ids=ids[:45])
    prompts = {c: [f"a {c}"] for c in CLASSES}
    np.savez(
        tmp_path / "prompts.npz",
        embeddings=3 * np.eye(5)[:3],
        ids=[f"a {c}" for c in CLASSES],
    )
    return tmp_path, images, text, y, prompts


def _config(tmp_path, prompts, extra):
    inline = ", ".join(f'"{c}" = ["{p[0]}"]' for c, p in prompts.items())
    path = tmp_path / "exp.toml"
    path.write_text(
        '[datasets.anchors]\nlabels = "labels.csv"\nrows = [0, 45]\n'
        '[datasets.tests]\nlabels = "labels.csv"\nrows = [45, 90]\n'
        '[encoders.v]\nmodality = "image"\ndomain = "general"\n'
        'embeddings = { anchors = "v.npz", tests = "v.npz" }\n'
        '[encoders.t]\nmodality = "text"\ndomain = "general"\n'
        'embeddings = { anchors = "t.npz" }\n'
        '[zero_shot]\ntext_encoder = "t"\nanchors = "anchors"\n'
        'prompt_embeddings = "prompts.npz"\nn_repeats = 2\nnaive = false\n'
        + extra
        + f'[zero_shot.tasks.finding]\ndataset = "tests"\nprompts = {{ {inline} }}\n'
    )
    return path


def test_the_config_keys_reach_the_report(files):
    tmp_path, images, text, y, prompts = files
    extra = (
        'hubness = "csls"\nhubness_neighbors = 4\nanchor_repeats = 3\n'
        "anchor_size = 20\n"
    )
    path = _config(tmp_path, prompts, extra)
    report = run_experiment(path, tmp_path / "out", show_progress=False)["zero_shot"]
    embedded = {c: [3 * np.eye(5)[i]] for i, c in enumerate(CLASSES)}
    expected = zero_shot_report(
        {"v": images[45:]},
        {"finding": (y[45:].astype(object), embedded)},
        anchors={"v": (images[:45], text[:45])},
        naive=False,
        n_repeats=2,
        hubness="csls",
        hubness_neighbors=4,
        anchor_repeats=3,
        anchor_size=20,
    )
    pd.testing.assert_frame_equal(
        report.reset_index(drop=True), expected, check_dtype=False
    )
    assert (report[report.method == "v (ortho)"]["n_runs"] == 6).all()
