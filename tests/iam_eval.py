"""A small evaluator of IAM policy documents, for asking "may this principal do that?" in tests.

It follows AWS's rules for what the stacks use: ``Action``/``NotAction`` (case-insensitive, ``*``
and ``?`` wildcards), ``Resource``/``NotResource`` (case-sensitive wildcards), and the condition
operators ``StringEquals``, ``StringNotEquals``, ``StringLike``, ``StringNotLike``, ``ArnEquals``,
``ArnLike`` and ``Null``, where a key missing from the request makes a positive operator false and a
negated one true. An explicit deny in any document wins; otherwise every document given as a limit
(a permissions boundary) must allow, and so must one of the identity's documents.

An action given with a wildcard (``ec2:Describe*``) is matched as the literal text against the
policy's patterns: ``iam:*`` does not cover it, ``ec2:*`` does. That is how a boundary's statement
reads a role's own statement.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Request = Mapping[str, str | Sequence[str]]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _wildcards(pattern: str) -> str:
    """IAM's ``*`` and ``?`` only: a ``[`` (as in a Terraform reference ``secret[0]``) is itself."""
    return pattern.replace("[", "[[]")


def _action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), _wildcards(pattern.lower()))


def _resource_matches(pattern: str, resource: str) -> bool:
    return fnmatch.fnmatchcase(resource, _wildcards(pattern))


def _value_holds(operator: str, value: str, wanted: list[str]) -> bool:
    if operator in ("StringEquals", "ArnEquals", "Bool"):
        return value in wanted
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return value not in wanted
    if operator in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(value, _wildcards(w)) for w in wanted)
    if operator in ("StringNotLike", "ArnNotLike"):
        return not any(fnmatch.fnmatchcase(value, _wildcards(w)) for w in wanted)
    raise ValueError(f"condition operator {operator} is not understood by this evaluator")


def _condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Request) -> bool:
    """Every operator's every key holds (``ForAllValues:``/``ForAnyValue:`` and ``…IfExists`` included)."""
    for qualified, tests in condition.items():
        qualifier, _, operator = qualified.rpartition(":")
        if_exists = operator.endswith("IfExists")
        operator = operator.removesuffix("IfExists")
        for key, expected in tests.items():
            wanted = _listed(expected)
            given = context.get(key)
            if operator == "Null":
                if (given is None) != (str(expected).lower() == "true"):
                    return False
                continue
            if given is None:
                if if_exists or qualifier == "ForAllValues" or operator.startswith(("StringNot", "ArnNot")):
                    continue
                return False
            results = [_value_holds(operator, value, wanted) for value in _listed(given)]
            if not (any(results) if qualifier == "ForAnyValue" else all(results)):
                return False
    return True


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Request) -> bool:
    if "Action" in statement:
        if not any(_action_matches(p, action) for p in _listed(statement["Action"])):
            return False
    elif any(_action_matches(p, action) for p in _listed(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_resource_matches(p, resource) for p in _listed(statement["Resource"])):
            return False
    elif any(_resource_matches(p, resource) for p in _listed(statement["NotResource"])):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def statements(documents: Iterable[str | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for document in documents:
        parsed = json.loads(document) if isinstance(document, str) else document
        found += parsed["Statement"] if isinstance(parsed["Statement"], list) else [parsed["Statement"]]
    return found


def decide(
    identity: Iterable[str | Mapping[str, Any]],
    action: str,
    resource: str,
    context: Request | None = None,
    limits: Iterable[str | Mapping[str, Any]] = (),
) -> str:
    """``allow``, ``deny`` (an explicit deny applies) or ``implicit`` (nothing allows it)."""
    context = context or {}
    own = [s for s in statements(identity) if statement_applies(s, action, resource, context)]
    bounds = statements(limits)
    bounding = [s for s in bounds if statement_applies(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in own + bounding):
        return "deny"
    allowed = any(s["Effect"] == "Allow" for s in own)
    if bounds:
        allowed = allowed and any(s["Effect"] == "Allow" for s in bounding)
    return "allow" if allowed else "implicit"
