"""Day two: the metadata database is cleaned on a schedule, and every environment says where its UI is."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

from .conftest import GKE_EXAMPLES, REPO, configs_in, fixture_configs, parse_yaml, resources, values_of


def test_the_metadata_database_is_cleaned_with_the_tiers_retention(stacks: dict[str, Any]) -> None:
    retention = {}
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        cleanup = values_of(stack)["databaseCleanup"]
        assert cleanup["enabled"] is config.airflow.database_cleanup.enabled
        assert cleanup["retentionDays"] == config.airflow.database_cleanup.retention_days
        # Dropped, not archived in the same database (which would not shrink); backups are the archive.
        assert cleanup["skipArchive"] is True
        assert cleanup["nodeSelector"] == {"flightdeck.io/node-pool": "system"}
        retention[config.tier.value] = cleanup["retentionDays"]
    assert retention == {"dev": 30, "qa": 60, "prod": 180}


def test_every_environment_outputs_where_its_ui_is(synthesized: dict[str, Any]) -> None:
    for config in fixture_configs().values():
        outputs = synthesized[config.stack_name("cluster")]["output"]
        assert outputs["airflow_url"]["value"] == f"https://{config.airflow.ui.hostname}"


# Finding the UI: ExternalDNS writes each UI's record in the file's private zone, following its load balancer.

EXTERNAL_DNS_SCHEMA = REPO / "tests" / "data" / "external-dns-chart" / "values.schema.json"


def ingress_hosts(stack: dict[str, Any]) -> set[str]:
    """Every host an Airflow's Ingress serves (the records ExternalDNS will write)."""
    hosts = set()
    for release in releases_named(stack, "airflow"):
        values = parse_yaml(release["values"][0])
        hosts |= {h["name"] for h in values["ingress"]["apiServer"]["hosts"]}
    return hosts


def releases_named(stack: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in resources(stack, "helm_release").values() if r["name"] == name]


