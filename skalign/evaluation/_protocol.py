"""The stitching protocol's settings: one record, its defaults and the decoder table.

:class:`Protocol` is the single place where the protocol's defaults, their
documentation, their constraints and the named decoders are written. The
public functions (:func:`anchor_curve`, :func:`stitching_report`,
:func:`stitching_table` and the pooled ones) take its fields as keyword
parameters and build it explicitly; the command line takes its defaults and
help from it, and the experiment configuration's ``[protocol]`` section is
read into it (its ``--help`` text is generated from it).
"""

import dataclasses
import os
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.utils import get_tags

from .._aligner import LatentAligner
from .._self_learning import SelfLearningAligner
from .._sklearn_compat import HasMethods, Interval, StrOptions
from .._solvers import TRANSFORM_TYPES

NAIVE = "naive"
SOURCE_UPPER_BOUND = "source_upper_bound"
TARGET_UPPER_BOUND = "target_upper_bound"
_ALIGNER = HasMethods(["fit", "transform"])

# Decoders by name: what ``decoder="logistic"`` (the command line's --decoder,
# the configuration's protocol.decoder) trains on the target space.
DECODERS = {
    "linear-svm": lambda: SVC(kernel="linear"),
    "logistic": lambda: LogisticRegression(max_iter=5000),
}
DEFAULT_DECODER = "linear-svm"

# The LatentAligner parameters a transform specification may set.
SPEC_KEYS = (
    "transform_type", "solver", "alpha", "max_iter", "learning_rate", "random_state"
)  # fmt: skip
# A specification's key that wraps its LatentAligner in a SelfLearningAligner:
# true, or a table of the SelfLearningAligner parameters below.
SELF_LEARNING = "self_learning"
SELF_LEARNING_KEYS = (
    "n_iter", "n_neighbors", "matching", "margin", "max_match_ratio", "n_folds"
)  # fmt: skip
# In the protocol an Adam fit takes a fixed number of steps (tol=None), this
# many unless the specification's max_iter says otherwise: latentis' default.
ADAM_STEPS = 300
# Named specifications. "paper-affine" is the paper's affine map: latentis
# 0.0.8's SGDAffineAligner defaults (latentis/transform/translate/aligner.py:
# num_steps=300, lr=1e-3, torch.optim.Adam on the full-batch MSE from
# nn.Linear's initialisation), seeded with 0 as benchmarks/bench_latentis.py
# runs it (latentis' own default seed is None, unseeded).
PRESETS = {
    "paper-affine": {
        "transform_type": "affine",
        "solver": "adam",
        "alpha": 0.0,
        "max_iter": ADAM_STEPS,
        "learning_rate": 1e-3,
        "random_state": 0,
    },
    # Self-learning on the anchors plus the unpaired pool (``unpaired=``) with
    # the same map as "ortho": the two curves differ by the pool only.
    "self-learning": {"transform_type": "ortho", SELF_LEARNING: True},
}

_SIZE = [
    Interval(Real, 0, 1, closed="neither"),
    Interval(Integral, 1, None, closed="left"),
]


