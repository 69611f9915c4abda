"""Import one aws resource module, name another, and have jsii find a third, then say what loaded.

Run by tests/test_cdk_lines.py in the session's existing-cluster synthesis process (``run_probe``,
after that synthesis, which never loads the aws bindings), which calls ``run``; ``python
tests/probes/lazy_bindings.py`` runs it alone. Prints JSON: the aws resource modules loaded
(``loaded``), the name of a class reached through the package (``named``), whether jsii found a type
of a module nobody imported (``found``) and imported that module (``imported``); or, where the aws
bindings had already loaded in this process, only ``{"already_loaded": [...]}``.
"""

import importlib
import json
import os
import sys

PREFIXES = ("cdktf_cdktf_provider_aws", "cdktn_provider_aws")


def _aws_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.partition(".")[0] in PREFIXES)


def run(arguments: list[str]) -> str:
    from flightdeck.cdk_line import activate

    line = activate(os.environ)
    if _aws_modules():
        return json.dumps({"already_loaded": _aws_modules()})
    from cdktf_cdktf_provider_aws.iam_role import IamRole  # noqa: F401 -- importing it is the point

    # The package itself, as ``import cdktf_cdktf_provider_aws as aws`` would give it (by name: the
    # source names a resource module in every binding import it makes, tests/test_binding_imports.py).
    aws = importlib.import_module("cdktf_cdktf_provider_aws")
    loaded = [m for m in _aws_modules() if "." in m]
    named = aws.s3_bucket.S3Bucket.__name__
    from jsii import _reference_map

    found = _reference_map._try_import_type_module(f"@{line.name}/provider-aws.ec2TransitGateway.Ec2TransitGateway")
    imported = any(m.endswith(".ec2_transit_gateway") for m in sys.modules)
    return json.dumps({"loaded": loaded, "named": named, "found": found, "imported": imported})


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())  # run from the repository, as main.py is
    from tests.probes.standalone import run_alone

    run_alone(run)
