"""Tier defaults: what dev, qa and prod get unless their file says otherwise.

The tiers differ in size and availability only. An environment file names its tier and
overrides single fields; the file is merged over these defaults key by key.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .config import Tier

# Sections whose form depends on the cloud; an existing cluster has none of them.
CLOUD_SECTIONS = ("network", "cluster", "database", "task_logs")

_AWS_SHARED: dict[str, Any] = {
    "network": {"flow_log_retention_days": 90},
    "cluster": {"kubernetes_version": "1.33", "log_retention_days": 90, "node_image": "al2023@v20251110"},
    "database": {"engine_version": "16"},
}

_AWS_BY_TIER: dict[Tier, dict[str, Any]] = {
    Tier.DEV: {
        "network": {"availability_zones": 2, "nat_gateways": "single", "flow_logs": False},
        "cluster": {
            "endpoint_public_access": False,
            "log_retention_days": 30,
            "node_groups": {
                "system": {"instance_types": ["m6i.xlarge"], "min_size": 1, "desired_size": 1, "max_size": 3},
            },
            "node_pools": {
                "workers": {"instance_families": ["m6i", "m6a", "m7i", "m5"], "capacity": "spot", "cpu_limit": 16, "memory_limit_gib": 64},
                "backfill": {"instance_families": ["m6i", "m6a", "m7i", "m5"], "capacity": "spot", "cpu_limit": 8, "memory_limit_gib": 32},
            },
        },
        "database": {
            "instance_class": "db.t4g.medium",
            "allocated_storage_gib": 20,
            "max_allocated_storage_gib": 50,
            "multi_az": False,
            "deletion_protection": False,
            "backup_retention_days": 1,
            "final_snapshot": False,
        },
    },
    Tier.QA: {
        "network": {"availability_zones": 3, "nat_gateways": "single", "flow_logs": False},
        "cluster": {
            "endpoint_public_access": False,
            "node_groups": {
                # Three zones, one node in each: Airflow's pairs and the add-ons spread over them.
                "system": {"instance_types": ["m6i.xlarge"], "min_size": 3, "desired_size": 3, "max_size": 5},
            },
            "node_pools": {
                "workers": {
                    "instance_families": ["m6i", "m6a", "m7i", "m5"],
                    "capacity": "spot-or-on-demand",
                    "cpu_limit": 64,
                    "memory_limit_gib": 256,
                },
                "backfill": {"instance_families": ["m6i", "m6a", "m7i", "m5"], "capacity": "spot", "cpu_limit": 32, "memory_limit_gib": 128},
            },
        },
        "database": {
            "instance_class": "db.m6g.large",
            "allocated_storage_gib": 50,
            "max_allocated_storage_gib": 200,
            "multi_az": False,
            "deletion_protection": True,
            "backup_retention_days": 7,
            "final_snapshot": True,
        },
    },
    Tier.PROD: {
        "network": {"availability_zones": 3, "nat_gateways": "per_az", "flow_logs": True, "flow_log_retention_days": 365},
        "cluster": {
            "endpoint_public_access": False,
            "log_retention_days": 365,
            "node_groups": {
                "system": {
                    "instance_types": ["m6i.2xlarge"],
                    "min_size": 3,
                    "desired_size": 3,
                    "max_size": 6,
                    "disk_size_gib": 100,
                },
            },
            "node_pools": {
                # On-demand: spot reclaims a node within two minutes, whatever a task is doing. A file
                # may allow spot (spot-or-on-demand) where every task retries cleanly.
                "workers": {"instance_families": ["m6i", "m7i", "c6i", "r6i"], "capacity": "on-demand", "cpu_limit": 240, "memory_limit_gib": 960},
                "backfill": {"instance_families": ["m6i", "m7i", "c6i"], "capacity": "on-demand", "cpu_limit": 64, "memory_limit_gib": 256},
            },
        },
        "database": {
            "instance_class": "db.r6g.large",
            "allocated_storage_gib": 100,
            "max_allocated_storage_gib": 1000,
            "multi_az": True,
            "deletion_protection": True,
            "backup_retention_days": 30,
            "final_snapshot": True,
        },
    },
}

_GCP_SHARED: dict[str, Any] = {
    "network": {},
    "cluster": {"kubernetes_version": "1.33", "release_channel": "REGULAR"},
    "database": {"engine_version": "16"},
}

_GCP_BY_TIER: dict[Tier, dict[str, Any]] = {
    Tier.DEV: {
        "network": {"flow_logs": False},
        "cluster": {
            "regional": False,
            "endpoint_public_access": False,
            "node_groups": {
                "system": {"instance_types": ["e2-standard-4"], "min_size": 1, "desired_size": 2, "max_size": 3},
                "workers": {
                    "instance_types": ["e2-standard-4"],
                    "min_size": 0,
                    "desired_size": 1,
                    "max_size": 4,
                    "capacity_type": "SPOT",
                },
            },
        },
        "database": {
            "tier": "db-custom-2-7680",
            "disk_size_gib": 20,
            "disk_autoresize_limit_gib": 50,
            "high_availability": False,
            "deletion_protection": False,
            "backup_retention_days": 1,
            "point_in_time_recovery_days": 0,
            "final_backup": False,
        },
    },
    Tier.QA: {
        "network": {"flow_logs": False},
        "cluster": {
            "regional": True,
            "endpoint_public_access": False,
            "node_groups": {
                "system": {"instance_types": ["n2-standard-2"], "min_size": 3, "desired_size": 3, "max_size": 6},
                "workers": {"instance_types": ["n2-standard-4"], "min_size": 1, "desired_size": 3, "max_size": 9},
            },
        },
        "database": {
            "tier": "db-custom-2-8192",
            "disk_size_gib": 50,
            "disk_autoresize_limit_gib": 200,
            "high_availability": False,
            "deletion_protection": True,
            "backup_retention_days": 7,
            "point_in_time_recovery_days": 3,
            "final_backup": True,
        },
    },
    Tier.PROD: {
        "network": {"flow_logs": True},
        "cluster": {
            "regional": True,
            "endpoint_public_access": False,
            "node_groups": {
                "system": {
                    "instance_types": ["n2-standard-4"],
                    "min_size": 3,
                    "desired_size": 3,
                    "max_size": 6,
                    "disk_size_gib": 100,
                },
                "workers": {
                    "instance_types": ["n2-standard-8"],
                    "min_size": 3,
                    "desired_size": 3,
                    "max_size": 30,
                    "disk_size_gib": 100,
                },
            },
        },
        "database": {
            "tier": "db-custom-4-16384",
            "disk_size_gib": 100,
            "disk_autoresize_limit_gib": 1000,
            "high_availability": True,
            "deletion_protection": True,
            "backup_retention_days": 30,
            "point_in_time_recovery_days": 7,
            "final_backup": True,
        },
    },
}

_CLOUD_DEFAULTS: dict[str, tuple[dict[str, Any], dict[Tier, dict[str, Any]]]] = {
    "aws": (_AWS_SHARED, _AWS_BY_TIER),
    "gcp": (_GCP_SHARED, _GCP_BY_TIER),
    "existing": ({}, {tier: {} for tier in Tier}),
}
"""Per cloud: the defaults of every tier, then each tier's own."""

