"""Notebook parameters: the ``parameters`` cell, the ``params/<profile>/<name>.yaml`` files, and
their validation before any work starts.

Conventions (README "notebooks"): each ``notebooks/<name>.ipynb`` has exactly one code cell tagged
``parameters`` holding simple assignments of literals; ``params/<profile>/<name>.yaml`` is a
mapping whose keys are a subset of those parameters. The reserved top-level keys ``enabled``
(bool) and ``reason`` (str) disable a notebook in a profile; the runner then records it as
"not run" with the reason.

Papermill alone only warns about unknown parameters and never checks types; ``validate_params``
turns both into a :class:`ParameterError` naming the key, the file and what is valid, and checks
that every dataset the notebook will load is available (``saliency_lib.data.check_available``).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from .._project import display_path as _rel
from .._project import project_layout
from ..grid import Grid, dataset_entries, notebook_grid

PROFILES = ("smoke", "cpu", "paper")

#: Top-level YAML keys that are not notebook parameters.
RESERVED_KEYS = ("enabled", "reason")
#: Parameters every notebook must have (the runner always injects them).
REQUIRED_PARAMETERS = ("profile", "output_dir")
#: ``get_dataset`` arguments a ``dataset_params`` mapping may hold besides dataset parameters;
#: the first three are passed on to ``check_available``.
_GENERAL_DATASET_ARGS = ("root", "source", "download", "subset", "seed")


class ParameterError(ValueError):
    """A parameters file or override does not fit the notebook (unknown key, wrong type, ...)."""


# --------------------------------------------------------------------------- notebook side


def read_notebook(path: str | Path) -> dict[str, Any]:
    """The notebook's JSON (nbformat 4) as a plain dict."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"notebook {_rel(path)} does not exist") from None
    except json.JSONDecodeError as e:
        raise ParameterError(f"notebook {_rel(path)} is not valid JSON: {e}") from None


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


def parse_assignments(source: str, where: str = "<parameters cell>") -> dict[str, Any]:
    """``name = <literal>`` statements -> ``{name: value}`` (comments allowed, nothing else)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ParameterError(f"{where}: syntax error on line {e.lineno}: {e.msg}") from None
    values: dict[str, Any] = {}
    for stmt in tree.body:
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


# --------------------------------------------------------------------------- YAML side


def params_path(name: str, profile: str, params_dir: str | Path | None = None) -> Path:
    return Path(params_dir or project_layout().params) / profile / f"{name}.yaml"


def load_params(name: str, profile: str, params_dir: str | Path | None = None) -> dict[str, Any]:
    """The mapping in ``params/<profile>/<name>.yaml``, reserved keys included (empty -> {})."""
    import yaml

    path = params_path(name, profile, params_dir)
    if not path.is_file():
        raise ParameterError(
            f"no parameters file {_rel(path)} for notebook {name!r} in profile {profile!r}; "
            f"create it (an empty mapping {{}} keeps the notebook's defaults)"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ParameterError(f"{_rel(path)} is not valid YAML: {e}") from None
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
    from ..data import list_datasets

    names = set(list_datasets())
    shared = {k: v for k, v in dp.items() if k not in names}
    by_name = dp.get(name) if isinstance(dp.get(name), dict) else {}
    return {**shared, **by_name, **own}


def _check_datasets(
    name: str, profile: str, effective: dict[str, Any], where: str, check_network: bool
) -> None:
    from ..data import DATASETS, DatasetNotFoundError, check_available, list_datasets

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
                f"{where}: dataset parameter(s) {', '.join(unknown)} (for {key!r}: {ds!r}) are "
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


def validate_params(
    name: str,
    profile: str,
    params: dict[str, Any] | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    notebooks_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
    check_data: bool = True,
    check_network: bool = True,
) -> dict[str, Any]:
    """Check notebook ``name``'s parameters for ``profile`` before any work; return the values
    to inject (the YAML mapping without reserved keys, plus ``overrides``).

    ``params`` defaults to :func:`load_params`; ``overrides`` (e.g. ``{"seeds": 3}`` from the
    command line) are checked the same way. Raises :class:`ParameterError` for an unknown key
    (naming the key, the file and the valid keys), a wrong type (naming the key, the expected
    type and the file), a run grid that cannot be built (:func:`parameters_grid`: unknown
    method option, ...) or a notebook without ``profile``/``output_dir``; re-raises
    ``DatasetNotFoundError`` naming the notebook and profile when ``check_data`` and a dataset
    named in the effective parameters (defaults + file + overrides) is not available. A notebook
    disabled in the profile (``enabled: false``) has its keys and types checked, not its data.
    """
    nb_path = Path(notebooks_dir or project_layout().notebooks) / f"{name}.ipynb"
    defaults = notebook_parameters(nb_path)
    missing = [p for p in REQUIRED_PARAMETERS if p not in defaults]
    if missing:
        raise ParameterError(
            f"notebook {_rel(nb_path)} has no parameter(s) {', '.join(missing)} in its parameters "
            f'cell; every notebook needs `profile = "cpu"` and `output_dir = None`'
        )
    file = params_path(name, profile, params_dir)
    where = _rel(file)
    if params is None:
        params = load_params(name, profile, params_dir)
    enabled, _ = profile_status(params, where)

    values = {k: v for k, v in params.items() if k not in RESERVED_KEYS}
    sources = {k: where for k in values}
    for k, v in (overrides or {}).items():
        values[k] = v
        sources[k] = "command-line override"
    valid = ", ".join(sorted(defaults))
    for key, value in values.items():
        if key not in defaults:
            raise ParameterError(
                f"{sources[key]}: unknown parameter {key!r} for notebook {name!r}; "
                f"valid keys: {valid} (and the reserved keys {', '.join(RESERVED_KEYS)})"
            )
        if key == "profile" and value != profile:
            raise ParameterError(
                f"{sources[key]}: 'profile' is set by the runner ({profile!r}); remove it"
            )
        if key == "output_dir" and value is not None:
            raise ParameterError(
                f"{sources[key]}: 'output_dir' is set by the runner "
                "(outputs/<profile>/<notebook>/); remove it"
            )
        if not type_matches(value, defaults[key]):
            raise ParameterError(
                f"{sources[key]}: parameter {key!r} of notebook {name!r} must be "
                f"{expected_type(defaults[key])} like its default {defaults[key]!r}, "
                f"got {value!r} ({type(value).__name__})"
            )
    effective = {**defaults, **values}
    parameters_grid(name, effective, where)
    if enabled and check_data:
        _check_datasets(name, profile, effective, where, check_network)
    return values
