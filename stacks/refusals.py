"""What the stacks refuse in a valid file before any stack is built, and before any binding loads.

``main.py`` calls these between loading the files and importing cdktf, so a refusal is reported in
the time the files take to load (well under a second), as a file the configuration models refuse is,
not after the seconds the CDK core and its Node runtime take. Nothing here may import cdktf,
``constructs`` or a binding (``tests/test_config.py`` runs such a file and checks what was loaded).
"""

from __future__ import annotations

from flightdeck.config import EnvironmentConfig
from platform_constructs.airflow.managed import MANAGED_CONFIG


def refuse_managed_options(config: EnvironmentConfig) -> None:
    """A file may not set an ``airflow.config`` option Flightdeck sets."""
    for section, options in config.airflow.config.items():
        for option in options:
            if (section, option) in MANAGED_CONFIG:
                raise ValueError(f"{config.source}: airflow.config.{section}.{option} is set by Flightdeck and cannot be overridden here")
