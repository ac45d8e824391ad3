"""Training-method registry: ``get_method("traditional" | "sgt" | "smoot" | "hlgm" | "sgt_tokens",
**options)`` (``sgt_tokens``: SGT on word sequences, SGT Table 1).

A method's options are one typed dataclass (``SGTConfig``, ...; :func:`method_config`), built
once (``RunConfig`` holds it) and handed to the method as it is."""

from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import BatchLoss, NoOptions, SaliencyGuidedConfig, TrainingMethod, build_config
from .hlgm import HLGM, HLGMConfig, hlgm_schedule, phase2_schedule
from .sgt import SGT, SGTConfig
from .sgt_tokens import SGTTokens, SGTTokensConfig
from .smoot import SMOOT, SMOOTConfig, smoot_k_step
from .traditional import Traditional

TRAINING_METHODS = Registry("training method")
for _cls in (Traditional, SGT, SMOOT, HLGM, SGTTokens):
    TRAINING_METHODS.register(_cls.name)(_cls)


def get_method(name: str, config: Any = None, /, **options) -> TrainingMethod:
    """Build a training method from its typed options (``config``, see :func:`method_config`)
    or from keyword options; unknown options raise an error listing the valid ones."""
    return TRAINING_METHODS.get(name)(config, **options)


def method_config(name: str, options: Any = None):
    """The typed options of training method ``name`` (its ``Config`` dataclass, defaults
    completed) from a mapping of options or an instance of that dataclass (returned as is).
    Unknown methods and options raise an error naming the valid ones."""
    cls = TRAINING_METHODS.get(name)
    return build_config(cls.Config, name, {} if options is None else options)


def list_methods() -> list[str]:
    return TRAINING_METHODS.names()


__all__ = [
    "BatchLoss", "NoOptions", "SaliencyGuidedConfig", "TrainingMethod", "Traditional", "SGT",
    "SGTConfig", "SGTTokens", "SGTTokensConfig",
    "SMOOT", "SMOOTConfig", "smoot_k_step", "HLGM", "HLGMConfig", "hlgm_schedule",
    "phase2_schedule", "get_method", "list_methods", "method_config", "TRAINING_METHODS",
]  # fmt: skip
