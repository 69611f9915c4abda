"""Reading environment files and CI overrides into validated :class:`EnvironmentConfig` objects.

Every problem becomes a :class:`ConfigError` whose message names the file (or the override
variable) and the field path. All files are read and validated before anything is built, and
all problems found are reported together.

CI overrides (see the README):

* ``FLIGHTDECK_SET__<PATH>=value`` sets a field in every environment;
* ``FLIGHTDECK_SET_<ENV>__<PATH>=value`` sets it in one environment and wins over the above.

``<PATH>`` is the field path with ``__`` between levels, e.g.
``FLIGHTDECK_SET_PROD__CLUSTER__NODE_GROUPS__WORKERS__MAX_SIZE=40``. The value is read as YAML,
so numbers and booleans keep their types and lists can be written ``[a, b]``; a text field (an
account id, an image tag) takes the value as written. Any other
``FLIGHTDECK_`` variable that Flightdeck does not know is an error, so a typo cannot silently
deploy the file's value.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .cdk_line import VARIABLE as CDK_LINE_VARIABLE
from .config import BOOTSTRAP_NAME, CI_NAME, ENVIRONMENT_MODELS, SLUG_PATTERN, AwsEnvironment, BootstrapConfig, EnvironmentConfig, Tier
from .errors import ConfigError
from .tiers import deep_merge, tier_defaults
from .yamlfile import read_yaml_mapping

ENVIRONMENTS_VARIABLE = "FLIGHTDECK_ENVIRONMENTS"
"""Names the folder of environment files (default ``environments``)."""
BOOTSTRAP_FILE = "bootstrap.yaml"
"""The bootstrap stack's file, next to the folder of environment files (``./bootstrap.yaml``)."""
BOOTSTRAP_STATE_VARIABLE = "FLIGHTDECK_BOOTSTRAP_STATE"
"""``local`` keeps the bootstrap stack's state on disk: its first deploy, before its bucket exists."""

OVERRIDE_PREFIX = "FLIGHTDECK_SET"
KNOWN_VARIABLES = frozenset({ENVIRONMENTS_VARIABLE, BOOTSTRAP_STATE_VARIABLE, CDK_LINE_VARIABLE})
"""``FLIGHTDECK_`` variables that are not overrides."""

# Fields that identify an environment rather than configure it.
NOT_OVERRIDABLE = frozenset({"name", "source", "tier"})


@dataclass(frozen=True)
class Override:
    variable: str
    environment: str | None
    """None: applies to every environment."""
    path: tuple[str, ...]
    value: Any


def _format_location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _field_names(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str] | None:
    """The keys allowed at ``loc`` (for 'unknown key' messages), or None if not a model there."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name in current.model_fields if name not in ("name", "source")]
    return None


def _model_in(annotation: Any) -> Any:
    """The BaseModel inside ``X``, ``X | None`` or ``Annotated[X, ...]``, else the annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


