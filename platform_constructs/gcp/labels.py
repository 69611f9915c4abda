"""GCP label rules: what a tag becomes when it labels a Google Cloud resource (pure; unit-tested)."""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_LABEL_LENGTH = 63
_INVALID = re.compile(r"[^a-z0-9_-]")


def gcp_label_value(value: str) -> str:
    """A tag value as a label value: lowercase letters, digits, ``_`` and ``-``, at most 63 characters."""
    return _INVALID.sub("_", value.lower())[:MAX_LABEL_LENGTH]


def gcp_label_key(key: str) -> str:
    """A tag key as a label key: like a value, and it must start with a letter (``1st`` → ``l_1st``)."""
    cleaned = gcp_label_value(key)
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"l_{cleaned}"
    return cleaned[:MAX_LABEL_LENGTH]


def gcp_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags as GCP labels (``{"CostCenter": "CC-1042"}`` → ``{"costcenter": "cc-1042"}``).

    Raises ValueError when two tags become the same label, rather than silently dropping one.
    """
    labels: dict[str, str] = {}
    origin: dict[str, str] = {}
    for key, value in tags.items():
        label = gcp_label_key(key)
        if label in labels:
            raise ValueError(f"tags {origin[label]!r} and {key!r} both become GCP label {label!r}; rename one of them")
        labels[label] = gcp_label_value(value)
        origin[label] = key
    return labels
