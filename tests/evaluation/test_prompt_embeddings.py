"""Prompts embedded elsewhere, end to end through run_experiment: a baseline's
``prompt_embeddings`` (MedCLIP's path in the docs) and the main text encoder's
``zero_shot.prompt_embeddings``, on small embedding files."""

import numpy as np
import pandas as pd
import pytest

from skalign.evaluation import run_experiment, zero_shot_report
from skalign.evaluation._experiment_config import ConfigError, load_config
from skalign.evaluation._prompt_embeddings import PromptEmbeddingFile

PROMPTS = {
    "effusion": ["pleural effusion", "fluid in the pleural space"],
    "normal": ["no effusion", "clear costophrenic angles"],
}
CLASSES = ["effusion", "normal"]


def _class_vectors(labels, rng, width, noise):
    centres = np.eye(width)[: len(CLASSES)] * 2.0
    rows = np.array([CLASSES.index(label) for label in labels])
    return centres[rows] + noise * rng.normal(size=(len(labels), width))


@pytest.fixture
def files(tmp_path):
    """Anchors (images + report embeddings), a test set, a vision encoder, a
    multimodal baseline without an extractor, and both prompt files."""
    rng = np.random.default_rng(0)
    anchor_labels = np.repeat(CLASSES, 40)
    test_labels = np.repeat(CLASSES, 30)
    rotation = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    data = {}
    for name, labels in (("mimic", anchor_labels), ("vindr", test_labels)):
        ids = np.array([f"{name}-{i}" for i in range(len(labels))])
        pd.DataFrame({"id": ids, "finding": labels}).to_csv(
            tmp_path / f"{name}.csv", index=False
        )
        text = _class_vectors(labels, rng, 6, 0.3)
        data[name] = (ids, labels, text)
        # the vision encoder: a rotation of the text space, plus an offset
        np.savez(
            tmp_path / f"vision_{name}.npz", embeddings=text @ rotation + 1.0, ids=ids
        )
    ids, _, reports = data["mimic"]
    np.savez(tmp_path / "reports_mimic.npz", embeddings=reports, ids=ids)
    ids, labels, _ = data["vindr"]
    # the baseline's images already live in its own 4-d text space
    np.savez(
        tmp_path / "medclip_vindr.npz",
        embeddings=_class_vectors(labels, rng, 4, 0.8),
        ids=ids,
    )
    texts = [text for prompts in PROMPTS.values() for text in prompts]
    main = {  # each prompt near its class's direction of the main text space
        text: _class_vectors([label], rng, 6, 0.1)[0]
        for label, prompts in PROMPTS.items()
        for text in prompts
    }
    medclip = {
        text: _class_vectors([label], rng, 4, 0.1)[0]
        for label, prompts in PROMPTS.items()
        for text in prompts
    }
    for name, vectors in (("main", main), ("medclip", medclip)):
        np.savez(
            tmp_path / f"{name}_prompts.npz",
            embeddings=np.stack([vectors[t] for t in texts]),
            ids=texts,
        )
    return tmp_path, data, main, medclip


def _config(tmp_path):
    return {
        "protocol": {"random_state": 3},
        "datasets": {
            "mimic": {"labels": str(tmp_path / "mimic.csv")},
            "vindr": {"labels": str(tmp_path / "vindr.csv")},
        },
        "encoders": {
            "vision": {
                "modality": "image",
                "domain": "general",
                "embeddings": {
                    "mimic": str(tmp_path / "vision_mimic.npz"),
                    "vindr": str(tmp_path / "vision_vindr.npz"),
                },
            },
            "reports": {
                "modality": "text",
                "domain": "medical",
                "embeddings": {"mimic": str(tmp_path / "reports_mimic.npz")},
            },
            "medclip-image": {
                "modality": "image",
                "domain": "medical",
                "embeddings": {"vindr": str(tmp_path / "medclip_vindr.npz")},
            },
        },
        "zero_shot": {
            "text_encoder": "reports",
            "prompt_embeddings": str(tmp_path / "main_prompts.npz"),
            "anchors": "mimic",
            "vision_encoders": ["vision"],
            "n_repeats": 2,
            "tasks": {"effusion": {"dataset": "vindr", "prompts": PROMPTS}},
            "baselines": {
                "medclip": {
                    "image_encoder": "medclip-image",
                    "prompt_embeddings": str(tmp_path / "medclip_prompts.npz"),
                }
            },
        },
    }


def test_prompt_embeddings_of_a_baseline_and_of_the_text_encoder(files):
    tmp_path, data, main, medclip = files
    report = run_experiment(_config(tmp_path), tmp_path / "out", show_progress=False)[
        "zero_shot"
    ]
    auroc = report[report["metric"] == "roc_auc"].set_index("method")["mean"]
    assert list(auroc.index) == [
        "vision (ortho)",
        "vision (naive)",
        "medclip",
        "chance",
    ]
    assert auroc["vision (ortho)"] > 0.95 and auroc["medclip"] > 0.9
    # the same report from the arrays themselves: the files' vectors were used
    ids, labels, _ = data["vindr"]
    vision = {
        name: np.load(tmp_path / f"vision_{name}.npz")["embeddings"]
        for name in ("mimic", "vindr")
    }
    reports = np.load(tmp_path / "reports_mimic.npz")["embeddings"]
    images = np.load(tmp_path / "medclip_vindr.npz")["embeddings"]

    def embedded(vectors):
        return {
            "effusion": {
                label: np.stack([vectors[t] for t in prompts])
                for label, prompts in PROMPTS.items()
            }
        }

    expected = zero_shot_report(
        {"vision": vision["vindr"], "medclip": (images, None, embedded(medclip))},
        {"effusion": (labels, embedded(main)["effusion"])},
        anchors={"vision": (vision["mimic"], reports)},
        n_repeats=2,
        random_state=3,
    )
    pd.testing.assert_frame_equal(report, expected)
    assert (tmp_path / "out" / "fig4_zero_shot.png").stat().st_size > 0


def test_a_prompt_missing_from_the_file_is_named(files):
    tmp_path, *_ = files
    config = _config(tmp_path)
    prompts = {**PROMPTS, "normal": [*PROMPTS["normal"], "sharp angles"]}
    config["zero_shot"]["tasks"]["effusion"]["prompts"] = prompts
    with pytest.raises(ValueError, match="has no embedding for 1 of the 5 prompts, "):
        run_experiment(config, tmp_path / "out", show_progress=False)


def test_a_prompt_file_without_ids_is_refused(tmp_path):
    np.save(tmp_path / "prompts.npy", np.eye(3))
    with pytest.raises(ValueError, match="need 'ids' holding the prompt texts"):
        PromptEmbeddingFile(tmp_path / "prompts.npy").fit()


def test_the_config_key_is_checked_and_documented(files, capsys):
    tmp_path, *_ = files
    config = _config(tmp_path)
    config["zero_shot"]["prompt_embeddings"] = "nowhere.npz"
    with pytest.raises(ConfigError, match="zero_shot.prompt_embeddings = 'nowhere"):
        load_config(config)
    from skalign._cli import main

    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    help_text = capsys.readouterr().out
    section = help_text.split("\n[zero_shot]\n")[1].split("\n[")[0]
    assert "prompt_embeddings  the prompts already embedded by text_encoder" in section
