"""The generated GitHub Actions workflow, the plan summary it attaches, and `make envdiff`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from flightdeck import ci
from flightdeck.cdk_line import DEFAULT, LINES
from flightdeck.envdiff import config_rows, report, resource_rows
from flightdeck.loader import load_bootstrap, load_environments
from flightdeck.plan_summary import summarize
from flightdeck.workflow import ACTIONS, OVERRIDES_SCRIPT, PINNED_ACTIONS, expected, render

from .conftest import BOOTSTRAP, ENVIRONMENTS, fixture_configs, parse_yaml, resources


@pytest.fixture(scope="module")
def workflow_text() -> str:
    """The workflow generated for the fixture environments: what the product writes, whatever
    ``environments/`` (and so the committed workflow) holds."""
    return expected(ENVIRONMENTS)


@pytest.fixture(scope="module")
def workflow(workflow_text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = parse_yaml(workflow_text)
    return parsed


@pytest.fixture(scope="module")
def workflow_file(workflow_text: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workflow") / "flightdeck.yml"
    path.write_text(workflow_text)
    return path


def jobs_of(text: str) -> dict[str, Any]:
    return cast(dict[str, Any], parse_yaml(text)["jobs"])


SchemaChecked = tuple[dict[str, list[dict[str, Any]]], Path]


def schema_check(*paths: Path) -> dict[str, list[dict[str, Any]]]:
    """check-jsonschema with its copy of GitHub's workflow schema (offline), over ``paths`` in one run:
    each file's errors (a file it cannot parse has one, ``parse``), by file name."""
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", "-o", "json", *map(str, paths)], capture_output=True, text=True, check=False
    )
    report = json.loads(result.stdout)
    errors: dict[str, list[dict[str, Any]]] = {str(path): [] for path in paths}
    for error in report.get("errors", []):
        errors[error["filename"]].append(error)
    for error in report.get("parse_errors", []):
        errors[error["filename"]].append({**error, "parse": True})
    assert (result.returncode == 0) == (report["status"] == "ok" and not any(errors.values())), result.stderr
    return errors


@pytest.fixture(scope="module")
def schema_checked(workflow_file: Path, workflow: dict[str, Any]) -> SchemaChecked:
    """The workflow and a broken copy of it (a job without ``runs-on``), checked in one run (the
    checker's start is most of its time); the broken copy's path."""
    broken = dict(workflow, jobs={**workflow["jobs"], "lint": {"steps": [{"run": "make lint"}]}})  # no runs-on
    path = workflow_file.parent / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    return schema_check(workflow_file, path), path


def zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    # Offline: the audits that would ask GitHub's API (for instance, whether a pinned commit is
    # still on a release branch) are skipped; the pins themselves are checked below.
    return run_tool("zizmor", "--offline", "--min-severity", "medium", "--format", "plain", str(path))


def test_workflow_is_valid_against_the_github_workflow_schema(workflow_file: Path, schema_checked: SchemaChecked) -> None:
    # The committed workflow (generated from your environments/) is checked the same way by make verify.
    errors, _ = schema_checked
    assert errors[str(workflow_file)] == []


def test_schema_check_catches_a_broken_workflow(schema_checked: SchemaChecked) -> None:
    errors, broken = schema_checked
    (error,) = errors[str(broken)]
    assert error["path"] == "$.jobs.lint" and error["best_match"]["message"] == "'runs-on' is a required property"


