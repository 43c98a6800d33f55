"""Second round on the protocol functions: the ``unpaired=`` pools of
``anchor_curve`` / ``stitching_report`` / ``stitching_table`` / the pooled
functions (shapes, containers, NaN, tensors, data frames, pools for unknown
encoders), transform specifications at their edges, labels as pandas objects
(non-default indexes, Categorical, NaN), ``anchors_from="train"`` with tiny
classes."""

import numpy as np
import pandas as pd

from skalign.evaluation import (
    anchor_curve,
    pooled_anchor_curve,
    stitching_report,
    stitching_table,
)
from tests.catalogue._harness import Behaves, Case, Raises, Warns

SURFACE = "protocol arguments"
RNG = np.random.default_rng(3)
Y = np.array(["a", "b"] * 20)
LATENT = RNG.normal(size=(40, 5)) + 3.0 * (Y == "a")[:, None]
A, B = RNG.normal(size=(5, 6)), RNG.normal(size=(5, 4))
SOURCE, TARGET = LATENT @ A, LATENT @ B
POOL_LATENT = RNG.normal(size=(12, 5))
POOL = (POOL_LATENT @ A, POOL_LATENT @ B)
SL = {"transforms": ["self-learning"], "n_repeats": 1, "n_anchors": [6]}


def _curve(source=SOURCE, target=TARGET, y=Y, **options):
    return lambda tmp: anchor_curve(source, target, y, **{**SL, **options})


def _same_as(reference_options, **compare):
    """The result equals anchor_curve with ``reference_options`` (arrays)."""

    def check(result):
        reference = anchor_curve(SOURCE, TARGET, Y, **{**SL, **reference_options})
        pd.testing.assert_frame_equal(result, reference)
        return True

    return check


def _torch_pool(tmp):
    import torch

    pools = tuple(torch.as_tensor(p) for p in POOL)
    return anchor_curve(SOURCE, TARGET, Y, unpaired=pools, **SL)


def _frame_pool(tmp):
    pools = tuple(pd.DataFrame(p, index=np.arange(100, 112)) for p in POOL)
    return anchor_curve(SOURCE, TARGET, Y, unpaired=pools, **SL)


def _with(array, row, value):
    copy = np.array(array, dtype=float)
    copy[row] = value
    return copy


def _series_index(tmp):
    """Labels as a Series with a shuffled non-default index: the order of
    the values counts, not the index."""
    y = pd.Series(Y, index=RNG.permutation(np.arange(1000, 1040)))
    return anchor_curve(SOURCE, TARGET, y, **{**SL, "transforms": ["ortho"]})


def _frames_index(tmp):
    """Embeddings as DataFrames with a non-default index."""
    index = np.arange(40)[::-1]
    return anchor_curve(
        pd.DataFrame(SOURCE, index=index),
        pd.DataFrame(TARGET, index=index),
        Y,
        **{**SL, "transforms": ["ortho"]},
    )


def _same_as_plain(result):
    reference = anchor_curve(SOURCE, TARGET, Y, **{**SL, "transforms": ["ortho"]})
    pd.testing.assert_frame_equal(result, reference)
    return True


def _table(unpaired, **options):
    return lambda tmp: stitching_table(
        {"e1": SOURCE, "e2": TARGET},
        Y,
        **{
            "n_anchors": 6,
            "n_repeats": 1,
            "transforms": ["ortho", "self-learning"],
            "change_transform": "ortho",
            "unpaired": unpaired,
            **options,
        },
    )


def _pooled(unpaired):
    return lambda tmp: pooled_anchor_curve(
        {"t": ({"e1": SOURCE, "e2": TARGET}, Y)},
        unpaired=unpaired,
        **SL,
    )


def _spec(*transforms, **options):
    return _curve(**{"transforms": list(transforms), **options})


def _tiny_train_classes(tmp):
    y = np.array(["a"] * 37 + ["b"] * 3)
    return anchor_curve(
        SOURCE, TARGET, y, anchors_from="train", n_anchors=[4], n_repeats=1,
        transforms=["ortho"], n_test_per_class=1,
    )  # fmt: skip


def _report_pool_list(tmp):
    return stitching_report(
        SOURCE, TARGET, Y, n_anchors=6, unpaired=list(POOL),
        transforms=["self-learning"], n_repeats=1,
    )  # fmt: skip


def _same_report(result):
    reference = stitching_report(
        SOURCE, TARGET, Y, n_anchors=6, unpaired=POOL,
        transforms=["self-learning"], n_repeats=1,
    )  # fmt: skip
    pd.testing.assert_frame_equal(result, reference)
    return True


