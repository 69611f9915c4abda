"""mypy skips the provider bindings' top-level modules and still checks every binding we use.

A binding package's ``__init__`` imports every resource module it has (2,216 for aws); mypy reading
them all was nearly all of ``make lint``'s first run, so ``mypy.ini`` skips those top-level modules
(``follow_imports = skip``). A skipped module is ``Any`` to mypy. These tests keep that from hiding
anything: the skip names top-level binding packages and nothing else, and every import of a binding
in the source names one of its resource modules, which mypy still reads and checks in full.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import re
from pathlib import Path

from flightdeck.cdk_line import WRITTEN_AGAINST

from .conftest import LINE, REPO, import_statements

SOURCES = ("main.py", "flightdeck", "platform_constructs", "stacks", "verify", "tests")
PREFIX = WRITTEN_AGAINST.provider_prefix
"""What the source's binding imports start with (``cdktf_cdktf_provider_``), whichever line runs."""
BINDING = re.compile(rf"^{PREFIX}[a-z0-9_]+$")


def _skipped_modules(config: Path) -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(config)
    skipped: set[str] = set()
    for section in parser.sections():
        if section.startswith("mypy-") and parser[section].get("follow_imports", "").strip() == "skip":
            skipped |= {name.strip() for name in section.removeprefix("mypy-").split(",")}
    return skipped


def _pipfile_bindings(pipfile: Path) -> set[str]:
    names = re.findall(r"^([a-z0-9-]+)\s*=", pipfile.read_text(), flags=re.MULTILINE)
    return {module for module in (name.replace("-", "_") for name in names) if BINDING.match(module)}


def _package_dir(package: str) -> Path:
    """The installed package on the session's line (``cdktn_provider_aws`` for aws on cdktn), found without importing it."""
    package = LINE.provider_package(package.removeprefix(PREFIX))
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def _is_module(package_dir: Path, dotted: str) -> bool:
    path = package_dir.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _binding_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name imported from it or None) for every import of a binding package."""
    found: list[tuple[int, str, str | None]] = []
    for node in import_statements(path):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names if alias.name.startswith(PREFIX)]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith(PREFIX):
            found += [(node.lineno, node.module or "", alias.name) for alias in node.names]
    return found


def unchecked_binding_imports(root: Path, sources: tuple[str, ...] = SOURCES) -> list[str]:
    """Each import that would reach only a skipped top-level module, as ``file:line: what``."""
    problems: list[str] = []
    files = [f for source in sources for f in ([root / source] if source.endswith(".py") else sorted((root / source).rglob("*.py")))]
    for path in files:
        for line, module, name in _binding_imports(path):
            package, _, rest = module.partition(".")
            where = f"{path.relative_to(root)}:{line}"
            if not rest and name is None:
                problems.append(f"{where}: `import {module}` reaches only its top-level module, which mypy skips; import a resource module")
            elif not rest and name is not None and not _is_module(_package_dir(package), name):
                problems.append(f"{where}: `from {module} import {name}`: {name} is not a resource module, so mypy would not check it")
    return problems


def test_mypy_skips_the_top_level_binding_modules_and_nothing_else() -> None:
    skipped = _skipped_modules(REPO / "mypy.ini")
    # Nothing but a binding's top-level module is skipped: no resource module, no glob, nothing of ours.
    assert skipped and all(BINDING.match(name) for name in skipped), sorted(skipped)
    # And each binding the project installs is skipped (a new provider would otherwise cost minutes again).
    assert skipped == _pipfile_bindings(REPO / "Pipfile")


def test_every_binding_import_names_a_resource_module_mypy_checks() -> None:
    assert unchecked_binding_imports(REPO) == []


def test_an_import_that_mypy_would_not_check_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "stack.py").write_text(
        "from cdktf_cdktf_provider_aws.iam_role import IamRole\n"
        "from cdktf_cdktf_provider_kubernetes import job_v1\n"
        "import cdktf_cdktf_provider_aws\n"
        "from cdktf_cdktf_provider_aws import IamRoleThatIsNoModule\n"
        "import cdktf_cdktf_provider_helm.release\n"
    )
    problems = unchecked_binding_imports(tmp_path, ("probe",))
    assert [p.split(":")[:2] for p in problems] == [["probe/stack.py", "3"], ["probe/stack.py", "4"]], problems
    assert "import a resource module" in problems[0] and "IamRoleThatIsNoModule is not a resource module" in problems[1]


def test_the_pipfile_reader_finds_every_binding(tmp_path: Path) -> None:
    pipfile = tmp_path / "Pipfile"
    pipfile.write_text('[packages]\ncdktf = "==0.21.0"\ncdktf-cdktf-provider-aws = "==21.22.1"\ncdktf-cdktf-provider-google = "==16.12.1"\n')
    assert _pipfile_bindings(pipfile) == {"cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_google"}
