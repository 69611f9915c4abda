"""What the environments' stacks take from ``bootstrap.yaml``: the repository and workflow that deploy them."""

from __future__ import annotations

from dataclasses import dataclass

from flightdeck import ci
from flightdeck.config import BootstrapConfig


@dataclass(frozen=True, kw_only=True)
class DeploySettings:
    repository: str
    """``owner/name``: the only repository whose deploy workflow may use an environment's runner."""
    workflow_name: str = ci.WORKFLOW_NAME


def deploy_settings(bootstrap: BootstrapConfig | None) -> DeploySettings | None:
    """None without ``bootstrap.yaml``: no CI, so no runner (deploys come from a workstation)."""
    return DeploySettings(repository=bootstrap.github.repository) if bootstrap is not None else None
