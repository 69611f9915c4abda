"""``main.py`` as ``python main.py`` runs it, then which of the CDK's packages the run loaded.

Run as ``python -m tests.probes.main_loads`` (``run_module`` in tests/conftest.py, forked from a
process that has imported ``main``, which loads none of them): ``main()`` with this process's
environment, then one JSON line on standard output naming the packages of the CDK line, its Node
runtime's bridge (``jsii``), ``constructs`` and the provider bindings that are loaded, and the exit
status ``main()`` returned. A file refused before synthesis must leave the list empty: the README
promises bad input is reported before any of them loads.
"""

import json
import sys

import main as flightdeck

CDK_PACKAGES = ("cdktf", "cdktn", "jsii", "constructs")
"""Top-level packages of the CDK itself; the bindings' all start ``cdktf_cdktf_provider_`` or ``cdktn_provider_``."""

status = flightdeck.main()
loaded = sorted({name.partition(".")[0] for name in sys.modules})
cdk = [name for name in loaded if name in CDK_PACKAGES or name.startswith(("cdktf_", "cdktn_"))]
print(json.dumps(cdk))
flightdeck.exit_now(status)