def test_pull_requests_lint_type_check_test_synthesize_and_preview_every_stack(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert workflow["on"]["pull_request"] == {"branches": ["main"]}
    assert [s.get("run") for s in jobs["lint"]["steps"]][-1] == "make lint"
    assert [s.get("run") for s in jobs["test"]["steps"]][-2:] == ["make test", "make verify"], "the product's tests, then your environments'"
    assert "make synth" in [s.get("run") for s in jobs["synth"]["steps"]]
    for config in fixture_configs().values():
        for part in config.stack_parts:
            stack = config.stack_name(part)
            plan = jobs[f"plan-{stack}"]
            assert "if" not in plan, "previews run on pull requests and on the branch"
            runs = [s.get("run", "") for s in plan["steps"]]
            # cdktf diff takes exactly one stack: one preview job per stack.
            assert any(f"npx cdktf diff {stack} --skip-synth" in r for r in runs)
            assert any(f"python3 -m flightdeck.plan_summary {stack} plan-{stack}.txt" in r and "GITHUB_STEP_SUMMARY" in r for r in runs)


def test_previews_run_on_hosted_runners_and_never_read_the_cluster(workflow: dict[str, Any]) -> None:
    for config in fixture_configs().values():
        platform, cluster = (workflow["jobs"][f"plan-{config.stack_name(p)}"] for p in ("platform", "cluster"))
        assert platform["runs-on"] == cluster["runs-on"] == "ubuntu-24.04", "pull-request code never runs inside the network"
        # The platform preview refreshes through the planner's read access to AWS; the cluster's
        # preview compares with the last deployed state and never calls the cluster's API.
        assert "TF_CLI_ARGS_plan" not in platform.get("env", {})
        assert cluster["env"]["TF_CLI_ARGS_plan"] == "-refresh=false"


def test_deploys_go_dev_then_qa_then_prod_platform_before_cluster_only_from_the_branch(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert jobs["deploy-dev_platform"]["needs"] == ["lint", "test", "plan-dev_platform"]
    assert jobs["deploy-dev_cluster"]["needs"] == ["lint", "test", "plan-dev_cluster", "deploy-dev_platform"]
    assert jobs["deploy-qa_platform"]["needs"] == ["lint", "test", "plan-qa_platform", "deploy-dev_cluster"]
    assert jobs["deploy-prod_platform"]["needs"] == ["lint", "test", "plan-prod_platform", "deploy-qa_cluster"]
    assert jobs["deploy-prod_cluster"]["needs"] == ["lint", "test", "plan-prod_cluster", "deploy-prod_platform"]
    for config in fixture_configs().values():
        for part in config.stack_parts:
            assert jobs[f"deploy-{config.stack_name(part)}"]["if"] == (
                "github.ref == 'refs/heads/main' && github.event_name != 'pull_request'"
            )


def test_each_deploy_is_bound_to_its_github_environment_one_at_a_time(workflow: dict[str, Any]) -> None:
    groups = set()
    for env, config in fixture_configs().items():
        platform, cluster = (workflow["jobs"][f"deploy-{config.stack_name(p)}"] for p in ("platform", "cluster"))
        for job in (platform, cluster):
            assert job["environment"] == {"name": env}
            assert job["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}, "a running apply is never cancelled"
        groups.add(platform["concurrency"]["group"])
        assert platform["steps"][-1]["run"] == f"npx cdktf deploy {env}_platform --skip-synth --auto-approve --no-color"
        # Alone in its run of the CLI, the cluster stack's dependency is not "deployed in the same run".
        assert cluster["steps"][-1]["run"] == (
            f"npx cdktf deploy {env}_cluster --skip-synth --auto-approve --ignore-missing-stack-dependencies --no-color"
        )
    assert len(groups) == len(fixture_configs())


def test_cluster_stacks_deploy_from_the_runner_in_their_own_network(workflow: dict[str, Any], synthesized: dict[str, Any]) -> None:
    for config in fixture_configs().values():
        assert not config.cluster.endpoint_public_access
        job = workflow["jobs"][f"deploy-{config.stack_name('cluster')}"]
        (project,) = resources(synthesized[config.stack_name("platform")], "aws_codebuild_project").values()
        assert job["runs-on"] == f"codebuild-{project['name']}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"
        # In the network it refreshes and shows the real plan (into the run's summary) before it applies.
        runs = [s.get("run", "") for s in job["steps"]]
        diff = next(i for i, r in enumerate(runs) if f"npx cdktf diff {config.stack_name('cluster')} --skip-synth" in r)
        assert diff < len(runs) - 1 and "TF_CLI_ARGS_plan" not in job.get("env", {})


def test_no_job_that_applies_a_private_cluster_runs_on_a_hosted_runner(workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        runs = " ".join(s.get("run", "") for s in job["steps"])
        for config in fixture_configs().values():
            cluster = config.stack_name("cluster")
            touches_cluster = f"deploy {cluster} " in runs or (f"diff {cluster} " in runs and "TF_CLI_ARGS_plan" not in job.get("env", {}))
            if touches_cluster:
                assert str(job["runs-on"]).startswith(f"codebuild-{ci.runner_project(config)}-"), name


def test_deploys_use_the_synthesized_and_previewed_stacks(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    upload = next(s for s in jobs["synth"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    for config in fixture_configs().values():
        for part in config.stack_parts:
            stack = config.stack_name(part)
            for job in (jobs[f"plan-{stack}"], jobs[f"deploy-{stack}"]):
                download = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
                assert download["with"] == {"name": upload["with"]["name"], "path": "cdktf.out"}
                assert not any("make synth" in s.get("run", "") or "main.py" in s.get("run", "") for s in job["steps"])
                assert f"sha256sum cdktf.out/stacks/{stack}/cdk.tf.json" in [s.get("run") for s in job["steps"]]


def test_cloud_access_is_oidc_into_the_bootstrap_roles_never_keys(workflow: dict[str, Any], workflow_text: str, bootstrap: dict[str, Any]) -> None:
    text = workflow_text
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text and "AWS_ACCESS_KEY_ID" not in text
    assert workflow["permissions"] == {}, "no job gets a token unless it asks"
    assert all("permissions" in job for job in workflow["jobs"].values()), "each job says what it needs"
    roles = {role["name"] for role in resources(bootstrap, "aws_iam_role").values()}
    for config in fixture_configs().values():
        for part in config.stack_parts:
            stack = config.stack_name(part)
            for job, role in ((f"plan-{stack}", ci.planner_role_name(config)), (f"deploy-{stack}", ci.deployer_role_name(config))):
                steps = workflow["jobs"][job]["steps"]
                assert workflow["jobs"][job]["permissions"] == {"contents": "read", "id-token": "write"}
                (credentials,) = [s["with"] for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
                assert credentials["role-to-assume"] == f"arn:aws:iam::{config.aws.account_id}:role/{role}"
                assert role in roles, f"{role} is not created by the bootstrap stack"
            # Only the stack with the monitors talks to Datadog.
            deploy_env = workflow["jobs"][f"deploy-{stack}"].get("env", {})
            plan_env = workflow["jobs"][f"plan-{stack}"].get("env", {})
            keys = {"DD_API_KEY", "DD_APP_KEY"} & set(deploy_env)
            assert keys == ({"DD_API_KEY", "DD_APP_KEY"} if part == "cluster" and config.datadog else set())
            if keys:
                # Pull-request code gets a read-only application key, never the one that writes monitors.
                assert deploy_env["DD_APP_KEY"] == "${{ secrets.DATADOG_APP_KEY }}"
                assert plan_env["DD_APP_KEY"] == "${{ secrets.DATADOG_READ_APP_KEY }}"
            else:
                assert not {"DD_API_KEY", "DD_APP_KEY"} & set(plan_env)
    secrets = {part.split("}}")[0].strip() for part in text.split("secrets.")[1:]}
    assert secrets == {"DATADOG_API_KEY", "DATADOG_APP_KEY", "DATADOG_READ_APP_KEY"}


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    target = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS, target)
    shutil.copy(BOOTSTRAP, tmp_path / "bootstrap.yaml")
    return target


def test_an_added_environment_gets_its_preview_and_deploy_in_its_wave(env_dir: Path) -> None:
    text = (env_dir / "qa.yaml").read_text().replace("222222222222", "444444444444").replace("10.20.0.0/16", "10.40.0.0/16")
    (env_dir / "staging.yaml").write_text(text)
    jobs = jobs_of(expected(env_dir))
    assert {"plan-staging_platform", "plan-staging_cluster", "deploy-staging_platform", "deploy-staging_cluster"} <= set(jobs)
    assert jobs["deploy-staging_platform"]["needs"] == ["lint", "test", "plan-staging_platform", "deploy-dev_cluster"]
    assert jobs["deploy-prod_platform"]["needs"] == ["lint", "test", "plan-prod_platform", "deploy-qa_cluster", "deploy-staging_cluster"]
    assert jobs["deploy-staging_cluster"]["environment"] == {"name": "staging"}
    assert jobs["deploy-staging_cluster"]["runs-on"].startswith("codebuild-flightdeck-staging-runner-")


def test_a_removed_environment_leaves_the_workflow(env_dir: Path) -> None:
    (env_dir / "qa.yaml").unlink()
    jobs = jobs_of(expected(env_dir))
    assert not [job for job in jobs if "qa_" in job]
    assert jobs["deploy-prod_platform"]["needs"] == ["lint", "test", "plan-prod_platform", "deploy-dev_cluster"]


def test_workflow_follows_the_repositorys_default_branch(env_dir: Path) -> None:
    configs = load_environments(env_dir, {})
    bootstrap = load_bootstrap(env_dir.parent / "bootstrap.yaml", configs)
    text = render(configs, bootstrap.model_copy(update={"github": bootstrap.github.model_copy(update={"default_branch": "trunk"})}))
    workflow = parse_yaml(text)
    assert workflow["on"]["push"] == {"branches": ["trunk"]}
    assert workflow["jobs"]["deploy-prod_cluster"]["if"].startswith("github.ref == 'refs/heads/trunk'")


def run_overrides(tmp_path: Path, image_tag: str = "", overrides: str = "") -> tuple[int, str]:
    github_env = tmp_path / "github_env"
    github_env.write_text("")
    result = subprocess.run(
        ["bash", "-c", OVERRIDES_SCRIPT],
        env={"PATH": "/usr/bin:/bin", "GITHUB_ENV": str(github_env), "IMAGE_TAG": image_tag, "OVERRIDES": overrides},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, github_env.read_text() + result.stdout


def test_ci_overrides_step_passes_the_image_tag_and_override_lines(tmp_path: Path) -> None:
    status, written = run_overrides(
        tmp_path, image_tag="3.2.3", overrides="FLIGHTDECK_SET_PROD__CLUSTER__NODE_GROUPS__WORKERS__MAX_SIZE=40\n\n"
    )
    assert status == 0
    assert written.splitlines() == [
        "FLIGHTDECK_SET__AIRFLOW__IMAGE__TAG=3.2.3",
        "FLIGHTDECK_SET_PROD__CLUSTER__NODE_GROUPS__WORKERS__MAX_SIZE=40",
    ]


@pytest.mark.parametrize(
    ("image_tag", "overrides", "error"),
    [
        ("", "AWS_REGION=us-east-1", "FLIGHTDECK_OVERRIDES: a line is not FLIGHTDECK_SET_<ENV>__<FIELD>=value"),
        # A newline in the dispatch input would add a variable of its own (an admin role, NODE_OPTIONS).
        ("3.2.3\nNODE_OPTIONS=--require=/tmp/x.js", "", "airflow_image_tag is not an image tag"),
        # A heredoc marker in a name would make the following lines one variable's value.
        ("", "FLIGHTDECK_SET_PROD__X<<EOF=1\nAWS_ROLE_ARN=arn:aws:iam::1:role/admin\nEOF", "a line is not FLIGHTDECK_SET"),
        ("", "flightdeck_set_prod__cluster__bastion=true", "a line is not FLIGHTDECK_SET"),
        ("$(id)", "", "airflow_image_tag is not an image tag"),
    ],
)
def test_ci_overrides_step_refuses_anything_else_and_writes_nothing(tmp_path: Path, image_tag: str, overrides: str, error: str) -> None:
    status, written = run_overrides(tmp_path, image_tag=image_tag, overrides="FLIGHTDECK_SET__AIRFLOW__IMAGE__TAG=3\n" + overrides)
    assert status == 1
    assert error in written
    assert "FLIGHTDECK_SET" not in written.split("::error::")[0], "nothing reaches $GITHUB_ENV"


def test_actions_are_pinned_to_the_commits_of_their_releases(workflow: dict[str, Any], workflow_text: str) -> None:
    text = workflow_text
    uses = {s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s}
    assert uses == set(ACTIONS.values())
    for repository, tag, commit in PINNED_ACTIONS.values():
        assert re.fullmatch(r"[0-9a-f]{40}", commit) and re.fullmatch(r"v\d+\.\d+\.\d+", tag)
        assert f"uses: {repository}@{commit} # {tag}\n" in text
    checkouts = [s for job in workflow["jobs"].values() for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(s["with"] == {"persist-credentials": False} for s in checkouts)


def test_ci_overrides_step_without_overrides_sets_nothing(tmp_path: Path) -> None:
    assert run_overrides(tmp_path) == (0, "")


PLAN = """\
prod  \x1b[1mTerraform will perform the following actions:\x1b[0m
prod    # aws_iam_role.platform_worker-role will be updated in-place
prod    # helm_release.airflow must be replaced
prod    # kubernetes_namespace_v1.team-finance will be created
prod  Plan: 1 to add, 1 to change, 1 to destroy.
"""


def test_plan_summary_gives_totals_and_each_resource() -> None:
    summary = summarize("prod", PLAN)
    assert summary.startswith("### prod\n\n**1 to add, 1 to change, 1 to destroy** ⚠️ destroys resources\n")
    assert "- `helm_release.airflow` must be replaced" in summary
    assert "3 resources" in summary


def test_plan_summary_of_no_changes_and_of_a_failed_diff() -> None:
    assert "**no changes**" in summarize("dev", "dev  No changes. Your infrastructure matches the configuration.\n")
    with pytest.raises(ValueError, match="dev: no plan in the cdktf diff output"):
        summarize("dev", "Error: No valid credential sources found\n")


def _run_lines(workflow: dict[str, Any]) -> list[str]:
    return [line for job in workflow["jobs"].values() for step in job["steps"] if "run" in step for line in step["run"].splitlines()]


def test_every_job_runs_on_the_repositorys_cdk_line(workflow: dict[str, Any]) -> None:
    """The line comes from the repository variable (the default line when unset) for every job, and
    no step names one line's environment, so choosing cdktn changes every synthesis, test and deploy."""
    expression = workflow["env"]["FLIGHTDECK_CDK"]
    match = re.fullmatch(r"\$\{\{ vars\.FLIGHTDECK_CDK \|\| '(\w+)' \}\}", expression)
    assert match and match.group(1) == DEFAULT and DEFAULT in LINES, expression
    assert not any(job.get("env", {}).get("FLIGHTDECK_CDK") for job in workflow["jobs"].values()), "no job overrides it"
    direct = [line for line in _run_lines(workflow) if re.search(r"\.venv/|cdk-lines/", line)]
    assert not direct, f"steps that bypass the line's environment: {direct}"


def test_every_make_target_the_workflow_runs_exists(workflow: dict[str, Any]) -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z0-9-]+):", makefile, flags=re.MULTILINE))
    called = {target for line in _run_lines(workflow) for _flags, target in re.findall(r"\bmake((?:\s+-\S+)*)\s+([a-z0-9-]+)", line)}
    assert called and called <= targets, called - targets


def test_envdiff_lists_only_fields_that_differ() -> None:
    configs = [fixture_configs()[e] for e in ("dev", "qa", "prod")]
    rows = {row[0]: row[1:] for row in config_rows(configs)}
    assert rows["database.multi_az"] == ["false", "false", "true"]
    assert rows["aws.account_id"] == ["111111111111", "222222222222", "333333333333"]
    assert "owner" not in rows and "airflow.image.tag" not in rows, "identical everywhere"
    assert rows["teams[analytics].quota.cpu"] == ["-", "16", "64"]
    everything = {row[0] for row in config_rows(configs, everything=True)}
    assert {"owner", "airflow.image.tag"} <= everything


def test_envdiff_counts_resources_by_type_from_the_stacks(stacks: dict[str, Any], synthesized: dict[str, Any]) -> None:
    ordered = [stacks[e] for e in ("dev", "qa", "prod")]
    rows = {row[0]: row[1:] for row in resource_rows([[synthesized[f"{e}_platform"], synthesized[f"{e}_cluster"]] for e in ("dev", "qa", "prod")])}
    assert rows["total"] == [str(sum(len(r) for r in s["resource"].values())) for s in ordered]
    assert rows["aws_nat_gateway"] == [str(len(resources(s, "aws_nat_gateway"))) for s in ordered]
    assert "aws_eks_cluster" not in rows, "one cluster everywhere: not a difference"


def test_envdiff_report_orders_environments_by_promotion(synth_dir: Path) -> None:
    configs = [fixture_configs()[e] for e in ("prod", "dev", "qa")]
    text = report(configs, synth_dir)
    assert text.splitlines()[0].split() == ["configuration", "dev", "qa", "prod"]
    assert any(line.split()[:1] == ["resources"] for line in text.splitlines())


def run_tool(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / tool), *args], capture_output=True, text=True, check=False, timeout=300)


def test_zizmor_finds_nothing_at_medium_or_above(workflow_file: Path) -> None:
    result = zizmor(workflow_file)
    assert result.returncode == 0, result.stdout + result.stderr


BROKEN_WORKFLOW = """\
name: x
on: {workflow_dispatch: {inputs: {tag: {type: string}}}}
permissions: {}
jobs:
  j:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - run: echo "TAG=${{ inputs.tag }}" >> "$GITHUB_ENV"
"""


def test_zizmor_would_see_an_injection(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW)
    result = zizmor(broken)
    assert result.returncode != 0 and "template-injection" in result.stdout + result.stderr
