"""Self-learning evaluated with its unpaired pool (``unpaired=``) in every
protocol function and in the experiment configuration: the pool reaches the
self-learning transforms only, every other number is unchanged, and a pool
that cannot be used as intended is refused."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ortho_group
from sklearn.linear_model import LogisticRegression

from skalign import SelfLearningAligner
from skalign.evaluation import (
    ConfigError,
    ExperimentConfig,
    anchor_curve,
    pooled_anchor_curve,
    pooled_stitching_table,
    run_experiment,
    stitching_report,
    stitching_table,
    zero_shot_report,
)
from skalign.evaluation._protocol import check_transforms, pool_transforms
from skalign.evaluation._stitching import with_unpaired

DECODER = LogisticRegression(max_iter=2000)
# Self-learning with its held-out guard off: what the pool alone gives.
UNGUARDED = {
    "name": "sl-unguarded",
    "transform_type": "ortho",
    "self_learning": {"n_folds": None},
}
WITHOUT_POOL = ["naive", "ortho", "affine", "target_upper_bound"]
METRIC_COLUMNS = ["roc_auc", "accuracy", "f1_macro"]


def rotation_task(seed=0, n=300, n_pool=150, d=8):
    """Three anisotropic classes in ``d`` dimensions; the target encoder is a
    known rotation plus an offset. The pool: other items of the same
    distribution, embedded by both encoders (a corresponding pool)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(3, d))
    scales = np.linspace(3.0, 0.5, d)

    def draw(m):
        y = rng.integers(3, size=m)
        return centres[y] + rng.normal(size=(m, d)) * scales, y

    X, y = draw(n)
    pool, _ = draw(n_pool)
    Q = ortho_group.rvs(d, random_state=seed)
    return X, X @ Q + 1.0, y, pool, pool @ Q + 1.0


@pytest.fixture(scope="module")
def task():
    return rotation_task()


def _means(curve, metric):
    rows = curve[curve["metric"] == metric].dropna(subset=["n_anchors"])
    return rows.pivot(index="n_anchors", columns="transform", values="mean")


def _scores(runs, methods):
    rows = runs[runs["transform"].isin(methods)]
    return rows.sort_values(["transform", "n_anchors", "seed"], kind="stable")


# --- the pool reaches self-learning ----------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_self_learning_with_its_pool_beats_or_equals_pairs_only_ortho(seed):
    X, Y, y, pool, pool_target = rotation_task(seed)
    options = dict(n_anchors=[6, 12], n_repeats=2, decoder=DECODER)
    transforms = ["ortho", "self-learning", UNGUARDED]
    curve = anchor_curve(
        X, Y, y, transforms=transforms, unpaired=(pool, pool_target), **options
    )
    for metric in ("accuracy", "roc_auc"):
        means = _means(curve, metric)
        # the guarded preset never falls below the pairs-only map it refines
        assert (means["self-learning"] >= means["ortho"]).all(), means
        # and the pool is informative: self-learning alone recovers the rotation
        assert (means["sl-unguarded"] >= means["ortho"]).all(), means
    accuracy = _means(curve, "accuracy")
    assert accuracy.loc[6, "sl-unguarded"] > accuracy.loc[6, "ortho"] + 0.1
    assert accuracy.loc[6, "sl-unguarded"] >= 0.95
    # without the pool the same transform is the pairs-only map (and warns)
    with pytest.warns(UserWarning, match="none is given"):
        alone = anchor_curve(X, Y, y, transforms=["ortho", UNGUARDED], **options)
    means = _means(alone, "accuracy")
    np.testing.assert_array_equal(means["sl-unguarded"], means["ortho"])


class RecordingLearner(SelfLearningAligner):
    """Records the rows of every fit: unpaired sources, unpaired targets, all."""

    fits = []

    def fit(self, X, y, sample_weight=None):
        self.fits.append((np.isnan(y[:, 0]).sum(), np.isnan(X[:, 0]).sum(), len(X)))
        return super().fit(X, y, sample_weight=sample_weight)


