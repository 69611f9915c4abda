"""Day two: the metadata database is cleaned on a schedule, and every environment says where its UI is."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import yaml

from .conftest import GKE_EXAMPLES, REPO, configs_in, resources, shipped_configs, values_of


def test_the_metadata_database_is_cleaned_with_the_tiers_retention(stacks: dict[str, Any]) -> None:
    retention = {}
    for env, stack in stacks.items():
        config = shipped_configs()[env]
        cleanup = values_of(stack)["databaseCleanup"]
        assert cleanup["enabled"] is config.airflow.database_cleanup.enabled
        assert cleanup["retentionDays"] == config.airflow.database_cleanup.retention_days
        # Dropped, not archived in the same database (which would not shrink); backups are the archive.
        assert cleanup["skipArchive"] is True
        assert cleanup["nodeSelector"] == {"flightdeck.io/node-pool": "system"}
        retention[config.tier.value] = cleanup["retentionDays"]
    assert retention == {"dev": 30, "qa": 60, "prod": 180}


def test_every_environment_outputs_where_its_ui_is(synthesized: dict[str, Any]) -> None:
    for config in shipped_configs().values():
        outputs = synthesized[config.stack_name("cluster")]["output"]
        assert outputs["airflow_url"]["value"] == f"https://{config.airflow.ui.hostname}"


# Finding the UI: ExternalDNS writes each UI's record in the file's private zone, following its load balancer.

EXTERNAL_DNS_SCHEMA = REPO / "tests" / "data" / "external-dns-chart" / "values.schema.json"


def ingress_hosts(stack: dict[str, Any]) -> set[str]:
    """Every host an Airflow's Ingress serves (the records ExternalDNS will write)."""
    hosts = set()
    for release in releases_named(stack, "airflow"):
        values = yaml.safe_load(release["values"][0])
        hosts |= {h["name"] for h in values["ingress"]["apiServer"]["hosts"]}
    return hosts


def releases_named(stack: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in resources(stack, "helm_release").values() if r["name"] == name]


def test_a_dns_zone_brings_external_dns_that_writes_every_ui_and_nothing_else(stacks: dict[str, Any], gke_stacks: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(json.loads(EXTERNAL_DNS_SCHEMA.read_text()))
    checked = set()
    for configs, all_stacks in ((shipped_configs(), stacks), (configs_in(GKE_EXAMPLES), gke_stacks)):
        for env, stack in all_stacks.items():
            config = configs[env]
            zone = config.airflow.ui.dns_zone
            found = releases_named(stack, "external-dns")
            if zone is None:
                assert not found, f"{env}: no zone, no ExternalDNS"
                continue
            (release,) = found
            values = yaml.safe_load(release["values"][0])
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