_NEUTRAL_BY_TIER: dict[Tier, dict[str, Any]] = {
    Tier.DEV: {
        "task_logs": {"expire_after_days": 14},
        "airflow": {
            "components": {
                "scheduler": {
                    "replicas": 1,
                    "resources": {
                        "cpu": "500m",
                        "memory": "1Gi"
                    }
                },
                "api_server": {
                    "replicas": 1,
                    "resources": {
                        "cpu": "250m",
                        "memory": "1Gi"
                    }
                },
                "triggerer": {
                    "replicas": 1,
                    "resources": {
                        "cpu": "250m",
                        "memory": "512Mi"
                    }
                },
                "dag_processor": {
                    "replicas": 1,
                    "resources": {
                        "cpu": "250m",
                        "memory": "1Gi"
                    }
                },
                "pgbouncer": {
                    "replicas": 1,
                    "resources": {
                        "cpu": "100m",
                        "memory": "128Mi"
                    }
                }
            },
            "task_resources": {
                "cpu": "250m",
                "memory": "512Mi"
            },
            "quota": {
                "cpu": "16",
                "memory": "64Gi",
                "pods": 100
            },
            "create_admin_user": True,
            "hibernation": {"enabled": True},
            "database_cleanup": {"retention_days": 30},
            "celery_workers": 1
        },
    },
    Tier.QA: {
        "task_logs": {"expire_after_days": 30},
        "airflow": {
            "components": {
                "scheduler": {
                    "replicas": 2,
                    "resources": {
                        "cpu": "1",
                        "memory": "2Gi"
                    }
                },
                "api_server": {
                    "replicas": 2,
                    "resources": {
                        "cpu": "500m",
                        "memory": "1Gi"
                    }
                },
                "triggerer": {
                    "replicas": 2,
                    "resources": {
                        "cpu": "250m",
                        "memory": "512Mi"
                    }
                },
                "dag_processor": {
                    "replicas": 1,
                    "resources": {
                        "cpu": "500m",
                        "memory": "1Gi"
                    }
                },
                "pgbouncer": {
                    "replicas": 2,
                    "resources": {
                        "cpu": "100m",
                        "memory": "128Mi"
                    }
                }
            },
            "task_resources": {
                "cpu": "500m",
                "memory": "1Gi"
            },
            "quota": {
                "cpu": "48",
                "memory": "192Gi",
                "pods": 300
            },
            "create_admin_user": False,
            "hibernation": {"enabled": False},
            "database_cleanup": {"retention_days": 60},
            "celery_workers": 2
        },
    },
    Tier.PROD: {
        "task_logs": {"expire_after_days": 365},
        "airflow": {
            "components": {
                "scheduler": {
                    "replicas": 3,
                    "resources": {
                        "cpu": "2",
                        "memory": "4Gi"
                    }
                },
                "api_server": {
                    "replicas": 3,
                    "resources": {
                        "cpu": "1",
                        "memory": "2Gi"
                    }
                },
                "triggerer": {
                    "replicas": 2,
                    "resources": {
                        "cpu": "500m",
                        "memory": "1Gi"
                    }
                },
                "dag_processor": {
                    "replicas": 2,
                    "resources": {
                        "cpu": "1",
                        "memory": "2Gi"
                    }
                },
                "pgbouncer": {
                    "replicas": 2,
                    "resources": {
                        "cpu": "250m",
                        "memory": "256Mi"
                    }
                }
            },
            "task_resources": {
                "cpu": "500m",
                "memory": "1Gi"
            },
            "quota": {
                "cpu": "200",
                "memory": "800Gi",
                "pods": 1500
            },
            "create_admin_user": False,
            "hibernation": {"enabled": False},
            "database_cleanup": {"retention_days": 180},
            "celery_workers": 4,
            "deploy_timeout_minutes": 30
        },
    },
}


