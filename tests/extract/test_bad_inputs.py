"""Bad inputs to EmbeddingExtractor (texts, images, DICOM, specs, cache).

Each case asserts the error type and that the message names the problem and
the fix. Damaged cache entries and write faults: test_cache_integrity.py.
"""

import os

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skalign.extract import EmbeddingExtractor
from skalign.extract._images import ImageReadError
from tests.extract._modules import CountingEncoder, thumbnail

pytestmark = pytest.mark.usefixtures("fresh_model_registry")

PIXELS = np.random.default_rng(0).integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
SIZES = [
    np.random.default_rng(i).integers(0, 256, size=(10 + 5 * i, 9, 3), dtype=np.uint8)
    for i in range(2)
]


def _counting(**params):
    params.setdefault("preprocess", thumbnail)
    return EmbeddingExtractor(CountingEncoder(), **params)


def _text(**params):
    return EmbeddingExtractor("paraphrase-minilm-l3", **params)


def _no_resize(image):
    return torch.from_numpy(np.asarray(image, dtype=np.float32))


def _identity(image):
    return image


@pytest.fixture
def files(tmp_path):
    pydicom_data = pytest.importorskip("pydicom.data")
    ct = pydicom_data.get_testdata_file("CT_small.dcm")
    data = open(ct, "rb").read()
    paths = {
        "not_an_image": tmp_path / "notes.png",
        "truncated_dicom": tmp_path / "cut.dcm",
        "not_dicom": tmp_path / "fake.dcm",
        "a_file": tmp_path / "a_file.txt",
    }
    paths["not_an_image"].write_text("hello")
    paths["truncated_dicom"].write_bytes(data[: len(data) // 3])
    paths["not_dicom"].write_text("hello")
    paths["a_file"].write_text("not a folder")
    paths["report_dicom"] = pydicom_data.get_testdata_file("test-SR.dcm")
    return {name: os.fspath(path) for name, path in paths.items()}


CASES = {
    # texts
    "no texts": (
        lambda f: _text().transform([]),
        ValueError,
        r"X is empty.*at least one text",
    ),
    "a string, not a list": (
        lambda f: _text().transform("a chest x-ray"),
        TypeError,
        r"single str.*Wrap it in a list",
    ),
    "None among texts": (
        lambda f: _text().transform(["effusion", None]),
        TypeError,
        r"X\[1\] is a NoneType.*fillna",
    ),
    "numbers as texts": (
        lambda f: _text().transform([1, 2]),
        TypeError,
        r"X\[0\] is a int, not a string",
    ),
    "text preprocess failing": (
        lambda f: _text(preprocess=str.lower).transform(["a"]),
        ValueError,
        r"preprocess=str.lower failed on a batch of 1 texts.*list of strings",
    ),
    "text modality on an image-only packaged model": (
        lambda f: EmbeddingExtractor("efficientnet-lite0", modality="text").transform(
            ["a"]
        ),
        ValueError,
        r"efficientnet-lite0 cannot embed texts \(modality='text'\): it embeds "
        r"images only",
    ),
    "texts through a torch module without a tokenizer": (
        lambda f: EmbeddingExtractor(torch.nn.Linear(3, 2), modality="text").transform(
            ["a"]
        ),
        ValueError,
        r"cannot embed texts: it has no tokenizer.*preprocess=",
    ),
    # images
    "missing image file": (
        lambda f: _counting().transform(["/no/such/image.png"]),
        FileNotFoundError,
        r"Image file not found: '/no/such/image.png'",
    ),
    "a text file named .png": (
        lambda f: _counting().transform([f["not_an_image"]]),
        ImageReadError,
        r"notes.png.*corrupt or not in a format",
    ),
    "a 1-D array as an image": (
        lambda f: _counting().transform([np.zeros(5)]),
        ImageReadError,
        r"X\[0\].*shape \(H, W\).*got \(5,\)",
    ),
    "preprocess raising": (
        lambda f: _counting(preprocess=lambda image: 1 / 0).transform([PIXELS]),
        ValueError,
        r"Preprocessing failed on X\[0\].*ZeroDivisionError",
    ),
    "preprocess that does not resize": (
        lambda f: _counting(preprocess=_no_resize, batch_size=2).transform(SIZES),
        ValueError,
        r"preprocess=_no_resize cannot be batched.*shape \(10, 9, 3\).*shape "
        r"\(15, 9, 3\).*resize",
    ),
    "preprocess returning a PIL image": (
        lambda f: _counting(preprocess=_identity, batch_size=2).transform(SIZES),
        ValueError,
        r"preprocess=_identity.*returned a PIL.Image.Image.*ToTensor",
    ),
    "a torch module without preprocess": (
        lambda f: _counting(preprocess=None).transform([PIXELS]),
        ValueError,
        r"ships no image preprocessing: pass preprocess=",
    ),
    # DICOM
    "a truncated DICOM": (
        lambda f: _counting().transform([f["truncated_dicom"]]),
        ImageReadError,
        r"cut.dcm.*(less than expected|damaged or truncated)",
    ),
    "a text file named .dcm": (
        lambda f: _counting().transform([f["not_dicom"]]),
        ImageReadError,
        r"fake.dcm.*damaged, truncated or not a DICOM file",
    ),
    "a DICOM structured report": (
        lambda f: _counting().transform([f["report_dicom"]]),
        ImageReadError,
        r"test-SR.dcm' holds no pixel data.*modality: SR",
    ),
    # model specs and settings
    "unknown backend": (
        lambda f: EmbeddingExtractor("foo:bar").transform(["a"]),
        ValueError,
        r"Unknown backend 'foo'.*'sentence-transformers:",
    ),
    "unknown packaged model": (
        lambda f: EmbeddingExtractor("minilm-xx").transform(["a"]),
        ValueError,
        r"Unknown model 'minilm-xx'.*packaged models",
    ),
    "hf: a local path that does not exist": (
        lambda f: EmbeddingExtractor("hf:/no/such/dir").transform([PIXELS]),
        FileNotFoundError,
        r"local path '/no/such/dir' does not exist",
    ),
    "pooling on a non-hf model": (
        lambda f: _text(pooling="cls").transform(["a"]),
        ValueError,
        r"pooling='cls' applies to 'hf:' models only",
    ),
    "output on a non-ONNX model": (
        lambda f: EmbeddingExtractor("efficientnet-lite0", output="x").transform(["a"]),
        ValueError,
        r"output='x' applies to ONNX models only",
    ),
    "fp16 on an ONNX model": (
        lambda f: _text(dtype="fp16").transform(["a"]),
        ValueError,
        r"dtype='fp16' needs a torch model.*'fp32'",
    ),
    "an unknown device": (
        lambda f: _text(device="tpu").transform(["a"]),
        ValueError,
        r"device='tpu' is not a torch device",
    ),
    "batch_size 0": (
        lambda f: _text(batch_size=0).transform(["a"]),
        InvalidParameterError,
        r"'batch_size' parameter.*range \[1, inf\)",
    ),
    "model None": (
        lambda f: EmbeddingExtractor(None).transform(["a"]),
        InvalidParameterError,
        r"'model' parameter",
    ),
    "a meta-device tensor as X": (
        lambda f: _counting().transform(torch.empty(2, 12, 10, 3, device="meta")),
        TypeError,
        r"X is a torch tensor on the meta device.*no values",
    ),
    "a meta-device tensor as an image": (
        lambda f: _counting().transform(
            [PIXELS, torch.empty(12, 10, 3, device="meta")]
        ),
        TypeError,
        r"X\[1\] is a torch tensor on the meta device",
    ),
    # cache
    "cache_dir is a file": (
        lambda f: _counting(cache_dir=f["a_file"]).transform([PIXELS]),
        NotADirectoryError,
        r"cache_dir '.*a_file.txt' is the file .*must be a folder",
    ),
    "cache_dir inside a file": (
        lambda f: _counting(cache_dir=os.path.join(f["a_file"], "cache")).transform(
            [PIXELS]
        ),
        NotADirectoryError,
        r"cache_dir .* is inside the file .*a_file.txt",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_extractor_bad_input_is_named(case, files):
    call, error, pattern = CASES[case]
    with pytest.raises(error, match=pattern):
        call(files)
