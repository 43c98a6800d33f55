"""Where and how EmbeddingExtractor runs: device strings and objects, dtype
(autocast) options, output_type, and embed_distributed's arguments."""

import numpy as np
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skalign.extract import EmbeddingExtractor, embed_distributed
from tests.catalogue._harness import Behaves, Case, Raises
from tests.extract._catalogue_helpers import IMAGES, counting, fresh_equal, reference

S = "extractor runtime"
HAS_CUDA = torch.cuda.is_available()


def _close_to_fp32(out):
    np.testing.assert_allclose(out, reference(), rtol=5e-2, atol=5e-2)
    assert out.dtype == np.float32
    return True


CASES = [
    Case(
        S,
        "device='cuda:7' (an absent GPU)",
        lambda tmp: counting(device="cuda:7").transform(IMAGES),
        Raises(ValueError, r"device='cuda:7'.*(not available|only \d).*(auto|cuda:0)"),
    ),
    Case(
        S,
        "device='cuda:7' when every input is already in the memo",
        lambda tmp: (
            counting().transform(IMAGES),
            counting(device="cuda:7").transform(IMAGES),
        ),
        Raises(ValueError, r"device='cuda:7'.*(not available|only \d).*(auto|cuda:0)"),
    ),
    Case(
        S,
        "device='mps' off a Mac",
        lambda tmp: counting(device="mps").transform(IMAGES),
        Raises(ValueError, r"device='mps'.*MPS is not available.*device='auto'"),
    ),
    Case(
        S,
        "device='meta' (no values to compute with)",
        lambda tmp: counting(device="meta").transform(IMAGES),
        Raises(ValueError, r"device='meta'.*(no values|cannot).*('cpu'|'auto')"),
    ),
    Case(
        S,
        "device='CPU' (capitals)",
        lambda tmp: counting(device="CPU").transform(IMAGES),
        Raises(ValueError, r"device='CPU' is not a torch device.*'cpu'"),
    ),
    Case(
        S,
        "device='' (empty)",
        lambda tmp: counting(device="").transform(IMAGES),
        Raises(ValueError, r"device='' is not a torch device.*'auto'"),
    ),
    Case(
        S,
        "device=0 (an int, as torch accepts)",
        lambda tmp: counting(device=0).transform(IMAGES),
        Raises(InvalidParameterError, r"'device'.*str.*0"),
    ),
    Case(
        S,
        "device=torch.device('cpu') (a torch.device object)",
        lambda tmp: counting(device=torch.device("cpu")).transform(IMAGES),
        Behaves(fresh_equal),
    ),
    Case(
        S,
        "device='cpu:0'",
        lambda tmp: counting(device="cpu:0").transform(IMAGES),
        Behaves(fresh_equal),
    ),
    Case(
        S,
        "dtype='bf16' on the CPU returns float32 close to fp32",
        lambda tmp: counting(dtype="bf16", memoize=False).transform(IMAGES),
        Behaves(_close_to_fp32),
    ),
    Case(
        S,
        "dtype='fp16' on the CPU returns float32 close to fp32",
        lambda tmp: counting(dtype="fp16", memoize=False).transform(IMAGES),
        Behaves(_close_to_fp32),
    ),
    Case(
        S,
        "output_type='torch' on the CPU",
        lambda tmp: counting(output_type="torch").transform(IMAGES),
        Behaves(
            lambda out: (
                isinstance(out, torch.Tensor)
                and out.dtype == torch.float32
                and fresh_equal(out.numpy())
            )
        ),
    ),
    Case(
        S,
        "output_type='torch' with a bad device fails before embedding",
        lambda tmp: counting(output_type="torch", device="cuda:3").transform(IMAGES),
        Raises(ValueError, r"device='cuda:3'.*(not available|only \d)"),
    ),
    Case(
        S,
        "max_seq_length beyond the model's positions (100000)",
        lambda tmp: EmbeddingExtractor(
            "all-minilm-l6-v2", max_seq_length=100_000, memoize=False
        ).transform(["word " * 2_000]),
        Raises(ValueError, r"max_seq_length=100000.*(512|position).*(at most|None)"),
    ),
    Case(
        S,
        "prompt_name that the model does not define",
        lambda tmp: EmbeddingExtractor(
            "all-minilm-l6-v2", prompt_name="passage", memoize=False
        ).transform(["a"]),
        Raises(ValueError, r"prompt_name='passage'.*(document|query).*prompt="),
    ),
    Case(
        S,
        "set_output(transform='pandas') names the embedding columns",
        lambda tmp: counting().set_output(transform="pandas").transform(IMAGES),
        Behaves(
            lambda frame: (
                list(frame.columns) == [f"embeddingextractor{i}" for i in range(6)]
                and fresh_equal(frame.to_numpy())
            )
        ),
    ),
    Case(
        S,
        "get_feature_names_out before any transform of a module",
        lambda tmp: counting().get_feature_names_out(),
        Raises(Exception, r"width.*known once.*transform"),
    ),
    Case(
        S,
        "embed_distributed with partition_size=0",
        lambda tmp: embed_distributed(counting(), IMAGES, tmp, partition_size=0),
        Raises(InvalidParameterError, r"'partition_size'.*range \[1, inf\)"),
    ),
    Case(
        S,
        "embed_distributed with a model name instead of an extractor",
        lambda tmp: embed_distributed("all-minilm-l6-v2", ["a"], tmp),
        Raises(InvalidParameterError, r"'extractor'.*EmbeddingExtractor"),
    ),
    Case(
        S,
        "embed_distributed with output=None",
        lambda tmp: embed_distributed(counting(), IMAGES, None),
        Raises(InvalidParameterError, r"'output'.*(str|PathLike)"),
    ),
    Case(
        S,
        "embed_distributed with retries=True (a bool for an int)",
        lambda tmp: embed_distributed(counting(), IMAGES, tmp, retries=True),
        Raises((InvalidParameterError, TypeError, ValueError), r"retries.*(int|bool)"),
    ),
]
