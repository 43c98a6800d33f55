"""EmbeddingExtractor cache identity: what keys the memo and the disk store
(preprocess partials, closures, module-level settings, module weights), and
the memo agreeing with the disk."""

import functools
import importlib.util
import pickle
import sys
import threading

import numpy as np
import torch

from skalign.extract import EmbeddingExtractor, clear_model_cache
from skalign.extract._store import EmbeddingStore
from tests.catalogue._harness import Behaves, Case, Raises
from tests.extract._catalogue_helpers import (
    IMAGES,
    counting,
    partial_size,
    reference,
    rerun,
    resize_to,
)
from tests.extract._modules import CountingEncoder, thumbnail

S = "extractor identity"


def _changed_twice(first, second, cache_dir=None):
    """Embed with preprocess ``first`` then ``second`` (memo on, maybe a
    cache_dir); return both results and the uncached result of ``second``."""
    clear_model_cache()
    module = CountingEncoder()
    params = {"cache_dir": cache_dir}
    a = EmbeddingExtractor(module, preprocess=first, **params).transform(IMAGES)
    b = EmbeddingExtractor(module, preprocess=second, **params).transform(IMAGES)
    fresh = EmbeddingExtractor(module, preprocess=second, memoize=False).transform(
        IMAGES
    )
    return a, b, fresh


def _differ_and_fresh(results):
    a, b, fresh = results
    assert not np.allclose(a, b), "the second preprocess returned the first's rows"
    np.testing.assert_allclose(b, fresh, rtol=1e-6)
    return True


def _closure(size):
    def preprocess(image):
        return resize_to(image, size)

    return preprocess


