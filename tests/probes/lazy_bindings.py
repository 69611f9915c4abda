"""Import one datadog resource module, name another, and have jsii find a third, then say what loaded.

Run for tests/test_cdk_lines.py in the session's GCP synthesis process (``run_probe``), after the
existing cluster's synthesis (which loads only the kubernetes and helm bindings) and before any
synthesis that loads datadog's, which calls ``run``;
``python tests/probes/lazy_bindings.py`` runs it alone. The datadog binding (190 resource modules)
stands for every binding: the lazy loading is one finder for all of them (``flightdeck/cdk_line.py``),
and it loads in a second where aws's takes four. Prints JSON: the datadog resource modules loaded
(``loaded``), the name of a class reached through the package (``named``), whether jsii found a type
of a module nobody imported (``found``) and imported that module (``imported``); or, where the
datadog bindings had already loaded in this process, only ``{"already_loaded": [...]}``.
"""

import importlib
import json
import os
import sys

PREFIXES = ("cdktf_cdktf_provider_datadog", "cdktn_provider_datadog")


def _datadog_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.partition(".")[0] in PREFIXES)


def run(arguments: list[str]) -> str:
    from flightdeck.cdk_line import activate

    line = activate(os.environ)
    if _datadog_modules():
        return json.dumps({"already_loaded": _datadog_modules()})
    from cdktf_cdktf_provider_datadog.monitor import Monitor  # noqa: F401 -- importing it is the point

    # The package itself, as ``import cdktf_cdktf_provider_datadog as datadog`` would give it (by name:
    # the source names a resource module in every binding import it makes, tests/test_binding_imports.py).
    datadog = importlib.import_module("cdktf_cdktf_provider_datadog")
    loaded = [m for m in _datadog_modules() if "." in m]
    named = datadog.dashboard_json.DashboardJson.__name__
    from jsii import _reference_map

    found = _reference_map._try_import_type_module(f"@{line.name}/provider-datadog.serviceLevelObjective.ServiceLevelObjective")
    imported = any(m.endswith(".service_level_objective") for m in sys.modules)
    return json.dumps({"loaded": loaded, "named": named, "found": found, "imported": imported})


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())  # run from the repository, as main.py is
    from tests.probes.standalone import run_alone

    run_alone(run)
