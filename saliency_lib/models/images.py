"""Image classifiers of the papers, registered in :data:`~saliency_lib.models._registry.MODELS`.

* ``cnn2``: the SGT reference MNIST network (docs/methods.md §6), first linear layer sized from the
  input shape (1,199,882 parameters for 1x28x28, 10 classes). Returns logits.
* ``resnet18``: torchvision ResNet-18 with every ReLU a separate, non-inplace module, so that
  captum's DeepLIFT sees each non-linearity once (docs/methods.md §4).
* ``deit_tiny``: timm ``deit_tiny_patch16_224``; inputs are resized to 224x224.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._registry import MODELS


def _offline_error(name: str, err: Exception) -> RuntimeError:
    return RuntimeError(
        f"could not load pretrained weights for {name!r} ({type(err).__name__}: {err}). "
        "Pretrained weights are downloaded by torchvision/timm and need network access; "
        "use pretrained=False on an offline machine, or pre-populate the torch hub / "
        "Hugging Face cache (TORCH_HOME, HF_HOME) on a machine with network."
    )


class CNN2(nn.Module):
    """SGT reference 2-layer CNN (docs/methods.md §6), split where train and eval mode differ.

    ``features`` (conv-ReLU-conv-ReLU-maxpool) computes the same function in train and eval mode;
    ``classifier`` starts at the first Dropout. :meth:`mode_invariant_split` exposes the split so
    the eval-mode training saliency can reuse the train-mode pass's features (exactly).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 28):
        super().__init__()
        side = (image_size - 4) // 2
        if side < 1:
            raise ValueError(f"cnn2 needs image_size >= 6, got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, 1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3, 1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.25),
            nn.Flatten(),
            nn.Linear(64 * side * side, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def mode_invariant_split(self) -> tuple[nn.Module, nn.Module]:
        """(prefix, rest): ``prefix`` is identical in train and eval mode."""
        return self.features, self.classifier


@MODELS.register("cnn2")
def _cnn2(num_classes, in_channels, image_size, pretrained, **kwargs):
    if pretrained:
        raise ValueError("cnn2 has no pretrained weights; use pretrained=False")
    return CNN2(num_classes, in_channels, image_size, **kwargs)


class _BasicBlockSeparateReLU(nn.Module):
    """torchvision BasicBlock forward, but with two distinct ReLU modules (DeepLIFT-safe)."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.conv1, self.bn1 = block.conv1, block.bn1
        self.relu1 = nn.ReLU(inplace=False)
        self.conv2, self.bn2 = block.conv2, block.bn2
        self.downsample = block.downsample
        self.relu2 = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + identity)


@MODELS.register("resnet18")
def _resnet18(num_classes, in_channels, image_size, pretrained, stem: str = "auto"):
    """ResNet-18; ``stem="small"`` (3x3 conv, no max-pool) is used for images under 64 px
    when training from scratch (``stem="auto"``); ``"imagenet"`` keeps the original stem."""
    from torchvision.models import ResNet18_Weights, resnet18

    if pretrained:
        try:
            net = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
        except Exception as err:  # network or cache failure
            raise _offline_error("resnet18", err) from err
    else:
        net = resnet18(weights=None)
    if stem == "auto":
        stem = "small" if (image_size < 64 and not pretrained) else "imagenet"
    if stem not in ("small", "imagenet"):
        raise ValueError(f"stem must be 'auto', 'small' or 'imagenet', got {stem!r}")
    if stem == "small":
        net.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        old = net.conv1.weight.data
        net.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        if pretrained:  # average the RGB filters into the new channel count
            net.conv1.weight.data.copy_(old.mean(1, keepdim=True).repeat(1, in_channels, 1, 1))
    net.relu = nn.ReLU(inplace=False)
    for layer_name in ("layer1", "layer2", "layer3", "layer4"):
        layer = getattr(net, layer_name)
        for i in range(len(layer)):
            layer[i] = _BasicBlockSeparateReLU(layer[i])
    net.fc = nn.Linear(net.fc.in_features, num_classes)
    return net


class ResizeTo(nn.Module):
    """Bilinear resize of the input to ``size`` x ``size`` (no-op when already that size)."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] == (self.size, self.size):
            return x
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)


@MODELS.register("deit_tiny")
def _deit_tiny(num_classes, in_channels, image_size, pretrained, **kwargs):
    import timm

    try:
        net = timm.create_model(
            "deit_tiny_patch16_224",
            pretrained=pretrained,
            num_classes=num_classes,
            in_chans=in_channels,
            **kwargs,
        )
    except Exception as err:
        if pretrained:
            raise _offline_error("deit_tiny", err) from err
        raise
    return nn.Sequential(ResizeTo(224), net)


# Time-series models (lstm, lstm_cell_attention, tcn, transformer and their *_mnist sizes)
