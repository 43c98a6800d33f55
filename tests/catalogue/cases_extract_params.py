"""EmbeddingExtractor parameters: types, ranges, options of another backend,
model specs. The simplest cases live in tests/extract/test_bad_inputs.py."""

import pickle

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skalign.extract import EmbeddingExtractor
from tests.catalogue._harness import Behaves, Case, Raises
from tests.extract._catalogue_helpers import (
    IMAGES,
    IntOutput,
    NaNOutput,
    TokenOutput,
    TupleOutput,
    WrongRows,
    counting,
    fresh_equal,
)
from tests.extract._modules import thumbnail

S = "extractor parameters"


def _text(**params):
    return EmbeddingExtractor("paraphrase-minilm-l3", **params)


def _module(module, **params):
    params.setdefault("preprocess", thumbnail)
    return EmbeddingExtractor(module, memoize=False, **params).transform(IMAGES)


def _pickle_size(keep):
    extractor = EmbeddingExtractor("all-minilm-l6-v2", keep_weights_on_pickle=keep)
    return len(pickle.dumps(extractor))


def _numpy_preprocess(image):
    return np.asarray(image.convert("L").resize((8, 8)), dtype=np.float32) / 255


def _uint8_preprocess(image):
    return torch.from_numpy(np.asarray(image.convert("L").resize((8, 8))).copy())


def _nan_preprocess(image):
    return thumbnail(image) * float("nan")


def _half_module():
    from tests.extract._modules import CountingEncoder

    return CountingEncoder().half()


