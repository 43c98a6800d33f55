"""ZeroShotTextSpaceClassifier and its text-space helpers: prompts (empty,
not strings, duplicated, missing), classes, prompt embeddings of odd shapes
and values, labels and paired texts."""

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from skalign import LatentAligner, ZeroShotTextSpaceClassifier
from tests._toy_encoders import HashingTextEncoder
from tests.catalogue._harness import Behaves, Case, Raises

RNG = np.random.default_rng(6)
IMAGES = RNG.normal(size=(20, 4))
EMBEDDED = {"cat": [[1.0, 0.0, 0.0, 0.0]], "dog": [[0.0, 1.0, 0.0, 0.0]]}
TEXT = {"cat": ["a cat", "a photo of a cat"], "dog": ["a dog"]}


def _zero_shot(class_prompts, **params):
    return ZeroShotTextSpaceClassifier(class_prompts, **params)


def _texts(class_prompts, **params):
    return _zero_shot(class_prompts, text_encoder=HashingTextEncoder(4), **params)


def _duplicated_prompts_weigh_nothing_extra():
    """A prompt listed twice in a class: the class's embedding is the mean of
    its prompts, so the duplicate counts twice, as written."""
    once = _texts({"cat": ["a cat", "a kitten"], "dog": ["a dog"]}).fit(IMAGES)
    twice = _texts(
        {"cat": ["a cat", "a cat", "a kitten", "a kitten"], "dog": ["a dog"]}
    ).fit(IMAGES)
    np.testing.assert_allclose(once.predict_proba(IMAGES), twice.predict_proba(IMAGES))
    return True


def _tuple_is_list():
    as_tuple = _texts({"cat": ("a cat", "a kitten"), "dog": ("a dog",)}).fit(IMAGES)
    as_list = _texts({"cat": ["a cat", "a kitten"], "dog": ["a dog"]}).fit(IMAGES)
    np.testing.assert_array_equal(
        as_tuple.decision_function(IMAGES), as_list.decision_function(IMAGES)
    )
    return True


def _tensor_prompt_embeddings():
    tensors = {c: torch.tensor(v) for c, v in EMBEDDED.items()}
    from_tensor = _zero_shot(tensors).fit(IMAGES)
    reference = _zero_shot(EMBEDDED).fit(IMAGES)
    np.testing.assert_array_equal(
        from_tensor.predict(IMAGES), reference.predict(IMAGES)
    )
    return True


def _one_row_vector_prompt():
    vectors = {c: v[0] for c, v in EMBEDDED.items()}
    np.testing.assert_array_equal(
        _zero_shot(vectors).fit(IMAGES).predict(IMAGES),
        _zero_shot(EMBEDDED).fit(IMAGES).predict(IMAGES),
    )
    return True


def _csls_neighbors_clipped():
    big = _zero_shot(EMBEDDED, hubness="csls", hubness_neighbors=10_000).fit(IMAGES)
    exact = _zero_shot(EMBEDDED, hubness="csls", hubness_neighbors=20).fit(IMAGES)
    np.testing.assert_allclose(
        big.decision_function(IMAGES), exact.decision_function(IMAGES)
    )
    return True


def _three_classes():
    prompts = dict(EMBEDDED, bird=[[0.0, 0.0, 1.0, 0.0]])
    clf = _zero_shot(prompts).fit(IMAGES)
    expected = np.array(["bird", "cat", "dog"])[np.argmax(IMAGES[:, [2, 0, 1]], axis=1)]
    np.testing.assert_array_equal(clf.predict(IMAGES), expected)
    return True


