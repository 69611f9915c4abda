"""Which CDK line synthesizes: cdktf 0.21 (archived, final) or its maintained fork cdktn 0.24.

The code is written once, against the ``cdktf`` and ``cdktf_cdktf_provider_*`` module names. On the
cdktn line, ``activate`` puts an import alias in front of Python's finders, so that ``cdktf`` is
the ``cdktn`` module and ``cdktf_cdktf_provider_aws.iam_role`` is ``cdktn_provider_aws.iam_role``:
the very same module objects, loaded once, under both names. This is the one place that knows the
two lines exist; what differs between their provider majors (the kubernetes 3.x metadata lists) is
handled in ``platform_constructs/kubernetes/shapes.py``.

On the cdktf line, ``activate`` puts a finder of its own there instead: cdktf's prebuilt provider
packages import every one of their resource modules when the package is first imported (2,212 for
aws), which is most of a synthesis' time; ``_LazyBindings`` makes the package without that, so a
synthesis loads the hundred or so modules it uses, as cdktn's bindings do by themselves.

``FLIGHTDECK_CDK`` selects the line (``cdktf`` or ``cdktn``, default ``DEFAULT``); each line has its own
locked virtual environment (see the README, "Two CDK lines"). Nothing here imports a binding.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
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


def _jsii_submodule(python_name: str) -> str:
    """The jsii name of a binding's submodule from its Python name (``s3_bucket``: ``s3Bucket``); checked
    against every installed binding's own ``jsii_type`` strings by tests/test_cdk_lines.py."""
    return re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), python_name)


class _LazyBindings(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """cdktf's prebuilt provider packages, made without their package module's eager imports.

    The package module is made here instead of by its ``__init__.py``, which does three things: load
    the jsii assembly (``<package>._jsii``, done here too), publish its names, and import every
    resource module so that each registers its types with the jsii runtime. Instead, a resource module
    is imported when the source imports it (``from cdktf_cdktf_provider_aws.iam_role import IamRole``)
    or names it (``package.iam_role``); and should the kernel return an object of a type whose module
    nobody imported, jsii's runtime finds that module through the submodule map registered here (the
    map the newer generated bindings, cdktn's, register themselves).
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if "." in fullname or not fullname.startswith(CDKTF.provider_prefix):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname)
        if spec is None or not spec.submodule_search_locations:
            return None
        spec.loader = self
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        from jsii import _reference_map

        name = module.__name__
        assembly = importlib.import_module(f"{name}._jsii").__jsii_assembly__.name
        submodules = sorted(
            entry.name for folder in module.__path__ for entry in os.scandir(folder) if entry.is_dir() and not entry.name.startswith("_")
        )
        _reference_map._submodule_fqn_map.update({f"{assembly}.{_jsii_submodule(sub)}": f"{name}.{sub}" for sub in submodules})
        known = frozenset(submodules)

        def __getattr__(attribute: str) -> ModuleType:
            if attribute in known:
                return importlib.import_module(f"{name}.{attribute}")
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__all__ = submodules  # type: ignore[attr-defined]


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
    finder = _Alias(line) if line != WRITTEN_AGAINST else _LazyBindings()
    if not any(type(installed) is type(finder) for installed in sys.meta_path):
        if any(name == WRITTEN_AGAINST.core or name.startswith(WRITTEN_AGAINST.provider_prefix) for name in sys.modules):
            raise RuntimeError("flightdeck.cdk_line.activate ran after a binding was imported")
        sys.meta_path.insert(0, finder)
    return line
