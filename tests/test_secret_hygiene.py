"""No secret ever reaches the synthesized JSON (and so neither a plan nor the state of it)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

# Keys whose value would be a secret if set literally; references (${...}) are fine.
SECRET_KEYS = re.compile(
    r"(^|[_.-])(password|passwd|secret|token|api[_-]key|app[_-]key|private[_-]key|fernet[_-]key|secret[_-]key)$", re.IGNORECASE
)
SECRET_VALUES = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),  # GitHub token
    re.compile(r"postgres(ql)?://[^:/\s]+:[^@\s$]+@"),  # connection string with a password
]


# How a value refers to a secret instead of holding it: a Terraform reference, an External
# Secrets template filled in the cluster, or a Kubernetes $(VAR) expansion.
REFERENCE = re.compile(r"^\$\{.*\}$|\{\{.*\}\}|^\$\([A-Z_]+\)$", re.DOTALL)


def _literal(value: Any) -> bool:
    """A value typed into the stack, as opposed to a reference or a flag like ``manage_master_user_password: true``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    return not REFERENCE.search(str(value))


def literal_secrets(node: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if SECRET_KEYS.search(str(key)) and _literal(value):
                found.append(here)
            found += literal_secrets(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += literal_secrets(value, f"{path}[{index}]")
    elif isinstance(node, str):
        found += [f"{path}: {p.pattern}" for p in SECRET_VALUES if p.search(node)]
    return found


def test_the_checker_finds_what_it_looks_for() -> None:
    planted = {
        "resource": {"aws_db_instance": {"db": {"password": "hunter22", "tags": {"x": "-----BEGIN RSA PRIVATE KEY-----"}}}}
    }
    assert literal_secrets(planted) == [
        "resource.aws_db_instance.db.password",
        "resource.aws_db_instance.db.tags.x: -----BEGIN [A-Z ]*PRIVATE KEY-----",
    ]
    assert literal_secrets({"password": "${aws_secretsmanager_secret_version.x.secret_string}"}) == []


def helm_values(stack: dict[str, Any]) -> dict[str, Any]:
    """The Helm values of every release, parsed, so secrets inside the YAML strings are found too."""
    return {
        name: [yaml.safe_load(v) for v in release.get("values", [])]
        for name, release in stack.get("resource", {}).get("helm_release", {}).items()
    }


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_no_secret_literal_in_the_stack(stacks: dict[str, Any], env: str) -> None:
    assert literal_secrets(stacks[env]) == []
    assert literal_secrets(helm_values(stacks[env])) == []


def test_helm_values_are_searched_too() -> None:
    stack = {"resource": {"helm_release": {"r": {"values": ["createUserJob:\n  defaultUser:\n    password: admin\n"]}}}}
    assert literal_secrets(helm_values(stack)) == ["r[0].createUserJob.defaultUser.password"]
    templated = {"resource": {"helm_release": {"r": {"values": ["template:\n  password: '{{ .password }}'\n"]}}}}
    assert literal_secrets(helm_values(templated)) == []
