"""The Airflow version a database was migrated to, kept beside it, and the plan-time refusal of a downgrade.

Airflow's migrations only go forward: an older Airflow against a database a newer one migrated does
not start, and its migration job fails halfway through a deploy. So the platform stack keeps, per
database instance, the version deployed to it in an SSM parameter (``/<prefix>-airflow-schema/<instance>``),
reads every such parameter at plan time, and refuses the plan (a Terraform precondition) when the new
version is older than the recorded one. Nothing is applied, not even the pre-upgrade snapshot, which
stays the one to go back to.

The way back to an older version is a restore: ``database.restore_from`` builds a new instance from the
snapshot taken before the upgrade, and a new instance has no record yet (see the README's rollback).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from ..migrations import downgrade_message, refuse_downgrade, restore_as_new_instance


def records_path(prefix: str) -> str:
    """Where the versions of an environment's database instances are kept (``/flightdeck-prod-airflow-schema``)."""
    return f"/{prefix}-airflow-schema"


@dataclass(frozen=True, kw_only=True)
class SchemaGuardProps:
    prefix: str
    """The environment's resource prefix (``flightdeck-prod``): the records' path and, with it, who may write them."""
    instance: str
    """The database instance's identifier (``flightdeck-prod``, ``flightdeck-prod-r1``): one record per instance."""
    airflow_version: str


class SchemaGuard(Construct):
    def __init__(self, scope: Construct, id: str, props: SchemaGuardProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.data_aws_ssm_parameters_by_path import DataAwsSsmParametersByPath
        from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter

        path = records_path(props.prefix)
        self.name = f"{path}/{props.instance}"
        # A list, empty before the first deploy (a single-parameter data source would fail on it).
        recorded = DataAwsSsmParametersByPath(self, "recorded", path=path)
        self.record = SsmParameter(
            self,
            "record",
            name=self.name,
            # A version number, not a secret: a plain String, which the planner reads without a key.
            type="String",
            value=props.airflow_version,
            description=f"The Airflow version {props.instance} was last deployed with (Flightdeck refuses to go below it)",
            lifecycle=refuse_downgrade(
                each=f"name, deployed in zipmap({recorded.fqn}.names, nonsensitive({recorded.fqn}.values))",
                deployed="deployed",
                of_this=f'name == "{self.name}"',
                version=props.airflow_version,
                message=downgrade_message(props.airflow_version, props.instance, restore_as_new_instance("the snapshot taken before the upgrade")),
            ),
        )
