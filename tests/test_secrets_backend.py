"""Connections and Variables from the cloud's secret store, per Airflow, readable by that Airflow only.

Each Airflow's configuration names the cloud's secrets backend with prefixes of its own; each of its
components' identities may read exactly those prefixes (IAM on AWS, conditioned grants on GCP); no
other Airflow's identity reaches them, and none reaches the kept keys beside them.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from platform_constructs.workloads import SHARED_AIRFLOW, AirflowInstance

from .conftest import GKE_EXAMPLES, configs_in, fixture_configs, resources, values_of


def backend(stack: dict[str, Any], namespace: str) -> tuple[str, dict[str, Any]]:
    secrets = values_of(stack, namespace=namespace)["config"]["secrets"]
    return secrets["backend"], json.loads(secrets["backend_kwargs"])


def instances(config: Any) -> list[AirflowInstance]:
    return [SHARED_AIRFLOW, *(AirflowInstance(team.name) for team in config.dedicated_teams)]


def readable_by_role(stack: dict[str, Any]) -> dict[str, list[str]]:
    """Each AWS Airflow role's Secrets Manager read patterns (from its connections-and-variables policy), by role construct id."""
    found: dict[str, list[str]] = {}
    for policy in resources(stack, "aws_iam_role_policy").values():
        if policy["name"] != "connections-and-variables":
            continue
        (statement,) = json.loads(policy["policy"])["Statement"]
        assert statement["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        found[policy["role"]] = statement["Resource"]
    return found


def test_every_airflow_on_aws_reads_its_own_prefixes_and_nothing_else(stacks: dict[str, Any]) -> None:
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        if config.cloud != "aws":
            continue
        readable = readable_by_role(stack)
        roles = {role_id: role for role_id, role in resources(stack, "aws_iam_role").items()}
        for instance in instances(config):
            classpath, kwargs = backend(stack, instance.namespace)
            assert classpath.endswith("SecretsManagerBackend") and kwargs["region_name"] == config.aws.region
            prefix = f"{config.resource_prefix}/{instance.folder}/"
            assert (kwargs["connections_prefix"], kwargs["variables_prefix"]) == (f"{prefix}connections", f"{prefix}variables")
            arn = f"arn:aws:secretsmanager:{config.aws.region}:{config.aws.account_id}:secret:"
            connection, variable = f"{arn}{prefix}connections/warehouse-AbCdEf", f"{arn}{prefix}variables/threshold-AbCdEf"
            kept = f"{arn}{prefix}fernet-key-AbCdEf"
            own = {f"{config.resource_prefix}-{w.name}" for w in instance.workloads}
            for role_ref, patterns in readable.items():
                role_name = next(r["name"] for rid, r in roles.items() if role_ref == f"${{aws_iam_role.{rid}.id}}")
                reads = any(fnmatch.fnmatchcase(connection, p) for p in patterns) and any(fnmatch.fnmatchcase(variable, p) for p in patterns)
                assert reads == (role_name in own), (env, instance.namespace, role_name)
                assert not any(fnmatch.fnmatchcase(kept, p) for p in patterns), f"{role_name} reads a kept key"
            assert own <= {r["name"] for r in roles.values()}


def test_every_airflow_on_gke_reads_its_own_prefixes_and_nothing_else(gke_stacks: dict[str, Any]) -> None:
    configs = configs_in(GKE_EXAMPLES)
    for env, stack in gke_stacks.items():
        config = configs[env]
        grants = [m for m in resources(stack, "google_project_iam_member").values() if m["role"] == "roles/secretmanager.secretAccessor"]
        for instance in instances(config):
            classpath, kwargs = backend(stack, instance.namespace)
            assert classpath.endswith("CloudSecretManagerBackend") and kwargs["sep"] == "-"
            assert kwargs["project_id"] == config.gcp.project_id
            prefix = f"{config.resource_prefix}-{instance.folder}-"
            assert kwargs["connections_prefix"] == f"{prefix}connections"
            connection, variable = f"{prefix}connections-warehouse", f"{prefix}variables-threshold"
            readers = [g for g in grants if any(connection.startswith(s) for s in starts(g)) and any(variable.startswith(s) for s in starts(g))]
            # One conditioned grant per component of this Airflow, limited to its two prefixes, and no other grant.
            assert len(readers) == len(instance.workloads)
            assert all(instance.namespace in g["//"]["metadata"]["path"] or instance.team is None for g in readers)
            for grant in readers:
                assert starts(grant) == [f"{prefix}connections-", f"{prefix}variables-"]
                assert not any(f"{prefix}fernet-key".startswith(s) for s in starts(grant)), "no kept key"


def starts(grant: dict[str, Any]) -> list[str]:
    """The secret id prefixes a conditioned Secret Manager grant admits."""
    return re.findall(r'startsWith\("projects/[^/]+/secrets/([^"]+)"\)', grant["condition"]["expression"])


def test_an_existing_cluster_keeps_connections_in_the_database(existing_stack: dict[str, Any]) -> None:
    assert "secrets" not in values_of(existing_stack)["config"]
