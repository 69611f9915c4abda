"""The Airflow version a database was migrated to, kept in the cluster, for a database Flightdeck does not manage.

On an existing cluster the database is its owners' (no instance to label, no cloud store to write),
so the record is a ConfigMap in Airflow's namespace, written after the Airflow release (and so after
its migration job) succeeded. Every plan reads it (``data.kubernetes_resources``, an empty list before
the first deploy) and a precondition refuses a version below it, as the clouds' records do
(``platform_constructs/migrations.py``).

The record lives with the cluster, not with the database: a rebuilt cluster starts without one, and
the refusal comes back with the first deploy to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from ..migrations import downgrade_message, refuse_downgrade

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

RECORD_NAME = "flightdeck-airflow-schema"
VERSION_KEY = "airflow-version"


@dataclass(frozen=True, kw_only=True)
class SchemaRecordProps:
    namespace: str
    """Airflow's namespace (the record goes with the release that migrated the database)."""
    database: str
    """What the database is, for the message (``db.example.internal/airflow``)."""
    airflow_version: str
    after: Sequence[ITerraformDependable]
    """The Airflow release: the record says a version only once its migration ran."""


class SchemaRecord(Construct):
    def __init__(self, scope: Construct, id: str, props: SchemaRecordProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1, ConfigMapV1Metadata
        from cdktf_cdktf_provider_kubernetes.data_kubernetes_resources import DataKubernetesResources

        recorded = DataKubernetesResources(
            self, "recorded", api_version="v1", kind="ConfigMap", namespace=props.namespace, field_selector=f"metadata.name={RECORD_NAME}"
        )
        self.record = ConfigMapV1(
            self,
            "record",
            metadata=ConfigMapV1Metadata(
                name=RECORD_NAME, namespace=props.namespace, labels={"app.kubernetes.io/managed-by": "flightdeck"}
            ),
            data={VERSION_KEY: props.airflow_version},
            depends_on=list(props.after),
            # The list holds this record only (selected by name), so every object in it is this database's.
            lifecycle=refuse_downgrade(
                each=f"o in {recorded.fqn}.objects",
                deployed=f'try(o.data["{VERSION_KEY}"], "0.0.0")',
                of_this="true",
                version=props.airflow_version,
                message=downgrade_message(
                    props.airflow_version,
                    props.database,
                    f"restore the database's own backup from before the upgrade, delete the ConfigMap {RECORD_NAME} "
                    f"in {props.namespace}, and deploy the older image",
                ),
            ),
        )
