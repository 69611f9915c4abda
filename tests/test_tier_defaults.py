"""The tier defaults (``flightdeck/tiers.py``) against the models they fill, with no file loaded.

Every key of every tier's defaults, on every cloud, must be a field of the model at that place, and
every leaf value must be valid for that field's type: a field renamed or retyped in ``flightdeck/config``
fails here, at ``make test``, instead of in the first file that relies on the default.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from flightdeck.config import ENVIRONMENT_MODELS, Tier
from flightdeck.tiers import tier_defaults


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (``Database``, ``Datadog | None``), or None for any other type."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for arg in typing.get_args(annotation) if (m := _model_of(arg)) is not None]
        return models[0] if len(models) == 1 else None
    return None


def problems(model: type[BaseModel], defaults: dict[str, Any], where: str = "") -> list[str]:
    found = []
    for key, value in defaults.items():
        path = f"{where}{key}"
        field = model.model_fields.get(key)
        if field is None:
            found.append(f"{path}: no such field in {model.__name__}")
            continue
        annotation: Any = field.annotation
        inner = _model_of(annotation)
        if inner is not None and isinstance(value, dict):
            found += problems(inner, value, f"{path}.")
            continue
        try:
            TypeAdapter(annotation).validate_python(value)
        except ValueError as error:
            found.append(f"{path}: {value!r} is not a valid {annotation}: {error}")
    return found


@pytest.mark.parametrize("cloud", sorted(ENVIRONMENT_MODELS))
@pytest.mark.parametrize("tier", list(Tier))
def test_every_default_is_a_field_of_its_model_and_valid_for_it(cloud: str, tier: Tier) -> None:
    defaults = tier_defaults(tier, cloud, sections=["datadog"])
    assert defaults, "every tier has defaults"
    model = ENVIRONMENT_MODELS[cloud]
    model.model_rebuild()
    assert problems(model, defaults) == []


def test_a_renamed_field_is_found() -> None:
    """The check itself: a default for a field that does not exist, and one of the wrong type."""
    defaults = tier_defaults(Tier.PROD, "aws", sections=["datadog"])
    defaults["database"]["instance_klass"] = "db.m6g.large"
    defaults["database"]["multi_az"] = "twice"
    defaults["cluster"]["node_groups"]["system"]["min_size"] = "three"
    found = problems(ENVIRONMENT_MODELS["aws"], defaults)
    assert sorted(p.split(":")[0] for p in found) == ["cluster.node_groups.system.min_size", "database.instance_klass", "database.multi_az"]
