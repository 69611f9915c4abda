"""Turn ``cdktf diff`` output into the short Markdown a reviewer reads in the job summary.

    python3 -m flightdeck.plan_summary prod plan-prod.txt >> "$GITHUB_STEP_SUMMARY"

Only the standard library: the plan jobs run it without installing the project.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TOTALS = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
CHANGE = re.compile(r"# (\S+) (will be created|will be updated in-place|will be destroyed|must be replaced|will be read during apply)")
NO_CHANGES = "No changes."


def summarize(environment: str, output: str) -> str:
    """Markdown: the plan's totals and each resource it would touch; an error if there is no plan in the output."""
    text = ANSI.sub("", output)
    changes = [f"- `{address}` {action}" for address, action in CHANGE.findall(text)]
    totals = TOTALS.search(text)
    if totals:
        add, change, destroy = (int(n) for n in totals.groups())
        headline = f"**{add} to add, {change} to change, {destroy} to destroy**"
        if destroy:
            headline += " ⚠️ destroys resources"
    elif NO_CHANGES in text:
        headline = "**no changes**"
    else:
        raise ValueError(f"{environment}: no plan in the cdktf diff output (did it fail?)")
    body = f"### {environment}\n\n{headline}\n"
    if changes:
        body += f"\n<details><summary>{len(changes)} resources</summary>\n\n" + "\n".join(changes) + "\n\n</details>\n"
    return body


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python3 -m flightdeck.plan_summary <environment> <cdktf diff output file>", file=sys.stderr)
        return 2
    environment, path = argv[1], Path(argv[2])
    try:
        print(summarize(environment, path.read_text(encoding="utf-8", errors="replace")))
    except (OSError, ValueError) as exc:
        print(f"plan summary: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
