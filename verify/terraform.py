"""Running an AWS platform stack with the offline hashicorp/aws provider.

The machines this runs on have a filesystem mirror holding the real hashicorp/aws provider and
no other provider, and no network. An AWS environment's platform stack holds nothing but AWS, so
``for_mirror`` takes it whole: without its backend, with the provider pinned to the mirror's
version (the stacks pin the 6.x of the prebuilt bindings: an argument that exists only in 6.x
would be the known gap of this check; today's stacks use none, and the validate test says so).
``exclude_types`` drops what the emulator cannot create, and everything that refers to it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MIRROR_CANDIDATES = (Path("/opt/tf-plugins"), Path.home() / ".terraform.d" / "plugins")
AWS_IN_MIRROR = Path("registry.terraform.io") / "hashicorp" / "aws"
REATTACH = re.compile(r"TF_REATTACH_PROVIDERS='(.*?)'")
GOGC = "400"
"""Go's collector setting for the shared provider and the Terraform commands using it (``shared_provider``)."""
EXPRESSION = re.compile(r"\$\{(.*?)\}")
ADDRESS = re.compile(r"(?<![\w.])(data\.)?([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z][A-Za-z0-9_-]*)")


def find_mirror() -> tuple[Path, str] | None:
    """The filesystem mirror holding hashicorp/aws, and the newest version in it."""
    for root in MIRROR_CANDIDATES:
        versions = sorted((p.name for p in (root / AWS_IN_MIRROR).glob("*") if p.is_dir()), key=_version_key)
        if versions:
            return root, versions[-1]
    return None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def write_cli_config(mirror: Path, path: Path) -> Path:
    """A Terraform CLI config that installs hashicorp/aws from the mirror and nothing from the network."""
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
        "}\n"
    )
    return path


def references(node: Any) -> set[str]:
    """Resource addresses (``type.name``) a piece of configuration refers to."""
    found = set()
    for expression in EXPRESSION.findall(json.dumps(node)):
        for data, resource_type, name in ADDRESS.findall(expression):
            found.add(f"{data}{resource_type}.{name}")
    return found


def for_mirror(stack: dict[str, Any], provider_version: str, exclude_types: Iterable[str] = ()) -> dict[str, Any]:
    """The stack's providers, resources, data sources and outputs, for the mirror's aws provider.

    ``exclude_types`` drops resource types (and everything that refers to them); ``depends_on``
    entries pointing at dropped resources are removed. A stack with anything but AWS in it (a
    cluster stack, another cloud's platform stack) is refused: the mirror has no other provider.
    """
    foreign = sorted(
        t for block in ("resource", "data") for t in stack.get(block, {}) if not t.startswith("aws_") and t != "terraform_remote_state"
    )
    if foreign or set(stack.get("provider", {})) - {"aws"}:
        raise ValueError(f"not an AWS-only stack: {', '.join(foreign) or ', '.join(stack['provider'])}")
    excluded = set(exclude_types)
    resources = {t: dict(r) for t, r in stack.get("resource", {}).items() if t not in excluded}
    data = dict(stack.get("data", {}))
    kept = {f"{t}.{name}" for t, rs in resources.items() for name in rs} | {
        f"data.{t}.{name}" for t, ds in data.items() for name in ds
    }
    # Drop what refers to something that is not kept, until nothing changes.
    changed = True
    while changed:
        changed = False
        for resource_type, instances in resources.items():
            for name, body in list(instances.items()):
                config = {k: v for k, v in body.items() if k != "depends_on"}
                if not references(config) <= kept:
                    del instances[name]
                    kept.discard(f"{resource_type}.{name}")
                    changed = True
    for instances in resources.values():
        for name, body in instances.items():
            if "depends_on" in body:
                instances[name] = {**body, "depends_on": [d for d in body["depends_on"] if d in kept]}
    part: dict[str, Any] = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": provider_version}}},
        "provider": {"aws": stack["provider"]["aws"]},
        "resource": {t: r for t, r in resources.items() if r},
        "data": data,
        "output": {k: o for k, o in stack.get("output", {}).items() if references(o) <= kept},
        # Resources that leave Terraform's management without being destroyed (a database replaced by a restore).
        "removed": stack.get("removed", []),
    }
    return {k: v for k, v in part.items() if v}


def terraform(
    args: list[str], workdir: Path, cli_config: Path, timeout: int = 600, base: Mapping[str, str] = os.environ
) -> subprocess.CompletedProcess[str]:
    """``terraform ARGS`` in ``workdir`` with the CLI config given, in ``base`` (by default this process's
    environment; a caller on a thread of its own passes a copy taken before any thread could change it)."""
    environ = {**base, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        ["terraform", *args], cwd=workdir, env=environ, capture_output=True, text=True, timeout=timeout, check=False
    )


@contextmanager
def shared_provider(mirror: Path, version: str, workdir: Path, base: Mapping[str, str] = os.environ) -> Iterator[dict[str, str]]:
    """One aws provider process serving the Terraform commands run in the environment it yields.

    Terraform starts the provider afresh for each phase of a command (``validate``: twice, ``plan``:
    three times), and each start builds the provider's schema again. The provider's own debug mode
    (``-debug``) serves Terraform over a socket instead, and Terraform attaches to it through
    ``TF_REATTACH_PROVIDERS``: the same binary from the mirror answers, started once. Terraform then
    neither installs nor stops it (``init`` has nothing to install), so it is stopped here when the
    block ends. On this machine: ``validate`` of the fixture's stacks 2.6 to 3.5 s against 6.3 to
    6.8 s.

    The process runs with ``GOGC=400``: its heap is mostly the schema, which every validation of the
    provider's configuration walks whole (the plugin SDK's internal validation of every resource),
    and collecting it four times less often halves the provider's CPU for 0.6 GB instead of 0.45.
    At most one command in a block may configure the provider (``plan``, ``apply``): a second
    configuration of the same process fails (the provider wraps its HTTP client once only).
    """
    (binary,) = (mirror / AWS_IN_MIRROR / version).glob("*/terraform-provider-aws_v*")
    log = workdir / "provider.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(binary), "-debug"], cwd=workdir, env={**base, "GOGC": GOGC}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while not (found := REATTACH.search(log.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the aws provider did not start in debug mode (status {process.poll()}): {log.read_text()[-2000:]}")
            time.sleep(0.02)
        # Terraform itself (a Go program too, holding the same schema) likewise: 0.6 s less CPU a validate.
        yield {**base, "TF_REATTACH_PROVIDERS": found.group(1), "GOGC": GOGC}
    finally:
        process.terminate()
        process.wait(timeout=30)
