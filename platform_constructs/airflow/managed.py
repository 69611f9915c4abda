"""The Airflow configuration Flightdeck sets itself, which an environment file may not override.

A module of its own, importing nothing: ``stacks/refusals.py`` checks the files against it before
``main.py`` loads the CDK (the values module beside it imports constructs, which start the jsii
runtime).
"""

from __future__ import annotations

MANAGED_CONFIG = {
    ("core", "executor"),
    ("core", "fernet_key"),
    ("database", "sql_alchemy_conn"),
    ("logging", "remote_logging"),
    ("logging", "remote_base_log_folder"),
    ("logging", "remote_log_conn_id"),
    ("dag_processor", "dag_bundle_config_list"),
    ("secrets", "backend"),
    ("secrets", "backend_kwargs"),
    ("metrics", "statsd_on"),
    ("metrics", "statsd_host"),
    ("metrics", "statsd_port"),
    ("metrics", "statsd_prefix"),
}
"""(section, option) pairs of ``airflow.cfg`` that Flightdeck sets (``values.py``)."""
