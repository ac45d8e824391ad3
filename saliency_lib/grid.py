"""The experiment grid: a notebook's parameters -> its typed run configurations.

The one reader of the grid parameters. The notebooks train what :func:`run_grid` returns, the
parameter validator checks it and the planner lists it, so the three cannot disagree. Every
training notebook describes its runs with these parameters (:data:`GRID_PARAMETERS`):

* ``datasets`` (or ``dataset``): a name, a list of names, or ``{label: entry}``; the label is
  the dataset name unless the entry names it (``{"cifar100_r18": {"dataset": "cifar100",
  "model": "resnet18"}}``); an entry's ``seeds`` replaces the notebook's ``seeds``, its
  ``dataset_params`` override the shared ``dataset_params`` key by key, and its other keys
  replace fields of ``training``;
* ``dataset_params``: loader options shared by every dataset (``root``, ``source``, ...);
* ``training``: the :class:`~saliency_lib.config.RunConfig` fields shared by all runs;
* ``methods``: ``{label: {"method": name, **options}}`` or ``{name: {options}}``; each label's
  options become the method's typed config (``SGTConfig``, ...) once, here; a reserved key
  ``training`` holds RunConfig fields for that label's runs only (over ``training`` and the
  dataset entry's; e.g. ``{traditional: {training: {test_eval: final_epoch}}}``);
* ``seeds``: a number of seeds (0, 1, ..., seeds - 1) or a list of seeds;
* ``architectures`` (optional): model names or ``{model: training overrides}``; every dataset
  entry is then trained with each model, and the settings are keyed ``(label, model)``.

Every HLGM run comes with its comparison baseline (``hlgm_baselines``): traditional training
continued from the HLGM run's phase-1 checkpoint, under the label :data:`HLGM_BASELINE`, after
the HLGM run it needs (docs/methods.md §3.6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import RunConfig, hlgm_continuation
from .methods import method_config

#: The notebook parameters the grid is read from.
GRID_PARAMETERS = (
    "datasets",
    "dataset",
    "dataset_params",
    "architectures",
    "training",
    "methods",
    "seeds",
)
#: Label of the traditional continuation of an HLGM run.
HLGM_BASELINE = "baseline"

#: ``{setting: {(method label, seed): RunConfig}}`` in training order; a setting is a dataset
#: entry's label, or ``(label, model)`` with ``architectures``.
Grid = dict[Any, dict[tuple[str, int], RunConfig]]


@dataclass(frozen=True)
class DatasetEntry:
    """One entry of a ``datasets`` parameter."""

    label: str  # the setting's name (keys the notebook's tables)
    dataset: str  # the registered dataset name
    dataset_params: dict[str, Any] = field(default_factory=dict)  # the entry's own
    training: dict[str, Any] = field(default_factory=dict)  # overrides of ``training``
    seeds: int | list[int] | None = None  # replaces the notebook's ``seeds``
    #: ``{method label: RunConfig fields}`` for that label's runs of this entry only
    method_training: dict[str, dict[str, Any]] = field(default_factory=dict)


def dataset_entries(value: Any) -> list[DatasetEntry]:
    """The entries of a dataset parameter's value: ``None`` (none), a name, a list of names, or
    ``{label: entry}`` (module docstring). ``TypeError`` naming the problem for anything else."""
    if value is None:
        return []
    if isinstance(value, str):
        return [DatasetEntry(value, value)]
    if isinstance(value, list | tuple):
        if not all(isinstance(v, str) for v in value):
            raise TypeError(f"a list of datasets must hold dataset names, got {value!r}")
        return [DatasetEntry(v, v) for v in value]
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise TypeError(
            "datasets must be a name, a list of names or a mapping {label: training overrides}, "
            f"got {value!r}"
        )
    entries = []
    for label, entry in value.items():
        if entry is not None and not isinstance(entry, Mapping):
            raise TypeError(f"datasets entry {label!r} must be a mapping, got {entry!r}")
        entry = dict(entry or {})
        name = entry.pop("dataset", label)
        own = entry.pop("dataset_params", None) or {}
        if not isinstance(name, str):
            raise TypeError(f"datasets entry {label!r}: 'dataset' must be a name, got {name!r}")
        if not isinstance(own, Mapping):
            raise TypeError(
                f"datasets entry {label!r}: 'dataset_params' must be a mapping, got {own!r}"
            )
        seeds = entry.pop("seeds", None)
        per_method = entry.pop("method_training", None) or {}
        if not isinstance(per_method, Mapping) or not all(
            v is None or isinstance(v, Mapping) for v in per_method.values()
        ):
            raise TypeError(
                f"datasets entry {label!r}: 'method_training' must be a mapping "
                f"{{method label: RunConfig fields}}, got {per_method!r}"
            )
        per_method = {k: dict(v or {}) for k, v in per_method.items()}
        entries.append(DatasetEntry(label, name, dict(own), entry, seeds, per_method))
    return entries


def _seed_list(seeds: Any) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 0:
        return list(range(seeds))
    if isinstance(seeds, list | tuple) and all(
        isinstance(s, int) and not isinstance(s, bool) for s in seeds
    ):
        return list(seeds)
    raise TypeError(f"seeds must be a number of seeds or a list of seeds, got {seeds!r}")


def _methods(methods: Any) -> dict[str, tuple[str, Any, dict[str, Any]]]:
    """``{label: (method name, typed options, training overrides)}``: each label's options
    checked once."""
    if not isinstance(methods, Mapping) or not methods:
        raise TypeError(f"methods must be a non-empty mapping {{label: options}}, got {methods!r}")
    out = {}
    for label, options in methods.items():
        options = dict(options or {})
        name = options.pop("method", label)
        training = options.pop("training", None) or {}
        if not isinstance(training, Mapping):
            raise TypeError(
                f"methods entry {label!r}: 'training' must be a mapping of RunConfig fields, "
                f"got {training!r}"
            )
        try:
            out[label] = (name, method_config(name, options), dict(training))
        except (KeyError, TypeError, ValueError) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else e
            raise type(e)(f"methods entry {label!r}: {msg}") from None
    return out


def _architectures(value: Any) -> dict[str, dict[str, Any]] | None:
    """``{model: training overrides}`` from a list of names or a mapping (``None``: none)."""
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return {v: {} for v in value}
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and (v is None or isinstance(v, Mapping)) for k, v in value.items()
    ):
        return {k: dict(v or {}) for k, v in value.items()}
    raise TypeError(
        f"architectures must be model names or {{model: training overrides}}, got {value!r}"
    )


def run_grid(
    *,
    training: Mapping[str, Any],
    methods: Mapping[str, Mapping[str, Any]],
    datasets: Any = None,
    dataset: Any = None,
    dataset_params: Mapping[str, Any] | None = None,
    architectures: Any = None,
    seeds: int | Iterable[int] = 1,
    hlgm_baselines: bool = True,
) -> Grid:
    """Every run configuration of a notebook, validated now (before any training):
    ``{setting: {(method label, seed): RunConfig}}`` (parameters: module docstring).
    ``datasets`` wins over ``dataset`` when both are given."""
    if not isinstance(training, Mapping):
        raise TypeError(f"training must be a mapping of RunConfig fields, got {training!r}")
    shared = dict(dataset_params or {})
    typed = _methods(methods)
    models = _architectures(architectures)
    grid: Grid = {}
    for entry in dataset_entries(datasets if datasets else dataset):
        unknown = sorted(set(entry.method_training) - set(typed))
        if unknown:
            raise KeyError(
                f"datasets entry {entry.label!r}: method_training names method label(s) "
                f"{', '.join(map(repr, unknown))} that 'methods' does not have; labels: "
                f"{', '.join(typed)}"
            )
        seed_list = _seed_list(seeds if entry.seeds is None else entry.seeds)
        base = {
            **training,
            **entry.training,
            "dataset": entry.dataset,
            "dataset_params": {**shared, **entry.dataset_params},
        }
        if models is None:
            grid[entry.label] = _setting(
                base, typed, entry.method_training, seed_list, hlgm_baselines
            )
        else:
            for model, overrides in models.items():
                values = {**base, **overrides, "model": model}
                grid[(entry.label, model)] = _setting(
                    values, typed, entry.method_training, seed_list, hlgm_baselines
                )
    return grid


def _setting(
    base: dict[str, Any],
    typed: dict[str, tuple[str, Any, dict[str, Any]]],
    per_method: dict[str, dict[str, Any]],
    seed_list: list[int],
    hlgm_baselines: bool,
) -> dict[tuple[str, int], RunConfig]:
    """One setting's runs: every method label and seed, then the HLGM baselines. A label's
    fields: ``base``, then its ``methods`` entry's ``training``, then the dataset entry's
    ``method_training`` for it."""
    configs = {}
    for label, (name, options, training) in typed.items():
        own = per_method.get(label, {})
        for seed in seed_list:
            values = {**base, **training, **own, "method": name, "method_params": options,
                      "seed": seed}  # fmt: skip
            configs[(label, seed)] = RunConfig.from_dict(values)
    if hlgm_baselines:
        for (_, seed), cfg in list(configs.items()):
            if cfg.method == "hlgm":
                configs[(HLGM_BASELINE, seed)] = hlgm_continuation(cfg)
    return configs


def grid_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The grid parameters among a notebook's parameters (for :func:`run_grid`)."""
    return {k: params[k] for k in GRID_PARAMETERS if k in params}


def notebook_grid(params: Mapping[str, Any]) -> Grid:
    """The grid a notebook with these parameters trains (its defaults with the profile's values):
    ``run_grid(**grid_parameters(params))``, or ``{}`` for a notebook that trains no grid (no
    ``methods`` or ``training`` parameter)."""
    if "methods" not in params or "training" not in params:
        return {}
    return run_grid(**grid_parameters(params))


def grid_configs(grid: Grid) -> list[RunConfig]:
    """The grid's configurations in training order."""
    return [cfg for configs in grid.values() for cfg in configs.values()]


def grid_run_ids(grid: Grid) -> list[str]:
    """The run ids of the grid, in training order (one per configuration)."""
    return [cfg.run_id for cfg in grid_configs(grid)]


__all__ = [
    "GRID_PARAMETERS",
    "HLGM_BASELINE",
    "DatasetEntry",
    "Grid",
    "dataset_entries",
    "grid_configs",
    "grid_parameters",
    "grid_run_ids",
    "notebook_grid",
    "run_grid",
]
