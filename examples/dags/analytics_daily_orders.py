"""Team analytics' daily order roll-up: the business logic is a container, Airflow only orchestrates.

The task runs as its own pod in the team's namespace (team-analytics), as the team's service
account (analytics-tasks, which carries the team's cloud role: read events/, write curated/), in the
team's pool. The two labels are all a developer adds: the platform's admission policy rejects a pod
in a team namespace without them, and places pods of a team with dedicated nodes on those nodes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG
from kubernetes.client import models as k8s

TEAM = "analytics"
COST_CENTER = "CC-2001"

with DAG(
    dag_id="analytics_daily_orders",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "owner": TEAM},
    tags=[f"team:{TEAM}"],
) as dag:
    KubernetesPodOperator(
        task_id="roll_up_orders",
        name="roll-up-orders",
        namespace=f"team-{TEAM}",
        service_account_name=f"{TEAM}-tasks",
        labels={"team": TEAM, "cost-center": COST_CENTER},
        pool=f"team-{TEAM}",
        image="registry.example.com/analytics/order-rollup:1.4.2",
        arguments=[
            "--date", "{{ ds }}",
            "--source", "s3://example-raw-events-prod/events/orders/",
            "--target", "s3://example-analytics-data-prod/curated/orders_daily/",
        ],
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": "1", "memory": "4Gi"}, limits={"memory": "4Gi"}),
        get_logs=True,
        on_finish_action="delete_succeeded_pod",
    )
