"""The tier defaults (``flightdeck/tiers.py``) against the models they fill, with no file loaded.

The defaults are model instances, so mypy checks their names and types and the import validates
them. Here: each defaults record fills the right section of each cloud's environment model, and the
mappings ``tier_defaults`` hands the loader, once merged, are still valid field by field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from flightdeck.config import ENVIRONMENT_MODELS, Tier
from flightdeck.tiers import CLOUD_TIERS, TIERS, tier_defaults


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


def _records() -> list[tuple[str, Any, type[BaseModel]]]:
    """Every tier's defaults record, with the environment model whose sections it fills."""
    found: list[tuple[str, Any, type[BaseModel]]] = []
    for cloud, model in ENVIRONMENT_MODELS.items():
        found += [(f"{cloud} {tier.value}", TIERS[tier], model) for tier in Tier]
        found += [(f"{cloud} {tier.value}", by_tier[tier], model) for by_tier in [CLOUD_TIERS.get(cloud)] if by_tier for tier in Tier]
    return found


@pytest.mark.parametrize(("where", "record", "model"), _records(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_default_section_is_the_environment_models_section_or_its_by_tier_part(where: str, record: Any, model: type[BaseModel]) -> None:
    """A defaults record names only sections the environment model has, and holds for each the section's
    model or a base of it (``NetworkByTier`` under ``Network``): so mypy checks every default's name and type."""
    for field in dataclasses.fields(record):
        if field.name == "task_logs" and "task_logs" not in model.model_fields:
            continue  # an existing cluster keeps no task logs of Flightdeck's; tier_defaults leaves them out
        section = _model_of(model.model_fields[field.name].annotation)
        value = getattr(record, field.name)
        assert section is not None and isinstance(value, BaseModel), f"{where}: {field.name}"
        assert issubclass(section, type(value)), f"{where}: {field.name} holds a {type(value).__name__}, not part of {section.__name__}"


def test_an_existing_cluster_gets_no_cloud_sections_and_no_task_log_expiry() -> None:
    defaults = tier_defaults(Tier.PROD, "existing", sections=["datadog"])
    assert sorted(defaults) == ["airflow", "datadog"]
    assert sorted(tier_defaults(Tier.DEV, "existing")) == ["airflow"]
    assert set(tier_defaults(Tier.DEV, "aws")) == {"airflow", "task_logs", "network", "cluster", "database"}
