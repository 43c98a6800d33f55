"""Second round on ``run_experiment``: sequences rather than single values.
Run, edit (transform specifications, the unpaired pool, prompts, hubness,
protocol values), rerun in the same output folder: no stale cell, table or
figure is served or left behind. Dry run then run, an interrupted run
resumed, two configurations into one folder, packaged configuration names,
the ``unpaired`` keys of the configuration."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from skalign.evaluation import ConfigError, _stitching, run_experiment
from tests.catalogue._evaluation_data import (
    embedding_file,
    run,
    stitching_config,
    with_changes,
    zero_shot_config,
)
from tests.catalogue._harness import Behaves, Case, Raises, Warns

SURFACE = "experiment"
CONFIG = "experiment config"

SL_SPEC = {"name": "sl", "transform_type": "ortho", "self_learning": {"n_iter": 2}}


def _pool_config(tmp, **protocol):
    """stitching_config with a 12-item unpaired pool data set 'pool' (ids p0..)
    embedded by both encoders, and the self-learning preset."""
    folder = tmp / "data"
    config = stitching_config(
        folder, **{"transforms": ["ortho", "self-learning"], **protocol}
    )
    path = folder / "pool.csv"
    pd.DataFrame({"id": [f"p{k}" for k in range(12)], "label": ["a", "b"] * 6}
                 ).to_csv(path, index=False)  # fmt: skip
    config["datasets"]["pool"] = {"labels": str(path)}
    for name, width, seed in (("e1", 6, 11), ("e2", 4, 12)):
        rng = np.random.default_rng(seed)
        pool = folder / f"{name}_pool.npz"
        np.savez(pool, embeddings=rng.normal(size=(12, width)),
                 ids=np.array([f"p{k}" for k in range(12)]))  # fmt: skip
        config["encoders"][name]["embeddings"]["pool"] = str(pool)
    config["stitching"]["t"]["unpaired"] = "pool"
    return config


def _rerun(make, edit):
    """Run ``make(tmp)``, apply ``edit(tmp, config)`` (returning the config),
    run again in the same folder and fresh elsewhere: (again, fresh)."""

    def call(tmp):
        config = make(tmp)
        run(config, tmp / "out")
        edited = edit(tmp, config) or config
        return run(edited, tmp / "out"), run(edited, tmp / "fresh")

    return call


def _same(pair):
    again, fresh = pair
    for key in fresh:
        if isinstance(fresh[key], pd.DataFrame) and key != "runs":
            pd.testing.assert_frame_equal(again[key], fresh[key])
    return True


def _stitch(tmp):
    return stitching_config(tmp / "data")


def _spec(tmp, **spec):
    return stitching_config(
        tmp / "data",
        transforms=["ortho", {"name": "x", "transform_type": "affine", **spec}],
    )


def _protocol_edit(**values):
    return lambda tmp, config: with_changes(config, "protocol", None, **values)


def _spec_edit(**spec):
    def edit(tmp, config):
        return with_changes(
            config, "protocol", None,
            transforms=["ortho", {"name": "x", "transform_type": "affine", **spec}],
        )  # fmt: skip

    return edit


def _sl_edit(**options):
    def edit(tmp, config):
        spec = {**SL_SPEC, "self_learning": {**SL_SPEC["self_learning"], **options}}
        return with_changes(config, "protocol", None, transforms=["ortho", spec])

    return edit


def _sl_config(tmp):
    return _pool_config(tmp, transforms=["ortho", SL_SPEC])


def _edit_pool_file(tmp, config):
    path = config["encoders"]["e1"]["embeddings"]["pool"]
    with np.load(path) as archive:
        X, ids = archive["embeddings"], archive["ids"]
    np.savez(path, embeddings=X[::-1] * 2.0 + 1.0, ids=ids)


def _second_pool(tmp, config):
    folder = tmp / "data"
    path = folder / "pool2.csv"
    pd.DataFrame({"id": [f"q{k}" for k in range(10)], "label": ["a", "b"] * 5}
                 ).to_csv(path, index=False)  # fmt: skip
    config["datasets"]["pool2"] = {"labels": str(path)}
    for name, width in (("e1", 6), ("e2", 4)):
        pool = folder / f"{name}_pool2.npz"
        np.savez(pool, embeddings=np.random.default_rng(5).normal(size=(10, width)),
                 ids=np.array([f"q{k}" for k in range(10)]))  # fmt: skip
        config["encoders"][name]["embeddings"]["pool2"] = str(pool)
    config["stitching"]["t"]["unpaired"] = "pool2"
    return config


def _zs(tmp):
    return zero_shot_config(tmp / "data")


def _edit_prompt_embeddings(tmp, config):
    path = config["zero_shot"]["prompt_embeddings"]
    np.savez(path, embeddings=np.random.default_rng(9).normal(size=(2, 4)),
             ids=np.array(["an a", "a b"]))  # fmt: skip


def _zs_edit(**values):
    return lambda tmp, config: with_changes(config, "zero_shot", None, **values)


def _both(tmp):
    """Stitching of e1/e2 and zero-shot of img into txt in one configuration."""
    config = zero_shot_config(tmp / "data")
    stitch = stitching_config(tmp / "data")
    config["protocol"] = stitch["protocol"]
    config["datasets"]["d"] = stitch["datasets"]["d"]
    config["encoders"].update(stitch["encoders"])
    config["stitching"] = stitch["stitching"]
    return config


def _left_behind(drop):
    """Run stitching and zero-shot into -o, then a configuration without the
    part ``drop``: the files written now and those left in -o."""

    def call(tmp):
        config = _both(tmp)
        run(config, tmp / "out")
        del config[drop]
        run(config, tmp / "out")
        return sorted(p.name for p in (tmp / "out").iterdir() if p.is_file())

    return call


def _no_zero_shot_outputs(names):
    assert not [n for n in names if n.startswith(("zero_shot", "fig4"))], names
    return True


def _no_stitching_outputs(names):
    assert not [n for n in names if n.startswith(("stitching", "fig3", "table1"))], (
        names
    )
    return True


def _report_lists_only_existing(tmp):
    names = _left_behind("zero_shot")(tmp)
    report = (tmp / "out" / "report.md").read_text()
    return names, report


def _report_consistent(result):
    names, report = result
    assert "Zero-shot" not in report, report
    for figure in [n for n in names if n.endswith(".png")]:
        assert figure in report or not figure.startswith("fig4"), figure
    return True


def _interrupted(tmp):
    """A run interrupted inside its third cell, then resumed: equals a fresh
    run."""
    config = _stitch(tmp)
    original = _stitching._score_stitched
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated interruption")
        return original(*args, **kwargs)

    _stitching._score_stitched = failing
    try:
        run(config, tmp / "out")
    except KeyboardInterrupt:
        pass
    finally:
        _stitching._score_stitched = original
    assert len(calls) == 3, calls
    return run(config, tmp / "out"), run(config, tmp / "fresh")


def _interrupted_error(tmp):
    """A cell that raises an error: the run fails, nothing is reported from
    it, and the rerun computes every missing cell."""
    config = _stitch(tmp)
    original = _stitching._score_stitched

    def failing(*args, **kwargs):
        raise RuntimeError("simulated failure")

    _stitching._score_stitched = failing
    try:
        run(config, tmp / "out")
    except RuntimeError:
        pass
    finally:
        _stitching._score_stitched = original
    assert not (tmp / "out" / "report.md").exists()
    return run(config, tmp / "out"), run(config, tmp / "fresh")


def _dry_then_run(tmp):
    config = _stitch(tmp)
    run(config, tmp / "out", dry_run=True)
    return run(config, tmp / "out"), run(config, tmp / "fresh")


def _dry_after_run(tmp):
    config = _stitch(tmp)
    first = run(config, tmp / "out")
    plan = run(config, tmp / "out", dry_run=True)["plan"]
    return first, plan


def _plan_counts_cached(result):
    first, plan = result
    text = plan.to_string()
    assert "cached" in text or "cache" in text, text
    return True


def _two_configs(tmp):
    a = _stitch(tmp)
    b = with_changes(a, "protocol", None, n_anchors=[6], random_state=3)
    run(a, tmp / "out")
    run(b, tmp / "out")
    return run(a, tmp / "out"), run(a, tmp / "fresh")


def _three_then_two(tmp):
    """Three encoders, then two, in one -o: the tables hold only the two."""
    config = _stitch(tmp)
    config["encoders"]["e3"] = {
        "modality": "text",
        "domain": "other",
        "embeddings": {"d": str(embedding_file(tmp / "data", "e3", 5, seed=3))},
    }
    run(config, tmp / "out")
    del config["encoders"]["e3"]
    run(config, tmp / "out")
    pairs = pd.read_csv(tmp / "out" / "stitching_pairs.csv")
    report = (tmp / "out" / "report.md").read_text()
    return pairs, report


def _only_two(result):
    pairs, report = result
    named = set(pairs.astype(str).to_numpy().ravel())
    assert "e3" not in named, pairs
    assert "other" not in report, report
    return True


def _packaged(name):
    return lambda tmp: run_experiment(name, tmp / "out", show_progress=False,
                                      dry_run=True)  # fmt: skip


def _stitching_unpaired(value):
    def make(tmp):
        config = _pool_config(tmp)
        config["stitching"]["t"]["unpaired"] = value
        return config

    return lambda tmp: run(make(tmp), tmp / "out")


def _pool_without_sl(tmp):
    config = _pool_config(tmp, transforms=["ortho"])
    return run(config, tmp / "out")


def _pool_shares_ids(tmp):
    """The pool data set is the task's labels file under another name."""
    config = _pool_config(tmp)
    config["datasets"]["pool"] = dict(config["datasets"]["d"])
    for name in ("e1", "e2"):
        config["encoders"][name]["embeddings"]["pool"] = config["encoders"][name][
            "embeddings"
        ]["d"]
    return run(config, tmp / "out")


