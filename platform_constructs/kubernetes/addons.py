"""The cluster add-ons layer: every controller the cluster's other layers need, installed once, in order.

Add-ons are small units (``HelmChart``) that name the add-ons they need (``after``): the cloud's own
(the AWS Load Balancer Controller, Karpenter's CRDs, controller and node pools) and the neutral
ones (the External Secrets Operator, Kyverno). Airflow, the teams and Datadog depend on this layer
as a whole, so none of them plans against a controller that is not there yet. Every add-on runs on
the system nodes, with their toleration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs import Construct

from ..handles import HelmChart, ScrapeTarget, StatsdSink, WorkloadIdentity
from ..helm import local_chart_release, to_yaml
from ..placement import SYSTEM_POOL
from ..workloads import LogAccess, Workload

if TYPE_CHECKING:
    from cdktf import ITerraformDependable
    from cdktf_cdktf_provider_helm.release import Release

EXTERNAL_SECRETS_CHART_VERSION = "2.14.0"
KYVERNO_CHART_VERSION = "3.9.0"
KYVERNO_REPOSITORY = "https://kyverno.github.io/kyverno"
KYVERNO_NAMESPACE = "kyverno"
KEDA_CHART_VERSION = "2.18.1"
KEDA_NAMESPACE = "keda"
KEDA_OPERATOR = {"app.kubernetes.io/name": "keda-operator"}
"""The KEDA operator's pods: they run the scalers, the Airflow one queries the metadata database."""


