"""Run configuration: one dataclass that names everything a training run depends on.

A ``RunConfig`` is hashed (minus the fields in ``NON_IDENTITY_FIELDS``) to give the run's id in the
run store, so two notebooks that ask for the same training share one run. ``from_dict`` validates
keys and types before any work starts, with errors that name the key and the fix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ._validation import Range, check_choice, check_types, from_dict
from .methods import method_config
from .models import list_models
from .trainer import OPTIMIZERS, TEST_EVALS

# Fields that do not change the numbers a run produces.
NON_IDENTITY_FIELDS = ("device", "progress", "eval_batch_size", "data_on_device")
# Fields added after runs were stored: part of the identity only when they differ from these
# defaults, so every configuration that existed before them keeps its run id.
DEFAULT_ONLY_FIELDS = {
    "precision": "fp32", "threads": None, "stop_at_acc": None, "test_eval": "every_epoch",
}  # fmt: skip
#: Training precisions: float32, or mixed precision (autocast) in bfloat16 / float16.
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass
class RunConfig:
    """Everything one training run depends on (docs/methods.md §3; docs/architecture.md)."""

    method: str = "traditional"  # traditional | sgt | smoot | hlgm
    # the method's options: given as a mapping (or the dataclass), held as the method's typed
    # config (SGTConfig, ...; saliency_lib.methods.method_config), built once here. The name
    # stays: it is a key of every stored run's identity (renaming it would change every run id)
    method_params: Any = field(default_factory=dict)
    dataset: str = "fashion_mnist"
    dataset_params: dict[str, Any] = field(default_factory=dict)  # root, source, canvas_size...
    train_subset: int | None = None  # seeded subset of the training split (None = all)
    test_subset: int | None = None
    data_seed: int = 0  # seed of the subsets (kept fixed across training seeds)
    model: str = "cnn2"
    pretrained: bool = False
    channels_last: bool = False  # NHWC memory format: same function, other float rounding;
    # faster convolutions alone but 0-15 % on a whole cnn2 step here (benchmarks/train_step.py)
    epochs: int = 10
    batch_size: int = 256
    optimizer: str = "adadelta"  # a name of trainer.OPTIMIZERS: adadelta | sgd | adam
    lr: float = 1.0
    momentum: float = 0.0
    weight_decay: float = 0.0
    seed: int = 0
    # run id of a finished run this one continues, from where its method says
    # (TrainingMethod.continuation_start; HLGM: its phase-1 state, hlgm_continuation)
    continue_from: str | None = None
    # training step under torch.autocast in this dtype (fp16: with a GradScaler); evaluation
    # stays float32. Changes the numbers: part of the run id unless "fp32" (trainer.Precision)
    precision: str = "fp32"
    # torch CPU threads while this run trains. None: torch's default (the machine's cores), so
    # the float rounding, and the numbers, depend on the machine. A number fixes them on any
    # machine and lets `reproduce` train runs side by side (cores // threads processes,
    # docs/performance.md); part of the run id when set
    threads: int | None = None
    # stop after the first epoch whose train or test accuracy (%) reaches this value; ``epochs``
    # is then the cap. None: train all ``epochs``. The time-series benchmark stops at 99
    # (docs/methods.md, time series); part of the run id when set
    stop_at_acc: float | None = None
    # test-split accuracy after every epoch (the history, the best epoch and best.pt, HLGM's
    # monitor) or after the last epoch only ("final_epoch": the run has no best epoch; on
    # in-memory data the weights and the final accuracy are the same as with every epoch).
    # Part of the run id unless "every_epoch" (docs/performance.md)
    test_eval: str = "every_epoch"
    device: str = "auto"
    eval_batch_size: int = 1024
    progress: bool = True
    # materialise a lazy dataset (Caltech-101, Pet, resized CIFAR) on the device once and batch
    # by index (in-memory datasets always are): the same batches, so not part of the run id
    data_on_device: bool = False

    def __post_init__(self):
        check_types(self)
        self.method_params = method_config(self.method, self.method_params)
        for name, rng in FIELD_RANGES.items():
            rng.check(name, getattr(self, name))
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("test_eval", self.test_eval, TEST_EVALS)
        if self.test_eval == "final_epoch" and getattr(self.method_params, "monitor", None) == (
            "test_acc"
        ):
            raise ValueError(
                f"test_eval 'final_epoch': method {self.method!r} monitors the test accuracy "
                "after every epoch (monitor: test_acc); set test_eval: every_epoch"
            )
        if self.test_eval == "final_epoch" and self.stop_at_acc is not None:
            raise ValueError(
                "test_eval 'final_epoch' with stop_at_acc: a run that stops early would end "
                "without its test evaluation; set test_eval: every_epoch"
            )
        check_choice("model", self.model, list_models())

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        return from_dict(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the method's options as a dict, defaults completed)."""
        return dataclasses.asdict(self)

    def identity(self) -> dict[str, Any]:
        """The fields that determine the results, with the method's options completed by their
        defaults (so ``{"k_fraction": 0.5}`` and ``{}`` name the same SGT run)."""
        d = self.to_dict()
        for name in NON_IDENTITY_FIELDS:
            d.pop(name)
        for name, default in DEFAULT_ONLY_FIELDS.items():
            if d[name] == default:
                d.pop(name)
        return d

    def config_hash(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @property
    def run_id(self) -> str:
        return f"{self.method}-{self.dataset}-{self.model}-s{self.seed}-{self.config_hash()}"

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)


#: Upper limits where a larger value can only be a mistake: epochs (the papers train at most
#: 500), images per batch (larger than any dataset here).
MAX_EPOCHS, MAX_BATCH = 10_000, 65_536
#: Valid ranges of the numeric fields (``None`` subsets pass: all images).
FIELD_RANGES = {
    "epochs": Range(1, MAX_EPOCHS),
    "batch_size": Range(1, MAX_BATCH),
    "eval_batch_size": Range(1, MAX_BATCH),
    "lr": Range(0, lo_open=True),
    "momentum": Range(0, 1),
    "weight_decay": Range(0),
    "seed": Range(0),
    "data_seed": Range(0),
    "train_subset": Range(1),
    "test_subset": Range(1),
    "threads": Range(1),
    "stop_at_acc": Range(0, 100, lo_open=True),
}


def hlgm_continuation(hlgm_config: RunConfig) -> RunConfig:
    """The HLGM comparison baseline: traditional training continued from the HLGM run's
    phase-1 state for the same total epochs (docs/methods.md §3.6); the run store starts it
    where the HLGM run's record says (:meth:`saliency_lib.methods.HLGM.continuation_start`)."""
    if hlgm_config.method != "hlgm":
        raise ValueError(f"hlgm_continuation needs an hlgm config, got {hlgm_config.method!r}")
    return hlgm_config.replace(
        method="traditional", method_params={}, continue_from=hlgm_config.run_id
    )