def test_the_pool_is_drawn_into_every_repeat_and_count(task):
    X, Y, y, pool, pool_target = task
    RecordingLearner.fits.clear()
    anchor_curve(
        X, Y, y, n_anchors=[4, 9], n_repeats=2, decoder=DECODER,
        transforms={"ortho": "ortho", "recorded": RecordingLearner(n_folds=None)},
        unpaired=(pool, pool_target[:100]),
    )  # fmt: skip
    # every cell: the whole source pool, then the whole target pool
    assert sorted(RecordingLearner.fits) == sorted(
        (150, 100, count + 250) for count in (4, 9) for _ in range(2)
    )


# --- every other number is unchanged ---------------------------------------------


def test_other_methods_are_bit_identical_with_and_without_the_pool(task, tmp_path):
    X, Y, y, pool, pool_target = task
    options = dict(n_anchors=[6, 12], n_repeats=2, decoder=DECODER, return_runs=True)
    _, plain = anchor_curve(X, Y, y, transforms=["ortho", "affine"], **options)
    _, pooled = anchor_curve(
        X, Y, y, transforms=["ortho", "affine", "self-learning"],
        unpaired=(pool, pool_target), **options,
    )  # fmt: skip
    pd.testing.assert_frame_equal(
        _scores(plain, WITHOUT_POOL).reset_index(drop=True),
        _scores(pooled, WITHOUT_POOL).reset_index(drop=True),
        check_exact=True,
    )
    # and the cache keys of those cells are a run's without the pool
    cache = dict(cache_dir=tmp_path / "cache", n_anchors=[6], n_repeats=1)
    anchor_curve(X, Y, y, transforms=["ortho"], decoder=DECODER, **cache)
    _, runs = anchor_curve(
        X, Y, y, transforms=["ortho", "self-learning"], decoder=DECODER,
        unpaired=(pool, pool_target), return_runs=True, **cache,
    )  # fmt: skip
    cached = runs.set_index("transform")["cached"]
    assert cached[["naive", "ortho", "target_upper_bound"]].all()
    assert not cached["self-learning"]


def test_stitching_report_and_tables_take_the_pool(task):
    X, Y, y, pool, pool_target = task
    options = dict(n_anchors=8, n_repeats=2, decoder=DECODER)
    plain = stitching_report(X, Y, y, transforms=["ortho"], **options)
    report = stitching_report(
        X, Y, y, transforms=["ortho", UNGUARDED], unpaired=(pool, pool_target),
        **options,
    )  # fmt: skip
    pd.testing.assert_frame_equal(report.loc[plain.index], plain, check_exact=True)
    assert report.loc["sl-unguarded", "accuracy"] > report.loc["ortho", "accuracy"]

    embeddings = {"a": X, "b": Y, "c": X[:, ::-1]}
    pools = {"a": pool, "b": pool_target, "c": pool[:, ::-1]}
    groups = {"a": "g", "b": "h", "c": "g"}
    table_options = dict(groups=groups, return_pairs=True, **options)
    _, plain_pairs = stitching_table(
        embeddings, y, transforms=["ortho"], **table_options
    )
    table, pairs = stitching_table(
        embeddings, y, transforms=["ortho", UNGUARDED], unpaired=pools,
        **table_options,
    )  # fmt: skip
    kept = pairs[pairs["transform"] != "sl-unguarded"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, plain_pairs, check_exact=True)
    assert (table["sl-unguarded"] >= table["ortho"]).all()


