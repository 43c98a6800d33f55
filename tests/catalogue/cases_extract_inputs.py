"""What EmbeddingExtractor.transform receives: odd containers, texts, image
files of every mode, in-memory images of odd shapes and dtypes."""

import struct
import zlib

import numpy as np
import pandas as pd
import torch
from PIL import Image

from skalign.extract import EmbeddingExtractor, clear_model_cache
from skalign.extract._images import ImageReadError
from tests.catalogue._harness import Behaves, Case, Raises
from tests.extract._catalogue_helpers import IMAGES, counting, png, reference

S = "extractor inputs"
RNG = np.random.default_rng(3)
RGB = RNG.integers(0, 256, size=(20, 16, 3), dtype=np.uint8)


def _text(X):
    return EmbeddingExtractor("paraphrase-minilm-l3", memoize=False).transform(X)


def _same_as_list(texts):
    def check(result):
        np.testing.assert_allclose(result, _text(texts), rtol=1e-5, atol=1e-6)
        return True

    return check


def _embed(*images, **params):
    clear_model_cache()
    return counting(memoize=False, **params).transform(list(images))


def _equals(*images):
    def check(result):
        np.testing.assert_allclose(result, _embed(*images), rtol=1e-5, atol=1e-6)
        return True

    return check


def _huge_png(tmp):
    """A PNG header of 30000 x 30000 pixels (the bytes of a decompression bomb)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    path = tmp / "bomb.png"
    path.write_bytes(data)
    return _embed(str(path))


def _file_edited(tmp):
    path = tmp / "scan.png"
    first = Image.fromarray(RGB)
    first.save(path)
    clear_model_cache()
    a = counting().transform([str(path)])
    second = Image.fromarray(255 - RGB)
    second.save(path)
    b = counting().transform([str(path)])
    return a, b, second


def _pil(mode):
    return Image.fromarray(RGB).convert(mode)


def _cmyk(tmp):
    """A CMYK JPEG, and the embedding of Pillow's RGB conversion of it."""
    path = png(tmp / "cmyk.jpg", _pil("CMYK"))
    with Image.open(path) as opened:
        converted = opened.convert("RGB")
    return _embed(path), _embed(converted)


def _float_pil_with_nan():
    values = RNG.normal(size=(20, 16)).astype(np.float32)
    values[3, 4] = np.nan
    return _embed(Image.fromarray(values, mode="F"))