P, F = "unpaired", r"(give|pass|drop|remove|embed|add|use|replace|one of|e\.g\.)"

CASES = [
    Case(SURFACE, "anchor_curve: unpaired a list of two pools is the tuple",
         _curve(unpaired=list(POOL)), Behaves(_same_as({"unpaired": POOL}))),
    Case(SURFACE, "anchor_curve: unpaired of three pools",
         _curve(unpaired=(*POOL, POOL[0])),
         Raises(ValueError, r"unpaired.*pair.*source_pool.*target_pool")),
    Case(SURFACE, "anchor_curve: unpaired a bare array",
         _curve(unpaired=POOL[0]),
         Raises((TypeError, ValueError), r"unpaired.*(tuple|pair).*source")),
    Case(SURFACE, "anchor_curve: unpaired with the target pool None",
         _curve(unpaired=(POOL[0], None)),
         Raises((TypeError, ValueError), r"unpaired.*target.*(None|array|pool)")),
    Case(SURFACE, "anchor_curve: unpaired pools of 0 rows",
         _curve(unpaired=(POOL[0][:0], POOL[1][:0])),
         Raises(ValueError, r"unpaired.*(0|no|empty) (rows|samples|sample).*"
                f"{F}")),
    Case(SURFACE, "anchor_curve: a NaN in the source pool",
         _curve(unpaired=(_with(POOL[0], (2, 1), np.nan), POOL[1])),
         Raises(ValueError, r"unpaired.*NaN.*" + F)),
    Case(SURFACE, "anchor_curve: an infinite value in the target pool",
         _curve(unpaired=(POOL[0], _with(POOL[1], (0, 0), np.inf)))
         , Raises(ValueError, r"unpaired.*(inf|finite)")),
    Case(SURFACE, "anchor_curve: pools of the wrong widths (swapped)",
         _curve(unpaired=POOL[::-1]),
         Raises(ValueError, r"unpaired pool.*features.*embed the pool")),
    Case(SURFACE, "anchor_curve: torch tensor pools give the arrays' result",
         _torch_pool, Behaves(_same_as({"unpaired": POOL}))),
    Case(SURFACE, "anchor_curve: DataFrame pools give the arrays' result",
         _frame_pool, Behaves(_same_as({"unpaired": POOL}))),
    Case(SURFACE, "anchor_curve: a pool row equal to a test row",
         _curve(unpaired=(np.vstack([POOL[0], SOURCE]),
                          np.vstack([POOL[1], TARGET]))),
         Raises(ValueError, r"pool.*test row.*(drop|np\.delete)")),
    Case(SURFACE, "anchor_curve: a pool with no transform that learns from it",
         _curve(unpaired=POOL, transforms=["ortho"]),
         Raises(ValueError, r"unpaired.*no transform.*self-learning")),
    Case(SURFACE, "anchor_curve: self-learning without a pool warns",
         _curve(), Warns(UserWarning, r"self-learning.*unpaired pool")),
    Case(SURFACE, "anchor_curve: a 1-D pool",
         _curve(unpaired=(POOL[0][0], POOL[1][0])),
         Raises(ValueError, r"unpaired.*(2D|2-D|two-dimensional|reshape)")),
    Case(SURFACE, "anchor_curve: pools of complex numbers",
         _curve(unpaired=(POOL[0] + 1j, POOL[1])),
         Raises((TypeError, ValueError), r"unpaired.*complex")),
    Case(SURFACE, "anchor_curve: self_learning n_folds 1 in a specification",
         _spec({"name": "sl", "transform_type": "ortho",
                "self_learning": {"n_folds": 1}}, unpaired=POOL),
         Raises(ValueError, r"transforms\['sl'\].*n_folds")),
    Case(SURFACE, "anchor_curve: self_learning with an unknown key",
         _spec({"name": "sl", "transform_type": "ortho",
                "self_learning": {"n_iters": 3}}, unpaired=POOL),
         Raises(ValueError, r"transforms\['sl'\].*unknown keys.*n_iters.*n_iter")),
    Case(SURFACE, "anchor_curve: self_learning given as a string",
         _spec({"name": "sl", "transform_type": "ortho", "self_learning": "yes"},
               unpaired=POOL),
         Raises(TypeError, r"self_learning.*'yes'.*true, false or a dict")),
    Case(SURFACE, "anchor_curve: a specification named like a preset",
         _spec({"name": "paper-affine", "transform_type": "ortho"}, "paper-affine"),
         Raises(ValueError, r"paper-affine.*twice.*distinct name")),
    Case(SURFACE, "anchor_curve: a specification with an extra key",
         _spec({"name": "x", "transform_type": "ortho", "colour": "red"}),
         Raises(ValueError, r"transforms\['x'\].*unknown keys.*colour")),
    Case(SURFACE, "anchor_curve: a transform name differing by case",
         _spec("ortho", "Ortho"),
         Raises(ValueError, r"Ortho.*(ortho|known|Unknown)")),
    Case(SURFACE, "anchor_curve: paper-affine as a specification with alpha",
         _spec({"name": "pa", "transform_type": "affine", "solver": "adam",
                "alpha": 0.5}),
         Raises(ValueError, r"transforms\['pa'\].*alpha.*closed-form")),
    Case(SURFACE, "anchor_curve: a specification named by an empty string",
         _spec({"name": "", "transform_type": "ortho"}),
         Raises(ValueError, r"no name.*non-empty string")),
    Case(SURFACE, "anchor_curve: a specification whose name is reserved",
         _spec({"name": "naive", "transform_type": "ortho"}),
         Raises(ValueError, r"reserved names.*naive.*Rename")),
    Case(SURFACE, "anchor_curve: labels a Series with a shuffled index",
         _series_index, Behaves(_same_as_plain)),
    Case(SURFACE, "anchor_curve: embeddings as DataFrames with a reversed index",
         _frames_index, Behaves(_same_as_plain)),
    Case(SURFACE, "anchor_curve: labels a pandas Categorical",
         _curve(y=pd.Categorical(Y), transforms=["ortho"]),
         Behaves(_same_as_plain)),
    Case(SURFACE, "anchor_curve: labels a Series holding NaN",
         _curve(y=pd.Series(Y).where(np.arange(40) != 5), transforms=["ortho"]),
         Raises(ValueError, r"(label|y).*(NaN|missing).*(drop|remove)")),
    Case(SURFACE, "anchor_curve: labels a Categorical with an unused category",
         _curve(y=pd.Categorical(Y, categories=["a", "b", "c"]),
                transforms=["ortho"]),
         Behaves(_same_as_plain)),
    Case(SURFACE, "anchor_curve: anchors_from train with a class of 3 rows",
         _tiny_train_classes,
         Behaves(lambda r: np.isfinite(r["mean"]).all() and len(r) > 0)),
    Case(SURFACE, "stitching_report: unpaired as a list gives the tuple's report",
         _report_pool_list, Behaves(_same_report)),
    Case(SURFACE, "stitching_table: a pool for an encoder the table lacks",
         _table({"e1": POOL[0], "e2": POOL[1], "e3": POOL[0]}),
         Raises(ValueError, r"e3.*(pool|unpaired)")),
    Case(SURFACE, "stitching_table: a pool for one encoder only",
         _table({"e1": POOL[0]}),
         Raises(ValueError, r"no pool for.*e2")),
    Case(SURFACE, "stitching_table: unpaired a tuple instead of a mapping",
         _table(POOL),
         Raises((TypeError, ValueError), r"unpaired.*map.*encoder.*dict")),
    Case(SURFACE, "pooled_anchor_curve: a pool for a task that does not exist",
         _pooled({"t2": {"e1": POOL[0], "e2": POOL[1]}}),
         Raises(ValueError, r"unpaired.*t2.*(task|tasks)")),
    Case(SURFACE, "pooled_anchor_curve: a task's pool a tuple, not a mapping",
         _pooled({"t": POOL}),
         Raises((TypeError, ValueError), r"unpaired.*'t'.*(mapping|dict)")),
]  # fmt: skip


