"""Team marketing's weekly export, as a Kubernetes Job: the business logic keeps running (and retries
on its own, backoff_limit) through an Airflow outage, and Airflow follows it to the end.

The Job runs in the team's namespace (team-marketing) as the team's service account
(marketing-tasks, which carries the team's cloud role: write exports/), with the team's two labels.
The platform places its pods on the workers pool (marketing has no dedicated nodes), keeps
Karpenter from disrupting their node while they run, and removes the finished Job after a day
unless, as here, the DAG says otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.job import KubernetesJobOperator
from airflow.sdk import DAG
from kubernetes.client import models as k8s

TEAM = "marketing"
COST_CENTER = "CC-3005"

with DAG(
    dag_id="marketing_weekly_export",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10), "owner": TEAM},
    tags=[f"team:{TEAM}"],
) as dag:
    KubernetesJobOperator(
        task_id="export_campaigns",
        name="export-campaigns",
        namespace=f"team-{TEAM}",
        service_account_name=f"{TEAM}-tasks",
        labels={"team": TEAM, "cost-center": COST_CENTER},
        pool=f"team-{TEAM}",
        image="registry.example.com/marketing/campaign-export:2.0.1",
        arguments=["--week", "{{ ds }}", "--target", "s3://example-marketing-exports-prod/exports/campaigns/"],
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "1Gi"}),
        backoff_limit=3,
        ttl_seconds_after_finished=3600,
        wait_until_job_complete=True,
        get_logs=True,
    )
