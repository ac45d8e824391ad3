"""Notebook parameters: the ``parameters`` cell, the ``params/<profile>/<name>.yaml`` files, and
their validation before any work starts.

Conventions (README "notebooks"): each ``notebooks/<name>.ipynb`` has exactly one code cell tagged
``parameters`` holding simple assignments of literals; ``params/<profile>/<name>.yaml`` is a
mapping that names its profile (``profile: <profile>``) and sets every other parameter of the
notebook, or lists the ones it takes from the parameters cell under the reserved key
``from_notebook`` (:func:`check_complete`): an empty, truncated or comment-only file is refused.
The reserved keys ``enabled`` (bool) and ``reason`` (str) disable a notebook in a profile; the
runner then records it as "not run" with the reason.

Papermill alone only warns about unknown parameters and never checks types; ``validate_params``
turns both into a :class:`ParameterError` naming the key, the file and what is valid, and checks
that every dataset the notebook will load is available (``saliency_lib.data.check_available``).
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
import re
import typing
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from .._project import display_path as _rel
from .._project import project_layout
from .._validation import Range, matches, non_finite, type_name
from ..config import FIELD_RANGES, RunConfig
from ..data import DATASETS, DatasetNotFoundError, check_available, dataset_info, list_datasets
from ..grid import Grid, dataset_entries, grid_configs, notebook_grid
from ..methods import TRAINING_METHODS, list_methods
from ..models import list_models
from ..saliency import SALIENCY_METHODS, list_saliency_methods
from ..seeding import device_problem
from ..trainer import OPTIMIZERS

PROFILES = ("smoke", "cpu", "paper")

#: Top-level YAML keys that are not notebook parameters.
RESERVED_KEYS = ("enabled", "reason", "from_notebook")
#: At most this many seeds (each seed trains every run again): more can only be a mistake.
MAX_SEEDS = 100
#: Parameters every notebook must have (the runner always injects them).
REQUIRED_PARAMETERS = ("profile", "output_dir")
#: ``get_dataset`` arguments a ``dataset_params`` mapping may hold besides dataset parameters;
#: the first three are passed on to ``check_available``.
_GENERAL_DATASET_ARGS = ("root", "source", "download", "subset", "seed")


class ParameterError(ValueError):
    """A parameters file or override does not fit the notebook (unknown key, wrong type, ...)."""


def shown(key: str) -> str:
    """A user's key as a message shows it: as written, or quoted (``repr``) when it holds a
    newline or another unprintable character, so every message stays one readable line."""
    return key if key.isprintable() else repr(key)


# --------------------------------------------------------------------------- notebook side


def read_notebook(path: str | Path) -> dict[str, Any]:
    """The notebook's JSON (nbformat 4) as a plain dict."""
    path = Path(path)
    try:
        nb = json.loads(read_text(path, "notebook"))
    except json.JSONDecodeError as e:
        raise ParameterError(f"notebook {_rel(path)} is not valid JSON: {e}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ParameterError(
            f"notebook {_rel(path)} is not a Jupyter notebook (no list of cells); recreate it "
            f"from its source: jupytext --sync {_rel(path.with_suffix('.py'))}"
        )
    return nb


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of ``path``; one :class:`ParameterError` line naming the file when it is
    missing, unreadable or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"{what} {_rel(path)} does not exist") from None
    except UnicodeDecodeError as e:
        raise ParameterError(
            f"{what} {_rel(path)} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset "
            f"{e.start}); save it as UTF-8"
        ) from None
    except OSError as e:
        raise ParameterError(f"cannot read {what} {_rel(path)}: {e.strerror or e}") from None


