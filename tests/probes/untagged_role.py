"""Synthesize a stack with one untagged and one tagged IAM role under the RequireTags aspect, into the
folder given.

Run by tests/test_teams.py in the session's synthesis process (``run_probe``), which calls ``run``;
``python tests/probes/untagged_role.py OUTDIR`` runs it alone. Prints the pre-synthesis findings as
JSON, then SYNTH OK or SYNTH FAILED with cdktf's message.
"""

import json
import os
import sys


def run(arguments: list[str]) -> str:
    from flightdeck.cdk_line import activate

    activate(os.environ)

    from cdktf import App, Aspects, TerraformStack
    from cdktf_cdktf_provider_aws.iam_role import IamRole
    from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

    from platform_constructs.tagging import RequireTags

    (outdir,) = arguments
    app = App(outdir=outdir, stack_traces=False)
    stack = TerraformStack(app, "probe")
    AwsProvider(stack, "aws", region="eu-west-1", default_tags=[AwsProviderDefaultTags(tags={"env": "dev", "team": "x"})])
    IamRole(stack, "untagged", name="r1", assume_role_policy="{}")
    IamRole(stack, "tagged", name="r2", assume_role_policy="{}", tags={"cost-center": "CC-1"})
    check = RequireTags(stack)
    Aspects.of(stack).add(check)
    lines = [json.dumps(check.findings())]
    try:
        app.synth()
        lines.append("SYNTH OK")
    except Exception as exc:  # noqa: BLE001 - the jsii error carries cdktf's message
        lines.append(f"SYNTH FAILED: {exc}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())  # run from the repository, as main.py is
    from tests.probes.standalone import run_alone

    run_alone(run)
