"""Model registry (timm-style): ``create_model(name, ...)``, ``list_models()``.

* :mod:`.images`: ``cnn2`` (the SGT reference network), ``resnet18``, ``deit_tiny``.
* :mod:`.timeseries`: ``lstm``, ``lstm_cell_attention``, ``tcn``, ``transformer`` (and their MNIST
  sizes) for the time-series experiments (SGT section 5.3).
* :mod:`.text`: ``bilstm``, ``bilstm_small`` over word embeddings (SGT section 5.2, Table 1).
* :mod:`.vgg`: ``vgg16`` (SGT Fig. 2 (B), BIRD).
"""

from . import images, text, timeseries, vgg  # noqa: F401  (each registers its models)
from ._registry import MODELS, count_parameters, create_model, list_models

__all__ = ["MODELS", "count_parameters", "create_model", "list_models"]
