"""Small data sets and configurations shared by the evaluation cases (no model)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from skalign.evaluation import run_experiment

N_ITEMS = 40


def labels_file(folder, labels=None, name="labels.csv"):
    """A labels CSV of ``N_ITEMS`` ids, two classes unless ``labels`` is given."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = ["a", "b"] * (N_ITEMS // 2) if labels is None else list(labels)
    path = folder / name
    pd.DataFrame({"id": [f"i{k}" for k in range(len(labels))], "label": labels}).to_csv(
        path, index=False
    )
    return path


def embedding_file(folder, name, width, *, seed=0, labels=None, n_items=N_ITEMS):
    """An ``.npz`` of class-separated embeddings with ids, for one encoder."""
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b"] * (n_items // 2) if labels is None else labels)
    latent = rng.normal(size=(n_items, 5))
    for shift, value in enumerate(sorted(set(labels))):
        latent[labels == value, shift % 5] += 3.0
    X = latent @ rng.normal(size=(5, width))
    path = Path(folder) / f"{name}.npz"
    np.savez(path, embeddings=X, ids=np.array([f"i{k}" for k in range(n_items)]))
    return path


def stitching_config(folder, **protocol):
    """A configuration of two text encoders read from files, one stitching task;
    its data files are written into ``folder``."""
    folder = Path(folder)
    labels = labels_file(folder)
    encoders = {
        name: {
            "modality": "text",
            "domain": "general",
            "embeddings": {"d": str(embedding_file(folder, name, width, seed=seed))},
        }
        for name, width, seed in (("e1", 6, 1), ("e2", 4, 2))
    }
    return {
        "protocol": {
            "n_anchors": [4, 8],
            "n_repeats": 1,
            "transforms": ["ortho"],
            "change_transform": "ortho",
            "n_test_per_class": 2,
            **protocol,
        },
        "datasets": {"d": {"labels": str(labels)}},
        "encoders": encoders,
        "stitching": {"t": {"dataset": "d"}},
    }


def with_changes(config, section, table, **values):
    """A copy of ``config`` with ``values`` set in ``config[section][table]``
    (``table`` None: in ``config[section]``)."""
    config = json.loads(json.dumps(config))
    target = config[section] if table is None else config[section][table]
    target.update(values)
    return config


def run(config, output_dir, **options):
    return run_experiment(config, output_dir, show_progress=False, **options)


def same_table(first, second):
    """The scores of two experiment results agree (the table and the curve)."""
    pd.testing.assert_frame_equal(first["table"], second["table"])
    pd.testing.assert_frame_equal(first["curve"], second["curve"])
    return True


def rerun_after(tmp, edit):
    """Run, ``edit(tmp, config)`` -> new config, run again in the same output
    folder (its cache), and run the new config fresh elsewhere: both results."""
    config = stitching_config(tmp / "data")
    run(config, tmp / "out")
    edited = edit(tmp, config)
    again = run(edited, tmp / "out")
    fresh = run(edited, tmp / "fresh")
    return again, fresh


def zero_shot_config(folder):
    """A zero-shot configuration read from files only: an image encoder aligned
    on 20 anchor images (rows 0-19 of the labels file) into a text encoder's
    space, prompts already embedded; the task's data set is every row."""
    folder = Path(folder)
    labels = labels_file(folder)
    image = embedding_file(folder, "img", 6, seed=1)
    text = embedding_file(folder, "txt", 4, seed=1)
    prompts = folder / "prompts.npz"
    rng = np.random.default_rng(0)
    np.savez(prompts, embeddings=rng.normal(size=(2, 4)), ids=np.array(["an a", "a b"]))
    return {
        "datasets": {
            "anchors": {"labels": str(labels), "rows": [0, 20]},
            "test": {"labels": str(labels)},
        },
        "encoders": {
            "img": {
                "modality": "image",
                "domain": "general",
                "embeddings": {"anchors": str(image), "test": str(image)},
            },
            "txt": {
                "modality": "text",
                "domain": "general",
                "embeddings": {"anchors": str(text)},
            },
        },  # fmt: skip
        "zero_shot": {
            "text_encoder": "txt",
            "anchors": "anchors",
            "prompt_embeddings": str(prompts),
            "n_repeats": 1,
            "tasks": {
                "t": {"dataset": "test", "prompts": {"a": ["an a"], "b": ["a b"]}}
            },
        },
    }
