"""Print a short summary of each synthesized stack (``make synth`` runs it after synthesis).

    python -m flightdeck.summary [cdktf.out]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from .manifest import MANIFEST, synthesized_stacks


def summarize(stack_file: Path) -> str:
    stack = json.loads(stack_file.read_text(encoding="utf-8"))
    resources = stack.get("resource", {})
    by_provider: Counter[str] = Counter()
    for resource_type, instances in resources.items():
        by_provider[resource_type.split("_", 1)[0]] += len(instances)
    total = sum(by_provider.values())
    providers = ", ".join(f"{name} {count}" for name, count in sorted(by_provider.items()))
    backend = next(iter(stack.get("terraform", {}).get("backend", {})), "local")
    return f"{stack_file.parent.name:<14} {total:>4} resources ({providers}); {len(stack.get('output', {}))} outputs; {backend} state -> {stack_file}"


def main(argv: list[str]) -> int:
    outdir = Path(argv[1] if len(argv) > 1 else "cdktf.out")
    files = list(synthesized_stacks(outdir).values())
    if not files:
        print(f"no synthesized stacks in {outdir}/{MANIFEST}", file=sys.stderr)
        return 1
    for file in files:
        print(summarize(file))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