# --- zero_shot_report: hubness and the NaN-marked pool ---------------------------

ZS_LABELS = np.array(["a", "b"] * 20, dtype=object)
ZS_LATENT = RNG.normal(size=(60, 5))
ZS_IMAGES = ZS_LATENT[:40] @ A
ZS_PAIRS = (ZS_LATENT[40:] @ A, ZS_LATENT[40:] @ B)
ZS_PROMPTS = {"a": RNG.normal(size=(2, 4)), "b": RNG.normal(size=(2, 4))}
ZS_POOL_LATENT = RNG.normal(size=(10, 5))


def _nan_pool(image_rows=True, report_rows=True, partial=False):
    """The 20 pairs, then 10 unpaired images (report side NaN), then 10
    unpaired reports (image side NaN)."""
    X, Y = ZS_PAIRS
    Xp, Yp = ZS_POOL_LATENT @ A, ZS_POOL_LATENT @ B
    parts_x, parts_y = [X], [Y]
    if image_rows:
        parts_x.append(Xp)
        parts_y.append(np.full((10, 4), np.nan))
    if report_rows:
        parts_x.append(np.full((10, 6), np.nan))
        parts_y.append(Yp)
    Xa, Ya = np.vstack(parts_x), np.vstack(parts_y)
    if partial:
        Xa[3, 0] = np.nan
    return Xa, Ya