def _settings_module(tmp, size):
    """A user module ``catextract_settings`` (a file in ``tmp``) with SIZE."""
    path = tmp / "catextract_settings.py"
    path.write_text(f"SIZE = {size}\n")
    spec = importlib.util.spec_from_file_location("catextract_settings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["catextract_settings"] = module
    return module


def _module_setting(tmp, cache):
    settings = _settings_module(tmp, 12)
    namespace = {"settings": settings, "resize_to": resize_to}
    exec(  # a preprocess that reads settings.SIZE when called
        "def by_setting(image):\n    return resize_to(image, settings.SIZE)\n",
        namespace,
    )
    preprocess = namespace["by_setting"]
    clear_model_cache()
    module = CountingEncoder()
    cache_dir = tmp / "cache" if cache else None
    first = EmbeddingExtractor(module, preprocess=preprocess, cache_dir=cache_dir)
    a = first.transform(IMAGES)
    settings.SIZE = 40
    b = EmbeddingExtractor(
        module, preprocess=preprocess, cache_dir=cache_dir
    ).transform(IMAGES)
    fresh = EmbeddingExtractor(
        module, preprocess=functools.partial(resize_to, size=40), memoize=False
    ).transform(IMAGES)
    del sys.modules["catextract_settings"]
    return a, b, fresh


class Resizer:
    def __init__(self, size):
        self.size = size

    def __call__(self, image):
        return resize_to(image, self.size)


def _attribute_edited(cache_dir):
    preprocess = Resizer(12)
    clear_model_cache()
    module = CountingEncoder()
    a = EmbeddingExtractor(
        module, preprocess=preprocess, cache_dir=cache_dir
    ).transform(IMAGES)
    preprocess.size = 40
    b = EmbeddingExtractor(
        module, preprocess=preprocess, cache_dir=cache_dir
    ).transform(IMAGES)
    fresh = EmbeddingExtractor(module, preprocess=Resizer(40), memoize=False).transform(
        IMAGES
    )
    return a, b, fresh


class ClassSized:
    """Reads its size from a class attribute."""

    SIZE = 12

    def __call__(self, image):
        return resize_to(image, self.SIZE)


def _class_attribute_edited(cache_dir):
    preprocess = ClassSized()
    clear_model_cache()
    module = CountingEncoder()
    try:
        a = EmbeddingExtractor(
            module, preprocess=preprocess, cache_dir=cache_dir
        ).transform(IMAGES)
        ClassSized.SIZE = 40
        b = EmbeddingExtractor(
            module, preprocess=preprocess, cache_dir=cache_dir
        ).transform(IMAGES)
    finally:
        ClassSized.SIZE = 12
    fresh = EmbeddingExtractor(module, preprocess=Resizer(40), memoize=False).transform(
        IMAGES
    )
    return a, b, fresh


_BASE = """
class Base:
    def __call__(self, image):
        return resize_to(image, {size})


class Child(Base):
    pass
"""


def _inherited_code_edited(tmp):
    """A preprocess whose method comes from a user base class, whose code is
    edited between two runs (the same names, another body)."""
    clear_model_cache()
    module = CountingEncoder()
    results = []
    for size in (12, 40):
        namespace = {"resize_to": resize_to, "__name__": "catextract_user_code"}
        exec(_BASE.format(size=size), namespace)
        results.append(
            EmbeddingExtractor(
                module, preprocess=namespace["Child"](), cache_dir=tmp
            ).transform(IMAGES)
        )
    fresh = EmbeddingExtractor(module, preprocess=Resizer(40), memoize=False).transform(
        IMAGES
    )
    return results[0], results[1], fresh


def _getattr_setting(tmp):
    settings = _settings_module(tmp, 12)
    namespace = {"settings": settings, "resize_to": resize_to}
    exec(  # the setting read by a string name
        "def by_name(image):\n    return resize_to(image, getattr(settings, 'SIZE'))\n",
        namespace,
    )
    preprocess = namespace["by_name"]
    clear_model_cache()
    module = CountingEncoder()
    a = EmbeddingExtractor(
        module, preprocess=preprocess, cache_dir=tmp / "c"
    ).transform(IMAGES)
    settings.SIZE = 40
    b = EmbeddingExtractor(
        module, preprocess=preprocess, cache_dir=tmp / "c"
    ).transform(IMAGES)
    fresh = EmbeddingExtractor(module, preprocess=Resizer(40), memoize=False).transform(
        IMAGES
    )
    del sys.modules["catextract_settings"]
    return a, b, fresh


_MODULE_CODE = """
import torch


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("projection", torch.randn(64, 6, generator=generator))

    def forward(self, x):
        return {body}
"""


def _module_code_edited(tmp):
    """Two modules with the same class name and weights, another forward:
    the second run (same cache_dir) must not get the first's rows."""
    clear_model_cache()
    results = []
    for body in (
        "x.reshape(len(x), -1) @ self.projection",
        "torch.relu(x.reshape(len(x), -1) @ self.projection)",
    ):
        namespace = {"__name__": "catextract_user_model"}
        exec(_MODULE_CODE.format(body=body), namespace)
        results.append(
            EmbeddingExtractor(
                namespace["Encoder"](), preprocess=thumbnail, cache_dir=tmp
            ).transform(IMAGES)
        )
    fresh = torch.relu(torch.from_numpy(reference())).numpy()
    return results[0], results[1], fresh


class Scaled(torch.nn.Module):
    """A module whose output depends on a plain attribute (not a buffer)."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("projection", torch.randn(64, 6, generator=generator))

    def forward(self, x):
        return self.scale * (x.reshape(len(x), -1) @ self.projection)


def _module_attribute_edited(tmp):
    clear_model_cache()
    module = Scaled(1.0)
    a = EmbeddingExtractor(module, preprocess=thumbnail, cache_dir=tmp).transform(
        IMAGES
    )
    module.scale = 3.0
    b = EmbeddingExtractor(module, preprocess=thumbnail, cache_dir=tmp).transform(
        IMAGES
    )
    return a, b, 3.0 * reference()


def _compose(interpolation):
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Grayscale(),
            transforms.Resize((8, 8), interpolation=interpolation),
            transforms.ToTensor(),
        ]
    )


def _torchvision_changed(tmp):
    from torchvision.transforms import InterpolationMode

    return _changed_twice(
        _compose(InterpolationMode.BILINEAR), _compose(InterpolationMode.NEAREST), tmp
    )


SCALE = np.array([1.0])


def _by_global_array(image):
    return thumbnail(image) * float(SCALE[0])


def _global_array_mutated(tmp):
    clear_model_cache()
    module = CountingEncoder()
    try:
        a = EmbeddingExtractor(
            module, preprocess=_by_global_array, cache_dir=tmp
        ).transform(IMAGES)
        SCALE[0] = 2.0
        b = EmbeddingExtractor(
            module, preprocess=_by_global_array, cache_dir=tmp
        ).transform(IMAGES)
    finally:
        SCALE[0] = 1.0
    return a, b, 2.0 * reference()


def _weights_edited_in_place():
    clear_model_cache()
    module = CountingEncoder()
    extractor = EmbeddingExtractor(module, preprocess=thumbnail)
    a = extractor.transform(IMAGES)
    with torch.no_grad():
        module.projection.mul_(2)
    b = extractor.transform(IMAGES)
    fresh = EmbeddingExtractor(module, preprocess=thumbnail, memoize=False).transform(
        IMAGES
    )
    return a, b, fresh


def _memo_hit_reaches_new_cache(tmp):
    clear_model_cache()
    counting().transform(IMAGES)  # in the memo only
    counting(cache_dir=tmp / "new").transform(IMAGES)  # memo hit
    clear_model_cache()  # memo gone: the disk must serve everything
    return rerun(tmp / "new")


def _memo_after_disk_damage(tmp):
    """The memo holds rows; the disk copy is then damaged: the memo answers
    (it is right), and the disk entry is not trusted later."""
    counting(cache_dir=tmp).transform(IMAGES)
    for shard in (tmp / "shards").glob("*.npy"):
        data = bytearray(shard.read_bytes())
        data[-8:] = b"\xff" * 8
        shard.write_bytes(bytes(data))
    in_memory = counting(cache_dir=tmp).transform(IMAGES)
    from_disk, n_embedded = rerun(tmp)
    return in_memory, from_disk, n_embedded


def _pickled_after_memo_hit():
    """keep_weights_on_pickle=True after every input came from the memo."""
    clear_model_cache()
    EmbeddingExtractor("all-minilm-l6-v2").transform(["a", "b"])
    extractor = EmbeddingExtractor("all-minilm-l6-v2", keep_weights_on_pickle=True)
    extractor.transform(["a", "b"])  # memo hit: no model loaded by this one
    shipped = pickle.loads(pickle.dumps(extractor))
    clear_model_cache()
    return shipped.resolve().is_loaded


def _unpicklable_with_cache(tmp):
    lock = threading.Lock()

    def locked(image):
        with lock:
            return thumbnail(image)

    return EmbeddingExtractor(
        CountingEncoder(), preprocess=locked, cache_dir=tmp
    ).transform(IMAGES)


def _unpicklable_memo_only():
    lock = threading.Lock()

    def locked(image):
        with lock:
            return thumbnail(image)

    clear_model_cache()
    CountingEncoder.calls.clear()
    extractor = EmbeddingExtractor(CountingEncoder(), preprocess=locked)
    extractor.transform(IMAGES)
    extractor.transform(IMAGES)
    return sum(CountingEncoder.calls)


def _description_in_index(tmp):
    counting(cache_dir=tmp, preprocess=partial_size(12)).transform(IMAGES)
    with EmbeddingStore(tmp, "x", {}) as store:
        rows = store._index().execute("SELECT description FROM models").fetchall()
    return [row[0] for row in rows]


CASES = [
    Case(
        S,
        "preprocess=partial(f, size=12) then size=40 (memo)",
        lambda tmp: _changed_twice(partial_size(12), partial_size(40)),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "preprocess=partial(f, size=12) then size=40 (cache_dir)",
        lambda tmp: _changed_twice(partial_size(12), partial_size(40), tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a closure over size 12 then 40 (cache_dir)",
        lambda tmp: _changed_twice(_closure(12), _closure(40), tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a lambda then an edited lambda (memo)",
        lambda tmp: _changed_twice(
            lambda image: resize_to(image, 12), lambda image: resize_to(image, 40)
        ),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "preprocess reads a module-level setting that changes (memo)",
        lambda tmp: _module_setting(tmp, cache=False),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "preprocess reads a module-level setting that changes (cache_dir)",
        lambda tmp: _module_setting(tmp, cache=True),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a callable object whose attribute is edited in place (cache_dir)",
        lambda tmp: _attribute_edited(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a class attribute the preprocess reads is edited (cache_dir)",
        lambda tmp: _class_attribute_edited(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a method inherited from an edited user base class (cache_dir)",
        lambda tmp: _inherited_code_edited(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a module setting read with getattr(settings, 'SIZE') changes (cache_dir)",
        lambda tmp: _getattr_setting(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a module's forward edited (same class name, same weights; cache_dir)",
        lambda tmp: _module_code_edited(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a module's plain attribute (not a buffer) edited (cache_dir)",
        lambda tmp: _module_attribute_edited(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a torchvision Compose with another interpolation (cache_dir)",
        lambda tmp: _torchvision_changed(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a module-level numpy array the preprocess reads, mutated in place",
        lambda tmp: _global_array_mutated(tmp),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "module weights edited in place between transforms",
        lambda tmp: _weights_edited_in_place(),
        Behaves(_differ_and_fresh),
    ),
    Case(
        S,
        "a memo hit is written to a new cache_dir",
        lambda tmp: _memo_hit_reaches_new_cache(tmp),
        Behaves(lambda out: out[1] == 0 and np.allclose(out[0], reference())),
    ),
    Case(
        S,
        "memo and a damaged disk copy: the memo answers, the disk is not trusted",
        lambda tmp: _memo_after_disk_damage(tmp),
        Behaves(
            lambda out: (
                np.allclose(out[0], reference())
                and np.allclose(out[1], reference())
                and out[2] > 0
            )
        ),
    ),
    Case(
        S,
        "keep_weights_on_pickle=True after a memo hit ships the weights",
        lambda tmp: _pickled_after_memo_hit(),
        Behaves(lambda loaded: loaded is True),
    ),
    Case(
        S,
        "an unpicklable preprocess with cache_dir",
        lambda tmp: _unpicklable_with_cache(tmp),
        Raises(ValueError, r"preprocess=.*locked.*cannot be pickled.*cache_dir=None"),
    ),
    Case(
        S,
        "an unpicklable preprocess without cache_dir embeds again, right",
        lambda tmp: _unpicklable_memo_only(),
        Behaves(lambda n_embedded: n_embedded == 2 * len(IMAGES)),
    ),
    Case(
        S,
        "clear_model_cache then the same inputs from cache_dir embed nothing",
        lambda tmp: (counting(cache_dir=tmp).transform(IMAGES), rerun(tmp))[1],
        Behaves(lambda out: out[1] == 0 and np.allclose(out[0], reference())),
    ),
    Case(
        S,
        "normalize=True and False share the cache and each is right",
        lambda tmp: (
            counting(cache_dir=tmp, normalize=True).transform(IMAGES),
            counting(cache_dir=tmp).transform(IMAGES),
        ),
        Behaves(
            lambda out: (
                np.allclose(out[1], reference())
                and np.allclose(
                    out[0],
                    reference() / np.linalg.norm(reference(), axis=1, keepdims=True),
                    atol=1e-6,
                )
            )
        ),
    ),
    Case(
        S,
        "dtype='bf16' after fp32 in one cache_dir gets bf16 rows",
        lambda tmp: (
            counting(cache_dir=tmp).transform(IMAGES),
            counting(cache_dir=tmp, dtype="bf16").transform(IMAGES),
            counting(dtype="bf16", memoize=False).transform(IMAGES),
        ),
        Behaves(
            lambda out: (
                np.array_equal(out[1], out[2]) and not np.array_equal(out[0], out[1])
            )
        ),
    ),
    Case(
        S,
        "truncate_dim=32 then None in one cache_dir",
        lambda tmp: (
            EmbeddingExtractor(
                "all-minilm-l6-v2", truncate_dim=32, cache_dir=tmp
            ).transform(["effusion"]),
            EmbeddingExtractor("all-minilm-l6-v2", cache_dir=tmp).transform(
                ["effusion"]
            ),
        ),
        Behaves(
            lambda out: (
                out[0].shape == (1, 32)
                and out[1].shape == (1, 384)
                and np.allclose(out[1][:, :32], out[0], atol=1e-6)
            )
        ),
    ),
    Case(
        S,
        "the index records the partial's arguments in the model description",
        lambda tmp: _description_in_index(tmp),
        Behaves(lambda rows: len(rows) == 1 and '"preprocess"' in rows[0]),
    ),
]
