"""Airflow's metadata database: RDS for PostgreSQL in the database subnets.

Reachable only from the cluster's security group, encrypted with the environment key, TLS
enforced, and the master password generated and kept by RDS in Secrets Manager
(``manage_master_user_password``), so no password ever appears in the synthesized JSON or in
Terraform state.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields

from constructs import Construct

from ..handles import DatabaseHandle, DatabaseMetrics
from ..migrations import forget, instance_construct_id
from .iam import attachable_policy, service_trust
from .kms import KmsKeyHandle

POSTGRES_PORT = 5432


@dataclass(frozen=True, kw_only=True)
class Restore:
    snapshot: str
    instance: str
    """The new instance's suffix (``r1``: ``flightdeck-prod-r1``)."""
    replaces: str | None = None
    """The suffix of the instance it replaces; None: the original (``flightdeck-prod``)."""


@dataclass(frozen=True, kw_only=True)
class DatabaseOptions:
    """What an environment decides about its database (sizes, availability, backups, restores, upgrades);
    ``PostgresDatabaseProps`` adds where it runs. Declared once: the platform takes these as they are."""

    engine_version: str
    """Major (``16``) or major.minor; minor versions are upgraded automatically in the maintenance window."""
    instance_class: str
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    multi_az: bool = False
    """A synchronous standby in another zone; failover takes about a minute."""
    deletion_protection: bool = False
    backup_retention_days: int = 7
    final_snapshot: bool = False
    """Snapshot ``<identifier>-final`` is taken when the instance is destroyed."""
    restore: Restore | None = None
    """Build the instance from a snapshot (a new instance, beside the old one); None: a new, empty database or the existing one."""
    airflow_image: str | None = None
    """The Airflow image about to run: a manual snapshot is taken whenever it changes, before its migration."""
    airflow_version: str | None = None
    """Its Airflow version: kept per instance, and a plan that goes below it is refused (see ``schema_guard``)."""

    def __post_init__(self) -> None:
        if self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise ValueError(
                f"max_allocated_storage_gib {self.max_allocated_storage_gib} is below allocated_storage_gib {self.allocated_storage_gib}"
            )


@dataclass(frozen=True, kw_only=True)
class PostgresDatabaseProps(DatabaseOptions):
    identifier: str
    vpc_id: str
    subnet_ids: Sequence[str]
    client_security_group_id: str
    """The only security group allowed to connect (the EKS cluster security group)."""
    key: KmsKeyHandle
    database_name: str = "airflow"
    username: str = "airflow_admin"
    partition: str = "aws"

    @classmethod
    def of(
        cls,
        options: DatabaseOptions,
        *,
        identifier: str,
        vpc_id: str,
        subnet_ids: Sequence[str],
        client_security_group_id: str,
        key: KmsKeyHandle,
        partition: str = "aws",
    ) -> PostgresDatabaseProps:
        """The environment's options, placed in its network."""
        chosen = {f.name: getattr(options, f.name) for f in fields(DatabaseOptions)}
        return cls(
            **chosen,
            identifier=identifier,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            client_security_group_id=client_security_group_id,
            key=key,
            partition=partition,
        )


def before_upgrade_construct_id(suffix: str | None) -> str:
    """The construct id of an instance's pre-upgrade snapshot (a restored instance's has its own)."""
    return "before-upgrade" if suffix is None else f"before-upgrade-{suffix}"


def snapshot_name(identifier: str, image: str) -> str:
    """The pre-upgrade snapshot of ``image`` (pure): ``<identifier>-before-<tag>-<hash>`` in RDS's alphabet."""
    tag = image.rsplit(":", 1)[-1].lower()
    slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", tag)).strip("-")[:40] or "image"
    digest = hashlib.sha256(image.encode()).hexdigest()[:6]
    return f"{identifier}-before-{slug}-{digest}"