def _describe(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        allowed = _field_names(model, loc[:-1])
        message = "unknown key" + (f"; expected one of: {', '.join(allowed)}" if allowed else "")
    elif kind == "missing":
        message = "required, but not set"
    elif not isinstance(error.get("input"), dict | list) and kind not in ("value_error", "assertion_error"):
        message += f" (got {error['input']!r})"
    where = _format_location(loc)
    return f"{where}: {message}" if where else message


def _is_text(annotation: Any) -> bool:
    """True for a field that only holds text (``str``, ``Annotated[str, …]``, ``str | None``)."""
    if annotation is str:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and bool(args) and all(_is_text(a) for a in args)


def _check_override_path(path: tuple[str, ...], variable: str) -> Any:
    """The annotation of the field ``path`` names in any cloud's model; a ConfigError (from the AWS
    model, the default cloud) if it names no single setting in any."""
    first: ConfigError | None = None
    for model in ENVIRONMENT_MODELS.values():
        try:
            return _override_path_in(model, path, variable)
        except ConfigError as exc:
            first = first or exc
    assert first is not None
    raise first


def _override_path_in(model: type[BaseModel], path: tuple[str, ...], variable: str) -> Any:
    current: Any = model
    for depth, part in enumerate(path):
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            known = ", ".join(_field_names(current, ()) or []) if isinstance(current, type) and issubclass(current, BaseModel) else ""
            at = ".".join(path[:depth]) or "the top level"
            hint = f"; fields at {at}: {known}" if known else ""
            raise ConfigError(f"{variable}: '{'.'.join(path)}' is not a setting{hint}")
        if depth == 0 and part in NOT_OVERRIDABLE:
            raise ConfigError(f"{variable}: '{part}' identifies the environment and cannot be overridden")
        current = _model_in(current.model_fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        raise ConfigError(f"{variable}: '{'.'.join(path)}' is a section; override one of its fields instead")
    return current


def parse_overrides(environ: Mapping[str, str]) -> list[Override]:
    """Read the ``FLIGHTDECK_SET`` variables; reject every ``FLIGHTDECK_`` name that is unknown."""
    overrides: list[Override] = []
    problems: list[str] = []
    for variable in sorted(environ):
        if not variable.upper().startswith("FLIGHTDECK_") or variable in KNOWN_VARIABLES:
            continue
        if not variable.startswith("FLIGHTDECK_"):
            problems.append(
                f"{variable}: Flightdeck's variables start with FLIGHTDECK_ in capitals and names are case-sensitive, "
                f"so this one would be ignored; rename it {variable.upper()}"
            )
            continue
        head, sep, rest = variable.partition("__")
        if not sep or not (head == OVERRIDE_PREFIX or head.startswith(OVERRIDE_PREFIX + "_")) or not rest:
            problems.append(
                f"{variable}: unknown Flightdeck variable; overrides are named "
                f"{OVERRIDE_PREFIX}__<FIELD>__<FIELD> or {OVERRIDE_PREFIX}_<ENV>__<FIELD>__<FIELD>"
            )
            continue
        environment = head.removeprefix(OVERRIDE_PREFIX).removeprefix("_").lower().replace("_", "-") or None
        path = tuple(part.lower() for part in rest.split("__"))
        try:
            annotation = _check_override_path(path, variable)
            raw = environ[variable]
            if raw.strip() == "":
                raise ConfigError(f"{variable}: the value is empty; unset the variable to keep the file's value")
            # A text field takes the text as written: YAML would turn an account id or a tag like 3.10 into a number.
            value = raw
            if not _is_text(annotation):
                try:
                    value = yaml.safe_load(raw)
                except yaml.YAMLError:
                    value = raw
            overrides.append(Override(variable, environment, path, value))
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("\n".join(problems))
    return overrides


def _apply(data: dict[str, Any], override: Override) -> dict[str, Any]:
    """``data`` with the override's field set; a list or mapping value replaces the file's, it does not merge."""
    merged = copy.deepcopy(data)
    node = merged
    for part in override.path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[override.path[-1]] = override.value
    return merged


def load_environment(path: Path, overrides: Sequence[Override] = (), label: str | None = None) -> EnvironmentConfig:
    """Read, merge over tier defaults, apply overrides and validate one environment file."""
    label = label or str(path)
    name = path.stem
    if not SLUG_PATTERN.match(name):
        raise ConfigError(
            f"{label}: '{name}' is not a usable environment name; name the file in lowercase letters, "
            "digits and dashes (it becomes the stack name, as in prod.yaml)"
        )
    why = reserved_name(name)
    if why:
        raise ConfigError(f"{label}: the environment name '{name}' {why}; name the file differently")
    data = read_yaml_mapping(path, label)
    for reserved in ("name", "source"):
        if reserved in data:
            raise ConfigError(f"{label}: {reserved}: unknown key; the environment's {reserved} comes from its file name")
    tier = data.get("tier")
    if not isinstance(tier, str) or tier not in {t.value for t in Tier}:
        shown = "required, but not set" if tier is None else f"must be one of dev, qa, prod (got {tier!r})"
        raise ConfigError(f"{label}: tier: {shown}")

    cloud = data.get("cloud", "aws")
    model = ENVIRONMENT_MODELS.get(cloud) if isinstance(cloud, str) else None
    if model is None:
        raise ConfigError(f"{label}: cloud: must be one of {', '.join(ENVIRONMENT_MODELS)} (got {cloud!r})")

    merged = deep_merge(tier_defaults(Tier(tier), cloud, sections=data), data)
    applied = [o for o in overrides if o.environment in (None, name)]
    # Overrides for every environment first, so an environment-specific one wins.
    for override in sorted(applied, key=lambda o: o.environment is not None):
        merged = _apply(merged, override)
    merged.update(name=name, source=label)
    return _validate(model, merged, label, {o.path: o.variable for o in applied})


def reserved_name(name: str) -> str | None:
    """Why ``name`` cannot name an environment, or None.

    An environment's deployer manages the IAM names under ``<project>-<name>-`` and the state under
    ``<project>/<name>/``: ``ci`` (and ``ci-…``) would put the CI roles and their boundaries under an
    environment's prefix, ``bootstrap`` the bootstrap stack's state under its state prefix.
    """
    if name == CI_NAME or name.startswith(f"{CI_NAME}-"):
        return f"is reserved: its resource prefix would cover Flightdeck's CI roles (<project>-{CI_NAME}-…), which its deployer could then change"
    if name == BOOTSTRAP_NAME:
        return f"is reserved: its state prefix would be the bootstrap stack's (<project>/{BOOTSTRAP_NAME}/)"
    return None


def _shared_prefix_problems(configs: Sequence[EnvironmentConfig]) -> list[str]:
    """Environments in one account or project whose resource prefixes nest (``prod`` and ``prod-2``).

    ``prod``'s deployer may change every IAM role and policy named ``flightdeck-prod-*``, so it could
    change ``prod-2``'s too: the names must not nest.
    """
    problems = []
    for outer in configs:
        for inner in configs:
            if inner is outer or outer.cloud_scope is None or (inner.project, inner.cloud_scope) != (outer.project, outer.cloud_scope):
                continue
            if inner.resource_prefix.startswith(f"{outer.resource_prefix}-"):
                problems.append(
                    f"{inner.source}: the environment name '{inner.name}' starts with '{outer.name}-', so its resources "
                    f"({inner.resource_prefix}-…) fall under {outer.source}'s prefix {outer.resource_prefix}-, which "
                    f"{outer.name}'s deployer manages in {outer.cloud_scope}; rename it without the dash "
                    f"(for example {inner.name.replace('-', '', 1)})"
                )
    return problems


M = typing.TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Mapping[str, Any], label: str, set_by: Mapping[tuple[str, ...], str]) -> M:
    """``model`` from ``data``, or one ConfigError line per problem naming the file, field and override."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            text = _describe(error, model)
            variable = set_by.get(tuple(str(p) for p in error["loc"]))
            lines.append(f"{label}: {text}" + (f" (set by {variable})" if variable else ""))
        raise ConfigError("\n".join(lines)) from None


def load_environments(directory: Path, environ: Mapping[str, str]) -> list[EnvironmentConfig]:
    """Every ``*.yaml`` in ``directory``, validated, sorted by name. Raises one ConfigError listing every problem."""
    if not directory.is_dir():
        raise ConfigError(f"{directory}: no such folder of environment files (set {ENVIRONMENTS_VARIABLE} or create it)")
    files = sorted(directory.glob("*.yaml"))
    stray = sorted(directory.glob("*.yml"))
    problems = [f"{p}: environment files end in .yaml; rename it to {p.with_suffix('.yaml').name}" for p in stray]
    if not files and not stray:
        raise ConfigError(f"{directory}: no environment files (*.yaml) found")
    try:
        overrides = parse_overrides(environ)
    except ConfigError as exc:
        problems.append(str(exc))
        overrides = []
    names = {f.stem for f in files}
    for override in overrides:
        if override.environment is not None and override.environment not in names:
            problems.append(
                f"{override.variable}: there is no environment '{override.environment}' in {directory} "
                f"(known: {', '.join(sorted(names))})"
            )
    configs = []
    for file in files:
        try:
            configs.append(load_environment(file, overrides))
        except ConfigError as exc:
            problems.append(str(exc))
    problems += _shared_prefix_problems(configs)
    if problems:
        raise ConfigError("\n".join(problems))
    return configs


def environments_directory(environ: Mapping[str, str]) -> Path:
    """The folder of environment files: ``FLIGHTDECK_ENVIRONMENTS``, or ``environments``."""
    return Path(environ.get(ENVIRONMENTS_VARIABLE, "environments"))


def bootstrap_path(directory: Path) -> Path:
    return directory.resolve().parent / BOOTSTRAP_FILE


def find_bootstrap(directory: Path, environments: Sequence[EnvironmentConfig]) -> BootstrapConfig | None:
    """The ``bootstrap.yaml`` next to ``directory``, validated; None when there is none."""
    path = bootstrap_path(directory)
    return load_bootstrap(path, environments) if path.is_file() else None


def load_bootstrap(path: Path, environments: Sequence[EnvironmentConfig]) -> BootstrapConfig:
    """``bootstrap.yaml``, validated, and checked against the environments it prepares."""
    label = str(path)
    data = read_yaml_mapping(path, label)
    if "source" in data:
        raise ConfigError(f"{label}: source: unknown key")
    config = _validate(BootstrapConfig, {**data, "source": label}, label, {})
    buckets = sorted({env.state.bucket for env in environments if isinstance(env, AwsEnvironment)})
    if config.state.bucket not in buckets:
        raise ConfigError(
            f"{label}: state.bucket: '{config.state.bucket}' is not a bucket the bootstrap creates; "
            f"use one of the environments' state buckets ({', '.join(buckets) or 'none'})"
        )
    return config


__all__ = [
    "Override",
    "bootstrap_path",
    "environments_directory",
    "find_bootstrap",
    "load_bootstrap",
    "load_environment",
    "load_environments",
    "parse_overrides",
    "reserved_name",
]
