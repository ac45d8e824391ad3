"""The model registry: ``create_model(name, num_classes, in_channels, image_size, pretrained)``
builds any model registered in :data:`MODELS` (by :mod:`.images` and :mod:`.timeseries`)."""

from __future__ import annotations

from torch import nn

from ..registry import Registry

MODELS = Registry("model")


def create_model(
    name: str,
    num_classes: int,
    in_channels: int = 1,
    image_size: int = 28,
    pretrained: bool = False,
    **kwargs,
) -> nn.Module:
    """Build a registered model (timm-style). Unknown names list the choices."""
    return MODELS.get(name)(
        num_classes=num_classes,
        in_channels=in_channels,
        image_size=image_size,
        pretrained=pretrained,
        **kwargs,
    )


def list_models() -> list[str]:
    return MODELS.names()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
