"""Which CDK line synthesizes: cdktf 0.21 (archived, final) or its maintained fork cdktn 0.24.

The code is written once, against the ``cdktf`` and ``cdktf_cdktf_provider_*`` module names. On the
cdktn line, ``activate`` puts an import alias in front of Python's finders, so that ``cdktf`` is
the ``cdktn`` module and ``cdktf_cdktf_provider_aws.iam_role`` is ``cdktn_provider_aws.iam_role``:
the very same module objects, loaded once, under both names. This is the one place that knows the
two lines exist; what differs between their provider majors (the kubernetes 3.x metadata lists) is
handled in ``platform_constructs/kubernetes/shapes.py``.

``FLIGHTDECK_CDK`` selects the line (``cdktf`` or ``cdktn``, default ``DEFAULT``); each line has its own
locked virtual environment (see the README, "Two CDK lines"). Nothing here imports a binding.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

from flightdeck.errors import ConfigError

VARIABLE = "FLIGHTDECK_CDK"


@dataclass(frozen=True)
class Line:
    name: str
    core: str
    """The core package (``cdktf`` or ``cdktn``)."""
    provider_prefix: str
    """What prefixes a prebuilt provider package: ``cdktf_cdktf_provider_`` or ``cdktn_provider_``."""
    venv: str
    """The line's virtual environment, relative to the repository."""

    def provider_package(self, provider: str) -> str:
        return f"{self.provider_prefix}{provider}"


CDKTF = Line("cdktf", core="cdktf", provider_prefix="cdktf_cdktf_provider_", venv=".venv")
CDKTN = Line("cdktn", core="cdktn", provider_prefix="cdktn_provider_", venv="cdk-lines/cdktn/.venv")
LINES = {line.name: line for line in (CDKTF, CDKTN)}
DEFAULT = "cdktf"
WRITTEN_AGAINST = CDKTF
"""The names the source imports."""
APP_CONTEXT = {"targetVersions": {"terraform": ">=1.11.0", "opentofu": ">=1.11.0"}}
"""What every ``App`` is given. cdktn checks each feature against the Terraform releases a project
targets (``>=1.5.7`` unless told): the write-only arguments Flightdeck uses for database passwords
(``password_wo``, ``secret_data_wo``) exist from Terraform and OpenTofu 1.11. cdktf ignores the key."""


def selected(environ: Mapping[str, str]) -> Line:
    """The line ``FLIGHTDECK_CDK`` names (empty or unset: the default)."""
    name = environ.get(VARIABLE, "").strip() or DEFAULT
    if name not in LINES:
        raise ConfigError(f"{VARIABLE}: '{name}' is not a CDK line; use one of {', '.join(sorted(LINES))} (unset: {DEFAULT})")
    return LINES[name]


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of the source's names answered with the other line's modules."""

    def __init__(self, line: Line) -> None:
        self.line = line
        self.specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def real_name(self, fullname: str) -> str | None:
        written = WRITTEN_AGAINST
        if fullname == written.core or fullname.startswith(written.core + "."):
            return self.line.core + fullname[len(written.core) :]
        if fullname.startswith(written.provider_prefix):
            return self.line.provider_prefix + fullname[len(written.provider_prefix) :]
        return None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        real = self.real_name(fullname)
        if real is None or importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        real = self.real_name(spec.name)
        assert real is not None
        module = importlib.import_module(real)
        self.specs[real] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The real module ran when it was imported; importlib has just put the alias's spec on it,
        # so its own is restored (reloads and pickling keep naming the real module).
        module.__spec__ = self.specs.pop(module.__name__, module.__spec__)


def activate(environ: Mapping[str, str]) -> Line:
    """Select the line for this process; before anything imports ``cdktf`` or a provider binding.

    A line whose packages this Python does not have is a ``ConfigError`` that says how to install it.
    """
    line = selected(environ)
    if importlib.util.find_spec(line.core) is None:
        raise ConfigError(
            f"{VARIABLE}={line.name}: this Python ({sys.executable}) has no '{line.core}' package; "
            f"install the line with `make deps FLIGHTDECK_CDK={line.name}` and run it with {line.venv}/bin/python "
            f"(the Makefile's targets pick it themselves)"
        )
    if line != WRITTEN_AGAINST and not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        if any(name == WRITTEN_AGAINST.core or name.startswith(WRITTEN_AGAINST.provider_prefix) for name in sys.modules):
            raise RuntimeError("flightdeck.cdk_line.activate ran after a binding was imported")
        sys.meta_path.insert(0, _Alias(line))
    return line
