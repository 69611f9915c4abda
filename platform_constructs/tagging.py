"""Every taggable cloud resource carries the env, team and cost-center tags, or synthesis stops.

Cost reports and access reviews group by these tags, so an untagged role or node group is spend
and access nobody owns. A resource's tags are its own over its provider's default tags (AWS
``default_tags``). ``RequireTags`` is a cdktf Aspect: registered on a stack, it adds an error
annotation to each resource that lacks a tag, and cdktf refuses to write that stack.
``untagged`` gives the same findings before synthesis, so ``main.py`` can stop with one clear
message before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def _default_tags(stack: TerraformStack) -> dict[str, Any]:
    """The AWS provider's ``default_tags`` (read by type name, so no binding is imported here)."""
    tags: dict[str, Any] = {}
    for node in stack.node.find_all():
        if isinstance(node, TerraformProvider) and node.terraform_resource_type == "aws":
            for block in node.default_tags_input or []:  # type: ignore[attr-defined]
                tags.update(block.tags or {})
    return tags


def _finding(node: IConstruct, default_tags: Mapping[str, Any]) -> str | None:
    if not isinstance(node, TerraformResource) or not node.terraform_resource_type.startswith(TAGGED_PREFIXES):
        return None
    if not hasattr(type(node), "tags_input"):
        return None  # the type cannot be tagged
    missing = missing_tags(node.tags_input, default_tags)  # type: ignore[attr-defined]
    if not missing:
        return None
    return f"{node.terraform_resource_type} at {node.node.path} has no {', '.join(missing)} tag; set it on the resource or in the provider's default tags"


def untagged(stack: TerraformStack) -> list[str]:
    """Every finding in ``stack``, without touching its annotations."""
    defaults = _default_tags(stack)
    return [f for f in (_finding(node, defaults) for node in stack.node.find_all()) if f]


@jsii.implements(IAspect)
class RequireTags:
    """The Aspect: an error annotation (which stops synthesis) on each resource missing a tag."""

    def __init__(self) -> None:
        self._defaults: dict[str, dict[str, Any]] = {}

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource):
            return
        stack = TerraformStack.of(node)
        path = stack.node.path
        if path not in self._defaults:
            self._defaults[path] = _default_tags(stack)
        finding = _finding(node, self._defaults[path])
        if finding:
            Annotations.of(node).add_error(finding)
