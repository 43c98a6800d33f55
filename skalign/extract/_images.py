"""Read one image (file path, PIL image or array) as an 8-bit RGB PIL image.

Every vision backend starts from the same decoded image, so preprocessing is the
model's own (``open_clip``'s transform, a Hugging Face image processor, a user
callable) and reading is shared: PNG, JPEG and everything else Pillow opens
(EXIF orientation applied), DICOM through pydicom with the modality and VOI
LUTs (rescale, window centre/width) mapped to 8 bits, and in-memory arrays of
any numeric dtype. Errors name the file or the item and say what to do.
"""

import os

import numpy as np

from .._optional import import_optional

DICOM_SUFFIXES = (".dcm", ".dicom", ".dic")
_DICOM_MAGIC_OFFSET = 128
_HIGH_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


class ImageReadError(ValueError):
    """An image file or object could not be read; the message names it."""


def load_image(image):
    """Read one image as an 8-bit RGB :class:`PIL.Image.Image`.

    This is what every vision backend of
    :class:`~skalign.extract.EmbeddingExtractor` sees before the model's own
    preprocessing; call it to check what a model is given.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        - A path to a file Pillow can open (PNG, JPEG, TIFF, …; the EXIF
          orientation is applied) or to a DICOM file (``.dcm`` or a file with
          the ``DICM`` marker). DICOM pixels go through the modality LUT
          (rescale slope and intercept) and the first VOI window or VOI LUT,
          then are scaled to 0–255 over the window's output range (min–max
          when the file has no window); ``MONOCHROME1`` is inverted.
        - A PIL image in any mode; 16-bit and float modes are min–max scaled.
        - An array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4):
          ``uint8`` is used as is, ``bool`` maps to 0/255, floats within
          [0, 1] are multiplied by 255, anything else is min–max scaled.

    Returns
    -------
    image : PIL.Image.Image
        Mode ``"RGB"``.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        The file is corrupt, in an unsupported format, a multi-frame DICOM, or
        the array has an unsupported shape (the message names the item).

    Examples
    --------
    >>> import numpy as np
    >>> from skalign.extract import load_image
    >>> image = load_image(np.linspace(0, 1, 12).reshape(3, 4))
    >>> image.mode, image.size
    ('RGB', (4, 3))
    >>> np.asarray(image)[2, 3]
    array([255, 255, 255], dtype=uint8)
    """
    Image = import_optional("PIL.Image", purpose="Reading images")
    if isinstance(image, (str, os.PathLike)):
        return _read_file(os.fspath(image))
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image)
    if isinstance(image, np.ndarray):
        return Image.fromarray(_array_to_uint8(image), mode=None).convert("RGB")
    raise TypeError(
        f"Cannot read an image from an object of type {type(image).__name__}. "
        "Pass a file path, a PIL image or a numpy array of shape (H, W) or "
        "(H, W, C)."
    )