# Monitoring defaults, applied only when an environment file has a ``datadog:`` section.
_DATADOG: dict[Tier, dict[str, Any]] = {
    Tier.DEV: {
        "cluster_agent_replicas": 1,
        "monitors": {
            "priority": 4,
            "scheduler_heartbeat_minutes": 15,
            "task_failure_percent": {"critical": 50, "warning": 25},
            "import_errors": {"critical": 1},
            "queued_tasks": {"critical": 100, "warning": 50},
            "pending_pod_minutes": 30,
            "database_cpu_percent": {"critical": 95, "warning": 85},
            "database_free_storage_gib": {"critical": 2, "warning": 5},
            "database_connections": {"critical": 80, "warning": 60},
            "provisioning_failures": {"critical": 10, "warning": 5},
        },
    },
    Tier.QA: {
        "cluster_agent_replicas": 2,
        "monitors": {
            "priority": 3,
            "scheduler_heartbeat_minutes": 10,
            "task_failure_percent": {"critical": 30, "warning": 15},
            "import_errors": {"critical": 1},
            "queued_tasks": {"critical": 200, "warning": 100},
            "pending_pod_minutes": 20,
            "database_cpu_percent": {"critical": 90, "warning": 80},
            "database_free_storage_gib": {"critical": 5, "warning": 10},
            "database_connections": {"critical": 150, "warning": 100},
            "provisioning_failures": {"critical": 5, "warning": 3},
        },
    },
    Tier.PROD: {
        "cluster_agent_replicas": 2,
        "monitors": {
            "priority": 1,
            "renotify_minutes": 60,
            "scheduler_heartbeat_minutes": 5,
            "task_failure_percent": {"critical": 20, "warning": 10},
            "import_errors": {"critical": 1},
            "queued_tasks": {"critical": 500, "warning": 250},
            "pending_pod_minutes": 15,
            "database_cpu_percent": {"critical": 85, "warning": 70},
            "database_free_storage_gib": {"critical": 10, "warning": 25},
            "database_connections": {"critical": 300, "warning": 200},
            "provisioning_failures": {"critical": 3, "warning": 1},
        },
    },
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` laid over it; nested mappings merge, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def tier_defaults(tier: Tier, cloud: str = "aws", sections: Iterable[str] = ()) -> dict[str, Any]:
    """The defaults of one tier on one cloud (a fresh copy the caller may change).

    ``sections`` names the optional sections the file has (``datadog``); only those get defaults,
    so a file without monitoring stays without it. An existing cluster gets no cloud sections
    (and so no task-log expiry either: its owners keep the logs).
    """
    shared, by_tier = _CLOUD_DEFAULTS[cloud]
    neutral = {k: v for k, v in _NEUTRAL_BY_TIER[tier].items() if cloud != "existing" or k not in CLOUD_SECTIONS}
    defaults = deep_merge(deep_merge(shared, by_tier[tier]), copy.deepcopy(neutral))
    if "datadog" in sections:
        defaults["datadog"] = copy.deepcopy(_DATADOG[tier])
    return defaults