def _zs(anchors=None, transforms=("ortho",), **options):
    from skalign.evaluation import zero_shot_report

    anchors = {"img": ZS_PAIRS} if anchors is None else anchors
    return lambda tmp: zero_shot_report(
        {"img": ZS_IMAGES}, {"t": (ZS_LABELS, ZS_PROMPTS)}, anchors=anchors,
        transforms=list(transforms), **options,
    )  # fmt: skip


def _pool_changes_self_learning_only(report):
    from skalign.evaluation import zero_shot_report

    plain = zero_shot_report(
        {"img": ZS_IMAGES}, {"t": (ZS_LABELS, ZS_PROMPTS)},
        anchors={"img": ZS_PAIRS}, transforms=["ortho", "self-learning"],
    )  # fmt: skip
    keep = report["method"] != "img (self-learning)"
    pd.testing.assert_frame_equal(
        report[keep].reset_index(drop=True), plain[keep].reset_index(drop=True)
    )
    return True


def _csls_one_neighbour_differs(report):
    assert np.isfinite(report["mean"]).all(), report
    return True


CASES += [
    Case(SURFACE, "zero_shot_report: hubness 'CSLS' in capitals",
         _zs(hubness="CSLS"),
         Raises(ValueError, r"hubness.*(csls|None)")),
    Case(SURFACE, "zero_shot_report: hubness True",
         _zs(hubness=True), Raises((TypeError, ValueError), r"hubness.*csls")),
    Case(SURFACE, "zero_shot_report: hubness_neighbors 0",
         _zs(hubness="csls", hubness_neighbors=0),
         Raises(ValueError, r"hubness_neighbors.*(>= 1|range|1)")),
    Case(SURFACE, "zero_shot_report: hubness_neighbors above the images",
         _zs(hubness="csls", hubness_neighbors=500),
         Behaves(_csls_one_neighbour_differs)),
    Case(SURFACE, "zero_shot_report: a NaN-marked pool changes only self-learning",
         _zs(anchors={"img": _nan_pool()}, transforms=["ortho", "self-learning"]),
         Behaves(_pool_changes_self_learning_only)),
    Case(SURFACE, "zero_shot_report: a pool row partly NaN",
         _zs(anchors={"img": _nan_pool(partial=True)},
             transforms=["ortho", "self-learning"]),
         Raises(ValueError, r"(partly|some).*NaN.*row")),
    Case(SURFACE, "zero_shot_report: a pool of unpaired images only",
         _zs(anchors={"img": _nan_pool(report_rows=False)},
             transforms=["ortho", "self-learning"]),
         Behaves(lambda r: np.isfinite(r["mean"]).all())),
    Case(SURFACE, "zero_shot_report: a NaN-marked pool with csls hubness",
         _zs(anchors={"img": _nan_pool()}, transforms=["ortho", "self-learning"],
             hubness="csls", hubness_neighbors=3),
         Behaves(lambda r: np.isfinite(r["mean"]).all()
                 and "img (self-learning)" in set(r["method"]))),
]  # fmt: skip


# --- pandas indexes: rows pair by position ---------------------------------------

IDS = np.array([f"i{k}" for k in range(40)])
SHUFFLE = np.random.default_rng(8).permutation(40)


def _frames(order_target=None, y_index=None):
    source = pd.DataFrame(SOURCE, index=IDS)
    target = pd.DataFrame(TARGET, index=IDS)
    if order_target is not None:
        target = target.iloc[order_target]
    y = pd.Series(Y, index=IDS if y_index is None else y_index)
    return lambda tmp: anchor_curve(source, target, y,
                                    **{**SL, "transforms": ["ortho"]})  # fmt: skip


CASES += [
    Case(SURFACE, "anchor_curve: target DataFrame of the same ids, rows shuffled",
         _frames(order_target=SHUFFLE),
         Raises(ValueError, r"embeddings\['target'\].*same index.*another order"
                r".*(loc|Reorder)")),
    Case(SURFACE, "anchor_curve: labels Series indexed by the ids, shuffled",
         _frames(y_index=IDS[SHUFFLE]),
         Raises(ValueError, r"y.*same index.*another order.*(loc|Reorder)")),
    Case(SURFACE, "anchor_curve: DataFrames and Series sharing one id index",
         _frames(), Behaves(_same_as_plain)),
]  # fmt: skip