def test_pooled_functions_take_a_pool_per_task(task):
    X, Y, y, pool, pool_target = task
    other = rotation_task(seed=1)
    tasks = {
        "first": ({"a": X, "b": Y}, y),
        "second": ({"a": other[0], "b": other[1]}, other[2]),
    }
    pools = {"first": {"a": pool, "b": pool_target}}  # "second" has none
    options = dict(n_anchors=[6], n_repeats=1, decoder=DECODER, return_runs=True)
    _, plain = pooled_anchor_curve(tasks, transforms=["ortho"], **options)
    with pytest.warns(UserWarning, match="none is given"):  # for "second"
        _, runs = pooled_anchor_curve(
            tasks, transforms=["ortho", UNGUARDED], unpaired=pools, **options
        )
    methods = ["naive", "ortho", "target_upper_bound"]
    pd.testing.assert_frame_equal(
        _scores(plain, methods).reset_index(drop=True),
        _scores(runs, methods).reset_index(drop=True),
        check_exact=True,
    )
    learned = runs[runs["transform"] == "sl-unguarded"].set_index(["task", "source"])
    ortho = runs[runs["transform"] == "ortho"].set_index(["task", "source"])
    gain = learned["accuracy"] - ortho["accuracy"]
    assert (gain["first"] > 0).all()  # the pool helps both directions
    np.testing.assert_array_equal(gain["second"], 0.0)  # no pool: pairs only

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = pooled_stitching_table(
            tasks, {"a": "g", "b": "h"}, transforms=["ortho", UNGUARDED],
            unpaired=pools, n_anchors=6, n_repeats=1, decoder=DECODER,
        )  # fmt: skip
    # the first task's pairs gain, the second's (no pool) equal pairs-only
    assert (table["sl-unguarded"] > table["ortho"]).all(), table


# --- refusals -------------------------------------------------------------------


def test_a_pool_of_the_wrong_width_is_refused(task):
    X, Y, y, pool, pool_target = task
    with pytest.raises(ValueError, match="pool of 'source' has 5 features but"):
        anchor_curve(
            X, Y, y, n_anchors=[6], transforms=["self-learning"],
            unpaired=(pool[:, :5], pool_target),
        )  # fmt: skip


def test_a_pool_holding_test_rows_is_refused(task):
    X, Y, y, _, pool_target = task
    with pytest.raises(ValueError, match="identical to test rows of 'source'") as error:
        anchor_curve(
            X, Y, y, n_anchors=[6], transforms=["self-learning"],
            unpaired=(X, pool_target),
        )  # fmt: skip
    assert "must never contain test items" in str(error.value)
    assert "np.delete(pool" in str(error.value)


def test_a_pool_that_no_transform_uses_is_refused(task):
    X, Y, y, pool, pool_target = task
    with pytest.raises(ValueError, match="no transform learns from one"):
        anchor_curve(
            X, Y, y, n_anchors=[6], transforms=["ortho", "affine"],
            unpaired=(pool, pool_target),
        )  # fmt: skip


def test_malformed_pools_are_refused(task):
    X, Y, y, pool, pool_target = task
    options = dict(n_anchors=[6], transforms=["self-learning"])
    with pytest.raises(ValueError, match=r"a pair \(source_pool, target_pool\)"):
        anchor_curve(X, Y, y, unpaired=(pool,), **options)
    with pytest.raises(ValueError, match="'unpaired' parameter of anchor_curve"):
        anchor_curve(X, Y, y, unpaired=pool, **options)
    with pytest.raises(ValueError, match=r"gives no pool for \['c'\]"):
        stitching_table(
            {"a": X, "b": Y, "c": X}, y, unpaired={"a": pool, "b": pool_target},
            n_anchors=6, transforms=["ortho", "self-learning"],
        )  # fmt: skip
    with pytest.raises(ValueError, match="unpaired names the tasks"):
        pooled_anchor_curve(
            {"t": ({"a": X, "b": Y}, y)}, unpaired={"typo": {}}, **options
        )
    with pytest.raises(ValueError, match="contains NaN|NaN"):
        anchor_curve(X, Y, y, unpaired=(pool * np.nan, pool_target), **options)


