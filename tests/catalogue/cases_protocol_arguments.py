"""Arguments of the protocol functions (``anchor_curve``, ``stitching_report``,
``stitching_table``, ``pooled_*``, ``balanced_subset``, ``Protocol``): types,
ranges, labels with one class, NaN or mixed types, mismatched encoders."""

import importlib.util

import numpy as np
from sklearn.linear_model import LinearRegression

from skalign.evaluation import (
    Protocol,
    anchor_curve,
    balanced_subset,
    pooled_anchor_curve,
    stitching_report,
    stitching_table,
    zero_shot_report,
)
from tests.catalogue._harness import Behaves, Case, Raises

SURFACE = "protocol arguments"
RNG = np.random.default_rng(0)
Y = np.array(["a", "b"] * 20)
LATENT = RNG.normal(size=(40, 5)) + 3.0 * (Y == "a")[:, None]
SOURCE = LATENT @ RNG.normal(size=(5, 6))
TARGET = LATENT @ RNG.normal(size=(5, 4))
FAST = {"transforms": ["ortho"], "n_repeats": 1}


def _curve(source=SOURCE, target=TARGET, y=Y, **options):
    return lambda tmp: anchor_curve(
        source, target, y, **{"n_anchors": [4], **FAST, **options}
    )


def _table(embeddings=None, y=Y, **options):
    embeddings = {"e1": SOURCE, "e2": TARGET} if embeddings is None else embeddings
    return lambda tmp: stitching_table(
        embeddings, y, **{"n_anchors": 4, **FAST, **options}
    )


def _pooled(tasks, **options):
    return lambda tmp: pooled_anchor_curve(
        tasks, **{"n_anchors": [4], **FAST, **options}
    )


def _with(array, row, value, dtype=None):
    copy = np.array(array, dtype=dtype or np.asarray(array).dtype)
    copy[row] = value
    return copy


def _same_as_int(result):
    """np.int64 counts give the result of Python ints."""
    reference = anchor_curve(SOURCE, TARGET, Y, n_anchors=[4], **FAST)
    np.testing.assert_allclose(result["mean"], reference["mean"])
    return True


def _written_cache(tmp):
    (tmp / "cache").write_text("a file")
    return anchor_curve(SOURCE, TARGET, Y, n_anchors=[4], cache_dir=tmp / "cache",
                        **FAST)  # fmt: skip


