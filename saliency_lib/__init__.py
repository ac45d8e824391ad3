"""Saliency-guided training reproduction package (SGT, SMOOT, HLGM)."""

__version__ = "0.1.0"