CASES = [
    # containers
    Case(
        S,
        "a set of texts (no order)",
        lambda tmp: _text({"effusion", "no finding"}),
        Raises(TypeError, r"set.*order.*(list|sorted)"),
    ),
    Case(
        S,
        "a dict of id -> text",
        lambda tmp: _text({"p1": "effusion", "p2": "no finding"}),
        Raises(TypeError, r"dict.*(values|list)"),
    ),
    Case(
        S,
        "a generator of texts",
        lambda tmp: _text(text for text in ["effusion", "no finding"]),
        Behaves(_same_as_list(["effusion", "no finding"])),
    ),
    Case(
        S,
        "a pandas Series with a shuffled index",
        lambda tmp: _text(pd.Series(["effusion", "no finding"], index=[7, 3])),
        Behaves(_same_as_list(["effusion", "no finding"])),
    ),
    Case(
        S,
        "a pandas Series with NaN texts",
        lambda tmp: _text(pd.Series(["effusion", np.nan])),
        Raises(TypeError, r"X\[1\] is a float.*fillna"),
    ),
    Case(
        S,
        "a (n, 1) numpy array of str",
        lambda tmp: _text(np.array([["effusion"], ["no finding"]])),
        Behaves(_same_as_list(["effusion", "no finding"])),
    ),
    Case(
        S,
        "an int instead of a list",
        lambda tmp: _text(3),
        Raises(TypeError, r"X must be a list of texts.*int"),
    ),
    Case(
        S,
        "a 2-D float array (already embedded) to a text model",
        lambda tmp: _text(np.zeros((3, 384))),
        Raises(ValueError, r"numeric array of shape \(3, 384\).*Already embedded"),
    ),
    # texts
    Case(
        S,
        "bytes among texts",
        lambda tmp: _text(["effusion", b"no finding"]),
        Raises(TypeError, r"X\[1\] is a bytes.*decode"),
    ),
    Case(
        S,
        "an empty string is a text (embedded, finite)",
        lambda tmp: _text(["", "effusion"]),
        Behaves(lambda out: out.shape == (2, 384) and np.isfinite(out).all()),
    ),
    Case(
        S,
        "a 250,000-character text is truncated like a 1,000-word one",
        lambda tmp: _text(["word " * 50_000]),
        Behaves(_same_as_list(["word " * 1_000])),
    ),
    Case(
        S,
        "a lone surrogate in a text",
        lambda tmp: _text(["effusion", "a\ud800b"]),
        Raises(ValueError, r"X\[1\] is not valid Unicode.*surrogate.*replace"),
    ),
    Case(
        S,
        "NUL, emoji and right-to-left text are texts",
        lambda tmp: _text(["x\x00y", "\U0001f9e0 \u05e9\u05dc\u05d5\u05dd"]),
        Behaves(lambda out: out.shape == (2, 384) and np.isfinite(out).all()),
    ),
    Case(
        S,
        "a float image array holding NaN",
        lambda tmp: _embed(np.where(RGB > 200, np.nan, RGB / 255.0)),
        Raises(ImageReadError, r"X\[0\].*NaN.*nan_to_num"),
    ),
    Case(
        S,
        "a group of texts all None",
        lambda tmp: _text([["effusion"], [None, None]]),
        Raises(ValueError, r"X\[1\] is a group with no views.*Drop"),
    ),
    # image files
    Case(
        S,
        "a 0-byte .png",
        lambda tmp: _embed(
            str((tmp / "empty.png", (tmp / "empty.png").write_bytes(b""))[0])
        ),
        Raises(ImageReadError, r"empty\.png.*(corrupt|empty).*(Re-export|remove)"),
    ),
    Case(
        S,
        "a folder as an image path",
        lambda tmp: _embed(str(tmp)),
        Raises((IsADirectoryError, ImageReadError), r"is a folder.*(files|glob)"),
    ),
    Case(
        S,
        "texts given to an image model",
        lambda tmp: _embed("pleural effusion", "no finding"),
        Raises(FileNotFoundError, r"'pleural effusion'.*(texts|modality='text')"),
    ),
    Case(
        S,
        "/dev/zero as an image path (never read to the end)",
        lambda tmp: _embed("/dev/zero"),
        Raises(ImageReadError, r"'/dev/zero' is not a regular file.*image file"),
    ),
    Case(
        S,
        "an image URL",
        lambda tmp: _embed("https://example.org/xray.png"),
        Raises(FileNotFoundError, r"'https://example.org/xray.png'.*URL.*download"),
    ),
    Case(
        S,
        "X=None",
        lambda tmp: _text(None),
        Raises(TypeError, r"X must be a list of texts.*NoneType"),
    ),
    Case(
        S,
        "a 0-d numpy str array",
        lambda tmp: _text(np.array("effusion")),
        Raises((TypeError, ValueError), r"(1-D|single).*(list|\[x\])"),
    ),
    Case(
        S,
        "a truncated PNG",
        lambda tmp: _embed(
            str(
                (
                    tmp / "cut.png",
                    (tmp / "cut.png").write_bytes(
                        open(png(tmp / "full.png", Image.fromarray(RGB)), "rb").read()[
                            :60
                        ]
                    ),
                )[0]
            )
        ),
        Raises(ImageReadError, r"cut\.png.*(truncated|corrupt).*(Re-export|remove)"),
    ),
    Case(
        S,
        "a PNG header of 30000 x 30000 pixels (decompression bomb)",
        lambda tmp: _huge_png(tmp),
        Raises(ImageReadError, r"bomb\.png.*(pixels|large).*MAX_IMAGE_PIXELS"),
    ),
    Case(
        S,
        "a CMYK JPEG reads as its RGB conversion",
        lambda tmp: _cmyk(tmp),
        Behaves(lambda out: np.allclose(out[0], out[1], rtol=1e-5, atol=1e-6)),
    ),
    Case(
        S,
        "a 16-bit PNG is min-max scaled like its array",
        lambda tmp: _embed(
            png(
                tmp / "deep.png",
                Image.fromarray(np.arange(320, dtype=np.uint16).reshape(20, 16) * 200),
            )
        ),
        Behaves(_equals(np.arange(320, dtype=np.uint16).reshape(20, 16) * 200)),
    ),
    Case(
        S,
        "a palette PNG reads as its RGB conversion",
        lambda tmp: _embed(png(tmp / "palette.png", _pil("P"))),
        Behaves(_equals(_pil("P").convert("RGB"))),
    ),
    Case(
        S,
        "an RGBA PNG drops its alpha like an RGBA array",
        lambda tmp: _embed(
            png(tmp / "rgba.png", Image.fromarray(np.dstack([RGB, RGB[..., :1]])))
        ),
        Behaves(_equals(np.dstack([RGB, RGB[..., :1]]))),
    ),
    Case(
        S,
        "a file edited between two calls (same path) is embedded again",
        lambda tmp: _file_edited(tmp),
        Behaves(
            lambda out: not np.allclose(out[0], out[1]) and _equals(out[2])(out[1])
        ),
    ),
    # in-memory images
    Case(
        S,
        "a float PIL image (mode F) holding NaN",
        lambda tmp: _float_pil_with_nan(),
        Raises(ImageReadError, r"NaN.*(nan_to_num|replace)"),
    ),
    Case(
        S,
        "a 0 x 0 PIL image",
        lambda tmp: _embed(Image.new("RGB", (0, 0))),
        Raises(ImageReadError, r"X\[0\].*empty.*0"),
    ),
    Case(
        S,
        "a complex array",
        lambda tmp: _embed(RGB.astype(np.complex64)),
        Raises(ImageReadError, r"X\[0\].*complex64.*(uint8|float)"),
    ),
    Case(
        S,
        "an object array of pixels",
        lambda tmp: _embed(RGB.astype(object)),
        Raises(ImageReadError, r"X\[0\].*object.*(uint8|float)"),
    ),
    Case(
        S,
        "an (H, W, 2) array",
        lambda tmp: _embed(RGB[..., :2]),
        Raises(ImageReadError, r"X\[0\].*\(H, W, 3\).*\(20, 16, 2\)"),
    ),
    Case(
        S,
        "a channels-first (3, H, W) array",
        lambda tmp: _embed(np.moveaxis(RGB, -1, 0)),
        Raises(ImageReadError, r"X\[0\].*channels-first.*moveaxis"),
    ),
    Case(
        S,
        "an empty (0, 16, 3) array",
        lambda tmp: _embed(RGB[:0]),
        Raises(ImageReadError, r"X\[0\].*empty"),
    ),
    Case(
        S,
        "a bool mask image is 0/255",
        lambda tmp: _embed(RGB[..., 0] > 128),
        Behaves(_equals(((RGB[..., 0] > 128) * 255).astype(np.uint8))),
    ),
    Case(
        S,
        "a float16 image in [0, 1] is scaled like float32",
        lambda tmp: _embed((RGB / 255).astype(np.float16)),
        Behaves(_equals((RGB / 255).astype(np.float16).astype(np.float32))),
    ),
    Case(
        S,
        "a 5-D numeric array as X",
        lambda tmp: counting().transform(np.zeros((2, 1, 8, 8, 3))),
        Raises(ValueError, r"shape \(2, 1, 8, 8, 3\).*\(n, H, W, C\)"),
    ),
    Case(
        S,
        "an (n, H, W, C) array with n = 0",
        lambda tmp: counting().transform(np.zeros((0, 8, 8, 3), dtype=np.uint8)),
        Raises(ValueError, r"X is empty.*at least one image"),
    ),
    Case(
        S,
        "a CPU torch tensor in a list of images",
        lambda tmp: _embed(torch.zeros(8, 8, 3)),
        Raises(TypeError, r"X\[0\] is a Tensor.*numpy arrays"),
    ),
    Case(
        S,
        "a CPU torch tensor of images as X",
        lambda tmp: counting().transform(torch.zeros(2, 3, 8, 8)),
        Raises(TypeError, r"X is a torch tensor.*permute\(0, 2, 3, 1\)"),
    ),
    Case(
        S,
        "an int among images",
        lambda tmp: _embed(RGB, 5),
        Raises(TypeError, r"X\[1\] is a int, which is not an image.*file paths"),
    ),
    Case(
        S,
        "a list mixing a path and an array",
        lambda tmp: _embed(png(tmp / "a.png", Image.fromarray(RGB)), RGB),
        Raises(TypeError, r"mixes input types.*load_image"),
    ),
    Case(
        S,
        "PIL images of modes L, RGB and I;16 in one list",
        lambda tmp: _embed(
            _pil("L"), _pil("RGB"), Image.fromarray(RGB[..., 0].astype(np.uint16) * 250)
        ),
        Behaves(
            lambda out: (
                np.allclose(out[0], _embed(_pil("L"))[0], atol=1e-6)
                and np.allclose(out[1], _embed(_pil("RGB"))[0], atol=1e-6)
                and np.allclose(
                    out[2], _embed(RGB[..., 0].astype(np.uint16) * 250)[0], atol=1e-6
                )
            )
        ),
    ),
    Case(
        S,
        "a PIL image and an array in one list",
        lambda tmp: _embed(_pil("RGB"), RGB),
        Raises(TypeError, r"mixes input types.*PIL image.*image array.*load_image"),
    ),
    Case(
        S,
        "duplicate images embed once and repeat",
        lambda tmp: counting(memoize=False).transform(
            [IMAGES[0], IMAGES[1], IMAGES[0]]
        ),
        Behaves(
            lambda out: (
                np.array_equal(out[0], out[2])
                and np.allclose(out[:2], reference(IMAGES[:2]))
            )
        ),
    ),
]