CASES = [
    Case(
        SURFACE,
        "anchor_curve: n_anchors a string",
        _curve(n_anchors="10"),
        Raises(ValueError, r"n_anchors.*(int|list|array).*'10'"),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_anchors an empty list",
        _curve(n_anchors=[]),
        Raises(ValueError, r"n_anchors.*non-empty list"),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_anchors of 1",
        _curve(n_anchors=[1]),
        Raises(ValueError, r"n_anchors.*at least 2"),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_anchors beyond the pool",
        _curve(n_anchors=[500]),
        Raises(ValueError, r"500 anchors.*pool.*at most"),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_anchors as NumPy integers",
        _curve(n_anchors=[np.int64(4)]),
        Behaves(_same_as_int),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_repeats 0",
        _curve(n_repeats=0),
        Raises(ValueError, r"n_repeats.*(>= 1|range \[1)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: an unknown decoder name",
        _curve(decoder="svm"),
        Raises(ValueError, r"decoder.*(linear-svm|logistic).*'svm'"),
    ),
    Case(
        SURFACE,
        "anchor_curve: no transform",
        _curve(transforms=[]),
        Raises(ValueError, r"transforms.*(empty|at least one)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: a transform given twice",
        _curve(transforms=["ortho", "ortho"]),
        Raises(ValueError, r"transforms.*'ortho'.*(twice|once|repeat|duplicate)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: an unknown transform",
        _curve(transforms=["orth"]),
        Raises(ValueError, r"orth.*ortho"),
    ),
    Case(
        SURFACE,
        "anchor_curve: labels of one class",
        _curve(y=np.array(["a"] * 40)),
        Raises(ValueError, r"(one|single|1) class.*(two|2|several)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: a regressor as decoder",
        _curve(decoder=LinearRegression()),
        Raises(
            ValueError, r"decoder=LinearRegression.*not a classifier.*Pass a classifier"
        ),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_jobs 0",
        _curve(n_jobs=0),
        Raises(ValueError, r"n_jobs.*(-1|range).*Got 0"),
    ),
    Case(
        SURFACE,
        "anchor_curve: continuous labels",
        _curve(y=np.linspace(0, 1, 40)),
        Raises(ValueError, r"y holds continuous values.*class labels"),
    ),
    Case(
        SURFACE,
        "balanced_subset: empty labels",
        lambda tmp: balanced_subset([], 2),
        Raises(ValueError, r"y is empty.*one class label per sample"),
    ),
    Case(
        SURFACE,
        "anchor_curve: a NaN label",
        _curve(y=_with(Y, 3, np.nan, object)),
        Raises(ValueError, r"(NaN|missing).*(label|y)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: labels mixing 0 and '0'",
        _curve(y=np.array([0, "0", 1, "1"] * 10, dtype=object)),
        Raises((ValueError, TypeError), r"(mix|string and number|types)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: source and target of other lengths",
        _curve(target=TARGET[:30]),
        Raises(ValueError, r"30 rows.*40 labels"),
    ),
    Case(
        SURFACE,
        "anchor_curve: a NaN embedding",
        _curve(source=_with(SOURCE, 0, np.nan)),
        Raises(ValueError, r"(NaN|finite)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: a split of another length",
        _curve(split=["train"] * 10),
        Raises(ValueError, r"split.*shape.*per sample"),
    ),
    Case(
        SURFACE,
        "anchor_curve: a split without anchor rows",
        _curve(split=["train", "test"] * 20),
        Raises(ValueError, r"split has no 'anchor' rows"),
    ),
    Case(
        SURFACE,
        "anchor_curve: anchor_size 0",
        _curve(anchor_size=0),
        Raises(ValueError, r"anchor_size.*(range|>)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: random_state -1",
        _curve(random_state=-1),
        Raises(ValueError, r"random_state.*(range|>= 0)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_test_per_class 0",
        _curve(n_test_per_class=0),
        Raises(ValueError, r"n_test_per_class.*(>= 1|range \[1)"),
    ),
    Case(
        SURFACE,
        "anchor_curve: n_test_per_class above the rarest class",
        _curve(n_test_per_class=50),
        Raises(ValueError, r"n_test_per_class.*at most"),
    ),
    Case(
        SURFACE,
        "anchor_curve: cache_dir is a file",
        _written_cache,
        Raises(NotADirectoryError, r"cache_dir.*must be a folder"),
    ),
    Case(
        SURFACE,
        "anchor_curve: anchors_from unknown",
        _curve(anchors_from="test"),
        Raises(ValueError, r"anchors_from.*(pool|train)"),
    ),
    Case(
        SURFACE,
        "stitching_report: n_anchors a list",
        lambda tmp: stitching_report(SOURCE, TARGET, Y, n_anchors=[4, 8], **FAST),
        Raises((ValueError, TypeError), r"n_anchors.*(one|single|int)"),
    ),
    Case(
        SURFACE,
        "stitching_table: a single encoder",
        _table({"e1": SOURCE}),
        Raises(ValueError, r"(two|2|at least).*encoders"),
    ),
    Case(
        SURFACE,
        "stitching_table: groups miss an encoder",
        _table(groups={"e1": "g"}),
        Raises(ValueError, r"groups.*'e2'.*Map every encoder"),
    ),
    Case(
        SURFACE,
        "stitching_table: an unknown metric",
        _table(metric="auc"),
        Raises(ValueError, r"metric.*roc_auc.*'auc'"),
    ),
    Case(
        SURFACE,
        "stitching_table: change_transform not among transforms",
        _table(change_transform="affine"),
        Raises(ValueError, r"change_transform.*affine.*transforms"),
    ),
    Case(
        SURFACE,
        "stitching_table: embeddings as a list",
        _table([SOURCE, TARGET]),
        Raises(ValueError, r"embeddings.*(mapping|Mapping|dict)"),
    ),
    Case(
        SURFACE,
        "pooled_anchor_curve: no task",
        _pooled({}),
        Raises(ValueError, r"tasks.*(empty|at least one)"),
    ),
    Case(
        SURFACE,
        "pooled_anchor_curve: a task that is not (embeddings, y)",
        _pooled({"t": {"e1": SOURCE, "e2": TARGET}}),
        Raises((ValueError, TypeError), r"'t'.*\(embeddings, y\)"),
    ),
    Case(
        SURFACE,
        "pooled_anchor_curve: a modality for no encoder",
        _pooled({"t": ({"e1": SOURCE, "e2": TARGET}, Y)}, modalities={"e1": "text"}),
        Raises(ValueError, r"modalit.*'e2'"),
    ),
    Case(
        SURFACE,
        "balanced_subset: n_per_class above the rarest class",
        lambda tmp: balanced_subset(Y, 50),
        Raises(ValueError, r"n_per_class.*50.*(at most|only) 20"),
    ),
    Case(
        SURFACE,
        "balanced_subset: n_per_class 0",
        lambda tmp: balanced_subset(Y, 0),
        Raises(ValueError, r"n_per_class.*(>= 1|range \[1|at least)"),
    ),
    Case(
        SURFACE,
        "Protocol: a decoder name that does not exist",
        lambda tmp: Protocol(decoder="svm").resolved(),
        Raises(ValueError, r"decoder='svm'.*not a known decoder.*linear-svm"),
    ),
]


def _torch_curve(tmp):
    import torch

    return anchor_curve(torch.tensor(SOURCE), torch.tensor(TARGET), Y, n_anchors=[4],
                        **FAST)  # fmt: skip


if importlib.util.find_spec("torch") is not None:
    CASES.append(
        Case(
            SURFACE,
            "anchor_curve: torch tensors give the arrays' result",
            _torch_curve,
            Behaves(_same_as_int),
        )
    )

CASES += [
    Case(
        SURFACE,
        "anchor_curve: random_state beyond 32 bits",
        _curve(random_state=2**40),
        Raises(
            ValueError, r"random_state=1099511627776 is above 4294967295.*smaller seed"
        ),
    ),
    Case(
        SURFACE,
        "anchor_curve: an anchor part of one row for two classes",
        _curve(anchor_size=1, n_anchors=None),
        Raises(ValueError, r"anchor_size=1 gives 1 row.*2 classes.*Raise anchor_size"),
    ),
]


# --- zero_shot_report ------------------------------------------------------------

ZS_LABELS = np.array(["a", "b"] * 20, dtype=object)
ZS_IMAGES = RNG.normal(size=(40, 6))
ZS_ANCHORS = (RNG.normal(size=(20, 6)), RNG.normal(size=(20, 4)))
ZS_PROMPTS = {"a": ["an a"], "b": ["a b"]}


def _zero_shot(labels=ZS_LABELS, prompts=ZS_PROMPTS, **options):
    def call(tmp):
        from tests._toy_encoders import HashingTextEncoder

        arguments = {"anchors": {"img": ZS_ANCHORS},
                     "text_encoder": HashingTextEncoder(4), **options}  # fmt: skip
        return zero_shot_report({"img": ZS_IMAGES}, {"t": (labels, prompts)},
                                **arguments)  # fmt: skip

    return call


CASES += [
    Case(
        SURFACE,
        "zero_shot_report: no labelled image",
        _zero_shot(labels=np.full(40, None, dtype=object)),
        Raises(ValueError, r"Task 't' has no labelled image.*give"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: a class with an empty prompt list",
        _zero_shot(prompts={"a": [], "b": ["a b"]}),
        Raises(ValueError, r"no prompt for the classes \['a'\].*at least one prompt"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: labels mixing 0 and '0'",
        _zero_shot(
            labels=np.array([0, "0"] * 20, dtype=object),
            prompts={0: ["zero"], "0": ["the digit zero"]},
        ),
        Raises(ValueError, r"mixes string and number labels.*one type"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: a class without prompts",
        _zero_shot(prompts={"a": ["an a"]}),
        Raises(ValueError, r"labels without prompts: \['b'\].*Add prompts"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: labels of another length",
        _zero_shot(labels=ZS_LABELS[:30]),
        Raises(ValueError, r"shape \(30,\).*40 images.*one label per image"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: anchor_repeats without anchor_size",
        _zero_shot(anchor_repeats=2),
        Raises(ValueError, r"anchor_repeats=2 needs anchor_size.*Set anchor_size"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: anchor_size above the anchor pairs",
        _zero_shot(anchor_repeats=2, anchor_size=50),
        Raises(ValueError, r"anchor_size=50.*20 anchor pairs.*at most 19"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: anchors of a method it does not score",
        lambda tmp: zero_shot_report(
            {"img": ZS_IMAGES},
            {"t": (ZS_LABELS, ZS_PROMPTS)},
            anchors={"imgx": ZS_ANCHORS},
        ),
        Raises(ValueError, r"anchors names methods.*'imgx'.*Key anchors"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: anchors with fewer reports than images",
        _zero_shot(anchors={"img": (ZS_ANCHORS[0], ZS_ANCHORS[1][:10])}),
        Raises(ValueError, r"pairs 20 images with 10 reports.*one report"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: prompts as text without a text encoder",
        _zero_shot(text_encoder=None),
        Raises(TypeError, r"holds text, but text_encoder is None.*Pass a text encoder"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: n_per_class above a class",
        _zero_shot(n_per_class=100),
        Raises(ValueError, r"n_per_class=100.*only 20.*Lower n_per_class"),
    ),
    Case(
        SURFACE,
        "zero_shot_report: a task that is not a pair",
        lambda tmp: zero_shot_report(
            {"img": ZS_IMAGES}, {"t": ZS_LABELS}, anchors={"img": ZS_ANCHORS}
        ),
        Raises(TypeError, r"tasks\['t'\] must be a pair \(labels, class_prompts\)"),
    ),
]