def test_self_learning_specifications_are_checked():
    checked = check_transforms(
        ["ortho", "self-learning", UNGUARDED,
         {"name": "mto", "transform_type": "linear",
          "self_learning": {"matching": "many-to-one"}}], None,
    )  # fmt: skip
    assert pool_transforms(["ortho", "self-learning", UNGUARDED]) == [
        "self-learning", "sl-unguarded"
    ]  # fmt: skip
    assert checked["sl-unguarded"].n_folds is None
    assert checked["mto"].aligner.transform_type == "linear"
    with pytest.raises(ValueError, match=r"self_learning has unknown keys \['folds'\]"):
        check_transforms([{"name": "x", "transform_type": "ortho",
                           "self_learning": {"folds": 3}}], None)  # fmt: skip
    with pytest.raises(ValueError, match=r"\[.x.\]: self_learning: .*matching"):
        check_transforms([{"name": "x", "transform_type": "ortho",
                           "self_learning": {"matching": "all"}}], None)  # fmt: skip
    with pytest.raises(TypeError, match="must be true, false or a dict"):
        check_transforms([{"name": "x", "transform_type": "ortho",
                           "self_learning": "yes"}], None)  # fmt: skip


# --- the experiment configuration --------------------------------------------------

CONFIG = {
    "datasets": {
        "topics": {"source": "skalign:docstring-topics", "rows": [0, 100]},
        "more": {"source": "skalign:docstring-topics", "rows": [100, 200]},
        "digits": {"source": "skalign:digits"},
    },
    "encoders": {
        "a": {"modality": "text", "domain": "general", "extractor": "x"},
        "b": {"modality": "text", "domain": "medical", "extractor": "y"},
        "v": {"modality": "image", "domain": "general", "extractor": "z"},
    },
    "protocol": {"transforms": ["ortho", "self-learning"]},
    "stitching": {"topics": {"dataset": "topics", "unpaired": "more"}},
}


def _config(**sections):
    config = {key: dict(value) for key, value in CONFIG.items()}
    for key, value in sections.items():
        config[key] = value
    return config


def test_the_config_key_is_read_and_typed():
    config = ExperimentConfig.read(_config())
    assert config.stitching["topics"].unpaired == "more"
    assert "unpaired" in ExperimentConfig.keys_help()
    with pytest.raises(ConfigError) as error:
        ExperimentConfig.read(
            _config(stitching={"topics": {"dataset": "topics", "unpaired": 3}})
        )
    message = str(error.value)
    assert "stitching.topics.unpaired must be a non-empty string, got 3" in message
    assert "fix the value in [stitching.topics]" in message


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"stitching": {"topics": {"dataset": "topics", "unpaired": "mroe"}}},
            "stitching.topics.unpaired names 'mroe', which is not declared.*"
            "Did you mean 'more'",
        ),
        (
            {"stitching": {"topics": {"dataset": "topics", "unpaired": "topics"}}},
            "stitching.topics.unpaired = 'topics' is a data set the task tests "
            "on; an unpaired pool must never contain test items",
        ),
        (
            {"protocol": {"transforms": ["ortho"]}},
            "stitching.topics.unpaired gives an unpaired pool, but no transform "
            "of protocol.transforms learns from one",
        ),
        (
            {"zero_shot": {"text_encoder": "a", "anchors": "digits",
                           "unpaired": "digits", "transforms": ["self-learning"],
                           "tasks": {"d": {"dataset": "digits",
                                           "prompts": "skalign:digits"}}}},
            "zero_shot.unpaired = 'digits' is a data set the task tests on",
        ),
        (
            {"zero_shot": {"text_encoder": "a", "anchors": "digits",
                           "unpaired": "topics",
                           "tasks": {"d": {"dataset": "digits",
                                           "prompts": "skalign:digits"}}}},
            "zero_shot.unpaired gives an unpaired pool, but no map learns",
        ),
        (
            {"zero_shot": {"text_encoder": "a", "anchors": "digits",
                           "transforms": ["ortho", "rotate"],
                           "tasks": {"d": {"dataset": "digits",
                                           "prompts": "skalign:digits"}}}},
            "zero_shot.transforms must be a list of names, each one of",
        ),
    ],
)  # fmt: skip
def test_config_errors_name_the_key_and_the_fix(sections, message):
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig.read(_config(**sections))


