"""Single sign-on for Airflow's UI: the FAB auth manager's OAuth, written as the API server's ``webserver_config.py``.

The chart mounts ``apiServer.apiServerConfig`` as ``webserver_config.py``. Flightdeck writes it from
the file's ``airflow.ui.auth``: the identity provider (Okta, Microsoft Entra ID, Google, GitHub or
any OpenID Connect issuer), the client id, and a mapping from the provider's groups to Airflow's
roles, applied at every sign-in. The client secret never appears here: the API server reads it from
an environment variable filled from a Kubernetes secret the operator syncs from the cloud's store.

For the OpenID Connect providers the user's name, e-mail and groups are the ID token's claims
(``preferred_username``/``email``, ``groups``), read by a small security manager, so every OIDC
issuer behaves the same; GitHub is OAuth only, so it uses FAB's own GitHub user lookup and no groups.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Provider = Literal["okta", "entra", "google", "github", "oidc"]
CLIENT_SECRET_VARIABLE = "FLIGHTDECK_OAUTH_CLIENT_SECRET"
CLIENT_SECRET_KEY = "client-secret"


@dataclass(frozen=True, kw_only=True)
class SignInSpec:
    provider: Provider
    client_id: str
    issuer: str | None = None
    """The OIDC issuer URL (Okta, a generic issuer)."""
    tenant_id: str | None = None
    """Microsoft Entra ID's tenant."""
    groups: Mapping[str, str] = field(default_factory=dict)
    """Identity-provider group → Airflow role (Admin, Op, User, Viewer)."""
    default_role: str = "Public"
    """The role of someone in none of the groups (Public: signed in, sees nothing)."""


def _discovery(spec: SignInSpec) -> str | None:
    if spec.provider in ("okta", "oidc"):
        if not spec.issuer:
            raise ValueError(f"sign-in with {spec.provider} needs its issuer")
        return f"{spec.issuer.rstrip('/')}/.well-known/openid-configuration"
    if spec.provider == "entra":
        if not spec.tenant_id:
            raise ValueError("sign-in with Microsoft Entra ID needs its tenant")
        return f"https://login.microsoftonline.com/{spec.tenant_id}/v2.0/.well-known/openid-configuration"
    if spec.provider == "google":
        return "https://accounts.google.com/.well-known/openid-configuration"
    return None


def oauth_provider(spec: SignInSpec) -> dict[str, object]:
    """FAB's ``OAUTH_PROVIDERS`` entry, the client secret left to the environment variable."""
    secret = f"os.environ[{CLIENT_SECRET_VARIABLE!r}]"
    discovery = _discovery(spec)
    if discovery is None:  # GitHub: OAuth 2, no OpenID Connect
        remote: dict[str, object] = {
            "client_id": spec.client_id,
            "client_secret": secret,
            "api_base_url": "https://api.github.com/",
            "access_token_url": "https://github.com/login/oauth/access_token",
            "authorize_url": "https://github.com/login/oauth/authorize",
            "client_kwargs": {"scope": "read:user user:email"},
        }
        return {"name": "github", "icon": "fa-github", "token_key": "access_token", "remote_app": remote}
    scopes = "openid email profile" + (" groups" if spec.provider in ("okta", "oidc") else "")
    remote = {"client_id": spec.client_id, "client_secret": secret, "server_metadata_url": discovery, "client_kwargs": {"scope": scopes}}
    return {"name": spec.provider, "icon": "fa-sign-in", "token_key": "access_token", "remote_app": remote}


def _python(value: object) -> str:
    """A Python literal of ``value`` (JSON is one, but for ``os.environ[…]`` left unquoted)."""
    text = json.dumps(value, indent=4, sort_keys=True)
    return text.replace(f'"os.environ[{CLIENT_SECRET_VARIABLE!r}]"', f"os.environ[{CLIENT_SECRET_VARIABLE!r}]")


def webserver_config(spec: SignInSpec) -> str:
    """The ``webserver_config.py`` the API server loads (the chart's ``apiServer.apiServerConfig``)."""
    roles_mapping = {group: [role] for group, role in sorted(spec.groups.items())}
    lines = [
        f'"""Airflow API server: single sign-on with {spec.provider} (written by Flightdeck from airflow.ui.auth)."""',
        "import os",
        "",
        "from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride",
        "from flask_appbuilder.security.manager import AUTH_OAUTH",
        "",
        "AUTH_TYPE = AUTH_OAUTH",
        "AUTH_USER_REGISTRATION = True",
        f"AUTH_USER_REGISTRATION_ROLE = {spec.default_role!r}",
        "# Roles follow the identity provider's groups at every sign-in; a role given by hand does not stay.",
        "AUTH_ROLES_SYNC_AT_LOGIN = True",
        f"AUTH_ROLES_MAPPING = {_python(roles_mapping)}",
        f"OAUTH_PROVIDERS = [{_python(oauth_provider(spec))}]",
        "",
        "",
        "class FlightdeckSecurityManager(FabAirflowSecurityManagerOverride):",
        '    """The signed-in user from the ID token\'s claims, for every OpenID Connect provider alike."""',
        "",
        "    def get_oauth_user_info(self, provider, resp):",
        '        if provider == "github":',
        "            return super().get_oauth_user_info(provider, resp)",
        '        claims = resp.get("userinfo") or self.appbuilder.sm.oauth_remotes[provider].userinfo()',
        "        return {",
        '            "username": claims.get("preferred_username") or claims.get("email"),',
        '            "email": claims.get("email"),',
        '            "first_name": claims.get("given_name", ""),',
        '            "last_name": claims.get("family_name", ""),',
        '            "role_keys": claims.get("groups", []),',
        "        }",
        "",
        "",
        "SECURITY_MANAGER_CLASS = FlightdeckSecurityManager",
        "",
    ]
    text = "\n".join(lines)
    if "{{" in text or "}}" in text:
        raise ValueError("the chart templates apiServerConfig: the sign-in configuration must not contain '{{' or '}}'")
    return text
