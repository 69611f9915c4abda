"""The stacks of the last synthesis, as its manifest lists them (``cdktf.out/manifest.json``).

Everything that reads synthesized stacks (``make synth``'s summary, ``make check``, ``make envdiff``,
the benchmark) reads this list, so a stack left over from an older run is never reported or scanned.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

MANIFEST = "manifest.json"


def synthesized_stacks(outdir: Path) -> dict[str, Path]:
    """Stack name → its ``cdk.tf.json``, for every stack of the last synthesis into ``outdir`` (empty: none)."""
    manifest = outdir / MANIFEST
    if not manifest.is_file():
        return {}
    stacks = json.loads(manifest.read_text(encoding="utf-8"))["stacks"]
    return {name: outdir / stack["synthesizedStackPath"] for name, stack in sorted(stacks.items())}


def remove_stale_stacks(outdir: Path) -> list[str]:
    """Delete the stack folders under ``outdir/stacks`` that the last synthesis did not write; returns their names."""
    kept = {path.parent.name for path in synthesized_stacks(outdir).values()}
    stale = sorted(p.name for p in (outdir / "stacks").glob("*") if p.is_dir() and p.name not in kept)
    for name in stale:
        shutil.rmtree(outdir / "stacks" / name)
    return stale
