"""Synthesize a stack with one untagged and one tagged IAM role under the RequireTags aspect.

Run by tests/test_teams.py in a subprocess (the aws bindings stay out of the test process).
Prints the pre-synthesis findings as JSON, then SYNTH OK or SYNTH FAILED with cdktf's message.
"""

import json
import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, os.getcwd())

from flightdeck.cdk_line import activate

activate(os.environ)

from cdktf import App, Aspects, TerraformStack
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

from platform_constructs.tagging import RequireTags

app = App(outdir=sys.argv[1], stack_traces=False)
stack = TerraformStack(app, "probe")
AwsProvider(stack, "aws", region="eu-west-1", default_tags=[AwsProviderDefaultTags(tags={"env": "dev", "team": "x"})])
IamRole(stack, "untagged", name="r1", assume_role_policy="{}")
IamRole(stack, "tagged", name="r2", assume_role_policy="{}", tags={"cost-center": "CC-1"})
check = RequireTags(stack)
Aspects.of(stack).add(check)
print(json.dumps(check.findings()))
try:
    app.synth()
    print("SYNTH OK")
except Exception as exc:  # noqa: BLE001 - the jsii error carries cdktf's message
    print("SYNTH FAILED:", exc)
sys.stdout.flush()
os._exit(0)
