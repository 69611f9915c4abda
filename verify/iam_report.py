"""cloudsplaining over every IAM policy the synthesized stacks create (``make iam-report``).

    python -m verify.iam_report [cdktf.out]

For each CI role (its inline policy with the managed policy it carries), each permissions boundary
and each environment role's inline policies: the privilege-escalation paths, data-exfiltration
actions, credential-exposing actions and unconstrained permission-management actions cloudsplaining
finds. cloudsplaining reads ``Allow`` statements only and treats a resource-scoped ``iam:CreateRole``
as harmless, so it is a report, not the gate (the gate is ``tests/test_ci_trust.py``): each finding
is printed with why it remains or what denies it, and a finding nobody has explained makes the
command fail, so a new one is read by a person before it lands.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flightdeck.manifest import synthesized_stacks

POWER_USER_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": [
                "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
                "organizations:DescribeOrganization", "account:ListRegions", "account:GetAccountInformation",
            ],
            "Resource": "*",
        },
    ],
}
"""AWS's ``PowerUserAccess`` managed policy, as published (the deployer's; read offline here)."""

MANAGED = {"arn:aws:iam::aws:policy/PowerUserAccess": POWER_USER_ACCESS}

EXPLAINED: dict[tuple[str, str], str] = {
    ("deployer", "credentials exposure"): (
        "remains: PowerUserAccess may mint credentials of services Flightdeck does not use (MWAA CLI tokens, "
        "API Gateway keys); in an account of the environment's own there is nothing of others to reach"
    ),
    ("deployer", "permissions management"): (
        "remains for the resource policies of services Flightdeck does not use; those of its own services are "
        "limited to the environment's resources by the DenyForeign… statements"
    ),
    ("boundary", "*"): (
        "a ceiling, not a grant: a role has it only where its own policy grants it "
        "(tests/test_ci_trust.py checks every role's grants against its boundary)"
    ),
    ("deployer", "none"): "",
    ("planner", "none"): "",
    ("boundary", "none"): "",
    ("role", "none"): "",
}
"""(kind of policy, finding) → why it remains or what stops it. The README's "Who can do what" says the same."""


@dataclass(frozen=True)
class Subject:
    stack: str
    name: str
    kind: str
    """``deployer``, ``planner``, ``boundary`` or ``role`` (an environment's own)."""
    documents: tuple[dict[str, Any], ...]


def _role_documents(stack: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    resources = stack.get("resource", {})
    by_role: dict[str, list[dict[str, Any]]] = {}
    names = {f"${{aws_iam_role.{logical}.id}}": body["name"] for logical, body in resources.get("aws_iam_role", {}).items()}
    names |= {f"${{aws_iam_role.{logical}.name}}": body["name"] for logical, body in resources.get("aws_iam_role", {}).items()}
    for body in resources.get("aws_iam_role_policy", {}).values():
        by_role.setdefault(names.get(body["role"], body["role"]), []).append(json.loads(body["policy"]))
    for body in resources.get("aws_iam_role_policy_attachment", {}).values():
        if body["policy_arn"] in MANAGED:
            by_role.setdefault(names.get(body["role"], body["role"]), []).append(MANAGED[body["policy_arn"]])
    return by_role


def subjects(outdir: Path) -> Iterator[Subject]:
    for name, path in synthesized_stacks(outdir).items():
        stack = json.loads(path.read_text())
        for role, documents in sorted(_role_documents(stack).items()):
            kind = "deployer" if role.endswith("-deploy") else "planner" if role.endswith("-plan") else "role"
            yield Subject(name, role, kind, tuple(documents))
        for body in stack.get("resource", {}).get("aws_iam_policy", {}).values():
            yield Subject(name, body["name"], "boundary", (json.loads(body["policy"]),))


def findings(subject: Subject) -> list[str]:
    merged = {"Version": "2012-10-17", "Statement": [s for d in subject.documents for s in d["Statement"]]}
    return list(_findings(json.dumps(merged, sort_keys=True)))


@cache
def _findings(merged: str) -> tuple[str, ...]:
    """cloudsplaining's findings for one policy document (its JSON): seconds for PowerUserAccess, whose
    ``NotAction`` expands to every action of every service, so each document is analysed once."""
    from cloudsplaining.scan.policy_document import PolicyDocument
    from cloudsplaining.shared.exclusions import DEFAULT_EXCLUSIONS_CONFIG, Exclusions

    document = PolicyDocument(json.loads(merged), exclusions=Exclusions(DEFAULT_EXCLUSIONS_CONFIG))
    found = [f"privilege escalation: {path['type']}" for path in document.allows_privilege_escalation]
    found += [f"data exfiltration: {action}" for action in document.allows_data_exfiltration_actions]
    if document.credentials_exposure:
        found.append("credentials exposure")
    if document.permissions_management_without_constraints:
        found.append("permissions management")
    return tuple(found or ["none"])


def main(argv: list[str]) -> int:
    outdir = Path(argv[0]) if argv else Path("cdktf.out")
    unexplained = []
    used: set[tuple[str, str]] = set()
    print("| stack | policy | finding | why |\n|---|---|---|---|")
    for subject in subjects(outdir):
        for finding in findings(subject):
            key = (subject.kind, finding) if (subject.kind, finding) in EXPLAINED else (subject.kind, "*")
            used.add(key)
            why = EXPLAINED.get(key)
            if why is None:
                unexplained.append(f"{subject.stack}: {subject.name}: {finding}")
                why = "**not explained**"
            if finding != "none":
                print(f"| {subject.stack} | {subject.name} | {finding} | {why} |")
    for line in unexplained:
        print(f"iam-report: {line}: explain it in verify/iam_report.py (EXPLAINED) and the README, or remove it", file=sys.stderr)
    stale = sorted(set(EXPLAINED) - used - {(kind, "none") for kind in ("deployer", "planner", "boundary", "role")})
    for kind, finding in stale:
        print(f"iam-report: {kind}: {finding}: explained but no longer found; remove it from EXPLAINED and the README", file=sys.stderr)
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
