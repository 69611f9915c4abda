"""Signing in: single sign-on for the UI, configured from ``airflow.ui.auth`` (the FAB auth manager's OAuth).

No rung runs Airflow or an identity provider, so the generated ``webserver_config.py`` is compiled
and executed here against stand-ins for the two modules it imports, and its security manager is
asked who a token's claims sign in as; the values, the synced client secret and the operator's
IAM read are checked against each other on the synthesized stacks.
"""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import pytest

from platform_constructs.airflow.signin import CLIENT_SECRET_KEY, CLIENT_SECRET_VARIABLE, SignInSpec, webserver_config
from platform_constructs.airflow.values import SecretNames

from .conftest import fixture_configs, resources, values_of


def load_config(text: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Execute ``webserver_config.py`` with stand-ins for FAB and Airflow's security manager."""

    class Base:
        def get_oauth_user_info(self, provider: str, resp: dict[str, Any]) -> dict[str, Any]:
            return {"username": f"fab-{provider}"}

    override = types.ModuleType("airflow.providers.fab.auth_manager.security_manager.override")
    override.FabAirflowSecurityManagerOverride = Base  # type: ignore[attr-defined]
    manager = types.ModuleType("flask_appbuilder.security.manager")
    manager.AUTH_OAUTH = 4  # type: ignore[attr-defined]
    for name in ("airflow", "airflow.providers", "airflow.providers.fab", "airflow.providers.fab.auth_manager",
                 "airflow.providers.fab.auth_manager.security_manager", "flask_appbuilder", "flask_appbuilder.security"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, override.__name__, override)
    monkeypatch.setitem(sys.modules, manager.__name__, manager)
    monkeypatch.setenv(CLIENT_SECRET_VARIABLE, "from-the-secret")
    namespace: dict[str, Any] = {}
    exec(compile(text, "webserver_config.py", "exec"), namespace)
    return namespace


def test_every_environment_outside_dev_signs_in_with_single_sign_on(stacks: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    checked = 0
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        auth = config.airflow.ui.auth
        api = values_of(stack)["apiServer"]
        if auth is None:
            assert config.tier == "dev" and "apiServerConfig" not in api
            continue
        text = api["apiServerConfig"]
        assert "from-the-secret" not in text and "client_secret\": os.environ" in text, "the secret comes from the environment"
        loaded = load_config(text, monkeypatch)
        assert loaded["AUTH_TYPE"] == 4 and loaded["AUTH_ROLES_SYNC_AT_LOGIN"] is True
        assert loaded["AUTH_ROLES_MAPPING"] == {group: [role] for group, role in auth.groups.items()}
        assert loaded["AUTH_USER_REGISTRATION_ROLE"] == auth.default_role
        (provider,) = loaded["OAUTH_PROVIDERS"]
        assert provider["remote_app"]["client_id"] == auth.client_id
        assert provider["remote_app"]["client_secret"] == "from-the-secret"
        # The API server gets the secret from the synced Kubernetes secret, which the operator reads from the store.
        assert api["env"] == [
            {"name": CLIENT_SECRET_VARIABLE, "valueFrom": {"secretKeyRef": {"name": SecretNames().sign_in_client, "key": CLIENT_SECRET_KEY}}}
        ]
        synced = {e["name"]: e for e in values_of(stack, "airflow-secrets")["externalSecrets"]}
        assert synced[SecretNames().sign_in_client]["remoteKey"] == auth.client_secret
        policy = next(json.loads(p["policy"]) for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == "read-airflow-secrets")
        readable = [r for s in policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"] for r in s["Resource"]]
        assert any(f":secret:{auth.client_secret}-" in r for r in readable)
        checked += 1
    assert checked


@pytest.mark.parametrize(
    ("spec", "claims", "expected"),
    [
        (SignInSpec(provider="okta", client_id="c", issuer="https://example.okta.com/oauth2/default", groups={"admins": "Admin"}),
         {"preferred_username": "ada", "email": "ada@example.com", "groups": ["admins"]},
         {"username": "ada", "email": "ada@example.com", "first_name": "", "last_name": "", "role_keys": ["admins"]}),
        (SignInSpec(provider="entra", client_id="c", tenant_id="5e5e5e5e-5555-4555-8555-555555555555"),
         {"email": "bob@example.com", "given_name": "Bob"},
         {"username": "bob@example.com", "email": "bob@example.com", "first_name": "Bob", "last_name": "", "role_keys": []}),
    ],
)  # fmt: skip
def test_the_id_tokens_claims_decide_who_signs_in_and_their_groups(
    spec: SignInSpec, claims: dict[str, Any], expected: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_config(webserver_config(spec), monkeypatch)
    manager = loaded["SECURITY_MANAGER_CLASS"]()
    assert manager.get_oauth_user_info(spec.provider, {"userinfo": claims}) == expected
    (provider,) = loaded["OAUTH_PROVIDERS"]
    assert provider["remote_app"]["server_metadata_url"].endswith("/.well-known/openid-configuration")


def test_github_uses_fabs_own_user_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_config(webserver_config(SignInSpec(provider="github", client_id="c", default_role="Viewer")), monkeypatch)
    assert loaded["SECURITY_MANAGER_CLASS"]().get_oauth_user_info("github", {}) == {"username": "fab-github"}
    (provider,) = loaded["OAUTH_PROVIDERS"]
    assert provider["name"] == "github" and provider["remote_app"]["access_token_url"] == "https://github.com/login/oauth/access_token"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SignInSpec(provider="okta", client_id="c"), "sign-in with okta needs its issuer"),
        (SignInSpec(provider="oidc", client_id="c"), "sign-in with oidc needs its issuer"),
        (SignInSpec(provider="entra", client_id="c"), "sign-in with Microsoft Entra ID needs its tenant"),
        (
            SignInSpec(provider="github", client_id="c", groups={"{{ .Values.x }}": "Admin"}),
            "the chart templates apiServerConfig: the sign-in configuration must not contain",
        ),
    ],
)
def test_a_sign_in_the_chart_could_not_carry_is_refused(spec: SignInSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        webserver_config(spec)
