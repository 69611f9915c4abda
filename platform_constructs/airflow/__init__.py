"""The Airflow layer: Helm values (pure functions), secrets, and the release construct."""
