"""A tiny name -> factory registry, shared by datasets, models, saliency and training methods.

Modelled on timm's ``register_model`` / ``list_models``: a decorator registers a factory under a
name, ``get`` looks it up and names the valid choices when the name is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Registry:
    """Maps names to factories; ``kind`` is used in error messages ("model", "dataset", ...)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = fn
            return fn

        return decorator

    def get(self, name: str) -> Callable[..., Any]:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
