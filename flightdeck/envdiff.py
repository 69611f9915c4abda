"""How the environments differ, side by side (``make envdiff``).

    python -m flightdeck.envdiff [cdktf.out] [--all]

Two tables: every configuration field whose value is not the same in all environments (after tier
defaults and CI overrides, as main.py sees them), and the resource count of every type whose count
differs, read from the synthesized stacks. A reviewer sees at a glance that qa and prod differ only
where intended. ``--all`` also prints the rows that are the same everywhere.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .ci import deploy_waves
from .config import EnvironmentConfig
from .errors import ConfigError
from .loader import environments_directory, load_environments

ABSENT = "-"
WIDTH = 36
"""Cells are cut to this many characters (the full value is in the file)."""


def flatten(value: Any, path: str = "") -> dict[str, str]:
    """Dotted field paths to printable values; list entries with a ``name`` are keyed by it (``teams[analytics].quota.cpu``)."""
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{path}.{key}" if path else str(key)))
        return out or {path: "{}"}
    if isinstance(value, list) and value and all(isinstance(item, Mapping) and "name" in item for item in value):
        out = {}
        for item in value:
            out.update(flatten({k: v for k, v in item.items() if k != "name"}, f"{path}[{item['name']}]"))
        return out
    if isinstance(value, list):
        return {path: "[" + ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in value) + "]"}
    return {path: "null" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))}


def config_rows(configs: Sequence[EnvironmentConfig], everything: bool = False) -> list[list[str]]:
    fields = [flatten(c.model_dump(mode="json", exclude={"name", "source"})) for c in configs]
    paths = sorted(set().union(*fields))
    rows = []
    for path in paths:
        cells = [f.get(path, ABSENT) for f in fields]
        if everything or len(set(cells)) > 1:
            rows.append([path, *cells])
    return rows


def resource_counts(stack: Mapping[str, Any]) -> Counter[str]:
    return Counter({t: len(instances) for t, instances in stack.get("resource", {}).items()})


def resource_rows(stacks: Sequence[Sequence[Mapping[str, Any]]], everything: bool = False) -> list[list[str]]:
    """One row per resource type: its count in each environment, summed over the environment's stacks."""
    counts = [sum((resource_counts(s) for s in env_stacks), Counter()) for env_stacks in stacks]
    rows = []
    for resource_type in sorted(set().union(*counts)):
        cells = [str(c.get(resource_type, 0)) for c in counts]
        if everything or len(set(cells)) > 1:
            rows.append([resource_type, *cells])
    rows.append(["total", *(str(sum(c.values())) for c in counts)])
    return rows


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cut(text: str) -> str:
        return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"

    cells = [list(header), *([row[0], *map(cut, row[1:])] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def report(configs: Sequence[EnvironmentConfig], outdir: Path, everything: bool = False) -> str:
    ordered = [c for wave in deploy_waves(configs) for c in wave]
    names = [c.name for c in ordered]
    parts = [table(["configuration", *names], config_rows(ordered, everything))]
    files = {c.name: [outdir / "stacks" / c.stack_name(part) / "cdk.tf.json" for part in c.stack_parts] for c in ordered}
    missing = [n for n in names if not all(f.is_file() for f in files[n])]
    if missing:
        parts.append(f"(no synthesized stacks for {', '.join(missing)} under {outdir}: run make synth for resource counts)")
    else:
        stacks = [[json.loads(f.read_text(encoding="utf-8")) for f in files[n]] for n in names]
        parts.append(table(["resources", *names], resource_rows(stacks, everything)))
    return "\n\n".join(parts)


def main(argv: Sequence[str]) -> int:
    positional = [a for a in argv if not a.startswith("--")]
    outdir = Path(positional[0] if positional else os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    try:
        configs = load_environments(environments_directory(os.environ), os.environ)
    except ConfigError as exc:
        print(f"flightdeck: {exc}", file=sys.stderr)
        return 2
    print(report(configs, outdir, everything="--all" in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
