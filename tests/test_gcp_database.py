"""The Cloud SQL construct's own rules (``platform_constructs/gcp/database.py``), without synthesis."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from platform_constructs.gcp.database import CloudSqlDatabaseProps, _validate, image_label, postgres_version, version_label
from platform_constructs.gcp.props import CloudSqlSettings

SETTINGS = CloudSqlSettings(
    engine_version="16",
    tier="db-custom-2-7680",
    disk_size_gib=50,
    disk_autoresize_limit_gib=500,
    high_availability=True,
    deletion_protection=True,
    backup_retention_days=14,
    point_in_time_recovery_days=7,
    final_backup=True,
)


def props(**settings: Any) -> CloudSqlDatabaseProps:
    return CloudSqlDatabaseProps(
        name="flightdeck-prod",
        project_id="example-airflow-prod",
        region="europe-west1",
        settings=replace(SETTINGS, **settings),
        network_id="projects/example-airflow-prod/global/networks/flightdeck-prod",
        allocated_ip_range="flightdeck-prod-database",
        private_cidr="10.120.144.0/20",
        service_networking=object(),  # type: ignore[arg-type]
        labels={},
    )


def test_the_engine_is_named_by_its_major_version() -> None:
    assert postgres_version("16") == postgres_version("16.4") == "POSTGRES_16"
    with pytest.raises(ValueError, match="database engine_version 'sixteen' is not a PostgreSQL version like 16"):
        postgres_version("sixteen")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"disk_autoresize_limit_gib": 20}, "database disk_autoresize_limit_gib 20 is below disk_size_gib 50"),
        ({"backup_retention_days": 0}, "database backup_retention_days must be 1 to 365, got 0"),
        ({"point_in_time_recovery_days": 8}, r"database point_in_time_recovery_days must be 0 \(off\) to 7 on Cloud SQL Enterprise, got 8"),
        ({"engine_version": "latest"}, "is not a PostgreSQL version"),
    ],
)
def test_settings_outside_what_cloud_sql_takes_are_refused(settings: dict[str, Any], message: str) -> None:
    _validate(props())
    with pytest.raises(ValueError, match=message):
        _validate(props(**settings))


def test_the_records_are_valid_label_values() -> None:
    assert version_label("3.10.1") == "3-10-1"
    assert image_label("apache/airflow:3.2.2") == image_label("apache/airflow:3.2.2") != image_label("apache/airflow:3.2.3")
    assert len(image_label("x" * 500)) == 12