def test_zero_shot_transforms_take_presets_and_specifications():
    zero_shot = {
        "text_encoder": "a", "anchors": "digits", "unpaired": "topics",
        "transforms": ["ortho", "self-learning", UNGUARDED],
        "tasks": {"d": {"dataset": "digits", "prompts": "skalign:digits"}},
    }  # fmt: skip
    config = ExperimentConfig.read(_config(zero_shot=zero_shot))
    assert config.zero_shot.unpaired == "topics"
    assert config.zero_shot.transforms[1] == "self-learning"


def _write_files(tmp_path, n=270, seed=0):
    """Two text encoders (a rotation apart) over 270 items given as files."""
    X, Y, y, _, _ = rotation_task(seed, n=n, n_pool=1)
    ids = np.array([f"s{i}" for i in range(n)])
    pd.DataFrame({"id": ids, "topic": y}).to_csv(tmp_path / "labels.csv", index=False)
    np.savez(tmp_path / "a.npz", embeddings=X, ids=ids)
    np.savez(tmp_path / "b.npz", embeddings=Y, ids=ids)
    return X, Y, y


def _experiment_file(tmp_path, pool_rows):
    path = tmp_path / "exp.toml"
    path.write_text(
        '[protocol]\ntransforms = ["ortho", "self-learning", '
        '{name = "sl-unguarded", transform_type = "ortho", '
        "self_learning = {n_folds = 2}}]\n"
        "n_anchors = [6, 12]\nn_repeats = 2\n"
        '[datasets.task]\nlabels = "labels.csv"\nrows = [0, 120]\n'
        f'[datasets.pool]\nlabels = "labels.csv"\nrows = {pool_rows}\n'
        '[encoders.a]\nmodality = "text"\ndomain = "general"\n'
        'embeddings = { task = "a.npz", pool = "a.npz" }\n'
        '[encoders.b]\nmodality = "text"\ndomain = "general"\n'
        'embeddings = { task = "b.npz", pool = "b.npz" }\n'
        '[stitching.t]\ndataset = "task"\nunpaired = "pool"\n'
    )
    return path


def test_run_experiment_draws_the_self_learning_curve(tmp_path):
    X, Y, y = _write_files(tmp_path)
    path = _experiment_file(tmp_path, "[120, 270]")
    results = run_experiment(path, tmp_path / "out", show_progress=False)
    curve = results["curve"]
    assert {"ortho", "self-learning", "sl-unguarded"} <= set(curve["transform"])
    written = pd.read_csv(tmp_path / "out" / "stitching_curve.csv")
    assert "self-learning" in set(written["transform"])
    assert (tmp_path / "out" / "fig3_anchor_curves.png").stat().st_size > 0
    # the same numbers as the function given the pool directly
    config = ExperimentConfig.read(path)
    expected = pooled_anchor_curve(
        {"t": ({"a": X[:120], "b": Y[:120]}, y[:120].astype(str))},
        modalities={"a": "text", "b": "text"},
        n_anchors=[6, 12],
        unpaired={"t": {"a": X[120:], "b": Y[120:]}},
        **config.protocol.keywords(without=("split", "cache_dir", "show_progress")),
    )
    pd.testing.assert_frame_equal(
        curve.reset_index(drop=True), expected, check_dtype=False
    )
    accuracy = _means(curve, "accuracy")
    assert (accuracy["self-learning"] >= accuracy["ortho"]).all()


def test_the_dry_run_counts_the_pool_cells_as_stored(tmp_path, capsys):
    _write_files(tmp_path)
    path = _experiment_file(tmp_path, "[120, 270]")
    before = run_experiment(path, tmp_path / "out", dry_run=True)["plan"]
    run_experiment(path, tmp_path / "out", show_progress=False)
    after = run_experiment(path, tmp_path / "out", dry_run=True)["plan"]
    assert before["n_cached"].tolist() == [0]
    # 2 pairs x 2 counts x 2 repeats x 4 methods: every one stored by the run
    assert after["n_cells"].tolist() == after["n_cached"].tolist() == [32]


