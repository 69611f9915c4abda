"""Day two: the metadata database is cleaned on a schedule, and every environment says where its UI is."""

from __future__ import annotations

from typing import Any

from .conftest import shipped_configs, values_of


def test_the_metadata_database_is_cleaned_with_the_tiers_retention(stacks: dict[str, Any]) -> None:
    retention = {}
    for env, stack in stacks.items():
        config = shipped_configs()[env]
        cleanup = values_of(stack)["databaseCleanup"]
        assert cleanup["enabled"] is config.airflow.database_cleanup.enabled
        assert cleanup["retentionDays"] == config.airflow.database_cleanup.retention_days
        # Dropped, not archived in the same database (which would not shrink); backups are the archive.
        assert cleanup["skipArchive"] is True
        assert cleanup["nodeSelector"] == {"flightdeck.io/node-pool": "system"}
        retention[config.tier.value] = cleanup["retentionDays"]
    assert retention == {"dev": 30, "qa": 60, "prod": 180}


def test_every_environment_outputs_where_its_ui_is(synthesized: dict[str, Any]) -> None:
    for config in shipped_configs().values():
        outputs = synthesized[config.stack_name("cluster")]["output"]
        assert outputs["airflow_url"]["value"] == f"https://{config.airflow.ui.hostname}"