CASES = [
    Case(
        S,
        "a module whose weights are on the meta device",
        lambda tmp: _module(torch.nn.Linear(64, 4, device="meta")),
        Raises((TypeError, ValueError), r"meta device.*(load|weights)"),
    ),
    Case(
        S,
        "a float16 module fed float32 inputs",
        lambda tmp: _module(_half_module()),
        Raises(ValueError, r"CountingEncoder.*failed.*float32.*(dtype|preprocess)"),
    ),
    Case(
        S,
        "preprocess returning numpy arrays, not tensors",
        lambda tmp: _module(WrongRows(), preprocess=_numpy_preprocess),
        Raises(ValueError, r"_numpy_preprocess.*ndarray.*(tensor|ToTensor)"),
    ),
    Case(
        S,
        "preprocess returning uint8 tensors to a float module",
        lambda tmp: _module(
            __import__("tests.extract._modules", fromlist=["x"]).CountingEncoder(),
            preprocess=_uint8_preprocess,
        ),
        Raises(ValueError, r"CountingEncoder.*failed.*uint8.*(dtype|preprocess)"),
    ),
    Case(
        S,
        "preprocess producing NaN inputs",
        lambda tmp: _module(
            __import__("tests.extract._modules", fromlist=["x"]).CountingEncoder(),
            preprocess=_nan_preprocess,
        ),
        Raises(FloatingPointError, r"NaN.*(inputs|preprocess)"),
    ),
    Case(
        S,
        "batch_size=True (a bool for an int)",
        lambda tmp: counting(batch_size=True).transform(IMAGES),
        Raises(InvalidParameterError, r"'batch_size'.*int.*True"),
    ),
    Case(
        S,
        "batch_size=2.0 (a float)",
        lambda tmp: counting(batch_size=2.0).transform(IMAGES),
        Raises(InvalidParameterError, r"'batch_size'.*int.*2\.0"),
    ),
    Case(
        S,
        "batch_size=np.int64(3) is an int",
        lambda tmp: counting(batch_size=np.int64(3)).transform(IMAGES),
        Behaves(fresh_equal),
    ),
    Case(
        S,
        "batch_size larger than the inputs",
        lambda tmp: counting(batch_size=10_000).transform(IMAGES),
        Behaves(fresh_equal),
    ),
    Case(
        S,
        "normalize='false' (a string for a bool)",
        lambda tmp: counting(normalize="false").transform(IMAGES),
        Raises(InvalidParameterError, r"'normalize'.*bool.*'false'"),
    ),
    Case(
        S,
        "normalize=np.bool_(True)",
        lambda tmp: counting(normalize=np.bool_(True)).transform(IMAGES),
        Behaves(lambda out: np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-6)),
    ),
    Case(
        S,
        "truncate_dim=0",
        lambda tmp: counting(truncate_dim=0).transform(IMAGES),
        Raises(InvalidParameterError, r"'truncate_dim'.*range \[1, inf\)"),
    ),
    Case(
        S,
        "truncate_dim larger than a packaged text model's width",
        lambda tmp: _text(truncate_dim=1000).transform(["a"]),
        Raises(ValueError, r"truncate_dim=1000.*(sentence-transformers|384)"),
    ),
    Case(
        S,
        "truncate_dim on a torch module",
        lambda tmp: counting(truncate_dim=3).transform(IMAGES),
        Raises(ValueError, r"truncate_dim=3 applies to sentence-transformers.*None"),
    ),
    Case(
        S,
        "prompt on a torch module",
        lambda tmp: counting(prompt="query: ").transform(IMAGES),
        Raises(ValueError, r"prompt='query: ' applies to sentence-transformers"),
    ),
    Case(
        S,
        "max_seq_length on an open_clip spec (another backend's option)",
        lambda tmp: EmbeddingExtractor(
            "open_clip:ViT-B-32/openai", modality="text", max_seq_length=16
        ).fit(["a"]),
        Raises(ValueError, r"max_seq_length=16 applies to sentence-transformers"),
    ),
    Case(
        S,
        "pooling='cls' on an open_clip spec",
        lambda tmp: EmbeddingExtractor(
            "open_clip:ViT-B-32/openai", modality="image", pooling="cls"
        ).fit(IMAGES),
        Raises(ValueError, r"pooling='cls' applies to 'hf:' models.*pooling='auto'"),
    ),
    Case(
        S,
        "output=0 on a sentence-transformers spec",
        lambda tmp: EmbeddingExtractor("sentence-transformers:x", output=0).fit(["a"]),
        Raises(ValueError, r"output=0 applies to ONNX models only"),
    ),
    Case(
        S,
        "output=-1",
        lambda tmp: counting(output=-1).transform(IMAGES),
        Raises(InvalidParameterError, r"'output'.*-1"),
    ),
    Case(
        S,
        "model_kwargs given as a list",
        lambda tmp: _text(model_kwargs=[("a", 1)]).transform(["a"]),
        Raises(InvalidParameterError, r"'model_kwargs'.*dict"),
    ),
    Case(
        S,
        "modality='images' (a typo)",
        lambda tmp: counting(modality="images").transform(IMAGES),
        Raises(InvalidParameterError, r"'modality'.*(image|text).*'images'"),
    ),
    Case(
        S,
        "dtype='float16' (torch's name, not an option)",
        lambda tmp: counting(dtype="float16").transform(IMAGES),
        Raises(InvalidParameterError, r"'dtype'.*fp16.*'float16'"),
    ),
    Case(
        S,
        "dtype=torch.float16 (a torch dtype)",
        lambda tmp: counting(dtype=torch.float16).transform(IMAGES),
        Raises(InvalidParameterError, r"'dtype'.*fp16"),
    ),
    Case(
        S,
        "view_pooling='sum'",
        lambda tmp: counting(view_pooling="sum").transform([IMAGES[:2]]),
        Raises(InvalidParameterError, r"'view_pooling'.*(mean|max).*'sum'"),
    ),
    Case(
        S,
        "n_workers=-1",
        lambda tmp: counting(n_workers=-1).transform(IMAGES),
        Raises(InvalidParameterError, r"'n_workers'.*range \[0, inf\)"),
    ),
    Case(
        S,
        "output_type='pandas'",
        lambda tmp: counting(output_type="pandas").transform(IMAGES),
        Raises(InvalidParameterError, r"'output_type'.*(numpy|torch).*'pandas'"),
    ),
    Case(
        S,
        "trust_remote_code='yes'",
        lambda tmp: _text(trust_remote_code="yes").transform(["a"]),
        Raises(InvalidParameterError, r"'trust_remote_code'.*bool.*'yes'"),
    ),
    Case(
        S,
        "preprocess='resize' (a string, not a callable)",
        lambda tmp: counting(preprocess="resize").transform(IMAGES),
        Raises(InvalidParameterError, r"'preprocess'.*callable.*'resize'"),
    ),
    Case(
        S,
        "preprocess on a sentence-transformers model (it tokenizes itself)",
        lambda tmp: EmbeddingExtractor(
            "sentence-transformers:x", preprocess=str.lower
        ).fit(["a"]),
        Raises(ValueError, r"tokenizes texts itself.*Remove preprocess"),
    ),
    Case(
        S,
        "a keyword typo through set_params (batchsize)",
        lambda tmp: counting().set_params(batchsize=4),
        Raises(ValueError, r"batchsize.*[Vv]alid parameters.*batch_size"),
    ),
    Case(
        S,
        "cache_dir=123 (an int for a path)",
        lambda tmp: counting(cache_dir=123).transform(IMAGES),
        Raises(InvalidParameterError, r"'cache_dir'.*(str|PathLike).*123"),
    ),
    Case(
        S,
        "cache_dir='' (an empty path)",
        lambda tmp: counting(cache_dir="").transform(IMAGES),
        Raises(ValueError, r"cache_dir=''.*(empty|folder)"),
    ),
    Case(
        S,
        "keep_weights_on_pickle=False pickles no weights, True does",
        lambda tmp: (_pickle_size(False), _pickle_size(True)),
        Behaves(lambda sizes: sizes[0] < 10_000 and sizes[1] > 1_000_000),
    ),
    Case(
        S,
        "clone of a module extractor shares the module",
        lambda tmp: (lambda e: clone(e).model is e.model)(counting()),
        Behaves(lambda same: same is True),
    ),
    # model specs
    Case(
        S,
        "backend prefix in capitals ('Open_Clip:')",
        lambda tmp: EmbeddingExtractor("Open_Clip:ViT-B-32/openai").fit(IMAGES),
        Raises(ValueError, r"Unknown backend 'Open_Clip'.*open_clip"),
    ),
    Case(
        S,
        "'sentence-transformers:' naming no model",
        lambda tmp: EmbeddingExtractor("sentence-transformers:").fit(["a"]),
        Raises(ValueError, r"names no model after the backend.*e\.g\."),
    ),
    Case(
        S,
        "model='' (empty)",
        lambda tmp: EmbeddingExtractor("").fit(["a"]),
        Raises(ValueError, r"Unknown model ''.*backend.*e\.g\."),
    ),
    Case(
        S,
        "a hub name with HF_HUB_OFFLINE and nothing cached",
        lambda tmp: EmbeddingExtractor("hf:nobody/no-such-model-xyz").transform(IMAGES),
        Raises(
            OSError,
            r"'nobody/no-such-model-xyz'.*(not in the local cache|offline).*local copy",
        ),
    ),
    Case(
        S,
        "trust_remote_code smuggled in model_kwargs",
        lambda tmp: EmbeddingExtractor(
            "sentence-transformers:x", model_kwargs={"trust_remote_code": True}
        ).fit(["a"]),
        Raises(ValueError, r"model_kwargs.*trust_remote_code.*parameter"),
    ),
    Case(
        S,
        "packaged name with a typo ('efficientnet-lite')",
        lambda tmp: EmbeddingExtractor("efficientnet-lite").fit(IMAGES),
        Raises(ValueError, r"Unknown model 'efficientnet-lite'.*efficientnet-lite0"),
    ),
    Case(
        S,
        "a torch module class, not an instance",
        lambda tmp: EmbeddingExtractor(torch.nn.Linear).fit(IMAGES),
        Raises((TypeError, ValueError), r"model.*(class|instance)"),
    ),
    Case(
        S,
        "onnx: a file that does not exist",
        lambda tmp: EmbeddingExtractor(
            "onnx:/no/such/model.onnx", preprocess=thumbnail
        ).transform(IMAGES),
        Raises((FileNotFoundError, ValueError), r"/no/such/model.onnx.*(exist|path)"),
    ),
    Case(
        S,
        "sentence-transformers: a local folder that does not exist",
        lambda tmp: EmbeddingExtractor(
            "sentence-transformers:./no/such/folder"
        ).transform(["a"]),
        Raises(FileNotFoundError, r"'\./no/such/folder' does not exist.*path"),
    ),
    Case(
        S,
        "open_clip spec without a modality",
        lambda tmp: EmbeddingExtractor("open_clip:ViT-B-32/openai").fit(IMAGES),
        Raises(ValueError, r"image and a text tower.*modality='image'"),
    ),
    # what a module returns
    Case(
        S,
        "a module returning one row per batch",
        lambda tmp: _module(WrongRows()),
        Raises(ValueError, r"shape \(1, 64\).*batch of 4.*\(n_samples, n_features\)"),
    ),
    Case(
        S,
        "a module returning NaN",
        lambda tmp: _module(NaNOutput()),
        Raises(FloatingPointError, r"NaN or infinite.*(dtype|fp32)"),
    ),
    Case(
        S,
        "a module returning a tuple",
        lambda tmp: _module(TupleOutput()),
        Raises(TypeError, r"returned a tuple, not a tensor.*Wrap the module"),
    ),
    Case(
        S,
        "a module returning token embeddings (3-D)",
        lambda tmp: _module(TokenOutput()),
        Raises(ValueError, r"shape \(4, 8, 8\).*pool"),
    ),
    Case(
        S,
        "a module returning integers",
        lambda tmp: _module(IntOutput()),
        Raises(ValueError, r"int64 values, not floating.*floating output"),
    ),
]
