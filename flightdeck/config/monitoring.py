"""``datadog:``: the site, the key and the monitors' thresholds and channels."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .primitives import Model, SecretName

# Datadog sites and the address of their web app (dashboards are linked from outputs and monitors).
DATADOG_SITES = {
    "datadoghq.com": "https://app.datadoghq.com",
    "us3.datadoghq.com": "https://us3.datadoghq.com",
    "us5.datadoghq.com": "https://us5.datadoghq.com",
    "datadoghq.eu": "https://app.datadoghq.eu",
    "ap1.datadoghq.com": "https://ap1.datadoghq.com",
    "ap2.datadoghq.com": "https://ap2.datadoghq.com",
    "ddog-gov.com": "https://app.ddog-gov.com",
}
DatadogSite = Literal[
    "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com",
    "ap2.datadoghq.com", "ddog-gov.com",
]


def _notification_handle(value: str) -> str:
    if not re.fullmatch(r"@[A-Za-z0-9][A-Za-z0-9_.+@-]*", value):
        raise ValueError(
            f"'{value}' is not a Datadog notification handle; write @slack-<channel>, @pagerduty-<service> or @<e-mail>"
        )
    return value


NotificationHandle = Annotated[str, AfterValidator(_notification_handle)]


class Threshold(Model):
    """Alert at ``critical``; ``warning`` (optional) is an earlier heads-up on the same side."""

    critical: float = Field(ge=0)
    warning: float | None = Field(default=None, ge=0)


class AboveThreshold(Threshold):
    """Alerts when the value rises above the thresholds."""

    @model_validator(mode="after")
    def _order(self) -> AboveThreshold:
        if self.warning is not None and self.warning >= self.critical:
            raise ValueError(f"warning {self.warning:g} must be below critical {self.critical:g}")
        return self


class BelowThreshold(Threshold):
    """Alerts when the value falls below the thresholds."""

    @model_validator(mode="after")
    def _order(self) -> BelowThreshold:
        if self.warning is not None and self.warning <= self.critical:
            raise ValueError(f"warning {self.warning:g} must be above critical {self.critical:g}")
        return self


class MonitorsByTier(Model):
    """The part of ``datadog.monitors:`` that each tier sets (``flightdeck/tiers.py``): urgency and thresholds."""

    priority: int = Field(ge=1, le=5)
    """Datadog priority of every monitor (1 is the most urgent)."""
    renotify_minutes: int | None = Field(default=None, ge=10, le=1440)
    """Repeat an unresolved alert this often; none: tell once."""
    scheduler_heartbeat_minutes: int = Field(ge=2, le=60)
    """Alert when no scheduler heartbeat arrived for this long."""
    task_failure_percent: AboveThreshold
    """Share of finished task instances that failed in the last hour."""
    import_errors: AboveThreshold
    """DAG files that fail to import."""
    queued_tasks: AboveThreshold
    """Tasks waiting in the executor queue, sustained over 15 minutes."""
    pending_pod_minutes: int = Field(ge=5, le=240)
    """Alert when task pods have been Pending for this long (no node, no quota, bad image)."""
    database_cpu_percent: AboveThreshold
    database_free_storage_gib: BelowThreshold
    database_connections: AboveThreshold
    """Open connections to the metadata database (every Airflow's PgBouncers and the roles job), sustained over 15 minutes."""
    provisioning_failures: AboveThreshold
    """Nodes the provisioner failed to launch in 30 minutes (EKS: Karpenter's failed EC2 launches; no capacity,
    a quota, an IAM or launch-template error). A few are normal: Karpenter falls back to other instance types."""


class Monitors(MonitorsByTier):
    notify: list[NotificationHandle] = Field(min_length=1)
    """Who is told: ``@pagerduty-<service>`` pages on-call, ``@slack-<channel>`` posts to a channel."""


class DatadogByTier(Model):
    """The part of ``datadog:`` that each tier sets (``flightdeck/tiers.py``)."""

    cluster_agent_replicas: int = Field(ge=1, le=3)
    monitors: MonitorsByTier


class Datadog(DatadogByTier):
    site: DatadogSite
    api_key_secret: SecretName
    """Name of the cloud secret holding ``{"api_key": "…"}``; synced into the cluster, never into Terraform."""
    monitors: Monitors

    @property
    def app_url(self) -> str:
        return DATADOG_SITES[self.site]

    @property
    def api_url(self) -> str:
        return f"https://api.{self.site}/"
