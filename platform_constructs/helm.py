"""Helm releases shared by the layers: values serialization and the project's own charts.

The project's charts (``charts/synced-secrets``, ``charts/team-policies``) are deployed from their
local path (a cdktf asset), so no External Secrets or Kyverno CRD has to exist when Terraform
plans. ``synced-secrets`` values describe a SecretStore, password generators and ExternalSecrets;
the External Secrets Operator makes the Kubernetes secrets, so no secret value ever passes
through Terraform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from constructs import Construct

if TYPE_CHECKING:
    from cdktf import ITerraformDependable
    from cdktf_cdktf_provider_helm.release import Release

    from .handles import SecretStoreHandle

SYNCED_SECRETS_CHART = Path(__file__).resolve().parents[1] / "charts" / "synced-secrets"
SECRET_STORE = "cloud-secrets"
STORE_REFRESH = "1h"
"""How often synced secrets are re-read, so a rotated cloud secret reaches the cluster within the hour."""


# libyaml's emitter where PyYAML was built with it (its wheels are): the same YAML for every value here
# (the stack snapshots compare it), in a fraction of the pure-Python emitter's time.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_yaml(values: Mapping[str, Any]) -> str:
    """Serialize Helm values once; no line folding, so Terraform references stay intact."""
    return yaml.dump(dict(values), Dumper=_DUMPER, sort_keys=True, width=1_000_000, default_flow_style=False)


def from_store(name: str, remote_key: str, template: Mapping[str, str], refresh: str = STORE_REFRESH) -> dict[str, Any]:
    """An ExternalSecret whose data are rendered (ESO templates) from one JSON secret in the store."""
    return {"name": name, "refreshInterval": refresh, "remoteKey": remote_key, "template": dict(template)}


def secret_store(store: SecretStoreHandle) -> dict[str, Any]:
    """The chart's ``secretStore`` value: one SecretStore per namespace, always under the same name."""
    value: dict[str, Any] = {"name": SECRET_STORE, "provider": dict(store.provider)}
    if store.service_account is not None:
        value["serviceAccount"] = store.service_account
    return value


def kept_secrets(store: SecretStoreHandle, kept: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """The chart's ``keptSecrets`` (generated once, pushed to the store) and the store's push metadata."""
    metadata = store.keeps.push_metadata if store.keeps is not None else None
    return {"keptSecrets": [dict(k) for k in kept], "pushMetadata": dict(metadata) if metadata is not None else None}


def local_chart_release(
    scope: Construct,
    id: str,
    *,
    chart: Path,
    release_name: str,
    namespace: str,
    values: Mapping[str, Any],
    depends_on: Sequence[ITerraformDependable],
) -> Release:
    """A release of one of the project's own charts from its local path (ids ``<id>`` and ``<id>-chart``)."""
    from cdktf import AssetType, TerraformAsset
    from cdktf_cdktf_provider_helm.release import Release

    asset = TerraformAsset(scope, f"{id}-chart", path=str(chart), type=AssetType.DIRECTORY)
    return Release(
        scope,
        id,
        name=release_name,
        chart=asset.path,
        namespace=namespace,
        values=[to_yaml(values)],
        wait=True,
        timeout=300,
        depends_on=list(depends_on),
    )


def synced_secrets(
    scope: Construct, id: str, *, release_name: str, namespace: str, values: Mapping[str, Any], depends_on: Sequence[ITerraformDependable]
) -> Release:
    """A release of ``charts/synced-secrets`` in ``scope``."""
    return local_chart_release(
        scope,
        id,
        chart=SYNCED_SECRETS_CHART,
        release_name=release_name,
        namespace=namespace,
        values=values,
        depends_on=depends_on,
    )
