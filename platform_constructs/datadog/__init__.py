"""Datadog monitoring: the agent in the cluster, Airflow's StatsD mapping, dashboards and monitors."""