def _pairs_only_equal(report):
    from skalign.evaluation import zero_shot_report

    plain = zero_shot_report(
        {"img": ZS_IMAGES}, {"t": (ZS_LABELS, ZS_PROMPTS)},
        anchors={"img": ZS_PAIRS}, transforms=["ortho", "affine"],
    )  # fmt: skip
    pd.testing.assert_frame_equal(report, plain)
    return True


def _nan_both_sides():
    X, Y = _nan_pool()
    X, Y = X.copy(), Y.copy()
    X[25], Y[25] = np.nan, np.nan
    return X, Y


CASES += [
    Case(SURFACE, "zero_shot_report: a NaN-marked pool and pairs-only maps only",
         _zs(anchors={"img": _nan_pool()}, transforms=["ortho", "affine"]),
         Behaves(_pairs_only_equal)),
    Case(SURFACE, "zero_shot_report: an anchor row NaN on both sides",
         _zs(anchors={"img": _nan_both_sides()},
             transforms=["ortho", "self-learning"]),
         Raises(ValueError, r"NaN on both sides|both.*NaN")),
    Case(SURFACE, "stitching_table: pools keyed by integer encoder names",
         lambda tmp: stitching_table(
             {1: SOURCE, 2: TARGET}, Y, n_anchors=6, n_repeats=1,
             transforms=["ortho", "self-learning"], change_transform="ortho",
             unpaired={1: POOL[0], 2: POOL[1]}),
         Behaves(lambda t: np.isfinite(t.select_dtypes("number")).all().all())),
]  # fmt: skip


_INT_NA = pd.array(np.where(np.arange(40) == 3, None, np.where(Y == "a", 0, 1)),
                   dtype="Int64")  # fmt: skip

CASES += [
    Case(SURFACE, "anchor_curve: nullable Int64 labels holding pd.NA",
         _curve(y=_INT_NA, transforms=["ortho"]),
         Raises(ValueError, r"y has 1 missing.*row 3.*drop those rows")),
    Case(SURFACE, "anchor_curve: float labels holding NaN",
         _curve(y=np.where(np.arange(40) == 7, np.nan, (Y == "a").astype(float)),
                transforms=["ortho"]),
         Raises(ValueError, r"y has 1 missing.*row 7.*drop those rows")),
    Case(SURFACE, "anchor_curve: a Categorical label holding NaN",
         _curve(y=pd.Categorical(np.where(np.arange(40) == 3, None, Y)),
                transforms=["ortho"]),
         Raises(ValueError, r"y has 1 missing.*row 3.*drop those rows")),
    Case(SURFACE, "anchor_curve: a transform mapping naming 'ortho' an affine map",
         _curve(transforms={"ortho": "affine"}),
         Raises(ValueError, r"'ortho'.*read as that method.*Rename")),
]  # fmt: skip


def _own_self_learner(tmp):
    from skalign import LatentAligner, SelfLearningAligner

    mine = SelfLearningAligner(LatentAligner("ortho"))
    return anchor_curve(SOURCE, TARGET, Y, n_anchors=[6], n_repeats=1,
                        transforms={"self-learning": mine}, unpaired=POOL)  # fmt: skip


def _template(tmp):
    from skalign import SelfLearningAligner

    return anchor_curve(SOURCE, TARGET, Y, n_anchors=[6], n_repeats=1,
                        transforms=["ortho"], aligner=SelfLearningAligner(),
                        unpaired=POOL)  # fmt: skip


CASES += [
    Case(SURFACE, "anchor_curve: a SelfLearningAligner estimator takes the pool",
         _own_self_learner, Behaves(_same_as({"unpaired": POOL}))),
    Case(SURFACE, "anchor_curve: aligner template a SelfLearningAligner",
         _template,
         Raises(ValueError, r"SelfLearningAligner has no transform_type.*mapping")),
    Case(SURFACE, "pooled_anchor_curve: a NaN in one task's pool",
         _pooled({"t": {"e1": _with(POOL[0], (0, 0), np.nan), "e2": POOL[1]}}),
         Raises(ValueError, r"unpaired pool of 'e1'.*NaN.*Drop the rows")),
]  # fmt: skip


CASES += [
    Case(SURFACE, "zero_shot_report: self-learning with anchors of pairs only warns",
         _zs(transforms=["ortho", "self-learning"]),
         Warns(UserWarning, r"self-learning.*no unpaired row.*pairs alone"
               r".*(NaN-marked|zero_shot\.unpaired)")),
]  # fmt: skip
