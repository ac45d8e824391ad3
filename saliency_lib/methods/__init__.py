"""Training-method registry: ``get_method("traditional" | "sgt" | "smoot" | "hlgm", **options)``."""

from __future__ import annotations

from ..registry import Registry
from .base import BatchLoss, SaliencyGuidedConfig, TrainingMethod
from .hlgm import HLGM, HLGMConfig, hlgm_schedule, phase2_schedule
from .sgt import SGT, SGTConfig
from .smoot import SMOOT, SMOOTConfig, smoot_k_step
from .traditional import Traditional

TRAINING_METHODS = Registry("training method")
for _cls in (Traditional, SGT, SMOOT, HLGM):
    TRAINING_METHODS.register(_cls.name)(_cls)


def get_method(name: str, **options) -> TrainingMethod:
    """Build a training method; unknown options raise an error listing the valid ones."""
    return TRAINING_METHODS.get(name)(**options)


def list_methods() -> list[str]:
    return TRAINING_METHODS.names()


__all__ = [
    "BatchLoss", "SaliencyGuidedConfig", "TrainingMethod", "Traditional", "SGT", "SGTConfig",
    "SMOOT", "SMOOTConfig", "smoot_k_step", "HLGM", "HLGMConfig", "hlgm_schedule",
    "phase2_schedule", "get_method", "list_methods", "TRAINING_METHODS",
]  # fmt: skip
