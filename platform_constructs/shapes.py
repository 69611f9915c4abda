"""Where the provider bindings of the two CDK lines differ in shape: the one place that knows.

Both lines (``flightdeck/cdk_line.py``) build the same Terraform from the same code; only some
arguments are typed differently by their bindings' provider majors:

- kubernetes 2.x (cdktf line) takes ``metadata`` of ``NamespaceV1`` and ``RoleV1`` as one block and
  exposes ``.metadata`` as one object; 3.x (cdktn line) takes an optional list and exposes a list.
  Both synthesize a list of at most one block, and both refer to ``metadata[0].name``.
- google 6.x types ``secret_data_wo_version`` of a Secret Manager version as a number, 7.x as a string.

Which shape an argument has is read off the binding's own signature, so a later major needs no
change here unless it changes a shape again.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any


@cache
def _annotation(resource_class: type, argument: str) -> str:
    initializer = vars(resource_class)["__init__"]  # each generated resource class defines its own
    return str(inspect.signature(initializer).parameters[argument].annotation)


def metadata_is_list(resource_class: type) -> bool:
    """True when this binding's ``metadata`` argument is a list of blocks."""
    return "Sequence[" in _annotation(resource_class, "metadata")


def metadata_argument(resource_class: type, metadata: Any) -> Any:
    """``metadata`` as this binding's resource class takes it."""
    return [metadata] if metadata_is_list(resource_class) else metadata


def metadata_of(resource: Any) -> Any:
    """The resource's one metadata block, whichever shape the binding gives it."""
    return resource.metadata.get(0) if metadata_is_list(type(resource)) else resource.metadata


def version_argument(resource_class: type, argument: str, version: int) -> Any:
    """A write-only argument's version number as this binding types it (a number, or its digits).

    Typed ``Any``: which of the two it is depends on the installed line, which a type checker of
    one line cannot know.
    """
    annotation = _annotation(resource_class, argument)
    return str(version) if "builtins.str" in annotation and "Number" not in annotation else version