def cell_source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def parameters_cell(nb: dict[str, Any], path: str | Path = "<notebook>") -> dict[str, Any]:
    """The one code cell tagged ``parameters`` (error naming the notebook if none or several)."""
    cells = [
        c
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if len(cells) != 1:
        what = "no code cell" if not cells else f"{len(cells)} code cells"
        raise ParameterError(
            f"notebook {_rel(Path(path))} has {what} tagged 'parameters'; it needs exactly one "
            "(JupyterLab: select the cell, open the property inspector, add the tag 'parameters')"
        )
    return cells[0]


def _cell_tree(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as e:
        raise ParameterError(f"{where}: syntax error on line {e.lineno}: {e.msg}") from None


def parse_assignments(source: str, where: str = "<parameters cell>") -> dict[str, Any]:
    """``name = <literal>`` or ``name: type = <literal>`` statements -> ``{name: value}``
    (comments and ``from typing import ...`` allowed, nothing else)."""
    values: dict[str, Any] = {}
    for stmt in _cell_tree(source, where).body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "typing":
            continue  # names for the annotations (Optional)
        if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        else:
            raise ParameterError(
                f"{where}, line {stmt.lineno}: only `name = literal` assignments are allowed "
                f"in the parameters cell, got: {ast.unparse(stmt)}"
            )
        if not all(isinstance(t, ast.Name) for t in targets):
            raise ParameterError(
                f"{where}, line {stmt.lineno}: assign to plain names only, got: {ast.unparse(stmt)}"
            )
        try:
            literal = ast.literal_eval(value)
        except ValueError:
            raise ParameterError(
                f"{where}, line {stmt.lineno}: the value of {targets[0].id!r} must be a literal "
                f"(int, float, str, bool, None, list, dict), got: {ast.unparse(value)}"
            ) from None
        for t in targets:
            values[t.id] = literal
    return values


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """``{name: default}`` from the notebook's ``parameters``-tagged cell (literals only)."""
    path = Path(path)
    cell = parameters_cell(read_notebook(path), path)
    return parse_assignments(cell_source(cell), f"parameters cell of {_rel(path)}")


#: Names an annotation of the parameters cell may use (papermill's ``--help-notebook`` reads
#: ``Optional[int]``, not ``int | None``).
_ANNOTATION_NAMES = {
    "int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict,
    "tuple": tuple, "None": None, "Any": Any, "Optional": typing.Optional, "Union": typing.Union,
}  # fmt: skip


def parse_annotations(source: str, where: str = "<parameters cell>") -> dict[str, Any]:
    """``{name: type hint}`` of the annotated assignments (``name: list[int] = [...]``); the
    hint is evaluated with builtin types and ``Optional``/``Union``/``Any`` only."""
    hints: dict[str, Any] = {}
    for stmt in _cell_tree(source, where).body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        node = stmt.annotation
        text = node.value if isinstance(node, ast.Constant) else ast.unparse(node)
        try:
            hints[stmt.target.id] = eval(text, {"__builtins__": {}}, _ANNOTATION_NAMES)
        except Exception:
            raise ParameterError(
                f"{where}, line {stmt.lineno}: cannot read the annotation {text!r} of "
                f"{stmt.target.id!r}; use {', '.join(_ANNOTATION_NAMES)}"
            ) from None
    return hints


def notebook_annotations(path: str | Path) -> dict[str, Any]:
    """``{name: type hint}`` from the notebook's parameters cell (annotated parameters only)."""
    path = Path(path)
    cell = parameters_cell(read_notebook(path), path)
    return parse_annotations(cell_source(cell), f"parameters cell of {_rel(path)}")


# --------------------------------------------------------------------------- YAML side


def params_path(name: str, profile: str, params_dir: str | Path | None = None) -> Path:
    return Path(params_dir or project_layout().params) / profile / f"{name}.yaml"


def load_params(name: str, profile: str, params_dir: str | Path | None = None) -> dict[str, Any]:
    """The mapping in ``params/<profile>/<name>.yaml``, reserved keys included (empty -> {})."""
    path = params_path(name, profile, params_dir)
    if not path.is_file():
        raise ParameterError(
            f"no parameters file {_rel(path)} for notebook {name!r} in profile {profile!r}; "
            f"create it with `profile: {profile}` and the notebook's parameters (or "
            "`from_notebook: [<names>]` for those it keeps from the notebook)"
        )
    text = read_text(path, "parameters file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ParameterError(
            f"{_rel(path)}{_yaml_problem(e)} (a space after every ':' and ',', matching brackets, "
            "strings with ':' or '#' quoted)"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(
            f"{_rel(path)} must be a mapping of parameter names to values, "
            f"got {type(data).__name__}"
        )
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ParameterError(f"{_rel(path)}: keys must be strings, got {bad!r}")
    return data


def _yaml_problem(e: yaml.YAMLError) -> str:
    """``", line L, column C: not valid YAML: <problem>"`` on one line."""
    mark = getattr(e, "problem_mark", None)
    at = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    what = getattr(e, "problem", None) or str(e)
    return f"{at}: not valid YAML: {' '.join(str(what).split())}"


def profile_status(params: dict[str, Any], where: str = "<params>") -> tuple[bool, str | None]:
    """``(enabled, reason)`` from the reserved keys, checking their types."""
    enabled = params.get("enabled", True)
    reason = params.get("reason")
    if not isinstance(enabled, bool):
        raise ParameterError(f"{where}: 'enabled' must be true or false, got {enabled!r}")
    if reason is not None and not isinstance(reason, str):
        raise ParameterError(f"{where}: 'reason' must be a string, got {reason!r}")
    if not enabled and not (reason or "").strip():
        raise ParameterError(
            f"{where}: 'enabled: false' needs a 'reason' saying why (e.g. \"needs a GPU\")"
        )
    return enabled, reason


def list_profiles(params_dir: str | Path | None = None) -> list[str]:
    """Profile folders under ``params/`` (the standard three first)."""
    root = Path(params_dir or project_layout().params)
    found = {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    return [p for p in PROFILES if p in found] + sorted(found - set(PROFILES))


def check_profile(profile: str, params_dir: str | Path | None = None) -> None:
    if not isinstance(profile, str) or not profile:
        raise ParameterError(f"profile must be a non-empty string, got {profile!r}")
    root = Path(params_dir or project_layout().params)
    if not (root / profile).is_dir():
        known = ", ".join(list_profiles(root)) or "none"
        raise ParameterError(
            f"unknown profile {profile!r}: no folder {_rel(root / profile)}; profiles: {known}"
        )


# --------------------------------------------------------------------------- validation

_TYPE_NAMES = {
    bool: "bool (true/false)",
    int: "int",
    float: "float (an int is accepted)",
    str: "str",
    list: "list",
    dict: "dict (mapping)",
    tuple: "list",
}


def expected_type(default: Any) -> str:
    """Human name of the type a parameter with this default accepts."""
    if default is None:
        return "anything (the default is None)"
    return _TYPE_NAMES.get(type(default), type(default).__name__)


def type_matches(value: Any, default: Any) -> bool:
    """Does ``value`` fit a parameter whose default is ``default``?

    The default's type decides: ``None`` accepts anything; ``int`` is accepted for ``float``;
    ``bool`` is never an int or float; lists and dicts only have their container type checked.
    """
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


def is_dataset_key(key: str) -> bool:
    """Keys whose values name datasets: ``dataset``, ``datasets``, ``*_dataset``, ``*_datasets``."""
    return key in ("dataset", "datasets") or key.endswith(("_dataset", "_datasets"))


def dataset_names(value: Any) -> list[tuple[str, dict[str, Any]]] | None:
    """``(dataset name, entry's own dataset_params)`` pairs held by a dataset key's value, as
    :func:`saliency_lib.grid.dataset_entries` reads it; ``None`` if it is not a dataset value."""
    try:
        return [(e.dataset, e.dataset_params) for e in dataset_entries(value)]
    except TypeError:
        return None


def parameters_grid(name: str, effective: dict[str, Any], where: str) -> Grid:
    """The run grid notebook ``name`` trains with these (effective) parameters
    (:func:`saliency_lib.grid.notebook_grid`), every run configuration checked; a
    :class:`ParameterError` naming the file and the problem otherwise."""
    try:
        return notebook_grid(effective)
    except (KeyError, TypeError, ValueError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise ParameterError(
            f"{where}: cannot build the run configurations of notebook {name!r}: {msg}"
        ) from None


def _dataset_kwargs(
    key: str, name: str, effective: dict[str, Any], own: dict[str, Any]
) -> dict[str, Any]:
    """The ``dataset_params`` that apply to dataset ``name`` named under ``key``.

    Looked up as ``<key>_params`` (e.g. ``eval_dataset_params``), else ``dataset_params``; a
    sub-mapping under the dataset's own name (``{cifar10: {root: ...}}``) overrides the shared
    top-level entries, and the entry's own ``dataset_params`` (``own``) override both.
    """
    dp = effective.get(f"{key}_params")
    if not isinstance(dp, dict):
        dp = effective.get("dataset_params")
    if not isinstance(dp, dict):
        dp = {}
    names = set(list_datasets())
    shared = {k: v for k, v in dp.items() if k not in names}
    by_name = dp.get(name) if isinstance(dp.get(name), dict) else {}
    return {**shared, **by_name, **own}


def _check_datasets(
    name: str, profile: str, effective: dict[str, Any], where: str, check_network: bool
) -> None:
    valid = list_datasets()
    named: list[tuple[str, str, dict[str, Any]]] = []  # (key, dataset, entry's dataset_params)
    for key, value in effective.items():
        if not is_dataset_key(key):
            continue
        pairs = dataset_names(value)
        if pairs is None:
            raise ParameterError(
                f"{where}: {key!r} must name datasets (a string, a list of strings or a mapping "
                f"keyed by dataset name), got {value!r}"
            )
        for ds, own in pairs:
            if ds not in valid:
                raise ParameterError(
                    f"{where}: {key!r} names unknown dataset {ds!r}; datasets: {', '.join(valid)}"
                )
            named.append((key, ds, own))
    # A shared dataset_params mapping may hold parameters of any of the notebook's datasets.
    known = set(_GENERAL_DATASET_ARGS).union(*(DATASETS.get(ds).params for _, ds, _ in named))
    for key, ds, own in named:
        kw = _dataset_kwargs(key, ds, effective, own)
        unknown = sorted(set(kw) - known)
        if unknown:
            raise ParameterError(
                f"{where}: dataset parameter(s) {', '.join(map(shown, unknown))} "
                f"(for {key!r}: {ds!r}) are "
                f"not parameters of any dataset of this notebook; valid: {', '.join(sorted(known))}"
            )
        accepted = set(DATASETS.get(ds).params)
        general = {k: kw[k] for k in ("root", "source", "download") if k in kw}
        specific = {k: v for k, v in kw.items() if k in accepted}
        try:
            check_available(ds, **general, **specific, check_network=check_network)
        except DatasetNotFoundError as e:
            raise DatasetNotFoundError(
                f"notebook {name!r}, profile {profile!r} ({where}, key {key!r}): {e}"
            ) from None
        except (ValueError, TypeError) as e:
            raise ParameterError(f"{where}: dataset {ds!r} (key {key!r}): {e}") from None


# --------------------------------------------------------------------------- nested values

#: Valid ranges by dotted key (``*``: any label; ``[]``: each element of a list when it differs
#: from the rule for the whole value). RunConfig fields get theirs (``config.FIELD_RANGES``) under
#: ``training``, ``datasets.<label>`` and ``architectures.<model>``.
RANGE_RULES: dict[str, Range] = {
    "seeds": Range(1, MAX_SEEDS),  # a number of seeds ...
    "seeds[]": Range(0),  # ... or a list of seeds
    "datasets.*.seeds": Range(1, MAX_SEEDS),
    "datasets.*.seeds[]": Range(0),
    "levels": Range(0, 100),  # % of the features removed
    "roar_levels": Range(0, 100),
    "fractions": Range(0, 1),
    "object_fractions": Range(0, 1),
    "min_accuracy": Range(0, 100),
    "min_accuracy.*": Range(0, 100),
    "eval_images": Range(1),
    "eval_samples": Range(1),
    "n_images": Range(1),
    "gradient_images": Range(1),
    "sparsity_images": Range(1),
    "object_images": Range(1),
    "sib_images": Range(1),
    "scatter_images": Range(1),
    "roar_train_images": Range(1),
    "roar_epochs": Range(1),
    "examples": Range(1),
    "k_null_images": Range(0),  # 0: skip
    "random_tolerance": Range(0),
    "similar_tolerance": Range(0),
    "epsilon": Range(0),
    "methods.*.k_fraction": Range(0, 1),
    "methods.*.k_init_fraction": Range(0, 1),
    "methods.*.k_min_fraction": Range(0, 1),
    "methods.*.k_max_fraction": Range(0, 1),
    "methods.*.k_top_start": Range(0, 1),
    "methods.*.k_top_step": Range(0, 1),
    "methods.*.k_bottom": Range(0, 1),
    "methods.*.alpha": Range(0, 1),
    "methods.*.mu": Range(0),
    "methods.*.lambda_kl": Range(0),
    "methods.*.min_delta": Range(0),
    "methods.*.n_top": Range(1),
    "methods.*.patience": Range(1),
    "methods.*.episode_size": Range(1),
    "saliency_options.*.n_steps": Range(1),
    "saliency_options.*.nt_samples": Range(1),
    "saliency_options.*.n_samples": Range(1),
    "saliency_options.*.n_baselines": Range(1),
    "saliency_options.*.stdevs": Range(0),
    "saliency_options.*.stdev_fraction": Range(0),
}
#: ``1e-3``: a float in Python, a string in YAML 1.1 (PyYAML wants ``1.0e-3``).
_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
#: Parameters naming one saliency method, or a list of them.
SALIENCY_KEYS = ("saliency", "bias_saliency", "saliency_methods")
#: The shapes of the structured parameters, checked besides (or without) an annotation.
SHAPES: dict[str, Any] = {
    "training": dict[str, Any],
    "methods": dict[str, dict[str, Any] | None],
    "architectures": list[str] | dict[str, dict[str, Any] | None],
    "saliency_options": dict[str, dict[str, Any] | None],
    "saliency_methods": list[str],
    "saliency": str,
    "bias_saliency": str,
}
#: Keys of a ``datasets`` entry besides RunConfig fields (saliency_lib.grid).
_ENTRY_KEYS = ("dataset", "dataset_params", "seeds", "method_training")


def _range_rules() -> dict[str, Range]:
    rules = dict(RANGE_RULES)
    for field, rng in FIELD_RANGES.items():
        for prefix in ("training", "datasets.*", "architectures.*", "methods.*.training"):
            rules[f"{prefix}.{field}"] = rng
    return rules


class _Checker:
    """Walks one file's (or ``--set``'s) values of one notebook, naming the dotted key of each
    problem: ``params/cpu/x.yaml: training.epochs: must be int, got '2' (str)``."""

    def __init__(self, where: str, check_devices: bool = True):
        self.where = where
        self.rules = _range_rules()
        self.check_devices = check_devices

    def fail(self, key: str, msg: str) -> ParameterError:
        return ParameterError(f"{self.where}: {shown(key)}: {msg}")

    def type(self, key: str, value: Any, hint: Any) -> None:
        if not matches(value, hint):
            msg = f"must be {type_name(hint)}, got {value!r} ({type(value).__name__})"
            if isinstance(value, str) and _SCIENTIFIC.fullmatch(value):
                msg += f"; YAML reads {value} as a string, write {float(value)!r}"
            raise self.fail(key, msg)

    def choice(self, key: str, value: Any, kind: str, choices: list[str]) -> None:
        if value not in choices:
            raise self.fail(key, f"unknown {kind} {value!r}; choose one of: {', '.join(choices)}")

    def keys(self, key: str, mapping: dict[str, Any], valid: list[str], kind: str) -> None:
        unknown = [k for k in mapping if k not in valid]
        if unknown:
            raise self.fail(
                f"{key}.{unknown[0]}", f"unknown {kind}; valid keys: {', '.join(sorted(valid))}"
            )

    def ranges(self, key: str, value: Any) -> None:
        """Every range rule matching ``key`` (and its sub-keys, for mappings)."""
        if isinstance(value, dict):
            for k, v in value.items():
                self.ranges(f"{key}.{k}", v)
        rule = None
        if isinstance(value, list | tuple):
            rule = next((r for p, r in self.rules.items() if fnmatchcase(f"{key}[]", p)), None)
        rule = rule or next((r for p, r in self.rules.items() if fnmatchcase(key, p)), None)
        if rule is not None and not rule.ok(value):
            raise self.fail(key, f"must be {rule}, got {value!r}")

    def finite(self, key: str, value: Any) -> None:
        """Every number in ``value`` finite (YAML reads ``.nan``, ``.inf`` as floats)."""
        where = non_finite(value)
        if where is not None:
            raise self.fail(
                f"{key}{where[0]}", f"must be a finite number, got {where[1]!r} (YAML's .nan/.inf)"
            )

    def run_fields(self, key: str, mapping: Any, extra: tuple[str, ...] = ()) -> None:
        """RunConfig fields (``training``, a ``datasets`` entry, an ``architectures`` entry)."""
        if mapping is None:
            return
        self.type(key, mapping, dict[str, Any])
        hints = typing.get_type_hints(RunConfig)
        self.keys(key, mapping, [*hints, *extra], "RunConfig field")
        for k, v in mapping.items():
            if k in hints:
                self.type(f"{key}.{k}", v, hints[k])
        if "model" in mapping:
            self.choice(f"{key}.model", mapping["model"], "model", list_models())
        if "optimizer" in mapping:
            self.choice(f"{key}.optimizer", mapping["optimizer"], "optimizer", list(OPTIMIZERS))
        if self.check_devices and isinstance(mapping.get("device"), str):
            problem = device_problem(mapping["device"])
            if problem:
                raise self.fail(f"{key}.device", problem)

    def methods(self, key: str, value: Any) -> None:
        for label, options in value.items():
            options = dict(options or {})
            name = options.pop("method", label)
            self.run_fields(f"{key}.{label}.training", options.pop("training", None))
            self.choice(f"{key}.{label}", name, "training method", list_methods())
            config = TRAINING_METHODS.get(name).Config
            hints = typing.get_type_hints(config)
            self.keys(f"{key}.{label}", options, list(hints), f"option of method {name!r}")
            for k, v in options.items():
                self.type(f"{key}.{label}.{k}", v, hints[k])

    def saliency(self, key: str, value: Any) -> None:
        valid = list_saliency_methods()
        if key == "saliency_options":
            general = ("abs", "batch_size", "output")
            for name, options in value.items():
                self.choice(f"{key}.{name}", name, "saliency method", valid)
                params = inspect.signature(SALIENCY_METHODS.get(name)).parameters
                allowed = [p for p in params if p not in ("f", "x", "y", "generator")]
                self.keys(f"{key}.{name}", options or {}, [*allowed, *general], "option")
            return
        for name in [value] if isinstance(value, str) else value:
            self.choice(key, name, "saliency method", valid)

    def check(self, key: str, value: Any, hint: Any) -> None:
        """One top-level parameter: its type, then what its nested values mean, then ranges."""
        self.type(key, value, hint)
        self.finite(key, value)
        if key in SHAPES and value is not None:
            self.type(key, value, SHAPES[key])
        if is_dataset_key(key):
            for ds, _ in dataset_names(value) or ():
                self.choice(key, ds, "dataset", list_datasets())
        if key == "training":
            self.run_fields(key, value)
        elif key == "datasets" and isinstance(value, dict):
            for label, entry in value.items():
                self.run_fields(f"{key}.{label}", entry, _ENTRY_KEYS)
                per_method = (entry or {}).get("method_training")
                if per_method is not None:
                    where = f"{key}.{label}.method_training"
                    self.type(where, per_method, dict[str, dict[str, Any] | None])
                    for method, fields in per_method.items():
                        self.run_fields(f"{where}.{method}", fields)
        elif key == "architectures" and isinstance(value, dict):
            for model, entry in value.items():
                self.choice(f"{key}.{model}", model, "model", list_models())
                self.run_fields(f"{key}.{model}", entry)
        elif key == "architectures" and isinstance(value, list | tuple):
            for model in value:
                self.choice(key, model, "model", list_models())
        elif key == "methods" and isinstance(value, dict):
            self.methods(key, value)
        elif (key in SALIENCY_KEYS or key == "saliency_options") and value is not None:
            self.saliency(key, value)
        self.ranges(key, value)


def parse_sets(items: list[str] | tuple[str, ...] | None) -> dict[str, Any]:
    """``["training.epochs=2", "levels=[0, 50]"]`` -> ``{"training.epochs": 2, ...}``: the
    ``--set KEY=VALUE`` options, each value read as YAML (``2`` an int, ``2.0`` a float,
    ``none``/``null`` None, ``[0, 50]`` a list); a later ``--set`` of a key wins."""
    sets: dict[str, Any] = {}
    for item in items or ():
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key or any(not part for part in key.split(".")):
            raise ParameterError(
                f"--set {item!r}: write KEY=VALUE, KEY a parameter or a dotted path into one "
                "(e.g. --set seeds=2 --set training.epochs=2)"
            )
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as e:
            raise ParameterError(f"--set {item!r}{_yaml_problem(e)}") from None
        sets[key] = (
            float(value) if isinstance(value, str) and _SCIENTIFIC.fullmatch(value) else value
        )
    return sets


def apply_sets(
    values: dict[str, Any], defaults: dict[str, Any], sets: dict[str, Any]
) -> dict[str, Any]:
    """``values`` (a file's parameters) with the dotted ``sets`` applied: ``training.epochs``
    sets ``epochs`` inside the file's ``training`` mapping (else a copy of the default's)."""
    out = dict(values)
    for key, value in sets.items():
        top, *path = key.split(".")
        if not path:
            out[top] = value
            continue
        node = out[top] = copy.deepcopy(out.get(top, defaults.get(top)))
        walked = top
        for part in path[:-1]:
            if not isinstance(node, dict):
                break
            if node.get(part) is None:
                node[part] = {}
            node, walked = node[part], f"{walked}.{part}"
        if not isinstance(node, dict):
            raise ParameterError(f"--set {key}: {walked} is not a mapping, it holds {node!r}")
        node[path[-1]] = value
    return out


# --------------------------------------------------------------------------- validation


def validate_params(
    name: str,
    profile: str,
    params: dict[str, Any] | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    sets: dict[str, Any] | None = None,
    notebooks_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
    check_data: bool = True,
    check_network: bool = True,
    check_devices: bool = True,
) -> dict[str, Any]:
    """Check notebook ``name``'s parameters for ``profile`` before any work; return the values
    to inject (the YAML mapping without reserved keys, plus ``overrides`` and ``sets``).

    ``params`` defaults to :func:`load_params`; ``overrides`` (e.g. ``{"seeds": 3}`` from
    ``--seeds``) replace whole parameters, ``sets`` (``--set``, :func:`parse_sets`) may name
    dotted keys into a parameter's mapping (``{"training.epochs": 2}``). Every value is checked
    the same way, each error a :class:`ParameterError` naming the file (or ``--set``), the dotted
    key and what is valid: unknown keys at any depth (parameters, RunConfig fields, method
    options, saliency options), types (the parameters cell's annotation, else the default's
    type; RunConfig fields and method options by their dataclass annotations), finite numbers,
    ranges and upper limits (:data:`RANGE_RULES`, ``config.FIELD_RANGES``), unknown models,
    training methods, saliency methods and datasets, a ``profile`` other than the file's folder,
    a file that is not complete (:func:`check_complete`), a run grid that cannot be built
    (:func:`parameters_grid`) or asks for more images than its dataset has, a device this machine
    does not have (``check_devices``; off where jobs train elsewhere). Re-raises
    ``DatasetNotFoundError`` naming the notebook and profile when ``check_data`` and a dataset
    named in the effective parameters (defaults + file + overrides) is not available. A notebook
    disabled in the profile (``enabled: false``) has its values checked, not its data.
    """
    nb_path = Path(notebooks_dir or project_layout().notebooks) / f"{name}.ipynb"
    defaults = notebook_parameters(nb_path)
    hints = notebook_annotations(nb_path)
    missing = [p for p in REQUIRED_PARAMETERS if p not in defaults]
    if missing:
        raise ParameterError(
            f"notebook {_rel(nb_path)} has no parameter(s) {', '.join(missing)} in its parameters "
            f'cell; every notebook needs `profile: str = "cpu"` and `output_dir = None`'
        )
    where = _rel(params_path(name, profile, params_dir))
    if params is None:
        params = load_params(name, profile, params_dir)
    enabled, _ = profile_status(params, where)
    values, sources = _with_overrides(name, params, defaults, where, overrides, sets)
    for key, value in values.items():
        _check_parameter(name, profile, key, value, defaults, hints, sources[key], check_devices)
    check_complete(name, profile, params, defaults, where)
    effective = {**defaults, **values}
    grid = parameters_grid(name, effective, where)
    _check_subsets(grid, where)
    if enabled and check_data:
        _check_datasets(name, profile, effective, where, check_network)
    return values


def _with_overrides(
    name: str,
    params: dict[str, Any],
    defaults: dict[str, Any],
    where: str,
    overrides: dict[str, Any] | None,
    sets: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The file's values (reserved keys dropped) with ``overrides`` and ``sets`` applied, and
    where each top-level value comes from (for the messages)."""
    values = {k: v for k, v in params.items() if k not in RESERVED_KEYS}
    sources = {k: where for k in values}
    for k, v in (overrides or {}).items():
        values[k] = v
        sources[k] = "command-line override"
    for key in sets or {}:
        top = key.split(".")[0]
        if top not in defaults:
            raise ParameterError(
                f"--set {shown(key)}: {shown(top)}: unknown parameter of notebook {name!r}; "
                f"valid keys: {', '.join(sorted(defaults))}"
            )
        set_ = f"--set {shown(key)}"
        sources[top] = f"{sources[top]} with {set_}" if top in sources else set_
    return apply_sets(values, defaults, sets or {}), sources


def _check_parameter(
    name: str,
    profile: str,
    key: str,
    value: Any,
    defaults: dict[str, Any],
    hints: dict[str, Any],
    source: str,
    check_devices: bool,
) -> None:
    """One top-level value: a parameter of the notebook, of the right type and meaning."""
    if key not in defaults:
        raise ParameterError(
            f"{source}: {shown(key)}: unknown parameter of notebook {name!r}; valid keys: "
            f"{', '.join(sorted(defaults))} (and the reserved keys {', '.join(RESERVED_KEYS)})"
        )
    if key == "profile" and value != profile:
        raise ParameterError(
            f"{source}: profile: {value!r} is not the profile of this file's folder "
            f"params/{profile}/; write `profile: {profile}` (outputs go to outputs/{profile}/; a "
            "file for another profile belongs in params/<profile>/)"
        )
    if key == "output_dir" and value is not None:
        raise ParameterError(
            f"{source}: output_dir: set by the runner (outputs/<profile>/<notebook>/); remove it"
        )
    checker = _Checker(source, check_devices)
    if key in hints:
        checker.check(key, value, hints[key])
    elif not type_matches(value, defaults[key]):
        raise ParameterError(
            f"{source}: {key}: parameter of notebook {name!r} must be "
            f"{expected_type(defaults[key])} like its default {defaults[key]!r}, "
            f"got {value!r} ({type(value).__name__})"
        )
    else:
        checker.check(key, value, Any)


def check_complete(
    name: str, profile: str, params: dict[str, Any], defaults: dict[str, Any], where: str
) -> None:
    """A params file names its profile and sets every parameter of its notebook (but
    ``output_dir``, the runner's), or lists those it keeps from the notebook's parameters cell
    under ``from_notebook``; so an empty, truncated or comment-only file is refused instead of
    running with the notebook's own (``cpu``) values. A disabled file (``enabled: false``)
    needs only its profile: it runs nothing."""
    if not params:
        raise ParameterError(
            f"{where} is empty (or only comments): a params file names its profile and sets its "
            f"notebook's parameters; start it with `profile: {profile}`"
        )
    if "profile" not in params:
        raise ParameterError(
            f"{where}: add `profile: {profile}` (every params file names the profile of its folder)"
        )
    taken = params.get("from_notebook", [])
    if not isinstance(taken, list) or not all(isinstance(k, str) for k in taken):
        raise ParameterError(
            f"{where}: from_notebook must be a list of parameter names, got {taken!r}"
        )
    own = [k for k in defaults if k not in REQUIRED_PARAMETERS]
    for key in taken:
        if key not in own:
            raise ParameterError(
                f"{where}: from_notebook: {key!r} is not a parameter of notebook {name!r} the "
                f"file may take from it; its parameters: {', '.join(own)}"
            )
        if key in params:
            raise ParameterError(
                f"{where}: {key} is set here and listed under from_notebook; keep one"
            )
    if params.get("enabled", True) is False:
        return
    missing = [k for k in own if k not in params and k not in taken]
    if missing:
        names = ", ".join(missing)
        raise ParameterError(
            f"{where} does not set {names} (parameters of notebook {name!r}): set them here, or "
            f"keep the notebook's values with `from_notebook: [{names}]`"
        )


def _check_subsets(grid: Grid, where: str) -> None:
    """No run asks for more training or test images than its dataset has."""
    for cfg in grid_configs(grid):
        spec = DATASETS.get(cfg.dataset)
        kwargs = {k: v for k, v in cfg.dataset_params.items() if k in spec.params}
        try:
            sizes = dataset_info(cfg.dataset, **kwargs).sizes
        except (TypeError, ValueError):  # the data check names a bad dataset parameter
            continue
        for split in ("train", "test"):
            n = getattr(cfg, f"{split}_subset")
            known = [m for k, m in sizes.items() if m and (split in k or k == "total")]
            if known and n is not None and n > max(known):
                raise ParameterError(
                    f"{where}: {split}_subset: {n} images, but {cfg.dataset} has at most "
                    f"{max(known)} {split} images; use at most that (or null: all of them)"
                )