def _pool_missing_encoder_file(tmp):
    config = _pool_config(tmp)
    del config["encoders"]["e2"]["embeddings"]["pool"]
    return run(config, tmp / "out")


def _zs_unpaired(value):
    def call(tmp):
        config = _zs(tmp)
        config["zero_shot"]["transforms"] = ["ortho", "self-learning"]
        config["zero_shot"]["unpaired"] = value
        return run(config, tmp / "out")

    return call


def _zs_with_pool_runs(tmp):
    """[zero_shot] unpaired: a pool of 10 other images and reports."""
    config = _zs(tmp)
    folder = tmp / "data"
    path = folder / "zpool.csv"
    ids = [f"z{k}" for k in range(10)]
    pd.DataFrame({"id": ids, "label": ["a", "b"] * 5}).to_csv(path, index=False)
    config["datasets"]["zpool"] = {"labels": str(path)}
    for name, width in (("img", 6), ("txt", 4)):
        pool = folder / f"{name}_zpool.npz"
        np.savez(pool, embeddings=np.random.default_rng(4).normal(size=(10, width)),
                 ids=np.array(ids))  # fmt: skip
        config["encoders"][name]["embeddings"]["zpool"] = str(pool)
    config["zero_shot"]["transforms"] = ["ortho", "self-learning"]
    config["zero_shot"]["unpaired"] = "zpool"
    return run(config, tmp / "out")["zero_shot"]


