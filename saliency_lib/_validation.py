"""Checks shared by the typed configs (``RunConfig``, the training methods' option dataclasses):
build a dataclass from a mapping naming unknown keys, check field types, check a choice.

At the bottom of the package (imports nothing from it), so every config can use it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any


def from_dict(cls, values: dict[str, Any]):
    """Build dataclass ``cls`` from a dict, naming unknown keys and listing the valid ones."""
    if not isinstance(values, dict):
        raise TypeError(f"{cls.__name__} needs a mapping, got {type(values).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise KeyError(
            f"unknown {cls.__name__} key(s) {unknown}; valid keys are: {', '.join(names)}"
        )
    return cls(**values)


def check_types(obj) -> None:
    """Check each dataclass field against its annotation (int accepted for float)."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if not _matches(value, hints[f.name]):
            raise TypeError(
                f"{type(obj).__name__}.{f.name} must be {_type_name(hints[f.name])}, "
                f"got {value!r} ({type(value).__name__})"
            )


def check_choice(name: str, value: Any, choices) -> None:
    """``ValueError`` naming ``name`` and the valid choices unless ``value`` is one of them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def _matches(value, hint) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is not None:
        return isinstance(value, origin)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