def _setting(default, doc, constraints, *, config=True):
    """A field of :class:`Protocol`: its default, a one-line doc (the help of the
    command line and of the configuration), its parameter constraints, and
    whether the experiment configuration's ``[protocol]`` section sets it."""
    return dataclasses.field(
        default=default,
        metadata={"doc": doc, "constraints": constraints, "config": config},
    )


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The settings of the stitching protocol, with their defaults.

    One record for every caller: :func:`anchor_curve`,
    :func:`stitching_report`, :func:`stitching_table`,
    :func:`pooled_anchor_curve` and :func:`pooled_stitching_table` build it
    from their keyword parameters (the same names), ``skalign curve`` /
    ``skalign table`` from their options and ``skalign experiment`` from the
    configuration's ``[protocol]`` section. Pass it on with
    :meth:`keywords`.

    Parameters
    ----------
    transforms : list of str or dict, or mapping, default=("affine", "linear", \
"l-ortho", "ortho")
        Transforms compared (see :func:`anchor_curve`): ``transform_type``
        names, preset names (``"paper-affine"``, ``"self-learning"``, see
        ``PRESETS``) or specifications ``{"name": ..., "transform_type": ...,
        "solver": ..., "alpha": ..., "max_iter": ..., "learning_rate": ...,
        "random_state": ..., "self_learning": ...}`` (checked by
        ``check_transforms``). A transform whose aligner takes NaN rows (a
        :class:`~skalign.SelfLearningAligner`) is fitted on the anchors plus
        the unpaired pool that the public functions take as ``unpaired=``
        (data, not a setting: it is not a field of this record).
    n_repeats : int, default=3
        Random anchor draws per count.
    decoder : {"linear-svm", "logistic"}, classifier or None, default=None
        Trained on the target space: a name (``"logistic"`` is
        ``LogisticRegression(max_iter=5000)``), an estimator, or None:
        ``"linear-svm"``, the paper's ``SVC(kernel="linear")``.
    aligner : transformer or None, default=None
        Template cloned for each transform; None is ``LatentAligner()``.
    split : array-like of str or None, default=None
        Per-row ``"train"`` / ``"anchor"`` / ``"test"``; None draws one.
    anchor_size, test_size : float in (0, 1) or int, default=0.25
        Anchor pool and test part when ``split`` is None.
    anchors_from : {"pool", "train"}, default="pool"
        Where anchors are drawn: ``"pool"``, the ``"anchor"`` part of the
        split, held apart from the rows the decoder is trained on; ``"train"``,
        the decoder's training rows, as the paper draws them "from the
        training set" (the ``"anchor"`` part then joins the training rows).
    n_test_per_class : int or None, default=None
        Balanced test rows per class; None: as many as the rarest class.
    random_state : int, default=0
        Seeds the split, the balanced subset and the anchor draws.
    n_jobs : int or None, default=None
        Parallel jobs.
    cache_dir : str, path-like or None, default=None
        Where finished decoders and cells are stored.
    show_progress : bool, default=False
        Progress bars.

    Examples
    --------
    >>> from skalign.evaluation import Protocol
    >>> protocol = Protocol(n_repeats=2, decoder="logistic")
    >>> protocol.n_repeats, Protocol.anchor_size
    (2, 0.25)
    >>> type(protocol.resolved().decoder).__name__
    'LogisticRegression'
    >>> Protocol.decoder_names()
    ('linear-svm', 'logistic')
    """

    transforms: object = _setting(
        TRANSFORM_TYPES,
        "transforms compared (default: all four): names, the presets "
        "paper-affine (latentis' 300 Adam steps) and self-learning (ortho "
        "refined on the unpaired pool), or specifications {name, "
        "transform_type, solver, alpha, max_iter, learning_rate, "
        "random_state, self_learning}",
        ["array-like", Mapping],
    )
    n_repeats: int = _setting(
        3,
        "random anchor draws per count",
        [Interval(Integral, 1, None, closed="left")],
    )
    decoder: object = _setting(
        None,
        f"decoder trained on the target space: {' or '.join(DECODERS)} "
        f"(default: {DEFAULT_DECODER}, the paper's)",
        [None, StrOptions(set(DECODERS)), HasMethods(["fit", "predict"])],
    )
    aligner: object = _setting(
        None,
        "aligner template (None: LatentAligner())",
        [None, HasMethods(["fit", "transform", "set_params"])],
        config=False,
    )
    split: object = _setting(
        None, "per-row split names", [None, "array-like"], config=False
    )
    anchor_size: object = _setting(
        0.25, "anchor pool per task, fraction or count", _SIZE
    )
    test_size: object = _setting(0.25, "test part per task, fraction or count", _SIZE)
    anchors_from: str = _setting(
        "pool",
        "where anchors are drawn: pool (a part held apart from the decoder's "
        "training rows) or train (the decoder's training rows, as the paper)",
        [StrOptions({"pool", "train"})],
    )
    n_test_per_class: object = _setting(
        None,
        "balanced test rows per class (default: as many as the rarest class)",
        [None, Interval(Integral, 1, None, closed="left")],
    )
    random_state: int = _setting(
        0,
        "seed of splits, subsets and anchor draws",
        [Interval(Integral, 0, None, closed="left")],
    )
    n_jobs: object = _setting(
        None,
        "parallel jobs",
        [
            None,
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
        ],
        config=False,
    )
    cache_dir: object = _setting(
        None, "cache folder", [None, str, os.PathLike], config=False
    )
    show_progress: bool = _setting(False, "progress bars", ["boolean"], config=False)

    @staticmethod
    def decoder_names():
        """The decoder names ``decoder=`` accepts."""
        return tuple(DECODERS)

    @classmethod
    def doc(cls, name):
        """The one-line documentation of setting ``name``."""
        return _FIELDS[name].metadata["doc"]

    @classmethod
    def constraints(cls, name):
        """The parameter constraints of setting ``name``."""
        return _FIELDS[name].metadata["constraints"]

    @classmethod
    def config_settings(cls):
        """The settings an experiment configuration's ``[protocol]`` sets."""
        return [f.name for f in dataclasses.fields(cls) if f.metadata["config"]]

    def keywords(self, *, without=()):
        """The settings as keyword arguments of the public functions."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in without
        }

    def resolved(self):
        """This protocol with its transforms checked (a dict display name -> name
        or estimator), the decoder an unfitted estimator and the aligner template
        set (``LatentAligner()`` for None)."""
        return dataclasses.replace(
            self,
            transforms=check_transforms(self.transforms, self.aligner),
            decoder=make_decoder(self.decoder),
            aligner=LatentAligner() if self.aligner is None else self.aligner,
        )


_FIELDS = {f.name: f for f in dataclasses.fields(Protocol)}
# Parameter constraints of the public functions running the protocol.
PROTOCOL_CONSTRAINTS = {
    "y": ["array-like"],
    **{name: field.metadata["constraints"] for name, field in _FIELDS.items()},
}


def make_decoder(decoder):
    """An unfitted decoder: a name of :data:`DECODERS`, None (the paper's linear
    SVM) or an estimator (cloned)."""
    if decoder is None:
        decoder = DEFAULT_DECODER
    if isinstance(decoder, str):
        if decoder not in DECODERS:
            raise ValueError(
                f"decoder={decoder!r} is not a known decoder; choose one of "
                f"{list(DECODERS)} or pass a classifier."
            )
        return DECODERS[decoder]()
    if not is_classifier(decoder):
        raise ValueError(
            f"decoder={decoder!r} is not a classifier; the protocol scores class "
            f"predictions. Pass a classifier or one of {list(DECODERS)}."
        )
    return clone(decoder)


def takes_unpaired(estimator):
    """Whether ``estimator`` is fitted on NaN-marked unpaired rows too (its tags
    allow NaN, e.g. a :class:`~skalign.SelfLearningAligner`): the methods the
    unpaired pool is given to.

    Examples
    --------
    >>> from skalign import LatentAligner, SelfLearningAligner
    >>> from skalign.evaluation._protocol import takes_unpaired
    >>> takes_unpaired(SelfLearningAligner()), takes_unpaired(LatentAligner())
    (True, False)
    """
    return get_tags(estimator).input_tags.allow_nan


def pool_transforms(transforms):
    """The display names of ``transforms`` (names, presets, specifications or
    aligners, as :func:`check_transforms` takes them with the default
    template) whose aligner learns from an unpaired pool."""
    return [
        name
        for name, spec in check_transforms(transforms, None).items()
        if not isinstance(spec, str) and takes_unpaired(spec)
    ]


def transform_names(transforms):
    """The display names of ``transforms`` (as :func:`check_transforms` reads
    them), in order, without checking them."""
    if isinstance(transforms, Mapping):
        return [str(name) for name in transforms]
    entries = np.atleast_1d(np.asarray(transforms, dtype=object)).tolist()
    return [str(e.get("name")) if isinstance(e, Mapping) else str(e) for e in entries]


def check_transforms(transforms, aligner):
    """Validate the transforms; return a dict display name -> name or estimator.

    ``transforms`` is a list whose entries are ``transform_type`` names and
    preset names (each its own display name) or specifications (a dict with
    ``name``, its display name, and some of :data:`SPEC_KEYS`); or a mapping
    display name -> ``transform_type`` name, preset name, specification (a
    dict of :data:`SPEC_KEYS`) or aligner estimator (any object with ``fit``
    and ``transform``, e.g. ``{"ortho": "ortho", "affine ridge":
    LatentAligner("affine", alpha="auto")}``).

    A specification (and a preset) sets those parameters on a clone of the
    ``aligner`` template (``LatentAligner()`` for None); with
    ``solver="adam"`` the fit takes exactly ``max_iter`` steps (default
    :data:`ADAM_STEPS`, latentis' 300; seeded with ``random_state=0`` unless
    given), never an unbounded run to convergence. Its key
    ``"self_learning"`` (true, or a dict of :data:`SELF_LEARNING_KEYS`) wraps
    that aligner in a :class:`~skalign.SelfLearningAligner`, which the
    protocol fits on the anchors plus the unpaired pool; the preset
    ``"self-learning"`` is ``{"transform_type": "ortho", "self_learning":
    True}``.

    Examples
    --------
    >>> from skalign.evaluation._protocol import check_transforms
    >>> checked = check_transforms(
    ...     ["linear", "paper-affine",
    ...      {"name": "adam-50", "transform_type": "linear", "solver": "adam",
    ...       "max_iter": 50}], None)
    >>> list(checked)
    ['linear', 'paper-affine', 'adam-50']
    >>> aligner = checked["paper-affine"]
    >>> aligner.solver, aligner.max_iter, aligner.learning_rate, aligner.tol
    ('adam', 300, 0.001, None)
    >>> checked = check_transforms(
    ...     ["self-learning",
    ...      {"name": "sl-mto", "transform_type": "linear",
    ...       "self_learning": {"matching": "many-to-one"}}], None)
    >>> learner = checked["self-learning"]
    >>> type(learner).__name__, learner.aligner.transform_type
    ('SelfLearningAligner', 'ortho')
    >>> checked["sl-mto"].matching, checked["sl-mto"].aligner.transform_type
    ('many-to-one', 'linear')
    """
    if isinstance(transforms, Mapping):
        checked = {str(name): spec for name, spec in transforms.items()}
    else:
        entries = np.atleast_1d(np.asarray(transforms, dtype=object)).tolist()
        checked = {}
        for entry in entries:
            name = _entry_name(entry)
            if name in checked:
                raise ValueError(
                    f"transforms lists {name!r} twice: "
                    f"{transform_names(entries)!r}. Give each a distinct name."
                )
            checked[name] = _without_name(entry)
    if not checked:
        raise ValueError(
            f"transforms is empty; pass at least one of {list(TRANSFORM_TYPES)}, "
            "or a mapping display name -> aligner estimator."
        )
    _check_display_names(checked)
    reserved = [
        n for n in checked if n in (NAIVE, SOURCE_UPPER_BOUND, TARGET_UPPER_BOUND)
    ]
    if reserved:
        raise ValueError(
            f"transforms uses the reserved names {reserved!r}: the naive floor and "
            "the upper bounds are always evaluated. Rename those methods."
        )
    latent = aligner is None or isinstance(aligner, LatentAligner)
    for name, spec in checked.items():
        if isinstance(spec, str) and spec in PRESETS:
            spec = PRESETS[spec]
        if isinstance(spec, Mapping):
            checked[name] = _spec_aligner(name, spec, aligner, latent)
        elif not isinstance(spec, str) and not _ALIGNER.is_satisfied_by(spec):
            raise TypeError(
                f"transforms[{name!r}] is a {type(spec).__name__}; give a "
                f"transform_type name ({list(TRANSFORM_TYPES)}), a preset "
                f"({list(PRESETS)}), a specification (a dict of {list(SPEC_KEYS)})"
                " or an aligner estimator with fit and transform."
            )
    named = [n for n, s in checked.items() if isinstance(s, str)]
    if named and not latent and "transform_type" not in aligner.get_params():
        raise ValueError(
            f"transforms names {named!r}, which are set as transform_type on a "
            f"clone of aligner, but {type(aligner).__name__} has no "
            "transform_type parameter. Pass it in a mapping instead, e.g. "
            f"transforms={{'mine': {type(aligner).__name__}(...)}}, or leave "
            "aligner=None (for self-learning: the preset 'self-learning' or a "
            "specification with 'self_learning')."
        )
    if latent:
        unknown = [s for s in checked.values() if isinstance(s, str)]
        unknown = [s for s in unknown if s not in TRANSFORM_TYPES]
        if unknown:
            raise ValueError(
                f"Unknown transforms {unknown!r}; LatentAligner knows "
                f"{list(TRANSFORM_TYPES)} and the presets {list(PRESETS)}. The "
                "naive floor and the upper bounds are always evaluated and need "
                "no name here; another aligner goes in a mapping, e.g. "
                "transforms={'mine': MyAligner()}."
            )
    return checked


def _check_display_names(checked):
    """Refuse display names that read as another method: a specification or
    name labelled like a transform type or preset it is not, and names equal
    but for case (one column of a spreadsheet, one legend entry)."""
    known = [*TRANSFORM_TYPES, *PRESETS]
    for name, spec in checked.items():
        same = (name, PRESETS.get(name), {"transform_type": name})
        if name in known and isinstance(spec, str | Mapping) and spec not in same:
            raise ValueError(
                f"transforms names {spec!r} {name!r}, the name of the "
                f"{'preset' if name in PRESETS else 'transform type'} {name!r}: its "
                "rows would read as that method. Rename it, e.g. "
                f"{name + '-custom'!r}, or give {name!r} itself."
            )
    folded = {}
    for name in checked:
        folded.setdefault(name.casefold(), []).append(name)
    clashes = [names for names in folded.values() if len(names) > 1]
    if clashes:
        raise ValueError(
            f"transforms names {clashes[0]!r}, which differ only by case: they "
            "would read as one method in the tables and figures. Give each a "
            "distinct name."
        )


def _entry_name(entry):
    """The display name of a list entry: the name, or a specification's
    ``name``."""
    if not isinstance(entry, Mapping):
        return str(entry)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"The transform specification {dict(entry)!r} has no name; add "
            '"name": a non-empty string labelling its rows, e.g. '
            "{'name': 'paper-affine', 'transform_type': 'affine', "
            "'solver': 'adam'}."
        )
    return name


def _without_name(entry):
    if isinstance(entry, Mapping):
        return {k: v for k, v in entry.items() if k != "name"}
    return entry


def _spec_aligner(name, spec, aligner, latent):
    """The unfitted :class:`LatentAligner` of specification ``spec``, checked."""
    where = f"transforms[{name!r}]"
    if not latent:
        raise TypeError(
            f"{where} is a specification of LatentAligner parameters, but the "
            f"aligner template is a {type(aligner).__name__}; pass an estimator "
            f"instead, e.g. transforms={{{name!r}: MyAligner(...)}}."
        )
    unknown = sorted(set(spec) - {*SPEC_KEYS, SELF_LEARNING})
    if unknown:
        raise ValueError(
            f"{where} has unknown keys {unknown}; a specification sets "
            f"{[*SPEC_KEYS, SELF_LEARNING]} (and 'name' in a list)."
        )
    if "transform_type" not in spec:
        raise ValueError(
            f"{where} has no transform_type; add one of {list(TRANSFORM_TYPES)}."
        )
    params = {key: value for key, value in spec.items() if key != SELF_LEARNING}
    if params.get("solver") == "adam":
        params.setdefault("max_iter", ADAM_STEPS)
        params["tol"] = None
        params.setdefault("alpha", 0.0)
        params.setdefault("random_state", 0)
    template = LatentAligner() if aligner is None else aligner
    estimator = clone(template).set_params(**params)
    try:
        estimator._validate_params()
    except ValueError as exc:  # sklearn's InvalidParameterError names the key
        raise ValueError(f"{where}: {exc}") from None
    if estimator.solver == "adam":
        if estimator.transform_type == "ortho":
            raise ValueError(
                f"{where}: solver='adam' fits affine, linear and l-ortho; "
                "'ortho' has an exact closed form. Remove solver or set "
                "solver='closed-form'."
            )
        if estimator.alpha != 0:
            raise ValueError(
                f"{where}: alpha={estimator.alpha!r} needs solver='closed-form'; "
                "the Adam fit is unregularised. Remove alpha or set it to 0."
            )
    return _with_self_learning(where, estimator, spec.get(SELF_LEARNING, False))


def _with_self_learning(where, estimator, options):
    """``estimator``, or a :class:`SelfLearningAligner` refining it when the
    specification's ``self_learning`` is true or a dict of its parameters."""
    if isinstance(options, bool):
        if not options:
            return estimator
        options = {}
    if not isinstance(options, Mapping):
        raise TypeError(
            f"{where}: {SELF_LEARNING}={options!r} must be true, false or a dict of "
            f"SelfLearningAligner parameters among {list(SELF_LEARNING_KEYS)}, "
            "e.g. {'matching': 'many-to-one'}."
        )
    unknown = sorted(set(options) - set(SELF_LEARNING_KEYS))
    if unknown:
        raise ValueError(
            f"{where}: {SELF_LEARNING} has unknown keys {unknown}; it sets "
            f"{list(SELF_LEARNING_KEYS)} of SelfLearningAligner."
        )
    wrapped = SelfLearningAligner(estimator, **options)
    try:
        wrapped._validate_params()
    except ValueError as exc:  # sklearn's InvalidParameterError names the key
        raise ValueError(f"{where}: {SELF_LEARNING}: {exc}") from None
    return wrapped
