"""Reading a YAML settings file safely: libyaml where available, limits checked before anything is built.

PyYAML has no limits of its own. A few hundred bytes of nested aliases expand to billions of
values ("billion laughs"), thousands of nested brackets overflow Python's recursion, and a list
used as a mapping key is a ``TypeError`` deep inside the constructor. So a file is first parsed
into events (a flat stream, in C with libyaml) and measured: its size, its depth, and how many
values it expands to with every alias counted as the content it repeats. Only a file within the
limits is constructed, with a loader that also refuses duplicate keys and keys that are not plain
values. Every problem is a :class:`ConfigError` that names the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

MAX_BYTES = 1_000_000
"""A settings file is a few kilobytes; one of a megabyte is a mistake (or an attack)."""
MAX_DEPTH = 32
"""Nesting of mappings and lists: environment files go about 6 deep."""
MAX_VALUES = 50_000
"""Values a file expands to, each alias counted as everything it repeats."""

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, refusing duplicate keys (PyYAML silently keeps the last one) and keys that are lists or mappings."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value (a name or a number), not a {kind}", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}' (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def _measure(text: str, label: str) -> None:
    """Walk the event stream; a ConfigError at the first limit crossed."""
    anchors: dict[str, int] = {}
    # One entry per open mapping or list: its anchor and the values counted inside it so far.
    open_nodes: list[tuple[str | None, int]] = []
    total = 0

    def add(count: int, mark: Any, inside: int | None = None) -> None:
        """``count`` more values in the file; the open parent grows by ``inside`` (default: ``count``)."""
        nonlocal total
        total += count
        if total > MAX_VALUES:
            raise ConfigError(
                f"{label}: {_where(mark)}the file expands to more than {MAX_VALUES:,} values "
                "(aliases repeat what their anchor holds); write the settings out instead"
            )
        if open_nodes:
            parent_anchor, held = open_nodes[-1]
            open_nodes[-1] = (parent_anchor, held + (count if inside is None else inside))

    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                raise ConfigError(f"{label}: {_where(event.start_mark)}nested more than {MAX_DEPTH} levels deep")
            open_nodes.append((event.anchor, 0))
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            anchor, inside = open_nodes.pop()
            if anchor is not None:
                anchors[anchor] = inside + 1
            # Its values were counted as they arrived: the collection itself is one more, its parent holds all of it.
            add(1, event.end_mark, inside=inside + 1)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = 1
            add(1, event.start_mark)
        elif isinstance(event, yaml.AliasEvent):
            add(anchors.get(event.anchor or "", 1), event.start_mark)


def read_yaml_mapping(path: Path, label: str) -> dict[str, Any]:
    """The mapping a settings file holds, or a ConfigError naming ``label`` and what is wrong."""
    if path.is_symlink():
        raise ConfigError(
            f"{label}: is a symbolic link (to {path.readlink()}); an environment is one file of its own, copy it instead (make new-env NAME=… FROM=…)"
        )
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"{label}: the file has {size:,} bytes; a settings file has at most {MAX_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read the file ({exc})") from None
    try:
        _measure(text, label)
        loader = _StrictLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(f"{label}: {_where(mark)}YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: YAML syntax error: {exc}") from None
    if data is None:
        raise ConfigError(f"{label}: the file is empty; it must be a mapping of settings (start with 'tier: dev')")
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: the top level must be a mapping of settings, not a {yaml_type(data)}")
    return data


def yaml_type(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean", dict: "mapping"}.get(type(value), type(value).__name__)