def _has_self_learning(report):
    methods = set(report["method"])
    assert any("self-learning" in m for m in methods), methods
    assert np.isfinite(report["mean"]).all(), report
    return True


def _transforms_config(transforms):
    def call(tmp):
        config = stitching_config(tmp / "data", transforms=transforms,
                                  change_transform="ortho")  # fmt: skip
        return run(config, tmp / "out")

    return call


NAMES = r"(skalign:demo|packaged)"

CASES = [
    Case(SURFACE, "rerun after editing a transform specification's alpha",
         _rerun(lambda t: _spec(t, alpha=0.1), _spec_edit(alpha=10.0)),
         Behaves(_same)),
    Case(SURFACE, "rerun after editing a specification's transform_type",
         _rerun(lambda t: _spec(t), _spec_edit(transform_type="linear")),
         Behaves(_same)),
    Case(SURFACE, "rerun after editing self_learning's parameters",
         _rerun(_sl_config, _sl_edit(n_iter=1)), Behaves(_same)),
    Case(SURFACE, "rerun after editing the unpaired pool's embedding file",
         _rerun(_pool_config, _edit_pool_file), Behaves(_same)),
    Case(SURFACE, "rerun with another unpaired data set",
         _rerun(_pool_config, _second_pool), Behaves(_same)),
    Case(SURFACE, "rerun after removing the unpaired pool",
         _rerun(_pool_config, lambda t, c: (c["stitching"]["t"].pop("unpaired"),
                                            c)[1]), Behaves(_same)),
    Case(SURFACE, "rerun with another n_test_per_class",
         _rerun(_stitch, _protocol_edit(n_test_per_class=5)), Behaves(_same)),
    Case(SURFACE, "rerun with another anchor_size",
         _rerun(_stitch, _protocol_edit(anchor_size=0.4)), Behaves(_same)),
    Case(SURFACE, "rerun with more repeats",
         _rerun(_stitch, _protocol_edit(n_repeats=2)), Behaves(_same)),
    Case(SURFACE, "rerun with another test_size",
         _rerun(_stitch, _protocol_edit(test_size=0.4)), Behaves(_same)),
    Case(SURFACE, "zero-shot rerun after editing the prompt embeddings",
         _rerun(_zs, _edit_prompt_embeddings), Behaves(_same)),
    Case(SURFACE, "zero-shot rerun with hubness csls",
         _rerun(_zs, _zs_edit(hubness="csls", hubness_neighbors=1)),
         Behaves(_same)),
    Case(SURFACE, "zero-shot rerun with another prompt_pooling",
         _rerun(_zs, _zs_edit(prompt_pooling="embedding")), Behaves(_same)),
    Case(SURFACE, "zero-shot rerun with another transform",
         _rerun(_zs, _zs_edit(transforms=["affine"])), Behaves(_same)),
    Case(SURFACE, "a run without zero-shot leaves no zero-shot table or figure",
         _left_behind("zero_shot"), Behaves(_no_zero_shot_outputs)),
    Case(SURFACE, "a run without stitching leaves no stitching table or figure",
         _left_behind("stitching"), Behaves(_no_stitching_outputs)),
    Case(SURFACE, "report.md after dropping zero-shot names no zero-shot",
         _report_lists_only_existing, Behaves(_report_consistent)),
    Case(SURFACE, "three encoders then two in one folder: tables hold two",
         _three_then_two, Behaves(_only_two)),
    Case(SURFACE, "a run interrupted in a cell resumes to a fresh run's result",
         _interrupted, Behaves(_same)),
    Case(SURFACE, "a run failing in every cell writes no report; the rerun is fresh",
         _interrupted_error, Behaves(_same)),
    Case(SURFACE, "a dry run then a run equals a fresh run",
         _dry_then_run, Behaves(_same)),
    Case(SURFACE, "a dry run after a run says what the cache holds",
         _dry_after_run, Behaves(_plan_counts_cached)),
    Case(SURFACE, "two configurations into one folder, then the first again",
         _two_configs, Behaves(_same)),
    Case(SURFACE, "a zero-shot unpaired pool runs self-learning",
         _zs_with_pool_runs, Behaves(_has_self_learning)),
    Case(SURFACE, "stitching unpaired pool sharing the task's items",
         _pool_shares_ids,
         Raises((ValueError, ConfigError), r"unpaired.*(share|item|id).*test")),
    Case(SURFACE, "stitching unpaired pool an encoder has no file for",
         _pool_missing_encoder_file,
         Raises((ValueError, ConfigError), r"e2.*pool.*(embeddings|extractor)")),
    Case(CONFIG, "packaged configuration skalign:nonexistent",
         _packaged("skalign:nonexistent"),
         Raises(ConfigError, r"skalign:nonexistent.*not a packaged.*skalign:demo")),
    Case(CONFIG, "packaged configuration skalign:../x",
         _packaged("skalign:../x"),
         Raises(ConfigError, r"skalign:\.\./x.*not a packaged.*skalign:demo")),
    Case(CONFIG, "packaged configuration skalign: (empty name)",
         _packaged("skalign:"),
         Raises(ConfigError, r"'skalign:'.*not a packaged.*skalign:demo")),
    Case(CONFIG, "packaged configuration with another case, SKALIGN:DEMO",
         _packaged("SKALIGN:DEMO"),
         Raises((ConfigError, FileNotFoundError), r"SKALIGN:DEMO.*(skalign:demo)")),
    Case(CONFIG, "stitching unpaired an undeclared data set",
         _stitching_unpaired("nope"),
         Raises(ConfigError, r"stitching\.t\.unpaired.*nope.*datasets")),
    Case(CONFIG, "stitching unpaired the task's own data set",
         _stitching_unpaired("d"),
         Raises(ConfigError, r"stitching\.t\.unpaired.*'d'.*test.*(Declare|another)")),
    Case(CONFIG, "stitching unpaired given as a list",
         _stitching_unpaired(["pool"]),
         Raises(ConfigError, r"stitching\.t\.unpaired.*(text|string|name)")),
    Case(CONFIG, "stitching unpaired without a self-learning transform",
         _pool_without_sl,
         Raises(ConfigError, r"stitching\.t\.unpaired.*self-learning.*(add|remove)")),
    Case(CONFIG, "zero_shot unpaired a task's data set",
         _zs_unpaired("test"),
         Raises(ConfigError, r"zero_shot\.unpaired.*'test'.*test")),
    Case(CONFIG, "zero_shot unpaired an undeclared data set",
         _zs_unpaired("nope"),
         Raises(ConfigError, r"zero_shot\.unpaired.*nope.*datasets")),
    Case(CONFIG, "zero_shot unpaired without a self-learning transform",
         lambda tmp: run({**_zs(tmp), "zero_shot": {**_zs(tmp)["zero_shot"],
                          "unpaired": "anchors"}}, tmp / "out"),
         Raises(ConfigError, r"zero_shot\.unpaired.*self-learning")),
    Case(CONFIG, "zero_shot hubness in capitals",
         lambda tmp: run(_zs_edit(hubness="CSLS")(tmp, _zs(tmp)), tmp / "out"),
         Raises(ConfigError, r"zero_shot\.hubness.*CSLS.*csls")),
    Case(CONFIG, "zero_shot hubness the string 'none'",
         lambda tmp: run(_zs_edit(hubness="none")(tmp, _zs(tmp)), tmp / "out"),
         Raises(ConfigError, r"zero_shot\.hubness.*none.*csls")),
    Case(CONFIG, "transforms: a specification named like a preset",
         _transforms_config(["ortho", {"name": "self-learning",
                                       "transform_type": "affine"}]),
         Raises((ConfigError, ValueError), r"self-learning.*(preset|twice|rename)")),
    Case(CONFIG, "transforms: two specifications named by case only",
         _transforms_config(["ortho", {"name": "X", "transform_type": "affine"},
                             {"name": "x", "transform_type": "linear"}]),
         Raises((ConfigError, ValueError), r"'X'.*'x'.*(case|distinct|rename)")),
    Case(CONFIG, "transforms: self_learning n_folds 1",
         _transforms_config(["ortho", {"name": "s", "transform_type": "ortho",
                                       "self_learning": {"n_folds": 1}}]),
         Raises((ConfigError, ValueError), r"n_folds.*(>=|2|range)")),
    Case(CONFIG, "transforms: a specification with an unknown key",
         _transforms_config(["ortho", {"name": "s", "transform_type": "ortho",
                                       "alpah": 1.0}]),
         Raises((ConfigError, ValueError), r"'s'.*unknown keys.*alpah.*alpha")),
    Case(CONFIG, "transforms: paper-affine as a specification with alpha",
         _transforms_config(["ortho", {"name": "pa", "transform_type": "affine",
                                       "solver": "adam", "alpha": 1.0}]),
         Raises((ConfigError, ValueError), r"'pa'.*alpha.*closed-form")),
]  # fmt: skip


