"""Every taggable cloud resource carries the env, team and cost-center tags, or synthesis stops.

Cost reports and access reviews group by these tags, so an untagged role or node group is spend
and access nobody owns. A resource's tags are its own over its provider's default tags (AWS
``default_tags``). ``RequireTags`` is a cdktf Aspect: registered on a stack, it adds an error
annotation to each resource that lacks a tag, and cdktf refuses to write that stack. Its
``findings()`` give the same result before synthesis, so ``main.py`` can stop with one clear
message before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from cdktf import Annotations, IAspect, TerraformProvider, TerraformResource, TerraformStack
from constructs import IConstruct

REQUIRED_TAGS = ("env", "team", "cost-center")
TAGGED_PREFIXES = ("aws_",)
"""Resource types whose ``tags`` are cloud tags (Datadog's ``tags`` are a different thing)."""


def missing_tags(tags: Mapping[str, Any] | None, default_tags: Mapping[str, Any]) -> list[str]:
    """The required tags absent from a resource's effective tags (pure)."""
    effective = {**default_tags, **(tags or {})}
    return [key for key in REQUIRED_TAGS if not effective.get(key)]


def _default_tags(nodes: Sequence[IConstruct]) -> dict[str, Any]:
    """The AWS provider's ``default_tags`` (read by type name, so no binding is imported here)."""
    tags: dict[str, Any] = {}
    for node in nodes:
        if isinstance(node, TerraformProvider) and node.terraform_resource_type == "aws":
            for block in node.default_tags_input or []:  # type: ignore[attr-defined]
                tags.update(block.tags or {})
    return tags


def _finding(node: IConstruct, default_tags: Mapping[str, Any]) -> str | None:
    # The binding class names its resource type (TF_RESOURCE_TYPE) and whether it has tags, so only
    # taggable cloud resources cost a call into the jsii runtime.
    resource_type = getattr(type(node), "TF_RESOURCE_TYPE", "") if isinstance(node, TerraformResource) else ""
    if not resource_type.startswith(TAGGED_PREFIXES) or not hasattr(type(node), "tags_input"):
        return None
    missing = missing_tags(node.tags_input, default_tags)  # type: ignore[attr-defined]
    if not missing:
        return None
    return f"{resource_type} at {node.node.path} has no {', '.join(missing)} tag; set it on the resource or in the provider's default tags"


@jsii.implements(IAspect)
class RequireTags:
    """The Aspect for one stack: an error annotation (which stops synthesis) on each resource missing a tag.

    The stack is checked once: ``findings()`` (what ``main.py`` reports before writing) and the
    aspect's visits during synthesis share the same result.
    """

    def __init__(self, stack: TerraformStack) -> None:
        self._stack = stack
        self._by_node: dict[IConstruct, str] | None = None

    def _check(self) -> dict[IConstruct, str]:
        if self._by_node is None:
            nodes = self._stack.node.find_all()
            defaults = _default_tags(nodes)
            self._by_node = {node: f for node in nodes if (f := _finding(node, defaults))}
        return self._by_node

    def findings(self) -> list[str]:
        """Every finding in the stack, without touching its annotations."""
        return list(self._check().values())

    def visit(self, node: IConstruct) -> None:
        finding = self._check().get(node)
        if finding:
            Annotations.of(node).add_error(finding)