def test_run_experiment_refuses_a_pool_sharing_task_items(tmp_path):
    _write_files(tmp_path)
    path = _experiment_file(tmp_path, "[100, 270]")
    with pytest.raises(ValueError, match="stitching.t.unpaired = 'pool' shares 20"):
        run_experiment(path, tmp_path / "out", show_progress=False)


def test_run_experiment_gives_the_zero_shot_pool_to_self_learning(tmp_path):
    rng = np.random.default_rng(0)
    classes = np.array(["maybe", "no", "yes"])
    n = 150
    y = classes[rng.integers(0, 3, size=n)]
    ids = np.array([f"s{i}" for i in range(n)])
    text = 3 * np.eye(5)[np.searchsorted(classes, y)] + 0.9 * rng.normal(size=(n, 5))
    images = text @ ortho_group.rvs(5, random_state=0) + 0.05 * rng.normal(size=(n, 5))
    pd.DataFrame({"id": ids, "finding": y}).to_csv(tmp_path / "labels.csv", index=False)
    np.savez(tmp_path / "v.npz", embeddings=images, ids=ids)
    keep = np.r_[0:2, 70:150]  # the reports of the anchors and of the pool
    np.savez(tmp_path / "t.npz", embeddings=text[keep], ids=ids[keep])
    np.savez(tmp_path / "prompts.npz", embeddings=3 * np.eye(5)[:3],
             ids=[f"a {c}" for c in classes])  # fmt: skip
    inline = ", ".join(f'"{c}" = ["a {c}"]' for c in classes)
    path = tmp_path / "exp.toml"
    path.write_text(
        '[datasets.anchors]\nlabels = "labels.csv"\nrows = [0, 2]\n'
        '[datasets.tests]\nlabels = "labels.csv"\nrows = [20, 70]\n'
        '[datasets.pool]\nlabels = "labels.csv"\nrows = [70, 150]\n'
        '[encoders.v]\nmodality = "image"\ndomain = "general"\n'
        'embeddings = { anchors = "v.npz", tests = "v.npz", pool = "v.npz" }\n'
        '[encoders.t]\nmodality = "text"\ndomain = "general"\n'
        'embeddings = { anchors = "t.npz", pool = "t.npz" }\n'
        '[zero_shot]\ntext_encoder = "t"\nanchors = "anchors"\nunpaired = "pool"\n'
        'transforms = ["ortho", "self-learning"]\n'
        'prompt_embeddings = "prompts.npz"\nn_repeats = 2\nnaive = false\n'
        f'[zero_shot.tasks.finding]\ndataset = "tests"\nprompts = {{ {inline} }}\n'
    )
    # 2 pairs: self-learning finds matches in the pool, which the guard cannot
    # check and refuses, saying so: the warning shows the pool reached it
    with pytest.warns(UserWarning, match="2 pairs are too few to check the"):
        run = run_experiment(path, tmp_path / "out", show_progress=False)
    report = run["zero_shot"]
    with pytest.warns(UserWarning, match="2 pairs are too few to check the"):
        expected = _zero_shot_with_pool(images, text, y, classes)
    pd.testing.assert_frame_equal(
        report.reset_index(drop=True), expected, check_dtype=False
    )
    # refused matches: the self-learning map is the pairs-only map
    accuracy = report[report["metric"] == "accuracy"].set_index("method")["mean"]
    assert accuracy["v (self-learning)"] == accuracy["v (ortho)"]


def _zero_shot_with_pool(images, text, y, classes):
    embedded = {c: [3 * np.eye(5)[i]] for i, c in enumerate(classes)}
    return zero_shot_report(
        {"v": images[20:70]},
        {"finding": (y[20:70].astype(object), embedded)},
        anchors={"v": with_unpaired(images[:2], text[:2], images[70:], text[70:])},
        transforms=["ortho", "self-learning"],
        naive=False,
        n_repeats=2,
    )