# --- more sequences, and the command line ---------------------------------------


def _cli(*argv):
    """``skalign ARGV``: its stdout, or RuntimeError('exit N: stderr')."""
    import contextlib
    import io

    from skalign._cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exit_:
            status = exit_.code
    if status:
        raise RuntimeError(f"exit {status}: {err.getvalue()}")
    return out.getvalue()


def _toml(config):
    """``config`` (two levels of tables, plain values) as TOML text."""
    lines = []

    def value(v):
        if isinstance(v, dict):
            return "{" + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + "}"
        return json.dumps(v)

    for section, body in config.items():
        plain = {k: v for k, v in body.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in body.items() if isinstance(v, dict)}
        if plain or not tables:
            lines += [f"[{section}]", *(f"{k} = {value(v)}" for k, v in plain.items())]
        for name, table in tables.items():
            lines += [f'[{section}."{name}"]']
            lines += [f"{k} = {value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _cli_toml_edit(tmp):
    """Run a TOML with the CLI, edit its transforms, rerun into the same -o;
    then the edited TOML fresh: both stitching_curve.csv."""
    config = _stitch(tmp)
    path = tmp / "exp.toml"
    path.write_text(_toml(config))
    _cli("experiment", path, "-o", tmp / "out", "-q")
    config["protocol"]["transforms"] = ["affine"]
    config["protocol"]["change_transform"] = "affine"
    path.write_text(_toml(config))
    _cli("experiment", path, "-o", tmp / "out", "-q")
    _cli("experiment", path, "-o", tmp / "fresh", "-q")
    return [pd.read_csv(tmp / f / "stitching_curve.csv") for f in ("out", "fresh")]


def _same_csv(frames):
    again, fresh = frames
    pd.testing.assert_frame_equal(again, fresh)
    assert "ortho" not in set(again["transform"]), set(again["transform"])
    return True


def _cli_dry_after_run(tmp):
    config = _stitch(tmp)
    path = tmp / "exp.toml"
    path.write_text(_toml(config))
    _cli("experiment", path, "-o", tmp / "out", "-q")
    before = {p.name: p.read_bytes() for p in (tmp / "out").iterdir() if p.is_file()}
    config["protocol"]["transforms"] = ["affine"]
    config["protocol"]["change_transform"] = "affine"
    path.write_text(_toml(config))
    _cli("experiment", path, "-o", tmp / "out", "--dry-run")
    after = {p.name: p.read_bytes() for p in (tmp / "out").iterdir() if p.is_file()}
    return before, after


def _unchanged(pair):
    before, after = pair
    assert before == after, sorted(set(before) ^ set(after))
    return True


def _own_files_kept(tmp):
    config = _stitch(tmp)
    (tmp / "out").mkdir()
    (tmp / "out" / "notes.csv").write_text("mine\n")
    (tmp / "out" / "fig5_extra.png").write_bytes(b"png")
    run(config, tmp / "out")
    return sorted(p.name for p in (tmp / "out").iterdir())


def _kept(names):
    assert "notes.csv" in names and "fig5_extra.png" in names, names
    return True


def _prompts_json(tmp):
    config = _zs(tmp)
    path = tmp / "data" / "prompts.json"
    path.write_text(json.dumps({"a": ["an a"], "b": ["a b"]}))
    config["zero_shot"]["tasks"]["t"]["prompts"] = str(path)
    return config


def _swap_prompts(tmp, config):
    Path(config["zero_shot"]["tasks"]["t"]["prompts"]).write_text(
        json.dumps({"a": ["a b"], "b": ["an a"]})
    )


def _anchor_rows(tmp, config):
    return with_changes(config, "datasets", "anchors", rows=[0, 30])


def _pool_labels_edit(tmp, config):
    path = Path(config["datasets"]["pool"]["labels"])
    frame = pd.read_csv(path)
    frame.iloc[:6].to_csv(path, index=False)


def _shared_cache(tmp):
    """Two configurations, two output folders, one cache_dir."""
    a = _stitch(tmp)
    b = with_changes(a, "protocol", None, transforms=["affine"],
                     change_transform="affine")  # fmt: skip
    run(a, tmp / "out_a", cache_dir=tmp / "cache")
    run(b, tmp / "out_b", cache_dir=tmp / "cache")
    return run(b, tmp / "out_b", cache_dir=tmp / "cache"), run(b, tmp / "fresh")


def _one_row_pool(tmp):
    config = _pool_config(tmp)
    path = Path(config["datasets"]["pool"]["labels"])
    pd.read_csv(path).iloc[:1].to_csv(path, index=False)
    return run(config, tmp / "out")["curve"]


def _pool_classes_none(tmp):
    config = _pool_config(tmp)
    config["datasets"]["pool"]["classes"] = ["zzz"]
    return run(config, tmp / "out")


CASES += [
    Case("cli", "experiment skalign:../x",
         lambda tmp: _cli("experiment", "skalign:../x", "-o", tmp / "out"),
         Raises(RuntimeError, r"exit [12]:.*skalign:\.\./x.*packaged.*skalign:demo")),
    Case("cli", "experiment skalign:nonexistent",
         lambda tmp: _cli("experiment", "skalign:nonexistent", "-o", tmp / "out"),
         Raises(RuntimeError, r"exit [12]:.*skalign:nonexistent.*skalign:demo")),
    Case("cli", "experiment: edit the TOML's transforms and rerun into the same -o",
         _cli_toml_edit, Behaves(_same_csv)),
    Case("cli", "experiment: a dry run of an edited TOML leaves -o unchanged",
         _cli_dry_after_run, Behaves(_unchanged)),
    Case("outputs", "a user's own files in -o are kept",
         _own_files_kept, Behaves(_kept)),
    Case(SURFACE, "zero-shot rerun after swapping the prompts file's classes",
         _rerun(_prompts_json, _swap_prompts), Behaves(_same)),
    Case(SURFACE, "zero-shot rerun with other anchor rows",
         _rerun(_zs, _anchor_rows), Behaves(_same)),
    Case(SURFACE, "zero-shot rerun with anchor_repeats and anchor_size",
         _rerun(_zs, _zs_edit(anchor_repeats=2, anchor_size=10)), Behaves(_same)),
    Case(SURFACE, "rerun after dropping rows of the pool's labels CSV",
         _rerun(_pool_config, _pool_labels_edit), Behaves(_same)),
    Case("evaluation cache", "two configurations share one cache_dir",
         _shared_cache, Behaves(_same)),
    Case(SURFACE, "an unpaired pool of one item",
         _one_row_pool, Behaves(lambda c: np.isfinite(c["mean"]).all())),
    Case(SURFACE, "an unpaired pool whose classes match no label",
         _pool_classes_none,
         Raises((ValueError, ConfigError), r"pool.*zzz.*(classes|label)")),
]  # fmt: skip


def _zs_pool_is(dataset_rows=None, same_name=False):
    """[zero_shot] unpaired: the anchors themselves, or a data set of rows of
    the anchors' file; the tested rows 30..39 only."""

    def call(tmp):
        config = _zs(tmp)
        config["datasets"]["test"]["rows"] = [30, 40]
        config["zero_shot"]["transforms"] = ["ortho", "self-learning"]
        if same_name:
            config["zero_shot"]["unpaired"] = "anchors"
        else:
            labels = config["datasets"]["anchors"]["labels"]
            config["datasets"]["zpool"] = {"labels": labels, "rows": dataset_rows}
            for name in ("img", "txt"):
                config["encoders"][name]["embeddings"]["zpool"] = config["encoders"][
                    "img" if name == "img" else "txt"
                ]["embeddings"]["anchors"]
            config["zero_shot"]["unpaired"] = "zpool"
        return run(config, tmp / "out")["zero_shot"]

    return call


CASES += [
    Case(CONFIG, "zero_shot unpaired is the anchors data set",
         _zs_pool_is(same_name=True),
         Raises(ConfigError, r"zero_shot\.unpaired.*'anchors'.*already paired"
                r".*Declare")),
    Case(SURFACE, "zero-shot pool overlapping the anchor rows",
         _zs_pool_is(dataset_rows=[10, 30]),
         Raises(ValueError, r"zero_shot\.unpaired.*shares 10 items.*'anchors'"
                r".*anchor.*other items")),
    Case(SURFACE, "zero-shot pool of rows apart from anchors and tests runs",
         _zs_pool_is(dataset_rows=[20, 30]), Behaves(_has_self_learning)),
]  # fmt: skip


def _pool_rows(tmp, config):
    return with_changes(config, "datasets", "pool", rows=[2, 10])


def _domain(tmp, config):
    return with_changes(config, "encoders", "e2", domain="medical")


CASES += [
    Case(SURFACE, "rerun with rows on the unpaired pool's data set",
         _rerun(_pool_config, _pool_rows), Behaves(_same)),
    Case(SURFACE, "rerun after changing an encoder's domain",
         _rerun(_stitch, _domain), Behaves(_same)),
]  # fmt: skip


def _zs_self_learning_without_pool(tmp):
    config = _zs(tmp)
    config["zero_shot"]["transforms"] = ["ortho", "self-learning"]
    return run(config, tmp / "out")


def _stitch_self_learning_without_pool(tmp):
    config = stitching_config(tmp / "data", transforms=["ortho", "self-learning"])
    return run(config, tmp / "out")


CASES += [
    Case(SURFACE, "zero-shot self-learning without zero_shot.unpaired warns",
         _zs_self_learning_without_pool,
         Warns(UserWarning, r"self-learning.*no unpaired row.*zero_shot\.unpaired")),
    Case(SURFACE, "stitching self-learning without an unpaired pool warns",
         _stitch_self_learning_without_pool,
         Warns(UserWarning, r"self-learning.*none is given.*unpaired")),
]  # fmt: skip


def _formula_transform(tmp):
    """Refused when the configuration is read: nothing is computed."""
    config = stitching_config(
        tmp / "data",
        transforms=["ortho", {"name": '=HYPERLINK("http://x")',
                              "transform_type": "affine"}],
    )  # fmt: skip
    try:
        run(config, tmp / "out")
    finally:
        assert not (tmp / "out" / "cache").exists(), "cells were computed"


CASES += [
    Case(CONFIG, "a transform named like a spreadsheet formula",
         _formula_transform,
         Raises(ConfigError, r"protocol\.transforms.*HYPERLINK.*formula.*Rename")),
]  # fmt: skip