def requests(cpu: str, memory: str) -> dict[str, Any]:
    """A container's requests, and a memory limit equal to them: what the system pool is sized for."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


def on_system_nodes() -> dict[str, Any]:
    """The node selector and tolerations of a pod that belongs on the system nodes."""
    return {"nodeSelector": SYSTEM_POOL.node_selector(), "tolerations": SYSTEM_POOL.tolerations()}


def external_secrets(identity: WorkloadIdentity) -> HelmChart:
    """The External Secrets Operator, as the identity that may read exactly the secrets Airflow and Datadog need."""
    return HelmChart(
        name="external-secrets",
        chart="external-secrets",
        repository="https://charts.external-secrets.io",
        version=EXTERNAL_SECRETS_CHART_VERSION,
        namespace=identity.workload.namespace,
        create_namespace=True,
        values={
            "installCRDs": True,
            "serviceAccount": {
                "create": True,
                "name": identity.workload.service_account,
                "annotations": dict(identity.service_account_annotations),
            },
            "resources": requests("100m", "256Mi"),
            **on_system_nodes(),
            "webhook": {"resources": requests("50m", "128Mi"), **on_system_nodes()},
            "certController": {"resources": requests("50m", "128Mi"), **on_system_nodes()},
        },
    )


def kyverno(replicas: int) -> HelmChart:
    """Kyverno, the admission controller of the pod policies (placement, labels, Job defaults)."""
    controllers = {"replicas": min(replicas, 2), "resources": requests("100m", "128Mi"), **on_system_nodes()}
    return HelmChart(
        name="kyverno",
        chart="kyverno",
        repository=KYVERNO_REPOSITORY,
        version=KYVERNO_CHART_VERSION,
        namespace=KYVERNO_NAMESPACE,
        create_namespace=True,
        values={
            "admissionController": {"replicas": replicas, "container": {"resources": requests("100m", "384Mi")}, **on_system_nodes()},
            "backgroundController": controllers,
            "cleanupController": controllers,
            "reportsController": controllers,
            # The CRD migration and cleanup hooks run as Jobs: they need the system nodes too.
            "crds": {"migration": on_system_nodes()},
            "webhooksCleanup": on_system_nodes(),
            "policyReportsCleanup": on_system_nodes(),
        },
    )


def keda() -> HelmChart:
    """KEDA, which scales Celery workers from the queued tasks (the Airflow chart's ScaledObject)."""
    return HelmChart(
        name="keda",
        chart="keda",
        repository="https://kedacore.github.io/charts",
        version=KEDA_CHART_VERSION,
        namespace=KEDA_NAMESPACE,
        create_namespace=True,
        values={
            **on_system_nodes(),
            "resources": {
                "operator": requests("100m", "256Mi"),
                "metricServer": requests("100m", "256Mi"),
                "webhooks": requests("50m", "128Mi"),
            },
        },
    )


RELOADER_CHART_VERSION = "2.2.16"
RELOADER_NAMESPACE = "reloader"
RELOAD_ON_CHANGE = {"reloader.stakater.com/auto": "true"}
"""On a Deployment: restart it when a Secret or ConfigMap it mounts or reads changes."""


def reloader(watched: Sequence[str]) -> HelmChart:
    """Stakater's Reloader: restarts a Deployment when a Secret it uses changes. The operator writes
    secrets in place (a rotated password, a new key), and PgBouncer mounts its configuration with
    ``subPath`` and Airflow reads the connection as an environment variable, so neither would see
    the change otherwise. It watches only ``watched`` (a Role in each, no ClusterRole)."""
    return HelmChart(
        name="reloader",
        chart="reloader",
        repository="https://stakater.github.io/stakater-charts",
        version=RELOADER_CHART_VERSION,
        namespace=RELOADER_NAMESPACE,
        create_namespace=True,
        values={
            "reloader": {
                "watchGlobally": False,
                "namespaces": list(watched),
                "ignoreConfigMaps": True,
                "readOnlyRootFileSystem": True,
                "deployment": {
                    **on_system_nodes(),
                    "resources": requests("50m", "128Mi"),
                    "containerSecurityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                },
            }
        },
    )


EXTERNAL_DNS_CHART_VERSION = "1.21.1"
"""kubernetes-sigs/external-dns chart 1.21.1 (ExternalDNS 0.21.0)."""
EXTERNAL_DNS = Workload(name="external-dns", namespace="external-dns", service_account="external-dns", log_access=LogAccess.NONE)


@dataclass(frozen=True, kw_only=True)
class DnsZoneSpec:
    """The private zone ExternalDNS writes the UIs' records to, and how it reaches the cloud's DNS."""

    domain: str
    """Only names under this domain are written (``example.internal``)."""
    owner: str
    """The TXT registry's owner id: records another owner wrote are never touched (``flightdeck-prod``)."""
    provider: Mapping[str, object]
    """The chart's ``provider`` (``{"name": "aws"}``)."""
    args: Sequence[str]
    """Provider flags (the zone id filter, private zones only, the project)."""
    identity: WorkloadIdentity
    """ExternalDNS's cloud identity: it may change records of that zone only."""
    env: Mapping[str, str] = field(default_factory=dict)


def external_dns(zone: DnsZoneSpec) -> HelmChart:
    """ExternalDNS: a record for each Ingress host (every Airflow's UI) that follows its load balancer.
    The load balancer exists only once the ingress controller made it, so no Terraform resource can
    name it; ExternalDNS writes the record when it appears and rewrites it when it changes.
    ``upsert-only``: it creates and updates, and never deletes a record (a removed UI's record is
    removed by hand), so a mistake in one environment cannot empty a shared zone."""
    return HelmChart(
        name="external-dns",
        chart="external-dns",
        repository="https://kubernetes-sigs.github.io/external-dns",
        version=EXTERNAL_DNS_CHART_VERSION,
        namespace=EXTERNAL_DNS.namespace,
        create_namespace=True,
        values={
            "provider": dict(zone.provider),
            "sources": ["ingress"],
            "policy": "upsert-only",
            "registry": "txt",
            "txtOwnerId": zone.owner,
            "domainFilters": [zone.domain],
            "extraArgs": list(zone.args),
            "env": [{"name": name, "value": value} for name, value in zone.env.items()],
            "serviceAccount": {
                "create": True,
                "name": zone.identity.workload.service_account,
                "annotations": dict(zone.identity.service_account_annotations),
            },
            "resources": requests("50m", "128Mi"),
            **on_system_nodes(),
        },
    )


def install_order(addons: Sequence[HelmChart]) -> list[HelmChart]:
    """The add-ons so that each comes after those it names; an unknown or circular dependency is an error."""
    by_name = {a.name: a for a in addons}
    if len(by_name) != len(addons):
        names = [a.name for a in addons]
        raise ValueError(f"cluster add-ons are listed twice: {sorted({n for n in names if names.count(n) > 1})}")
    for addon in addons:
        unknown = [name for name in addon.after if name not in by_name]
        if unknown:
            raise ValueError(f"cluster add-on {addon.name} needs {', '.join(unknown)}, which is not installed")
    ordered: list[HelmChart] = []
    visiting: list[str] = []

    def visit(addon: HelmChart) -> None:
        if addon in ordered:
            return
        if addon.name in visiting:
            raise ValueError(f"cluster add-ons depend on each other in a circle: {' -> '.join([*visiting, addon.name])}")
        visiting.append(addon.name)
        for name in addon.after:
            visit(by_name[name])
        visiting.pop()
        ordered.append(addon)

    for addon in addons:
        visit(addon)
    return ordered


@dataclass(frozen=True, kw_only=True)
class ClusterAddonsProps:
    addons: Sequence[HelmChart]
    depends_on: Sequence[ITerraformDependable] = ()
    """What must exist before any add-on is installed (nothing, in a cluster stack: its platform stack is applied)."""
    timeout_seconds: int = 600
    metrics: StatsdSink | None = None
    """The monitoring agent, which scrapes the add-ons that declare ``metrics``; None: no agent."""


def with_scrape_annotations(addon: HelmChart, metrics: StatsdSink | None) -> Mapping[str, object]:
    """The add-on's values, with the pod annotations that have the agent scrape its metrics (if both exist)."""
    if addon.metrics is None or metrics is None:
        return addon.values
    annotations = metrics.scrape_annotations(addon.metrics)
    if not annotations:
        return addon.values
    key = addon.metrics.annotations_key
    existing = addon.values.get(key) or {}
    if not isinstance(existing, Mapping):
        raise ValueError(f"add-on {addon.name}: values.{key} is not a mapping of annotations")
    return {**addon.values, key: {**existing, **annotations}}


class ClusterAddons(Construct):
    def __init__(self, scope: Construct, id: str, props: ClusterAddonsProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_helm.release import Release

        self.releases: dict[str, Release] = {}
        self.scraped: list[ScrapeTarget] = []
        """The metrics endpoints annotated for the agent (it needs a way to each: ``DatadogAgentProps.scrape_targets``)."""
        for addon in install_order(props.addons):
            after = [*props.depends_on, *(self.releases[name] for name in addon.after)]
            values = with_scrape_annotations(addon, props.metrics)
            if addon.metrics is not None and values is not addon.values:
                self.scraped.append(addon.metrics)
            if addon.repository is None:
                release = local_chart_release(
                    self,
                    addon.name,
                    chart=Path(addon.chart),
                    release_name=addon.name,
                    namespace=addon.namespace,
                    values=values,
                    depends_on=after,
                )
            else:
                release = Release(
                    self,
                    addon.name,
                    name=addon.name,
                    chart=addon.chart,
                    repository=addon.repository,
                    version=addon.version,
                    namespace=addon.namespace,
                    create_namespace=addon.create_namespace or None,
                    skip_crds=addon.skip_crds or None,
                    values=[to_yaml(dict(values))] if values else None,
                    wait=True,
                    timeout=props.timeout_seconds,
                    depends_on=after or None,
                )
            self.releases[addon.name] = release

    @property
    def all(self) -> list[Release]:
        return list(self.releases.values())

    def __getitem__(self, name: str) -> Release:
        return self.releases[name]