def test_a_dns_zone_brings_external_dns_that_writes_every_ui_and_nothing_else(stacks: dict[str, Any], gke_stacks: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(json.loads(EXTERNAL_DNS_SCHEMA.read_text()))
    checked = set()
    for configs, all_stacks in ((fixture_configs(), stacks), (configs_in(GKE_EXAMPLES), gke_stacks)):
        for env, stack in all_stacks.items():
            config = configs[env]
            zone = config.airflow.ui.dns_zone
            found = releases_named(stack, "external-dns")
            if zone is None:
                assert not found, f"{env}: no zone, no ExternalDNS"
                continue
            (release,) = found
            values = parse_yaml(release["values"][0])
            assert [f"{e.absolute_path}: {e.message}" for e in validator.iter_errors(values)] == []
            assert values["sources"] == ["ingress"] and values["policy"] == "upsert-only"
            assert values["domainFilters"] == [zone.domain] and values["txtOwnerId"] == config.resource_prefix
            # Every Airflow's hostname, the shared one's and each team's own, is under the zone's domain.
            assert {h for _, h in config.ui_hostnames()} == ingress_hosts(stack)
            assert all(h.endswith(f".{zone.domain}") for h in ingress_hosts(stack))
            assert values["nodeSelector"] == {"flightdeck.io/node-pool": "system"}
            if config.cloud == "aws":
                assert f"--zone-id-filter={zone.id}" in values["extraArgs"] and "--aws-zone-type=private" in values["extraArgs"]
                # Its role changes that zone's records and nothing else.
                (association,) = [a for a in resources(stack, "aws_eks_pod_identity_association").values() if a["namespace"] == "external-dns"]
                assert association["service_account"] == values["serviceAccount"]["name"]
                (policy,) = [p for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == "change-ui-records"]
                statements = json.loads(policy["policy"])["Statement"]
                changes = [s for s in statements if "route53:ChangeResourceRecordSets" in s["Action"]]
                assert [s["Resource"] for s in changes] == [[f"arn:aws:route53:::hostedzone/{zone.id}"]]
                assert all(a.startswith("route53:List") for s in statements if s["Resource"] == ["*"] for a in s["Action"])
            else:
                assert "--google-zone-visibility=private" in values["extraArgs"]
                (grant,) = resources(stack, "google_dns_managed_zone_iam_member").values()
                assert grant["managed_zone"] == zone.id and grant["role"] == "roles/dns.admin"
                annotation = values["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
                assert annotation.startswith("${") and "external-dns" in annotation
            checked.add(config.cloud)
    assert checked == {"aws", "gcp"}, "the fixtures exercise a zone on both clouds"


# Restoring the database: a new instance from a snapshot, beside the old one, which leaves Terraform
# without being destroyed (the ``restores`` fixture, tests/conftest.py).


def test_a_restore_is_a_new_instance_and_the_old_one_is_kept_running(restores: dict[str, dict[str, Any]]) -> None:
    (original_id, original), = resources(restores["live"], "aws_db_instance").items()
    assert "snapshot_identifier" not in original and "removed" not in restores["live"]
    (restored_id, restored), = resources(restores["restored"], "aws_db_instance").items()
    assert restored_id != original_id, "a new address: Terraform never replaces the old instance in place"
    assert restored["identifier"] == "flightdeck-restored-r1"
    assert restored["snapshot_identifier"] == "rds:flightdeck-live-2026-12-01-02-10"
    assert "db_name" not in restored and "username" not in restored, "both come from the snapshot"
    assert restored["deletion_protection"] is True and restored["storage_encrypted"] is True
    # The original addresses (as they are in the state of an environment that never restored) are forgotten,
    # not destroyed: the instance, and its pre-upgrade snapshot, which is often the one being restored.
    (original_snapshot_id,) = resources(restores["live"], "aws_db_snapshot")
    (restored_snapshot_id, restored_snapshot), = resources(restores["restored"], "aws_db_snapshot").items()
    assert restores["restored"]["removed"] == [
        {"from": f"aws_db_instance.{original_id}", "lifecycle": {"destroy": False}},
        {"from": f"aws_db_snapshot.{original_snapshot_id}", "lifecycle": {"destroy": False}},
    ]
    assert restored_snapshot_id != original_snapshot_id
    assert restored_snapshot["db_instance_identifier"] == f"${{aws_db_instance.{restored_id}.identifier}}"
    # A second restore forgets the first restore's instance and snapshot.
    (again_id, again), = resources(restores["again"], "aws_db_instance").items()
    assert restores["again"]["removed"] == [
        {"from": f"aws_db_instance.{restored_id}", "lifecycle": {"destroy": False}},
        {"from": f"aws_db_snapshot.{restored_snapshot_id}", "lifecycle": {"destroy": False}},
    ]
    assert again["identifier"].endswith("-r2") and again_id not in (original_id, restored_id)
    # Airflow follows: the endpoint and the master secret are the new instance's.
    endpoint = restores["restored"]["output"]["database_endpoint"]["value"]
    assert endpoint == f"${{aws_db_instance.{restored_id}.address}}"


def test_a_cloud_sql_restore_is_a_new_instance_cloned_or_restored_beside_the_old_one(restores: dict[str, dict[str, Any]]) -> None:
    (original_id, original), = resources(restores["glive"], "google_sql_database_instance").items()
    assert "clone" not in original and "restore_backup_context" not in original and "removed" not in restores["glive"]
    (database_id,) = resources(restores["glive"], "google_sql_database")
    (user_id,) = resources(restores["glive"], "google_sql_user")
    # Cloned at a point in time from the original, under a new name and a new address.
    (cloned_id, cloned), = resources(restores["grestored"], "google_sql_database_instance").items()
    assert cloned_id != original_id and cloned["name"] == "flightdeck-grestored-r1"
    assert cloned["clone"] == {
        "source_instance_name": "flightdeck-grestored",
        "point_in_time": "2026-12-01T02:10:00Z",
        "allocated_ip_range": original["settings"]["ip_configuration"]["allocated_ip_range"],
    }
    assert "restore_backup_context" not in cloned
    assert cloned["deletion_protection"] is True and cloned["settings"]["availability_type"] == "REGIONAL"
    # The clone brings the database, the user and its password (the same secret): none is created again.
    assert not resources(restores["grestored"], "google_sql_database") and not resources(restores["grestored"], "google_sql_user")
    assert resources(restores["grestored"], "google_secret_manager_secret_version"), "the credentials secret stays"
    # The original instance, its database and its user are forgotten, never destroyed.
    assert restores["grestored"]["removed"] == [
        {"from": f"google_sql_database_instance.{original_id}", "lifecycle": {"destroy": False}},
        {"from": f"google_sql_database.{database_id}", "lifecycle": {"destroy": False}},
        {"from": f"google_sql_user.{user_id}", "lifecycle": {"destroy": False}},
    ]
    # A later restore from one of the clone's backups forgets the clone.
    (again_id, again), = resources(restores["gagain"], "google_sql_database_instance").items()
    assert again["name"] == "flightdeck-gagain-r2" and again_id not in (original_id, cloned_id)
    assert again["restore_backup_context"] == {
        "backup_run_id": 1764555000000,
        "instance_id": "flightdeck-gagain-r1",
        "project": original["project"],
    }
    assert "clone" not in again
    assert restores["gagain"]["removed"] == [{"from": f"google_sql_database_instance.{cloned_id}", "lifecycle": {"destroy": False}}]
    # Airflow follows: the database host handed to the cluster stack is the new instance's.
    hosts = [o["value"] for o in restores["grestored"]["output"].values() if "private_ip_address" in str(o["value"])]
    assert hosts and all(f"google_sql_database_instance.{cloned_id}." in host for host in hosts)


def test_cloud_sql_refuses_a_downgrade_and_records_the_point_before_each_upgrade(restores: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    """The instance's precondition and labels as synthesized, evaluated by Terraform itself, with the
    project's instances (the one data source they read) given case by case."""
    from platform_constructs.gcp.database import IMAGE_LABEL, UPGRADE_POINT_LABEL, VERSION_LABEL

    from .terraform_eval import Evaluator

    (instance,) = resources(restores["glive"], "google_sql_database_instance").values()
    (listed,) = restores["glive"]["data"]["google_sql_database_instances"]
    labels, name = instance["settings"]["user_labels"], instance["name"]
    assert labels[VERSION_LABEL] == "3-2-2" and re.fullmatch(r"[0-9a-f]{12}", labels[IMAGE_LABEL])
    (precondition,) = instance["lifecycle"]["precondition"]
    reference = f"data.google_sql_database_instances.{listed}.instances"
    evaluator = Evaluator(tmp_path, reference, precondition, {"point": labels[UPGRADE_POINT_LABEL]})

    def instance_with(**recorded: str) -> dict[str, Any]:
        return {"name": name, "settings": [{"user_labels": {"env": "prod", **recorded}}]}

    now = re.compile(r"\d{8}t\d{6}z")
    # The first deploy: no instance yet. The point is this plan's time.
    first = evaluator.run([])
    assert first.status == 0, first.output
    assert now.fullmatch(first.values["point"])
    # The same version and image again: the recorded point stays (no change on every plan).
    same = {VERSION_LABEL: "3-2-2", IMAGE_LABEL: labels[IMAGE_LABEL], UPGRADE_POINT_LABEL: "20261101t020000z"}
    assert evaluator.run([instance_with(**same)]).values["point"] == "20261101t020000z"
    # Another image (an upgrade from 3.1.0): the point moves to this plan, before the new migration.
    upgrade = evaluator.run([instance_with(**{**same, VERSION_LABEL: "3-1-0", IMAGE_LABEL: "0123456789ab"})])
    assert upgrade.status == 0, upgrade.output
    assert now.fullmatch(upgrade.values["point"]) and upgrade.values["point"] != "20261101t020000z"
    # An instance from before these labels: no record, no refusal.
    assert evaluator.run([instance_with()]).status == 0
    # Below the version the instance was migrated to: refused at plan time, the way back in the message.
    refused = evaluator.run([instance_with(**{**same, VERSION_LABEL: "3-10-1"})])
    assert refused.status != 0
    assert f"Airflow 3.2.2 is older than the version the database {name} was migrated to" in refused.output
    assert "database.restore_from" in refused.output and "airflow-upgrade-point" in refused.output
    # Another instance's version is not this one's (a restored instance starts without a record).
    other = {"name": f"{name}-r1", "settings": [{"user_labels": {VERSION_LABEL: "3-10-1"}}]}
    assert evaluator.run([other]).status == 0


def test_a_new_airflow_image_is_preceded_by_a_snapshot(restores: dict[str, dict[str, Any]]) -> None:
    from platform_constructs.aws.database import snapshot_name

    (snapshot,) = resources(restores["live"], "aws_db_snapshot").values()
    (instance_id,) = resources(restores["live"], "aws_db_instance")
    assert snapshot["db_instance_identifier"] == f"${{aws_db_instance.{instance_id}.identifier}}"
    assert snapshot["db_snapshot_identifier"] == snapshot_name("flightdeck-live", "apache/airflow:3.2.2")
    # Another image, another name: Terraform takes a new snapshot before the cluster stack migrates.
    assert snapshot_name("flightdeck-live", "apache/airflow:3.3.0") != snapshot["db_snapshot_identifier"]
    assert re.fullmatch(r"[a-z][a-z0-9-]*[a-z0-9]", snapshot_name("flightdeck-live", "registry.example.com/airflow:2026.12_RC1")) is not None


# Component logs without Datadog: the CloudWatch Observability add-on, its groups kept per tier.


def test_without_datadog_eks_ships_container_logs_to_cloudwatch_and_keeps_them_per_tier(restores: dict[str, dict[str, Any]]) -> None:
    from flightdeck.config import Tier
    from flightdeck.tiers import tier_defaults

    assert not [a for a in resources(restores["live"], "aws_eks_addon").values() if a["addon_name"] == "amazon-cloudwatch-observability"], (
        "Datadog collects them where it is configured"
    )
    quiet = restores["again"]  # a dev environment without Datadog
    (addon,) = [a for a in resources(quiet, "aws_eks_addon").values() if a["addon_name"] == "amazon-cloudwatch-observability"]
    config = json.loads(addon["configuration_values"])
    assert config["containerLogs"] == {"enabled": True}
    assert config["tolerations"] == [{"operator": "Exists"}], "Fluent Bit runs on every node, tainted pools included"
    (association,) = addon["pod_identity_association"]
    assert association["service_account"] == "cloudwatch-agent"
    groups = {g["name"]: g for g in resources(quiet, "aws_cloudwatch_log_group").values() if "/containerinsights/" in g["name"]}
    assert set(groups) == {f"/aws/containerinsights/flightdeck-again/{kind}" for kind in ("application", "dataplane", "host")}
    retention = tier_defaults(Tier.DEV, "aws")["cluster"]["log_retention_days"]
    assert {g["retention_in_days"] for g in groups.values()} == {retention}
    assert all(g["kms_key_id"].startswith("${aws_kms_key.") for g in groups.values())
    # Its identity writes exactly those groups, and no metrics.
    (role_id,) = [i for i, r in resources(quiet, "aws_iam_role").items() if r["name"] == "flightdeck-again-container-logs"]
    assert association["role_arn"] == f"${{aws_iam_role.{role_id}.arn}}"
    (inline,) = [p for p in resources(quiet, "aws_iam_role_policy").values() if p["name"] == "write-container-logs"]
    statements = json.loads(inline["policy"])["Statement"]
    writes = [s for s in statements if "logs:PutLogEvents" in s["Action"]]
    (write,) = writes
    assert len(write["Resource"]) == 3 and all(r.endswith(".arn}:*") for r in write["Resource"])
    assert not any(a.startswith("cloudwatch:") for s in statements for a in s["Action"])