CASES = [
    Case(
        "zero-shot",
        "no classes",
        lambda tmp: _zero_shot({}).fit(IMAGES),
        Raises(ValueError, r"at least two classes.*got 0.*Add a prompt list"),
    ),
    Case(
        "zero-shot",
        "class_prompts as a list",
        lambda tmp: _zero_shot(["cat", "dog"]).fit(IMAGES),
        Raises(InvalidParameterError, r"class_prompts.*Mapping"),
    ),
    Case(
        "zero-shot",
        "an empty prompt string",
        lambda tmp: _texts({"cat": ["a cat", ""], "dog": ["a dog"]}).fit(IMAGES),
        Raises(ValueError, r"class_prompts\['cat'\].*empty.*prompt"),
    ),
    Case(
        "zero-shot",
        "a whitespace-only prompt",
        lambda tmp: _texts({"cat": "   ", "dog": ["a dog"]}).fit(IMAGES),
        Raises(ValueError, r"class_prompts\['cat'\].*empty.*prompt"),
    ),
    Case(
        "zero-shot",
        "prompts as a set",
        lambda tmp: _texts({"cat": {"a cat"}, "dog": ["a dog"]}).fit(IMAGES),
        Raises(
            TypeError,
            r"class_prompts\['cat'\] must be a string or a list of strings, got set",
        ),
    ),
    Case(
        "zero-shot",
        "prompts as a dict",
        lambda tmp: _texts({"cat": {"text": "a cat"}, "dog": ["a dog"]}).fit(IMAGES),
        Raises(
            TypeError,
            r"class_prompts\['cat'\] must be a string or a list of strings, got dict",
        ),
    ),
    Case(
        "zero-shot",
        "a prompt that is None",
        lambda tmp: _texts({"cat": ["a cat", None], "dog": ["a dog"]}).fit(IMAGES),
        Raises(TypeError, r"class_prompts\['cat'\] holds None.*Pass text prompts"),
    ),
    Case(
        "zero-shot",
        "a class with prompts None and a text encoder",
        lambda tmp: _texts({"cat": None, "dog": ["a dog"]}).fit(IMAGES),
        Raises(
            (TypeError, ValueError),
            r"class_prompts\['cat'\].*(None|NoneType).*(string|prompt)",
        ),
    ),
    Case(
        "zero-shot",
        "class keys of mixed types",
        lambda tmp: _zero_shot({1: [[1.0, 0, 0, 0]], "dog": [[0, 1.0, 0, 0]]}).fit(
            IMAGES
        ),
        Raises(
            ValueError,
            r"keys of class_prompts.*all be strings or all numbers.*Got \[1, 'dog'\]",
        ),
    ),
    Case(
        "zero-shot",
        "two classes with the same prompts",
        lambda tmp: _texts({"cat": ["a pet"], "dog": ["a pet"]}).fit(IMAGES),
        Raises(
            ValueError,
            r"Classes 'cat' and 'dog' have the same prompt embeddings.*merge",
        ),
    ),
    Case(
        "zero-shot",
        "a prompt listed twice counts as written",
        lambda tmp: _duplicated_prompts_weigh_nothing_extra(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "prompts as a tuple",
        lambda tmp: _tuple_is_list(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "three classes of one-hot prompts",
        lambda tmp: _three_classes(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "prompt embeddings as tensors",
        lambda tmp: _tensor_prompt_embeddings(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "prompt embeddings as 1-D vectors",
        lambda tmp: _one_row_vector_prompt(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "prompt embeddings on the meta device",
        lambda tmp: _zero_shot(
            {c: torch.empty(1, 4, device="meta") for c in EMBEDDED}
        ).fit(IMAGES),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "zero-shot",
        "3-D prompt embeddings",
        lambda tmp: _zero_shot({"cat": np.ones((1, 2, 4)), "dog": np.eye(4)[1:2]}).fit(
            IMAGES
        ),
        Raises(
            ValueError,
            r"class_prompts\['cat'\].*(3-D|dim 3).*\(n_prompts, n_text_features\)",
        ),
    ),
    Case(
        "zero-shot",
        "prompt embeddings with NaN",
        lambda tmp: _zero_shot(
            {"cat": [[np.nan, 1.0, 0, 0]], "dog": [[0, 1.0, 0, 0]]}
        ).fit(IMAGES),
        Raises(ValueError, r"class_prompts\['cat'\].*NaN"),
    ),
    Case(
        "zero-shot",
        "prompt embeddings as strings of numbers",
        lambda tmp: _zero_shot(
            {"cat": [["1", "0", "0", "0"]], "dog": [[0, 1.0, 0, 0]]}
        ).fit(IMAGES),
        Raises(TypeError, r"class_prompts\['cat'\] holds text.*text_encoder"),
    ),
    Case(
        "zero-shot",
        "prompt embeddings all zero",
        lambda tmp: _zero_shot({"cat": [[0.0] * 4], "dog": [[0, 1.0, 0, 0]]}).fit(
            IMAGES
        ),
        Raises(
            ValueError, r"class 'cat' average to the zero vector.*prompts that describe"
        ),
    ),
    Case(
        "zero-shot",
        "prompt embeddings of the wrong width",
        lambda tmp: _zero_shot({"cat": [[1.0, 0, 0]], "dog": [[0, 1.0, 0]]}).fit(
            IMAGES
        ),
        Raises(
            ValueError, r"X has 4 features but the prompt embeddings have 3.*aligner"
        ),
    ),
    Case(
        "zero-shot",
        "prompt embeddings complex",
        lambda tmp: _zero_shot(
            {"cat": [[1.0 + 1j, 0, 0, 0]], "dog": [[0, 1.0, 0, 0]]}
        ).fit(IMAGES),
        Raises((TypeError, ValueError), r"[Cc]omplex"),
    ),
    Case(
        "zero-shot",
        "an aligner into another width than the prompts",
        lambda tmp: _zero_shot(
            EMBEDDED, aligner=LatentAligner().fit(IMAGES, IMAGES[:, :3])
        ).fit(IMAGES),
        Raises(
            ValueError,
            r"aligner maps X into a 3-dimensional space "
            r"but the prompt embeddings have 4",
        ),
    ),
    Case(
        "zero-shot",
        "labels with one class and an aligner to learn",
        lambda tmp: _zero_shot(EMBEDDED, aligner=LatentAligner()).fit(
            IMAGES, ["cat"] * 20
        ),
        Raises(
            ValueError,
            r"at least two classes in y, got one class \('cat'\).*FrozenEstimator",
        ),
    ),
    Case(
        "zero-shot",
        "labels of the wrong count",
        lambda tmp: _zero_shot(EMBEDDED, aligner=LatentAligner()).fit(
            IMAGES, ["cat", "dog"] * 5
        ),
        Raises(ValueError, r"(20|10).*(samples|labels|inconsistent)"),
    ),
    Case(
        "zero-shot",
        "paired texts with an empty text",
        lambda tmp: _texts(TEXT, aligner=LatentAligner(), y_kind="texts").fit(
            IMAGES, ["a cat"] * 10 + ["a dog"] * 9 + [""]
        ),
        Raises(ValueError, r"y holds 1 empty text.*row 19.*(Drop|give)"),
    ),
    Case(
        "zero-shot",
        "paired texts that are numbers",
        lambda tmp: _texts(TEXT, aligner=LatentAligner(), y_kind="texts").fit(
            IMAGES, list(range(20))
        ),
        Raises(TypeError, r"y_kind='texts'.*holds 0 \(int\).*y_kind='labels'"),
    ),
    Case(
        "zero-shot",
        "paired texts without a text encoder",
        lambda tmp: _zero_shot(EMBEDDED, aligner=LatentAligner(), y_kind="texts").fit(
            IMAGES, ["a cat"] * 20
        ),
        Raises(ValueError, r"text_encoder is None.*Pass the text_encoder"),
    ),
    Case(
        "zero-shot",
        "y_kind 'text'",
        lambda tmp: _zero_shot(EMBEDDED, y_kind="text").fit(IMAGES),
        Raises(InvalidParameterError, r"y_kind.*'texts'"),
    ),
    Case(
        "zero-shot",
        "temperature infinite",
        lambda tmp: _zero_shot(EMBEDDED, temperature=np.inf).fit(IMAGES),
        Raises(InvalidParameterError, r"temperature.*range"),
    ),
    Case(
        "zero-shot",
        "hubness_neighbors True",
        lambda tmp: _zero_shot(EMBEDDED, hubness="csls", hubness_neighbors=True).fit(
            IMAGES
        ),
        Raises(InvalidParameterError, r"hubness_neighbors.*True"),
    ),
    Case(
        "zero-shot",
        "hubness_neighbors beyond the inputs is clipped",
        lambda tmp: _csls_neighbors_clipped(),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "predict before fit",
        lambda tmp: _zero_shot(EMBEDDED).predict(IMAGES),
        Raises(NotFittedError, r"not fitted.*fit"),
    ),
    Case(
        "zero-shot",
        "predict_proba of another width",
        lambda tmp: _zero_shot(EMBEDDED).fit(IMAGES).predict_proba(IMAGES[:, :3]),
        Raises(ValueError, r"3 features.*expecting 4"),
    ),
    Case(
        "zero-shot",
        "decision_function of a meta tensor",
        lambda tmp: (
            _zero_shot(EMBEDDED)
            .fit(IMAGES)
            .decision_function(torch.empty(2, 4, device="meta"))
        ),
        Raises(ValueError, r"meta device.*(cpu|cuda)"),
    ),
    Case(
        "zero-shot",
        "fit with sample_weight of the wrong length",
        lambda tmp: _zero_shot(EMBEDDED).fit(IMAGES, sample_weight=np.ones(3)),
        Raises(ValueError, r"sample_weight.*\(20,\).*\(3,\)"),
    ),
    Case(
        "zero-shot",
        "a text encoder returning one row for all prompts",
        lambda tmp: _zero_shot(
            TEXT,
            text_encoder=FunctionTransformer(lambda texts: np.ones((1, 4))),
        ).fit(IMAGES),
        Raises(ValueError, r"shape \(1, 4\) for 3 texts.*one row per text"),
    ),
    Case(
        "zero-shot",
        "a text encoder returning NaN",
        lambda tmp: _zero_shot(
            TEXT,
            text_encoder=FunctionTransformer(
                lambda texts: np.full((len(texts), 4), np.nan)
            ),
        ).fit(IMAGES),
        Raises(
            ValueError,
            r"text encoder FunctionTransformer returned NaN"
            r".*'a cat'.*Check the encoder",
        ),
    ),
]


def _same_predictions(scale_images=1.0, scale_prompts=1.0):
    scaled = {c: np.asarray(v) * scale_prompts for c, v in EMBEDDED.items()}
    got = _zero_shot(scaled).fit(IMAGES * scale_images)
    reference = _zero_shot(EMBEDDED).fit(IMAGES)
    np.testing.assert_allclose(
        got.predict_proba(IMAGES * scale_images), reference.predict_proba(IMAGES)
    )
    return True


CASES += [
    Case(
        "zero-shot",
        "images near 1e300",
        lambda tmp: _same_predictions(scale_images=1e300),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "prompt embeddings near 1e-300",
        lambda tmp: _same_predictions(scale_prompts=1e-300),
        Behaves(bool),
    ),
    Case(
        "zero-shot",
        "prompt embeddings near 1e300",
        lambda tmp: _same_predictions(scale_prompts=1e300),
        Behaves(bool),
    ),
]

CASES += [
    Case(
        "zero-shot",
        "a label that is None",
        lambda tmp: _zero_shot(EMBEDDED, aligner=LatentAligner()).fit(
            IMAGES, ["cat"] * 10 + ["dog"] * 9 + [None]
        ),
        Raises(ValueError, r"y holds 1 missing label.*row 19.*drop"),
    ),
    Case(
        "zero-shot",
        "a label that is NaN",
        lambda tmp: _zero_shot(
            {0.0: EMBEDDED["cat"], 1.0: EMBEDDED["dog"]}, aligner=LatentAligner()
        ).fit(IMAGES, [0.0] * 10 + [1.0] * 9 + [np.nan]),
        Raises(ValueError, r"y holds 1 missing label.*row 19.*drop"),
    ),
    Case(
        "zero-shot",
        "labels as a 2-D column pair",
        lambda tmp: _zero_shot(EMBEDDED, aligner=LatentAligner()).fit(
            IMAGES, np.array([["cat"] * 10 + ["dog"] * 10] * 2).T
        ),
        Raises(ValueError, r"1-D sequence.*shape \(20, 2\).*ravel"),
    ),
    Case(
        "zero-shot",
        "a single label string for all inputs",
        lambda tmp: _zero_shot(EMBEDDED, aligner=LatentAligner()).fit(IMAGES, "cat"),
        Raises(ValueError, r"single value 'cat'.*one entry per row"),
    ),
    Case(
        "zero-shot",
        "ragged prompt embeddings",
        lambda tmp: _zero_shot(
            {"cat": [[1.0, 0], [1.0, 0, 0, 0]], "dog": EMBEDDED["dog"]}
        ).fit(IMAGES),
        Raises(ValueError, r"class_prompts\['cat'\].*different lengths"),
    ),
    Case(
        "zero-shot",
        "prompt embeddings given as a dict",
        lambda tmp: _zero_shot({"cat": {"a": 1.0}, "dog": EMBEDDED["dog"]}).fit(IMAGES),
        Raises(TypeError, r"class_prompts\['cat'\] is a dict.*\(n_prompts"),
    ),
    Case(
        "zero-shot",
        "integer labels against string classes",
        lambda tmp: _zero_shot(
            {"0": EMBEDDED["cat"], "1": EMBEDDED["dog"]}, aligner=LatentAligner()
        ).fit(IMAGES, [0] * 10 + [1] * 10),
        Raises(ValueError, r"labels without prompts: \[0, 1\].*key of class_prompts"),
    ),
]

CASES += [
    Case(
        "zero-shot",
        "labels whose weights leave one class",
        lambda tmp: _zero_shot(EMBEDDED, aligner=LatentAligner()).fit(
            IMAGES, ["cat", "dog"] * 10, sample_weight=[1.0, 0.0] * 10
        ),
        Raises(ValueError, r"two classes in y of positive sample_weight.*one class"),
    ),
]
