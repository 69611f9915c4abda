"""Synthesize every environment file's stacks.

    python main.py            # every environments/*.yaml into cdktf.out/stacks/<env>_platform and <env>_cluster

``FLIGHTDECK_ENVIRONMENTS`` names another folder of environment files, ``CDKTF_OUTDIR`` another
output folder (the cdktf CLI sets it). Every file is read and validated, and every stack built,
before anything is written: a bad file exits with status 2 and one message per problem, and the
previous output stays as it was.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flightdeck.cdk_line import APP_CONTEXT, activate
from flightdeck.errors import ConfigError
from flightdeck.loader import BOOTSTRAP_STATE_VARIABLE, environments_directory, find_bootstrap, load_environments

# The jsii runtime warns on every start that Node 20 is past end of life; the machines this runs
# on ship Node 20 (see the README), so the warning is known and only buries real output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def main() -> int:
    directory = environments_directory(os.environ)
    outdir = os.environ.get("CDKTF_OUTDIR", "cdktf.out")
    try:
        # Which CDK line builds the stacks (FLIGHTDECK_CDK), settled before any binding loads.
        activate(os.environ)
        configs = load_environments(directory, os.environ)
        # bootstrap.yaml next to the environments folder adds the bootstrap stack (see the README).
        bootstrap = find_bootstrap(directory, configs)
        local_state = _bootstrap_state(os.environ.get(BOOTSTRAP_STATE_VARIABLE))
        _check_outdir(Path(outdir))
    except ConfigError as exc:
        print(f"flightdeck: {exc}", file=sys.stderr)
        return 2

    # What the stacks refuse in a valid file, still before cdktf loads (stacks/refusals.py).
    from stacks.refusals import refuse_managed_options

    try:
        for config in configs:
            refuse_managed_options(config)
    except ValueError as exc:
        print(f"flightdeck: {exc}", file=sys.stderr)
        return 2

    # A copied file that still points at its source (its account, range, hostnames, channels) deploys,
    # but collides with it or pages its on-call: said on every synthesis, not refused.
    from flightdeck.scaffold import cross_environment_warnings

    for warning in cross_environment_warnings(configs):
        print(f"flightdeck: warning: {warning}", file=sys.stderr)

    # Imported only once the files are valid: the bindings take seconds to load.
    from cdktf import App

    from stacks.bootstrap import BootstrapStack
    from stacks.ci import deploy_settings
    from stacks.environment_stack import ClusterStack, PlatformStack, environment_stacks

    # The App makes <outdir>/stacks at once; a build that fails leaves no trace of this run.
    fresh = [path for path in (Path(outdir), Path(outdir) / "stacks") if not path.exists()]
    app = App(outdir=outdir, stack_traces=False, context=APP_CONTEXT)
    try:
        deploy = deploy_settings(bootstrap)
        stacks: list[PlatformStack | ClusterStack | BootstrapStack] = [
            stack for config in configs for stack in environment_stacks(app, config, deploy).stacks
        ]
        if bootstrap is not None:
            stacks.append(BootstrapStack(app, bootstrap, configs, local_state=local_state))
    except (ConfigError, ValueError) as exc:
        print(f"flightdeck: {exc}", file=sys.stderr)
        for path in reversed(fresh):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return 2
    # The stacks' RequireTags aspect would stop synthesis too, but only once earlier stacks were written.
    findings = [f"{stack.config.source}: {finding}" for stack in stacks for finding in stack.tag_check.findings()]
    if findings:
        print("flightdeck: untagged cloud resources:\n  " + "\n  ".join(findings), file=sys.stderr)
        return 2
    app.synth()
    # Only this run's stacks stay: a stack whose environment was removed or renamed is gone from the output.
    from flightdeck.manifest import remove_stale_stacks

    remove_stale_stacks(Path(outdir))
    return 0


def _bootstrap_state(value: str | None) -> bool:
    """True when the bootstrap stack's state stays local (its first deploy)."""
    if value in (None, "", "s3"):
        return False
    if value == "local":
        return True
    raise ConfigError(f"{BOOTSTRAP_STATE_VARIABLE}: '{value}' is not a state location; use 'local' for the first deploy, or unset it")


def _check_outdir(outdir: Path) -> None:
    """The output folder can be made: checked before the bindings load, so a typo costs no synthesis."""
    if outdir.exists() and not outdir.is_dir():
        raise ConfigError(f"CDKTF_OUTDIR: '{outdir}' is a file, not a folder")
    parent = outdir.absolute().parent
    if not outdir.exists() and not parent.is_dir():
        raise ConfigError(f"CDKTF_OUTDIR: '{outdir}': its parent folder {parent} does not exist")
    if not os.access(outdir if outdir.exists() else parent, os.W_OK):
        raise ConfigError(f"CDKTF_OUTDIR: '{outdir}' cannot be written")


def exit_now(status: int) -> None:
    """Leave without the interpreter's teardown.

    Synthesis has written and closed every file by the time ``app.synth()`` returns (the jsii kernel
    writes synchronously). What remains at a normal exit is the jsii runtime's shutdown of its Node
    process and Python's garbage collection of thousands of binding objects: about 6 s of a 24 s run
    with nothing to save. Output streams are flushed first so nothing printed is lost, and the exit
    status is kept.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    exit_now(main())
