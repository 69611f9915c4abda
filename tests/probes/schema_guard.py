"""Synthesize the schema guard alone, one stack per ``<instance>=<version>`` argument, and print them as JSON.

Run by tests/test_schema_guard.py in a subprocess (the aws bindings stay out of the test process).
"""

import json
import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, os.getcwd())

from flightdeck.cdk_line import activate

activate(os.environ)

from cdktf import App, TerraformStack, Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider

from platform_constructs.aws.schema_guard import SchemaGuard, SchemaGuardProps

stacks = {}
for argument in sys.argv[1:]:
    instance, version = argument.split("=")
    app = Testing.app()
    assert isinstance(app, App)
    stack = TerraformStack(app, "guard")
    AwsProvider(stack, "aws", region="eu-west-1")
    SchemaGuard(stack, "schema", SchemaGuardProps(prefix="flightdeck-live", instance=instance, airflow_version=version))
    stacks[argument] = json.loads(Testing.synth(stack))
print(json.dumps(stacks))
