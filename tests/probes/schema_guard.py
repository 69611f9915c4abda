"""Synthesize the schema guard alone, one stack per ``[<prefix>:]<instance>=<version>`` argument (the prefix
``flightdeck-live`` unless given), and print them as JSON.

Run by tests/test_schema_guard.py in the session's synthesis process (``run_probe``), which calls ``run``;
``python tests/probes/schema_guard.py ARG...`` runs it alone.
"""

import json
import os
import sys


def run(arguments: list[str]) -> str:
    from flightdeck.cdk_line import activate

    activate(os.environ)

    from cdktf import App, TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from platform_constructs.aws.schema_guard import SchemaGuard, SchemaGuardProps

    stacks = {}
    for argument in arguments:
        where, version = argument.split("=")
        prefix, _, instance = where.rpartition(":")
        app = Testing.app()
        assert isinstance(app, App)
        stack = TerraformStack(app, "guard")
        AwsProvider(stack, "aws", region="eu-west-1")
        SchemaGuard(stack, "schema", SchemaGuardProps(prefix=prefix or "flightdeck-live", instance=instance, airflow_version=version))
        stacks[argument] = json.loads(Testing.synth(stack))
    return json.dumps(stacks)


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())  # run from the repository, as main.py is
    from tests.probes.standalone import run_alone

    run_alone(run)
