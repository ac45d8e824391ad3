"""Checks shared by the typed configs (``RunConfig``, the training methods' option dataclasses)
and the notebook parameters: build a dataclass from a mapping naming unknown keys, check field
types (containers element by element), check a choice, check a numeric range.

At the bottom of the package (imports nothing from it), so every config can use it.
"""

from __future__ import annotations

import dataclasses
import math
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
    """Check each dataclass field against its annotation (int accepted for float); a number
    anywhere in a field (a float, or one inside a list or mapping) must be finite."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if not _matches(value, hints[f.name]):
            raise TypeError(
                f"{type(obj).__name__}.{f.name} must be {_type_name(hints[f.name])}, "
                f"got {value!r} ({type(value).__name__})"
            )
        where = non_finite(value)
        if where is not None:
            raise ValueError(
                f"{type(obj).__name__}.{f.name}{where[0]} must be a finite number, got {where[1]!r}"
            )


def non_finite(value: Any, path: str = "") -> tuple[str, float] | None:
    """``(sub-path, number)`` of the first NaN or infinity in ``value`` (a number, or one inside
    lists and mappings, e.g. ``("[1]", nan)`` or ``(".lr", inf)``); ``None`` if every number is
    finite."""
    if isinstance(value, float) and not math.isfinite(value):
        return path, value
    if isinstance(value, dict):
        items = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    return next((hit for p, v in items if (hit := non_finite(v, p)) is not None), None)


def check_choice(name: str, value: Any, choices) -> None:
    """``ValueError`` naming ``name`` and the valid choices unless ``value`` is one of them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Range:
    """A numeric range: ``lo <= value <= hi`` (``lo < value`` with ``lo_open``); ``None`` is
    unbounded; NaN and infinities are never in a range. A list is checked element by element;
    ``None`` values and non-numbers pass (the type check names those)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False

    def __str__(self) -> str:
        if self.hi is None:
            return f"{'>' if self.lo_open else '>='} {self.lo}"
        return f"in {'(' if self.lo_open else '['}{self.lo}, {self.hi}]"

    def ok(self, value: Any) -> bool:
        """In the range (NaN and infinities never are)."""
        if isinstance(value, list | tuple):
            return all(self.ok(v) for v in value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return True
        if not math.isfinite(value):
            return False
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return self.hi is None or value <= self.hi

    def check(self, name: str, value: Any) -> None:
        """``ValueError`` naming ``name`` and the range unless ``value`` is in it."""
        if not self.ok(value):
            raise ValueError(f"{name} must be {self}, got {value!r}")


def matches(value: Any, hint: Any) -> bool:
    """Does ``value`` fit type ``hint``? int is accepted for float, a bool is never a number,
    ``list[X]`` / ``dict[K, V]`` / ``tuple[X, ...]`` check their elements, ``Any`` takes all."""
    return _matches(value, hint)


def type_name(hint: Any) -> str:
    """Readable name of a type hint: ``int``, ``list[float]``, ``int or None``."""
    return _type_name(hint)


def _matches(value, hint) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return value is None
    if origin is not None:
        args = typing.get_args(hint)
        if origin is tuple:  # a list from YAML is accepted for a tuple
            if not isinstance(value, tuple | list):
                return False
            if len(args) == 2 and args[1] is Ellipsis:
                return all(_matches(v, args[0]) for v in value)
            return not args or (len(args) == len(value) and all(map(_matches, value, args)))
        if not isinstance(value, origin):
            return False
        if origin is list and args:
            return all(_matches(v, args[0]) for v in value)
        if origin is dict and len(args) == 2:
            return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
        return True
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(h) for h in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return "None"
    if hint is float:
        return "float (an int is accepted)"
    if hint is bool:
        return "bool (true/false)"
    if origin is not None:
        args = typing.get_args(hint)
        inner = ", ".join("..." if a is Ellipsis else _type_name(a).split(" ")[0] for a in args)
        return f"{origin.__name__}[{inner}]" if args else origin.__name__
    if hint is dict:
        return "dict (mapping)"
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
