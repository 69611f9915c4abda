"""DatadogMonitoring: an environment's dashboards and its monitors.

The stack sets the Datadog provider (``stacks/datadog.py``: ``datadog_provider``), like every provider.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from .dashboards import DASHBOARDS
from .monitors import MonitorSettings, airflow_monitors, number
from .scope import MonitoringScope


@dataclass(frozen=True, kw_only=True)
class DatadogMonitoringProps:
    app_url: str
    """The site's web app, to link dashboards (``https://app.datadoghq.eu``)."""
    scope: MonitoringScope
    monitors: MonitorSettings


class DatadogMonitoring(Construct):
    def __init__(self, scope: Construct, id: str, props: DatadogMonitoringProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_datadog.dashboard_json import DashboardJson
        from cdktf_cdktf_provider_datadog.monitor import Monitor, MonitorMonitorThresholds

        self.dashboards = {
            name: DashboardJson(self, f"dashboard-{name}", dashboard=json.dumps(build(props.scope), sort_keys=True))
            for name, build in DASHBOARDS.items()
            if name != "database" or props.scope.database is not None
        }
        self.dashboard_urls = {name: f"{props.app_url}{dashboard.url}" for name, dashboard in self.dashboards.items()}
        self.monitors = {}
        for name, spec in airflow_monitors(props.scope, props.monitors, self.dashboard_urls).items():
            options = spec["options"]
            thresholds = {level: number(value) for level, value in options["thresholds"].items()}
            self.monitors[name] = Monitor(
                self,
                f"monitor-{name}",
                name=spec["name"],
                type=spec["type"],
                query=spec["query"],
                message=spec["message"],
                tags=spec["tags"],
                priority=str(spec["priority"]),
                monitor_thresholds=MonitorMonitorThresholds(**thresholds),
                include_tags=options["include_tags"],
                require_full_window=options["require_full_window"],
                notify_no_data=options.get("notify_no_data"),
                no_data_timeframe=options.get("no_data_timeframe"),
                renotify_interval=options.get("renotify_interval"),
            )
