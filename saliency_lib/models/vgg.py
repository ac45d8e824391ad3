"""VGG-16 (SGT Fig. 2 (B), BIRD), registered in ``create_model`` like ``resnet18``.

torchvision's VGG-16 with every ReLU a separate, non-inplace module (captum's DeepLIFT needs each
non-linearity once, as the package's other models; docs/methods.md §4) and, by default, the
classifier head of the SGT reference code's BIRD script (docs/methods.md §10): Linear(25088,
4048) - ReLU - Dropout(0.4) - Linear(4048, 2048) - ReLU - Dropout(0.4) - Linear(2048, classes).
``pretrained=True`` loads torchvision's ImageNet weights into the convolutional part (the SGT
code trained from them). Inputs of ``image_size`` 224 (the Kaggle bird images' size); other
sizes pass through the adaptive 7 x 7 average pool.
"""

from __future__ import annotations

from torch import nn

from ._registry import MODELS

__all__ = ["sgt_bird_head"]


def _offline_error(err: Exception) -> RuntimeError:
    return RuntimeError(
        f"could not load pretrained weights for 'vgg16' ({type(err).__name__}: {err}). "
        "torchvision downloads them and needs network access; use pretrained=False on an "
        "offline machine, or pre-populate the torch hub cache (TORCH_HOME) on a machine with "
        "network."
    )


def sgt_bird_head(num_classes: int) -> nn.Sequential:
    """The classifier head of the SGT reference BIRD script (ReLUs not inplace)."""
    return nn.Sequential(
        nn.Linear(25088, 4048),
        nn.ReLU(inplace=False),
        nn.Dropout(0.4),
        nn.Linear(4048, 2048),
        nn.ReLU(inplace=False),
        nn.Dropout(0.4),
        nn.Linear(2048, num_classes),
    )


@MODELS.register("vgg16")
def _vgg16(num_classes, in_channels, image_size, pretrained, head: str = "sgt"):
    """VGG-16; ``head="sgt"`` (the SGT BIRD head, default) or ``"torchvision"`` (the original
    4096-4096 head with a new last layer)."""
    from torchvision.models import VGG16_Weights, vgg16

    if in_channels != 3:
        raise ValueError(f"vgg16 takes RGB inputs (in_channels=3), got {in_channels}")
    if pretrained:
        try:
            net = vgg16(weights=VGG16_Weights.IMAGENET1K_V1)
        except Exception as err:  # network or cache failure
            raise _offline_error(err) from err
    else:
        net = vgg16(weights=None)
    for i, layer in enumerate(net.features):
        if isinstance(layer, nn.ReLU):
            net.features[i] = nn.ReLU(inplace=False)
    if head == "sgt":
        net.classifier = sgt_bird_head(num_classes)
    elif head == "torchvision":
        for i, layer in enumerate(net.classifier):
            if isinstance(layer, nn.ReLU):
                net.classifier[i] = nn.ReLU(inplace=False)
        net.classifier[-1] = nn.Linear(net.classifier[-1].in_features, num_classes)
    else:
        raise ValueError(f"head must be 'sgt' or 'torchvision', got {head!r}")
    return net
