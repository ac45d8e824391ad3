"""Saliency-guided training reproduction package (SGT, SMOOT, HLGM)."""

from .allocator import tune_allocator as _tune_allocator

__version__ = "0.2.0"  # pyproject.toml reads it; CHANGELOG.md

# glibc malloc tuning for every process that uses the package (kernels, jobs, tests);
# SALIENCY_MALLOC_TUNING=0 switches it off (saliency_lib/allocator.py)
_tune_allocator()