class PostgresDatabase(Construct):
    def __init__(self, scope: Construct, id: str, props: PostgresDatabaseProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.db_instance import DbInstance
        from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
        from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
        from cdktf_cdktf_provider_aws.security_group import SecurityGroup
        from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

        major = props.engine_version.split(".")[0]

        subnets = DbSubnetGroup(self, "subnets", name=props.identifier, subnet_ids=list(props.subnet_ids))
        # No egress rules: Terraform removes the default allow-all egress of a new security group.
        self.security_group = SecurityGroup(
            self,
            "security-group",
            name=f"{props.identifier}-database",
            description=f"PostgreSQL for {props.identifier}: reachable from the EKS cluster only",
            vpc_id=props.vpc_id,
        )
        VpcSecurityGroupIngressRule(
            self,
            "from-cluster",
            security_group_id=self.security_group.id,
            referenced_security_group_id=props.client_security_group_id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL from the EKS cluster",
        )
        parameters = DbParameterGroup(
            self,
            "parameters",
            name=f"{props.identifier}-postgres{major}",
            family=f"postgres{major}",
            description=f"{props.identifier}: TLS only, slow statements logged",
            parameter=[
                DbParameterGroupParameter(name="rds.force_ssl", value="1", apply_method="pending-reboot"),
                DbParameterGroupParameter(name="log_min_duration_statement", value="1000"),
                DbParameterGroupParameter(name="log_connections", value="1"),
            ],
        )
        monitoring_role = IamRole(
            self,
            "monitoring-role",
            name=f"{props.identifier}-rds-monitoring",
            assume_role_policy=service_trust("monitoring.rds.amazonaws.com"),
        )
        monitoring_policy = IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring_role.name,
            policy_arn=attachable_policy(props.partition, "service-role/AmazonRDSEnhancedMonitoringRole"),
        )
        restore = props.restore
        identifier = props.identifier if restore is None else f"{props.identifier}-{restore.instance}"
        if restore is not None:
            # The instance it replaces leaves Terraform's management without being destroyed: it keeps
            # running (deletion protection stays on) until it is retired by hand (see the README). So does
            # its pre-upgrade snapshot, which is often the very snapshot being restored.
            forgotten = [("aws_db_instance", instance_construct_id(restore.replaces))]
            if props.airflow_image is not None:
                forgotten.append(("aws_db_snapshot", before_upgrade_construct_id(restore.replaces)))
            forget(self, forgotten)
        self.instance = DbInstance(
            self,
            instance_construct_id(restore.instance if restore else None),
            identifier=identifier,
            snapshot_identifier=restore.snapshot if restore else None,
            engine="postgres",
            engine_version=props.engine_version,
            auto_minor_version_upgrade=True,
            instance_class=props.instance_class,
            allocated_storage=props.allocated_storage_gib,
            max_allocated_storage=props.max_allocated_storage_gib,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=props.key.arn,
            # A restored instance takes its database and master user from the snapshot.
            db_name=props.database_name if restore is None else None,
            username=props.username if restore is None else None,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=props.key.arn,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=props.multi_az,
            deletion_protection=props.deletion_protection,
            backup_retention_period=props.backup_retention_days,
            backup_window="02:00-03:00",
            maintenance_window="sun:03:30-sun:04:30",
            copy_tags_to_snapshot=True,
            skip_final_snapshot=not props.final_snapshot,
            final_snapshot_identifier=f"{identifier}-final" if props.final_snapshot else None,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            performance_insights_enabled=True,
            performance_insights_kms_key_id=props.key.arn,
            performance_insights_retention_period=7,
            monitoring_interval=60,
            monitoring_role_arn=monitoring_role.arn,
            depends_on=[monitoring_policy],
        )
        self.before_upgrade = None
        if props.airflow_image is not None:
            from cdktf_cdktf_provider_aws.db_snapshot import DbSnapshot

            # A new image gets a new snapshot name, so Terraform takes this snapshot again, in the platform
            # stack, which is applied before the cluster stack runs the image's migration. It replaces the
            # one before the previous upgrade; the automated backups keep every earlier point.
            self.before_upgrade = DbSnapshot(
                self,
                before_upgrade_construct_id(restore.instance if restore else None),
                db_instance_identifier=self.instance.identifier,
                db_snapshot_identifier=snapshot_name(identifier, props.airflow_image),
                tags={"airflow-image": props.airflow_image[-256:], "purpose": "before-airflow-upgrade"},
            )
        if props.airflow_version is not None:
            from .schema_guard import SchemaGuard, SchemaGuardProps

            SchemaGuard(self, "schema", SchemaGuardProps(prefix=props.identifier, instance=identifier, airflow_version=props.airflow_version))
        self.handle = DatabaseHandle(
            host=self.instance.address,
            port=POSTGRES_PORT,
            database_name=props.database_name,
            username=props.username,
            credentials_secret=self.instance.master_user_secret.get(0).secret_arn,
            # Datadog's AWS integration reports RDS metrics tagged with the instance identifier.
            metrics=DatabaseMetrics(
                scope=f"dbinstanceidentifier:{identifier}",
                cpu_percent="{agg}:aws.rds.cpuutilization{filter}",
                free_storage_bytes="{agg}:aws.rds.free_storage_space{filter}",
                connections="{agg}:aws.rds.database_connections{filter}",
            ),
        )
