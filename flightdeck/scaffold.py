"""A new environment from an existing one, and the fields that still point at it (``make new-env``).

    python -m flightdeck.scaffold staging qa     # environments/staging.yaml, a copy of qa.yaml

A copy keeps the source's account, network range, hostnames, buckets, certificates and alert
channels; deploying it as it is would collide with the source or page its on-call. The copy is
written as text (comments kept), then every field that still names the source (its name as a word,
its account or project, its network range) is listed. Synthesis warns about the same across all
environments of a folder (``cross_environment_warnings``), so a forgotten field is said every time.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .config import SLUG_PATTERN, EnvironmentConfig
from .errors import ConfigError
from .loader import environments_directory, reserved_name


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) of every scalar in ``value`` (``teams[0].permissions.buckets[1].bucket``)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    elif value is not None and not isinstance(value, bool):
        yield path, str(value)


def identifiers(config: Mapping[str, Any]) -> set[str]:
    """What makes an environment's resources its own: its account or project and its network range."""
    found = {str(config.get(section, {}).get(key)) for section, key in (("aws", "account_id"), ("gcp", "project_id"))}
    found.add(str(config.get("network", {}).get("cidr")))
    return found - {"None", ""}


def names_word(name: str) -> re.Pattern[str]:
    """The environment's name as a word of its own (``qa`` in ``airflow.qa.example`` or ``@slack-airflow-qa``)."""
    return re.compile(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", re.IGNORECASE)


NOT_IDENTIFYING = {"tier"}
"""Fields that may name what another environment is called without pointing at it (a tier is ``qa``)."""


def borrowed_fields(data: Mapping[str, Any], source_name: str, source_ids: set[str]) -> list[tuple[str, str]]:
    """Fields of ``data`` whose text still names the source environment or one of its identifiers."""
    word = names_word(source_name)
    return [
        (path, text)
        for path, text in leaves(data)
        if path not in NOT_IDENTIFYING and (word.search(text) or any(i in text for i in source_ids))
    ]


def cross_environment_warnings(configs: Sequence[EnvironmentConfig]) -> list[str]:
    """Per environment, the fields that name another environment of the folder or carry its identifiers."""
    dumped = {c.name: c.model_dump(mode="json", exclude={"name", "source"}) for c in configs}
    warnings = []
    hostnames: dict[str, str] = {}
    for config in configs:
        hostname = config.airflow.ui.hostname
        if hostname in hostnames:
            warnings.append(f"{config.source}: airflow.ui.hostname '{hostname}' is also environment {hostnames[hostname]}'s")
        hostnames.setdefault(hostname, config.name)
    for config in configs:
        own = identifiers(dumped[config.name])
        for other in configs:
            if other.name == config.name:
                continue
            theirs = identifiers(dumped[other.name]) - own
            for path, text in borrowed_fields(dumped[config.name], other.name, theirs):
                warnings.append(f"{config.source}: {path} '{text}' points at environment {other.name}")
    return warnings


def scaffold(directory: Path, name: str, source: str) -> tuple[Path, list[tuple[str, str]]]:
    """Copy ``<source>.yaml`` to ``<name>.yaml`` in ``directory``; returns the new file and its borrowed fields."""
    if not SLUG_PATTERN.match(name):
        raise ConfigError(f"{name}: an environment name is lowercase letters, digits and dashes (it starts its stacks' names)")
    origin = directory / f"{source}.yaml"
    target = directory / f"{name}.yaml"
    if not origin.is_file():
        raise ConfigError(f"{origin}: no such environment to copy")
    if target.exists():
        raise ConfigError(f"{target}: already exists; nothing was written")
    why = reserved_name(name)
    if why:
        raise ConfigError(f"{name}: the environment name '{name}' {why}; nothing was written")
    for other in sorted(p.stem for p in directory.glob("*.yaml")):
        outer, inner = sorted((name, other), key=len)
        if inner.startswith(f"{outer}-"):
            raise ConfigError(
                f"{name}: '{inner}' starts with '{outer}-', so in one account {outer}'s deployer could change "
                f"{inner}'s roles; choose a name that does not (for example {inner.replace('-', '', 1)}); nothing was written"
            )
    text = origin.read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    target.write_text(text, encoding="utf-8")
    return target, borrowed_fields(data, source, identifiers(data))


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m flightdeck.scaffold <new-name> <existing-environment>", file=sys.stderr)
        return 2
    name, source = argv
    try:
        target, fields = scaffold(environments_directory(os.environ), name, source)
    except ConfigError as exc:
        print(f"flightdeck: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target} (a copy of {source}.yaml). These fields still point at {source}; change each:")
    for path, text in fields:
        print(f"  {path}: {text}")
    print("Then: make synth, make workflow, a GitHub environment of the same name, and the bootstrap stack again (README).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