def is_dicom_file(path):
    """True when ``path`` has a DICOM suffix or the ``DICM`` preamble marker."""
    if path.lower().endswith(DICOM_SUFFIXES):
        return True
    try:
        with open(path, "rb") as f:
            f.seek(_DICOM_MAGIC_OFFSET)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def _read_file(path):
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Image path {path!r} is a folder, not an image file. Pass the paths "
            "of the files inside it, e.g. sorted(str(p) for p in "
            "pathlib.Path(folder).glob('*.png'))."
        )
    if os.path.exists(path) and not os.path.isfile(path):
        raise ImageReadError(
            f"Image path {path!r} is not a regular file (a device, pipe or "
            "socket), so it cannot be read as an image. Pass the path of an "
            "image file."
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Image file not found: {path!r}. {_missing_file_hint(path)}"
        )
    if is_dicom_file(path):
        return _read_dicom(path)
    import_optional("PIL", purpose="Reading images")
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except Image.DecompressionBombError as exc:
        raise ImageReadError(
            f"Cannot read image file {path!r}: {exc} Pillow refuses images of "
            f"more than 2 x PIL.Image.MAX_IMAGE_PIXELS ({Image.MAX_IMAGE_PIXELS}) "
            "pixels. Downscale it first, or, for a file you trust, raise "
            "PIL.Image.MAX_IMAGE_PIXELS."
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(
            f"Cannot read image file {path!r}: {exc}. The file is corrupt or "
            "not in a format Pillow can open (PNG, JPEG, TIFF, BMP, …; DICOM "
            "files need a .dcm suffix or the DICM marker). Re-export or remove "
            "it."
        ) from exc
    return _pil_to_rgb(image)


def _missing_file_hint(path):
    """What a missing image path probably is, and the fix."""
    if path.lower().startswith(("http://", "https://", "ftp://", "s3://", "gs://")):
        return (
            "It is a URL: images are read from local files only, never "
            "downloaded. Download it first and pass the file's path."
        )
    hint = (
        "Check the path (relative paths are resolved from the working directory "
        f"{os.getcwd()!r})."
    )
    if not os.path.splitext(path)[1]:
        hint += (
            " It has no file suffix: if X holds texts, not image paths, use a "
            "text model or set modality='text'."
        )
    return hint


def _read_dicom(path):
    pydicom = import_optional("pydicom", purpose="Reading DICOM files")
    from PIL import Image

    try:
        dataset = pydicom.dcmread(path)
    except Exception as exc:  # pydicom raises many types for bad files
        raise ImageReadError(
            f"Cannot read DICOM file {path!r}: it is damaged, truncated or not a "
            f"DICOM file ({type(exc).__name__}: {exc}). Re-export it, or remove "
            "it from the inputs."
        ) from exc
    if not any(
        key in dataset
        for key in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
    ):
        kind = dataset.get("Modality", "not recorded")
        raise ImageReadError(
            f"DICOM file {path!r} holds no pixel data: it is truncated, or it is "
            f"not an image (modality: {kind}; e.g. a structured report). Pass "
            "only complete image DICOMs."
        )
    try:
        pixels = dataset.pixel_array
    except Exception as exc:  # pydicom raises many types for codecs
        syntax = getattr(dataset.get("file_meta"), "TransferSyntaxUID", None)
        fix = (
            "Its pixels are compressed: install a pixel-data handler, `pip "
            "install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg` or `pip "
            "install python-gdcm`."
            if getattr(syntax, "is_compressed", True)
            else "Its pixel data are damaged or truncated: re-export the file."
        )
        raise ImageReadError(f"Cannot read DICOM file {path!r}: {exc}. {fix}") from exc
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ImageReadError(
            f"DICOM file {path!r} holds {frames} frames, not one image. Read the "
            "frames with pydicom (`pydicom.dcmread(path).pixel_array`) and pass "
            "them as arrays; to pool them into one embedding, pass them as one "
            "group (a list of frames)."
        )
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2"))
    if photometric.startswith("MONOCHROME"):
        grey = _window_to_uint8(pixels, dataset)
        if photometric == "MONOCHROME1":
            grey = 255 - grey
        return Image.fromarray(grey).convert("RGB")
    return Image.fromarray(_array_to_uint8(pixels)).convert("RGB")


def _window_to_uint8(pixels, dataset):
    """Modality LUT, then the first VOI window/LUT, scaled to 0–255."""
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    values = apply_modality_lut(pixels, dataset).astype(np.float64)
    has_voi = "VOILUTSequence" in dataset or (
        "WindowCenter" in dataset and "WindowWidth" in dataset
    )
    if not has_voi:
        return _minmax_to_uint8(values)
    windowed = np.asarray(apply_voi_lut(values, dataset), dtype=np.float64)
    # The window's output range: map the extremes through the same VOI.
    extremes = np.array([np.finfo(np.float32).min, np.finfo(np.float32).max])
    low, high = np.asarray(apply_voi_lut(extremes, dataset), dtype=np.float64)
    low, high = min(low, high), max(low, high)
    if high <= low:
        return _minmax_to_uint8(windowed)
    scaled = (windowed - low) / (high - low)
    return np.round(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)


def _pil_to_rgb(image):
    if image.width == 0 or image.height == 0:
        raise ImageReadError(
            f"An image is empty ({image.width} x {image.height} pixels). Remove "
            "it from the inputs."
        )
    if image.mode in _HIGH_BIT_MODES:
        from PIL import Image

        return Image.fromarray(_minmax_to_uint8(np.asarray(image))).convert("RGB")
    if image.mode == "RGB":
        return image
    return image.convert("RGB")


def _array_to_uint8(array):
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 3)):
        hint = ""
        if array.ndim == 3 and array.shape[0] in (1, 3, 4):
            hint = " It looks channels-first: pass np.moveaxis(image, 0, -1)."
        raise ImageReadError(
            f"An image array must have shape (H, W), (H, W, 1), (H, W, 3) or "
            f"(H, W, 4); got {array.shape}.{hint}"
        )
    if array.size == 0:
        raise ImageReadError(f"An image array is empty (shape {array.shape}).")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype.kind not in "iuf":
        raise ImageReadError(
            f"An image array must be numeric; got dtype {array.dtype}. Convert "
            "it to uint8 (0–255) or float (0–1)."
        )
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ImageReadError(
            "An image array contains NaN or infinity; replace them (e.g. with "
            "np.nan_to_num) before embedding."
        )
    if array.dtype.kind == "f" and values.min() >= 0.0 and values.max() <= 1.0:
        return np.round(values * 255).astype(np.uint8)
    return _minmax_to_uint8(values)


def _minmax_to_uint8(values):
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ImageReadError(
            "An image contains NaN or infinite pixel values; replace them (e.g. "
            "with np.nan_to_num) before embedding."
        )
    low, high = values.min(), values.max()
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.round((values - low) / (high - low) * 255).astype(np.uint8)
